"""Writes for lab panels and supportive care: one transaction, each value flagged and kept with its history."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop

from assessments.models import LabPanel, LabResult, SupportiveCare, Visit
from assessments.models.labs import MISSING_REASON_MAX_LENGTH, MissingCode
from assessments.rules.flags import range_in_unit, value_flag
from assessments.services.adverse_events import lab_ae_suggestions_create
from assessments.services.responses import response_queue_after_lab_save, response_queue_for_patient
from assessments.services.visits import visit_date_apply
from crf import catalogue
from crf.edit_checks import auto_query_sync
from crf.transactions import retried
from crf.writes import record_delete, record_lock_for_update, record_save, records_create, records_update
from patients.models import Patient
from patients.services.locking import patient_lock
from patients.services.treatment import weight_band_check
from trial.analytes import ANALYTES, plausibility_message, units_for
from trial.clock import local_date, site_today
from trial.rules.age import age_in_days
from trial.selectors import reference_ranges_for

PANEL_FIELDS = catalogue.fields_of("assessments.labpanel")  # besides the analytes


@dataclass(frozen=True)
class Measurement:
    """One lab value as entered: a number, or no number and a missing-data code with its reason."""

    value: Decimal | None
    unit: str
    sampled_at: datetime
    missing: str = ""  # a MissingCode; blank = the value is a number
    missing_reason: str = ""


MISSING_CODES = frozenset(MissingCode.values)
# What a saved value holds besides its analyte: written by lab_panel_save, read by the API.
RESULT_FIELDS = (
    "value",
    "unit",
    "sampled_at",
    "missing",
    "missing_reason",
    "flag",
    "reference_low",
    "reference_high",
)


def missing_code_problem(
    *, label: str, has_value: bool, missing: str, missing_reason: str
) -> tuple[str, ValidationError] | None:
    """Whether a value's missing-data code is acceptable: (the item's field, the refusal) or None.

    Every door asks this one function, so the page, the API and both imports refuse with the
    same message and code: a value XOR a code, and a code always with its free-text reason.
    """
    reason = (missing_reason or "").strip()
    if missing and missing not in MISSING_CODES:
        message = gettext("%(label)s: choose a missing-data code of %(codes)s.") % {
            "label": label,
            "codes": ", ".join(MissingCode.values),
        }
        return "missing", ValidationError(message, code="invalid_choice")
    if missing and has_value:
        message = gettext("%(label)s: enter a value or a missing-data code, not both.") % {"label": label}
        return "missing", ValidationError(message, code="value_and_code")
    if missing and not reason:
        message = gettext("%(label)s: a missing-data code needs its reason.") % {"label": label}
        return "missing_reason", ValidationError(message, code="reason_required")
    if reason and not missing:
        message = gettext("%(label)s: a reason is kept only with a missing-data code.") % {"label": label}
        return "missing_reason", ValidationError(message, code="reason_without_code")
    if len(reason) > MISSING_REASON_MAX_LENGTH:
        message = gettext("%(label)s: the reason has at most %(limit)d characters.") % {
            "label": label,
            "limit": MISSING_REASON_MAX_LENGTH,
        }
        return "missing_reason", ValidationError(message, code="max_length")
    if not missing and not has_value:
        message = gettext("%(label)s: enter a value or a missing-data code.") % {"label": label}
        return "value", ValidationError(message, code="required")
    return None


@dataclass
class LabPanelOutcome:
    panel: LabPanel
    flagged: list[LabResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    suggested: int = 0  # adverse events the saved values suggest (section 10), to accept or dismiss


def _check_dates(*, patient: Patient, visit: Visit, sampled: list[datetime], today: date) -> None:
    errors: dict[str, str] = {}
    earliest = patient.screening.screening_date if visit.planned_day == 0 else patient.enrollment_date
    for moment in sampled:
        day = local_date(patient.site, moment)
        if day > today:
            errors["sampled_at"] = f"Sampling time cannot be in the future (after {today.isoformat()})."
        elif day < earliest:
            errors["sampled_at"] = f"Sampling date cannot be before {earliest.isoformat()} (screening or enrollment)."
    if errors:
        raise ValidationError(errors)


def _check_values(values: dict[str, Measurement]) -> None:
    errors: dict[str, str] = {}
    for code, measurement in values.items():
        if code not in ANALYTES:
            errors[code] = f"Unknown analyte {code}."
        elif measurement.unit not in units_for(code):
            errors[code] = f"{ANALYTES[code].label}: unit {measurement.unit} is not accepted."
        elif problem := missing_code_problem(
            label=gettext(ANALYTES[code].label),
            has_value=measurement.value is not None,
            missing=measurement.missing,
            missing_reason=measurement.missing_reason,
        ):
            errors[code] = problem[1]
        elif measurement.value is not None and (
            message := plausibility_message(code, float(measurement.value), measurement.unit)
        ):
            errors[code] = message
    if errors:
        raise ValidationError(errors)


@retried
def lab_panel_save(
    *,
    visit: Visit,
    sampled_at: datetime,
    values: dict[str, Measurement],
    panel_data: dict,
    user,
    visit_date: date | None = None,
    expected_version: int | None = None,
    reason_for_change: str | None = None,
    today: date | None = None,
) -> LabPanelOutcome:
    """Record or correct the lab panel of a visit (protocol section 8).

    Impossible values are refused naming the field and the limit; values outside the
    reference range are saved and flagged. A correction of a saved panel needs the version
    the user loaded and a reason; each changed value keeps its own history row.
    """
    _check_values(values)
    with transaction.atomic():
        patient_lock(visit.patient_id)  # the patient first, as every write of the patient's data
        visit = (
            Visit.objects.select_for_update(no_key=True, of=("self",))
            .select_related("patient__screening", "patient__site")
            .get(pk=visit.pk)
        )
        patient = visit.patient
        today = today or site_today(patient.site)
        _check_dates(
            patient=patient, visit=visit, sampled=[sampled_at, *(m.sampled_at for m in values.values())], today=today
        )
        existing = LabPanel.objects.filter(visit=visit).values_list("pk", flat=True).first()
        if existing is not None:
            if not reason_for_change:
                raise ValidationError(
                    {
                        "reason_for_change": ValidationError(
                            "A reason is required to change saved lab data.", code="reason_required"
                        )
                    }
                )
            panel = record_lock_for_update(model=LabPanel, pk=existing, expected_version=expected_version)
            created = False
        else:
            panel = LabPanel(patient=patient, visit=visit)
            created = True
        panel.sampled_at = sampled_at
        for name in PANEL_FIELDS:
            if name in panel_data:
                setattr(panel, name, panel_data[name])
        record_save(
            record=panel,
            user=user,
            reason=reason_for_change if not created else gettext_noop("Lab panel entered"),
            created=created,
        )

        outcome = LabPanelOutcome(panel=panel)
        age = age_in_days(patient.screening.date_of_birth, local_date(patient.site, sampled_at))
        ranges = reference_ranges_for(site=patient.site, age_days=age)
        current = {} if created else {r.analyte: r for r in panel.results.all()}
        history_reason = gettext_noop("Lab value entered") if created else reason_for_change
        new_results: list[LabResult] = []
        changed_results: list[LabResult] = []
        for code, measurement in values.items():
            result = current.pop(code, None) or LabResult(panel=panel, patient=patient, analyte=code)
            changed = (
                result.pk is None
                or result.value != measurement.value
                or result.unit != measurement.unit
                or result.sampled_at != measurement.sampled_at
                or result.missing != measurement.missing
                or result.missing_reason != measurement.missing_reason.strip()
            )
            reference = None
            if measurement.value is not None and (rng := ranges.get(code)) is not None:
                reference = range_in_unit(
                    analyte=code, lower=rng.lower, upper=rng.upper, range_unit=rng.unit, value_unit=measurement.unit
                )
            result.value, result.unit, result.sampled_at = measurement.value, measurement.unit, measurement.sampled_at
            result.missing, result.missing_reason = measurement.missing, measurement.missing_reason.strip()
            # A coded value has no number to flag: no flag and no range (it is missing, never normal).
            flag = (
                None if measurement.value is None else value_flag(value=float(measurement.value), reference=reference)
            )
            result.flag = flag.flag.value if flag else ""
            result.reference_low = _decimal(reference.lower if reference else None)
            result.reference_high = _decimal(reference.upper if reference else None)
            result.reference_source = rng.source if reference else ""
            if result.pk is None:
                new_results.append(result)
            elif changed:
                changed_results.append(result)
            if result.flag in {"H", "L"}:
                outcome.flagged.append(result)
        for removed in current.values():
            why = reason_for_change or gettext_noop("Value removed")
            for suggestion in removed.ae_suggestions.all():  # gone with its value, with the same reason
                record_delete(record=suggestion, user=user, reason=f"Lab value removed: {why}", check_lock=False)
            record_delete(record=removed, user=user, reason=why, check_lock=False)
        # One statement for the values and one for their history rows, whatever the panel's size; the
        # values are part of the panel, whose own write was just checked against the locks.
        records_create(records=new_results, model=LabResult, user=user, reason=history_reason, check_lock=False)
        records_update(
            records=changed_results,
            model=LabResult,
            fields=[*RESULT_FIELDS, "reference_source"],
            user=user,
            reason=history_reason,
            check_lock=False,
        )

        if visit.visit_date is None or (visit_date is not None and visit_date != visit.visit_date):
            # A correction's reason covers the visit date it moves; a first date needs none.
            visit_date_apply(
                visit=visit,
                visit_date=visit_date or local_date(patient.site, sampled_at),
                user=user,
                reason=reason_for_change,
            )
        warnings, outcome.suggested = _after_save_checks(
            panel=panel, values=values, new_panel=created, ranges_by_age={age: ranges}
        )
        outcome.warnings.extend(warnings)
        response_queue_after_lab_save(visit=visit)
    return outcome


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 3)))


def _after_save_checks(
    *, panel: LabPanel, values: dict[str, Measurement], new_panel: bool = False, ranges_by_age: dict | None = None
) -> tuple[list[str], int]:
    """Checks other parts of the CRF hang on a saved panel: lab-based AE grades (section 10).
    The warnings to show (in the reader's language) and the number of AEs suggested."""
    from django.utils.html import strip_tags
    from django.utils.translation import gettext

    from assessments.services.adverse_events import suggestion_explanation_shown

    warnings = []
    if "WEIGHT" in values and values["WEIGHT"].value is not None:
        weight = values["WEIGHT"]
        patient = panel.patient
        measured_on = local_date(patient.site, weight.sampled_at)
        warning = weight_band_check(patient=patient, weight_kg=weight.value, measured_on=measured_on)
        auto_query_sync(
            patient=patient,
            record=panel,
            check_code="weight.band_change",
            failing=warning is not None,
            text=(warning or "") + " A weight in another band during treatment needs the dose reviewed (section 6).",
            link=reverse("lab_panel_edit", args=[panel.visit_id]),
            field="WEIGHT",
        )
        if warning:
            warnings.append(warning)
    suggestions = lab_ae_suggestions_create(panel=panel, new_panel=new_panel, ranges_by_age=ranges_by_age)
    for suggestion in suggestions:
        warnings.append(
            gettext(
                "Suggested adverse event: %(term)s grade %(grade)s (%(explanation)s). "
                "Accept or dismiss it on the Adverse events page."
            )
            % {
                "term": suggestion.term.term,
                "grade": suggestion.grade,
                "explanation": strip_tags(suggestion_explanation_shown(suggestion, panel.patient)),
            }
        )
    return warnings, len(suggestions)


def supportive_care_product_problem(*, kind: str, product: str) -> str | None:
    """A transfusion names its product; G-CSF has none (the form shows this on the product field)."""
    from django.utils.translation import gettext  # the supportive care page's words

    if kind == SupportiveCare.Kind.TRANSFUSION and not product:
        return gettext("Choose the transfused product.")
    if kind == SupportiveCare.Kind.GCSF and product:
        return gettext("A product is recorded for transfusions only.")
    return None


def _supportive_care_problems(*, patient: Patient, kind: str, product: str, given_on: date, today: date) -> None:
    from django.utils.translation import gettext  # the supportive care page's words

    errors = {}
    if given_on > today:
        errors["given_on"] = gettext("Date cannot be in the future (after %(date)s).") % {"date": today.isoformat()}
    elif given_on < patient.screening.screening_date:
        errors["given_on"] = gettext("Date cannot be before screening (%(date)s).") % {
            "date": patient.screening.screening_date.isoformat()
        }
    if problem := supportive_care_product_problem(kind=kind, product=product):
        errors["product"] = problem
    if errors:
        raise ValidationError(errors)


@retried
def supportive_care_record(
    *, patient: Patient, kind: str, product: str, given_on: date, detail: str, user, today: date | None = None
) -> SupportiveCare:
    """G-CSF or a transfusion, which the response rule must know of (protocol section 9)."""
    today = today or site_today(patient.site)
    _supportive_care_problems(patient=patient, kind=kind, product=product, given_on=given_on, today=today)
    with transaction.atomic():
        record = SupportiveCare(patient=patient, kind=kind, product=product, given_on=given_on, detail=detail)
        record_save(record=record, user=user, reason=gettext_noop("Supportive care entered"), created=True)
        response_queue_for_patient(patient_id=patient.pk)
    return record


@retried
def supportive_care_update(
    *,
    care_id: int,
    kind: str,
    product: str,
    given_on: date,
    detail: str,
    user,
    expected_version: int,
    reason_for_change: str,
    today: date | None = None,
) -> SupportiveCare:
    """Correct a G-CSF or transfusion record: the version the user loaded and a reason for change.

    The responses of the patient are recomputed, since supported counts do not count (section 9).
    """
    if not (reason_for_change or "").strip():
        raise ValidationError(
            {
                "reason_for_change": ValidationError(
                    "A reason for change is required to change saved data.", code="reason_required"
                )
            }
        )
    with transaction.atomic():
        record = record_lock_for_update(model=SupportiveCare, pk=care_id, expected_version=expected_version)
        patient = Patient.objects.select_related("screening", "site").get(pk=record.patient_id)
        _supportive_care_problems(
            patient=patient, kind=kind, product=product, given_on=given_on, today=today or site_today(patient.site)
        )
        values = {"kind": kind, "product": product, "given_on": given_on, "detail": detail}
        if all(getattr(record, name) == value for name, value in values.items()):
            return record
        for name, value in values.items():
            setattr(record, name, value)
        record_save(record=record, user=user, reason=reason_for_change.strip())
        response_queue_for_patient(patient_id=patient.pk)
    return record
