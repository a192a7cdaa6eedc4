"""Writes for screening and enrollment: one transaction each, rules evaluated inside it."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from crf.calendar import visits_plan_for_patient
from crf.edit_checks import auto_query_sync
from crf.outbox import task_enqueue
from crf.transactions import retried
from crf.writes import record_lock_for_update, record_save
from patients import selectors
from patients.models import Eligibility, Patient, Screening
from patients.rules.dosing import dose_band_for_weight, prescribed_dose_check
from patients.rules.eligibility import Eligibility as EligibilityStatus
from patients.rules.eligibility import EligibilityResult, eligibility_evaluate
from patients.rules.enrollment import enrollment_problems
from patients.rules.etiology import etiology_classify
from patients.rules.risk import risk_stratify
from patients.services.locking import patient_lock
from trial.clock import site_today
from trial.models import Site
from trial.reasons import criteria_json
from trial.rules.age import age_in_days


class EnrollmentRefused(Exception):
    """The child cannot be enrolled; the message says why."""


def eligibility_compute(screening: Screening) -> EligibilityResult:
    hlh_thresholds, _ = selectors.thresholds_for(
        site=screening.site, age_days=age_in_days(screening.date_of_birth, screening.screening_date)
    )
    return eligibility_evaluate(
        selectors.eligibility_input(screening),
        thresholds=selectors.eligibility_thresholds(),
        hlh2004_thresholds=hlh_thresholds,
    )


def eligibility_json(result: EligibilityResult) -> dict:
    return {
        "status": result.status.value,
        "hlh2004": {
            "met": result.hlh2004.met,
            "by_molecular": result.hlh2004.by_molecular,
            "criteria_met": result.hlh2004.criteria_met,
            "criteria_missing": result.hlh2004.criteria_missing,
            "criteria": criteria_json(result.hlh2004.criteria),
        },
        "inclusion": criteria_json(result.inclusion),
        "exclusion": criteria_json(result.exclusion),
        "also_checked": criteria_json(result.also_checked),
        "warnings": list(result.warnings),
        "schwartz_egfr": result.schwartz_egfr,
        "meld": result.meld,
        "failed": criteria_json(result.failed),
        "missing": criteria_json(result.missing),
    }


def eligibility_shown(screening: Screening) -> dict:
    """The eligibility reasons as the page shows them, in the reader's language.

    The stored `eligibility_detail` is English, for the audit trail; in English it is shown as
    stored, in another language the same rules are evaluated again on the same data.
    """
    if (translation.get_language() or "en").startswith("en") and screening.eligibility_detail:
        return screening.eligibility_detail
    return eligibility_json(eligibility_compute(screening))


def derived_shown(patient: Patient) -> dict:
    """The derived values' reasons (etiology, risk, dose band) as the page shows them, in the reader's language."""
    if (translation.get_language() or "en").startswith("en") and patient.derived_detail:
        return patient.derived_detail
    return derived_values_compute(
        screening=patient.screening,
        weight_kg=patient.enrollment_weight_kg,
        prescribed_dose_mg=patient.prescribed_dose_mg,
        on=patient.first_dose_date,
    ).detail


def _apply_eligibility(screening: Screening) -> EligibilityResult:
    with translation.override("en"):  # the reasons are stored in English, the same for every reader
        result = eligibility_compute(screening)
    screening.eligibility = Eligibility(result.status.value)
    screening.eligibility_detail = eligibility_json(result)
    screening.computed_at = timezone.now()
    if screening.status != Screening.Status.ENROLLED:
        screening.status = (
            Screening.Status.SCREEN_FAILURE
            if result.status is EligibilityStatus.INELIGIBLE
            else Screening.Status.SCREENING
        )
    return result


@retried
def screening_create(*, site: Site, data: dict, user) -> Screening:
    """Log a screened child, assign a screening number and compute eligibility (section 3)."""
    with transaction.atomic():
        site = Site.objects.select_for_update(no_key=True).get(pk=site.pk)
        site.last_screening_sequence += 1
        site.save(update_fields=["last_screening_sequence"])
        screening = Screening(site=site, screening_number=f"{site.code}-S{site.last_screening_sequence:03d}", **data)
        _apply_eligibility(screening)
        record_save(record=screening, user=user, reason=gettext_noop("Screening entered"), created=True)
    return screening


@retried
def screening_update(
    *, screening_id: int, data: dict, expected_version: int, user, reason_for_change: str
) -> Screening:
    """Change screening data; derived values of an enrolled patient are recomputed by a task."""
    with transaction.atomic():
        screening = record_lock_for_update(model=Screening, pk=screening_id, expected_version=expected_version)
        for field, value in data.items():
            setattr(screening, field, value)
        _apply_eligibility(screening)
        record_save(record=screening, user=user, reason=reason_for_change)
        patient = Patient.objects.filter(screening=screening).first()
        patient_id = patient.pk if patient is not None else None
        if patient is not None:
            auto_query_sync(
                patient=patient,
                record=screening,
                check_code="screening.eligibility_after_enrollment",
                failing=screening.eligibility != Eligibility.ELIGIBLE,
                text=f"Screening data changed after enrollment and eligibility is now "
                f"'{_english(screening.get_eligibility_display)}'. Check the change against the source documents.",
                link=reverse("screening_detail", args=[screening.pk]),
            )
            task_enqueue("patients.patient_derived_recompute", patient_id, key=f"derived:{patient_id}")
    return screening


@dataclass(frozen=True)
class DerivedValues:
    expected_dose_mg: Decimal
    dose_band_label: str
    dose_deviation: bool
    etiology: str
    ebv_subtype: str
    risk_group: str
    detail: dict


def derived_values_compute(*, screening: Screening, weight_kg: Decimal, prescribed_dose_mg: Decimal, on: date):
    """Etiology (section 4), risk group (section 5) and dose band (section 6) of an enrolled child."""
    eligibility = eligibility_compute(screening)
    _, risk_thresholds = selectors.thresholds_for(
        site=screening.site, age_days=age_in_days(screening.date_of_birth, on)
    )
    etiology = etiology_classify(selectors.etiology_input(screening, hlh_criteria_met=eligibility.hlh2004.met))
    risk = risk_stratify(selectors.risk_input(screening, on=on), thresholds=risk_thresholds)
    band = dose_band_for_weight(float(weight_kg), selectors.dose_bands(screening.site))
    check = prescribed_dose_check(float(prescribed_dose_mg), band)
    return DerivedValues(
        expected_dose_mg=Decimal(str(band.dose_mg)),
        dose_band_label=band.band.label,
        dose_deviation=not check.matches,
        etiology=etiology.etiology.value,
        ebv_subtype=etiology.ebv_subtype.value,
        risk_group=risk.group.value,
        detail={
            "etiology": {"criteria": criteria_json(etiology.criteria), "warnings": list(etiology.warnings)},
            "risk": {
                "group": risk.group.value,
                "items_met": risk.items_met,
                "criteria": criteria_json(risk.criteria),
                "missing": criteria_json(risk.missing),
            },
            "dose": {
                "weight_kg": float(weight_kg),
                "band": band.band.label,
                "expected_mg": band.dose_mg,
                "prescribed_mg": float(prescribed_dose_mg),
                "matches": check.matches,
                "explanation": check.explanation,
                "band_explanation": band.explanation,
            },
        },
    )


def _derived_stored(**values) -> DerivedValues:
    """The derived values as they are stored: their reasons in English, the same for every reader."""
    with translation.override("en"):
        return derived_values_compute(**values)


def _dose_query_sync(patient: Patient) -> None:
    """A prescribed dose other than the band's is saved, flagged and queried (section 6)."""
    auto_query_sync(
        patient=patient,
        record=patient,
        check_code="patient.dose_off_band",
        failing=patient.dose_deviation,
        text=f"Prescribed {patient.prescribed_dose_mg.normalize():f} mg twice daily differs from the weight band's "
        f"{patient.expected_dose_mg.normalize():f} mg ({patient.dose_band_label}); protocol section 6. "
        "Confirm the prescription or correct it.",
        link=reverse("patient_overview", args=[patient.pk]),
        field="prescribed_dose_mg",
    )


def _apply_derived(patient: Patient, derived: DerivedValues) -> bool:
    changed = False
    for field, value in (
        ("expected_dose_mg", derived.expected_dose_mg),
        ("dose_band_label", derived.dose_band_label),
        ("dose_deviation", derived.dose_deviation),
        ("etiology", derived.etiology),
        ("ebv_subtype", derived.ebv_subtype),
        ("risk_group", derived.risk_group),
        ("derived_detail", derived.detail),
    ):
        if getattr(patient, field) != value:
            setattr(patient, field, value)
            changed = True
    return changed


# The enrollment's numbers, checked at the stored precision of their Patient columns.
ENROLLMENT_NUMBERS = ("enrollment_weight_kg", "prescribed_dose_mg")


def _enrollment_errors(screening: Screening, *, today: date, **values) -> dict[str, list[ValidationError]]:
    """{field: [errors with codes]}: the numbers as the columns store them, then the protocol's rules."""
    errors: dict[str, list[ValidationError]] = {}
    for name in ENROLLMENT_NUMBERS:
        field = Patient._meta.get_field(name)
        try:
            field.run_validators(Decimal(str(values[name])))  # digits and decimal places: the database never rounds
        except ValidationError as exc:
            errors[name] = [
                ValidationError(f"{field.verbose_name}: {' '.join(e.messages)}", code=e.code) for e in exc.error_list
            ]
    if errors:
        return errors
    data = selectors.enrollment_input(screening, **values)
    for problem in enrollment_problems(data, limits=selectors.enrollment_limits(screening.site), today=today):
        errors.setdefault(problem.field, []).append(ValidationError(problem.message, code=problem.code))
    return errors


@retried
def patient_enroll(
    *,
    screening_id: int,
    enrollment_date: date,
    first_dose_date: date,
    enrollment_weight_kg: Decimal,
    prescribed_dose_mg: Decimal,
    user,
    today: date | None = None,
) -> Patient:
    """Enroll an eligible child: subject number, derived values and the visit calendar.

    Eligibility is evaluated again here from the stored data, whatever the caller saw:
    there is no override, so an ineligible child cannot be enrolled by any path (section 3).
    The dates, weight and dose are checked here too (patients.rules.enrollment), so the page,
    the API and the import refuse the same values with the same field errors, and nothing is
    stored. `today` is the site's (trial.clock.site_today unless the caller gives it).
    """
    with transaction.atomic():
        screening = (
            Screening.objects.select_for_update(no_key=True, of=("self",)).select_related("site").get(pk=screening_id)
        )
        if Patient.objects.filter(screening=screening).exists():
            raise EnrollmentRefused(_("%(screening)s is already enrolled.") % {"screening": screening})
        result = _apply_eligibility(screening)
        if result.status is not EligibilityStatus.ELIGIBLE:
            shown = eligibility_compute(screening)  # the reasons in the reader's language; the stored ones are English
            reasons = "; ".join(f"{c.label}: {c.explanation}" for c in (shown.failed or shown.missing))
            raise EnrollmentRefused(
                _("%(screening)s is not eligible (%(status)s). %(reasons)s")
                % {"screening": screening, "status": Eligibility(result.status.value).label, "reasons": reasons}
            )
        errors = _enrollment_errors(
            screening,
            today=today or site_today(screening.site),
            enrollment_date=enrollment_date,
            first_dose_date=first_dose_date,
            enrollment_weight_kg=enrollment_weight_kg,
            prescribed_dose_mg=prescribed_dose_mg,
        )
        if errors:
            raise ValidationError(errors)
        site = Site.objects.select_for_update(no_key=True).get(pk=screening.site_id)
        site.last_subject_sequence += 1
        site.save(update_fields=["last_subject_sequence"])
        derived = _derived_stored(
            screening=screening,
            weight_kg=enrollment_weight_kg,
            prescribed_dose_mg=prescribed_dose_mg,
            on=first_dose_date,
        )
        patient = Patient(
            screening=screening,
            site=site,
            subject_number=f"{site.code}-{site.last_subject_sequence:03d}",
            enrollment_date=enrollment_date,
            first_dose_date=first_dose_date,
            enrollment_weight_kg=enrollment_weight_kg,
            prescribed_dose_mg=prescribed_dose_mg,
            computed_at=timezone.now(),
        )
        _apply_derived(patient, derived)
        record_save(record=patient, user=user, reason=gettext_noop("Enrolled"), created=True)
        _dose_query_sync(patient)
        screening.status = Screening.Status.ENROLLED
        record_save(record=screening, user=user, reason=f"Enrolled as {patient.subject_number}")
        visits_plan_for_patient(patient=patient, user=user)
    return patient


@retried
def patient_derived_recompute(*, patient_id: int) -> bool:
    """Recompute etiology, risk and dose band from the current baseline data.

    Safe to run twice: nothing is written (and no history row added) when nothing changed.
    """
    with transaction.atomic():
        patient = patient_lock(patient_id, related=("screening__site",))
        derived = _derived_stored(
            screening=patient.screening,
            weight_kg=patient.enrollment_weight_kg,
            prescribed_dose_mg=patient.prescribed_dose_mg,
            on=patient.first_dose_date,
        )
        if not _apply_derived(patient, derived):
            return False
        patient.computed_at = timezone.now()
        record_save(record=patient, user=None, reason=gettext_noop("Recomputed after a change of baseline data"))
        _dose_query_sync(patient)
        return True


def _english(display) -> str:
    """A choice's label in English: the query text is stored, the same for every reader."""
    with translation.override("en"):
        return str(display())
