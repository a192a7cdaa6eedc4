"""Writes for adverse events (protocol section 10): entry, correction, lab-based suggestions and
the at-once notification of a serious adverse event.

The checks a database or an API must never let through live here, in `adverse_event_errors`;
the form calls the same function, so a page and a service refuse the same things with the
same words.
"""

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_noop

from assessments.models import AdverseEvent, CtcaeTerm, LabAESuggestion, LabPanel, LabResult
from assessments.rules.ctcae import GRADED_ANALYTES, LabGrade, lab_grade, suggestion_decide, suggestion_explain
from crf.roles import SAE_ALERT
from crf.transactions import retried
from crf.writes import record_delete, record_lock_for_update, record_save, record_write
from notifications.models import Notification
from notifications.services import notifications_send
from patients.models import Death, Patient
from trial.clock import site_today
from trial.rules.age import age_in_days
from trial.rules.units import UnitConversionError, convert
from trial.selectors import reference_ranges_for, site_users_with_perm

# Everything a user enters on the adverse event CRF.
AE_FIELDS = (
    "term",
    "other_specify",
    "grade",
    "onset_date",
    "resolution_date",
    "serious",
    "sae_death",
    "sae_life_threatening",
    "sae_hospitalisation",
    "sae_disability",
    "sae_congenital_anomaly",
    "sae_other_important",
    "relationship",
    "action_taken",
    "outcome",
    "description",
)
# Section 10: "serious (yes/no with criteria: death, life-threatening, hospitalisation,
# disability, congenital anomaly, other important)".
SAE_CRITERIA = (
    "sae_death",
    "sae_life_threatening",
    "sae_hospitalisation",
    "sae_disability",
    "sae_congenital_anomaly",
    "sae_other_important",
)
# What the clinician judges when accepting a lab-based suggestion; term, grade and onset come from the lab value.
ACCEPT_FIELDS = tuple(f for f in AE_FIELDS if f not in {"term", "other_specify", "grade", "onset_date"})

# The screening (baseline) value each graded analyte is compared with, in the catalogue unit.
BASELINE_FIELDS = {
    "HGB": "hemoglobin_g_l",
    "NEUT": "anc_10e9_l",
    "PLAT": "platelets_10e9_l",
    "ALT": "alt_u_l",
}

MIN_GRADE, MAX_GRADE = AdverseEvent.Grade.MILD, AdverseEvent.Grade.DEATH
OTHER_SPECIFY_MAX = AdverseEvent._meta.get_field("other_specify").max_length


def _label(name: str) -> str:
    field = AdverseEvent._meta.get_field(name)
    return str(field.verbose_name)[:1].upper() + str(field.verbose_name)[1:]


def adverse_event_errors(*, patient: Patient, data: dict, today: date) -> dict[str, list[ValidationError]]:
    """Every reason this adverse event cannot be saved for this patient, by field.

    `data` holds the full record (AE_FIELDS), `term` a CtcaeTerm or None. Grades, dates and the
    death and seriousness rules follow protocol section 10 (CTCAE v3.0).
    """
    errors: dict[str, list[ValidationError]] = {}

    def add(field: str, message: str, code: str) -> None:
        errors.setdefault(field, []).append(ValidationError(message, code=code))

    grade = data.get("grade")
    if isinstance(grade, bool) or not isinstance(grade, int) or not MIN_GRADE <= grade <= MAX_GRADE:
        add(
            "grade",
            gettext("Grade must be %(low)s to %(high)s (CTCAE v3.0: 1 mild to 5 death); entered %(grade)s.")
            % {"low": MIN_GRADE, "high": MAX_GRADE, "grade": grade},
            code="grade_out_of_range",
        )
        grade = None

    onset, resolution = data.get("onset_date"), data.get("resolution_date")
    if not isinstance(onset, date):
        add("onset_date", gettext("Onset date is required."), code="required")
        onset = None
    else:
        if onset < patient.enrollment_date:
            add(
                "onset_date",
                gettext("Onset date cannot be before enrollment (%(date)s).")
                % {"date": patient.enrollment_date.isoformat()},
                code="before_enrollment",
            )
        if onset > today:
            add(
                "onset_date",
                gettext("Onset date cannot be in the future (after %(date)s).") % {"date": today.isoformat()},
                code="date_in_future",
            )
    if resolution is not None:
        if onset is not None and resolution < onset:
            add(
                "resolution_date",
                gettext("Resolution date cannot be before the onset date (%(date)s).") % {"date": onset.isoformat()},
                code="before_onset",
            )
        if resolution > today:
            add(
                "resolution_date",
                gettext("Resolution date cannot be in the future (after %(date)s).") % {"date": today.isoformat()},
                code="date_in_future",
            )

    term, other = data.get("term"), (data.get("other_specify") or "").strip()
    if term is None and not other:
        add("term", gettext("Choose a CTCAE v3.0 term, or describe the event under 'Other, specify'."), code="required")
    elif term is not None and term.is_other and not other:
        add(
            "other_specify",
            gettext("'%(term)s' (%(code)s) needs the event specified in 'Other, specify'.")
            % {"term": term.term, "code": term.code},
            code="required",
        )
    elif len(other) > OTHER_SPECIFY_MAX:
        add(
            "other_specify",
            gettext("'Other, specify' must be at most %(limit)s characters (entered %(length)s).")
            % {"limit": OTHER_SPECIFY_MAX, "length": len(other)},
            code="max_length",
        )
    elif term is not None and not term.is_other and other:
        add(
            "other_specify",
            gettext(
                "'Other, specify' is for a CTCAE '-other' term; '%(term)s' (%(code)s) is specific. "
                "Put further detail in the description."
            )
            % {"term": term.term, "code": term.code},
            code="not_applicable",
        )

    for name, choices in (
        ("relationship", AdverseEvent.Relationship),
        ("action_taken", AdverseEvent.Action),
        ("outcome", AdverseEvent.Outcome),
    ):
        if data.get(name) not in choices.values:
            add(
                name,
                gettext("%(field)s: choose one of %(choices)s.")
                % {"field": _label(name), "choices": ", ".join(str(label) for label in choices.labels)},
                code="invalid_choice",
            )

    serious = bool(data.get("serious"))
    ticked = [name for name in SAE_CRITERIA if data.get(name)]
    if serious and not ticked:
        add(
            "serious",
            gettext(
                "A serious adverse event needs at least one seriousness criterion (death, life-threatening, "
                "hospitalisation, disability, congenital anomaly, other important medical event)."
            ),
            code="serious_without_criterion",
        )
    if not serious and ticked:
        add(
            "serious",
            gettext("Seriousness criteria are ticked (%(criteria)s) but 'Serious' is No.")
            % {"criteria": ", ".join(_label(n) for n in ticked)},
            code="seriousness_without_serious",
        )

    outcome = data.get("outcome")
    if grade == AdverseEvent.Grade.DEATH:
        if not Death.objects.filter(patient=patient).exists():
            add(
                "grade",
                gettext("Grade 5 (death) needs the patient's death recorded first (date and cause of death)."),
                code="grade_5_needs_death",
            )
        if outcome != AdverseEvent.Outcome.FATAL:
            add("outcome", gettext("A grade 5 event has the outcome 'Fatal'."), code="grade_5_outcome")
        if not (serious and data.get("sae_death")):
            add(
                "sae_death",
                gettext("A grade 5 event is serious with the criterion 'Results in death'."),
                code="grade_5_serious",
            )
    elif grade is not None:
        if outcome == AdverseEvent.Outcome.FATAL:
            add(
                "outcome",
                gettext("Outcome 'Fatal' is a grade 5 event (death); the grade entered is %(grade)s.")
                % {"grade": grade},
                code="fatal_needs_grade_5",
            )
        if data.get("sae_death"):
            add(
                "sae_death",
                gettext("'Results in death' is a grade 5 event; the grade entered is %(grade)s.") % {"grade": grade},
                code="death_needs_grade_5",
            )
    return errors


def _check(*, patient: Patient, data: dict) -> None:
    errors = adverse_event_errors(patient=patient, data=data, today=site_today(patient.site))
    if errors:
        raise ValidationError(errors)


def _clean_data(data: dict, fields: tuple[str, ...]) -> dict:
    """The AE fields of `data`; a term may come as a CtcaeTerm or its id, dates and grade as text (an API)."""
    out = {name: data[name] for name in fields if name in data}
    term = out.get("term")
    if term == "":
        out["term"] = None
    elif term is not None and not isinstance(term, CtcaeTerm):
        found = CtcaeTerm.objects.filter(pk=term).first() if str(term).isdigit() else None
        if found is None:
            raise ValidationError({"term": ValidationError(f"Unknown CTCAE term {term}.", code="unknown_term")})
        out["term"] = found
    if isinstance(out.get("grade"), str) and out["grade"].strip().isdigit():
        out["grade"] = int(out["grade"])
    for name in ("onset_date", "resolution_date"):
        if isinstance(out.get(name), str):
            try:
                out[name] = date.fromisoformat(out[name]) if out[name] else None
            except ValueError as exc:
                message = f"{_label(name)}: enter a date as YYYY-MM-DD."
                raise ValidationError({name: ValidationError(message, code="date_format")}) from exc
    for name in ("serious", *SAE_CRITERIA):
        if isinstance(out.get(name), str):
            out[name] = out[name].strip().lower() in {"true", "1", "yes", "on"}
        elif name in out and not isinstance(out[name], bool):  # null or a number: not a yes/no answer
            raise ValidationError({name: ValidationError(f"{_label(name)}: true or false.", code="not_boolean")})
    if "other_specify" in out:
        out["other_specify"] = (out["other_specify"] or "").strip()
    if "description" in out:
        out["description"] = out["description"] or ""
    return out


def _blank_record() -> dict:
    return {
        "term": None,
        "other_specify": "",
        "resolution_date": None,
        "serious": False,
        **dict.fromkeys(SAE_CRITERIA, False),
        "description": "",
    }


def sae_recipients(*, patient: Patient) -> QuerySet:
    """Section 10: a serious AE notifies the coordinators and the monitors of the patient's site.

    Only that site's: the notification names the subject, the term, the grade and the onset,
    which a monitor of another site may not read (the pages give them a 404 for this patient).
    """
    return site_users_with_perm(site_id=patient.site_id, perm=SAE_ALERT)


def sae_message(ae: AdverseEvent, *, user) -> tuple[str, str]:
    """The SAE alert's title and body in the active language (notifications_send writes them in
    each recipient's). The CTCAE term is printed as the dictionary names it (v3.0, English)."""
    patient = ae.patient
    criteria = ", ".join(_label(name) for name in SAE_CRITERIA if getattr(ae, name))
    if getattr(user, "is_authenticated", False):
        who = user.get_full_name() or user.username
    else:
        who = gettext("the system")
    values = {
        "subject": patient.subject_number,
        "site": patient.site.code,
        "term": ae.term_label,
        "grade": ae.grade,
        "onset": date_format(ae.onset_date, "DATE_FORMAT"),
        "criteria": criteria,
        "relationship": ae.get_relationship_display(),
        "action": ae.get_action_taken_display(),
        "outcome": ae.get_outcome_display(),
        "who": who,
    }
    title = gettext("Serious adverse event: %(subject)s, %(term)s grade %(grade)s") % values
    body = "\n".join(
        (
            gettext("Patient %(subject)s (site %(site)s): %(term)s, CTCAE grade %(grade)s, onset %(onset)s.") % values,
            gettext("Seriousness: %(criteria)s.") % values,
            gettext("Relationship to ruxolitinib: %(relationship)s; action taken: %(action)s; outcome: %(outcome)s.")
            % values,
            gettext("Reported by %(who)s.") % values,
        )
    )
    return title, body


def _sae_notify(ae: AdverseEvent, *, user) -> list[Notification]:
    patient = ae.patient
    # Written once per recipient, in each one's language (notifications_send).
    return notifications_send(
        recipients=sae_recipients(patient=patient),
        kind=Notification.Kind.SAE,
        title=lambda: sae_message(ae, user=user)[0],
        body=lambda: sae_message(ae, user=user)[1],
        link=f"{reverse('ae_list', args=[patient.pk])}#ae-{ae.pk}",
        source_key=f"sae:{ae.pk}",
    )


def _create(*, patient: Patient, data: dict, user, source: str, reason: str) -> AdverseEvent:
    record = {**_blank_record(), **data}
    _check(patient=patient, data=record)
    ae = AdverseEvent(patient=patient, source=source, **record)
    record_save(record=ae, user=user, reason=reason, created=True)
    if ae.serious:
        _sae_notify(ae, user=user)
    return ae


@retried
def adverse_event_record(*, patient: Patient, data: dict, user) -> AdverseEvent:
    """Enter an adverse event (section 10); a serious one notifies the site's coordinators and monitors at once."""
    with transaction.atomic():
        patient = Patient.objects.select_related("site").get(pk=patient.pk)
        return _create(
            patient=patient,
            data=_clean_data(data, AE_FIELDS),
            user=user,
            source=AdverseEvent.Source.MANUAL,
            reason=gettext_noop("Adverse event entered"),
        )


@retried
def adverse_event_update(
    *, ae_id: int, data: dict, expected_version: int, user, reason_for_change: str
) -> AdverseEvent:
    """Correct a saved adverse event: the version the user loaded and a reason are required.

    An event that becomes serious notifies as a new serious event does (once per event).
    """
    if not (reason_for_change or "").strip():
        raise ValidationError(
            {
                "reason_for_change": ValidationError(
                    "A reason is required to change a saved adverse event.", code="reason_required"
                )
            }
        )
    with transaction.atomic():
        ae = record_lock_for_update(model=AdverseEvent, pk=ae_id, expected_version=expected_version)
        patient = Patient.objects.select_related("site").get(pk=ae.patient_id)
        was_serious = ae.serious
        changes = _clean_data(data, AE_FIELDS)
        record = {name: getattr(ae, name) for name in AE_FIELDS} | changes
        _check(patient=patient, data=record)
        for name, value in changes.items():
            setattr(ae, name, value)
        ae.patient = patient
        record_save(record=ae, user=user, reason=reason_for_change.strip())
        if ae.serious and not was_serious:
            _sae_notify(ae, user=user)
    return ae


# Lab-based suggestions (section 10: "Lab-based grading suggested automatically").


def _site_date(moment, patient: Patient) -> date:
    return timezone.localtime(moment, ZoneInfo(patient.site.time_zone)).date()


def _canonical(code: str, value: Decimal | float | None, unit: str) -> Decimal | None:
    """A value in the catalogue unit the CTCAE limits are written in; None if it cannot be converted."""
    if value is None:
        return None
    target = GRADED_ANALYTES[code].unit
    if unit == target:
        return Decimal(str(value))
    try:
        return Decimal(str(convert(code, float(value), unit, target)))
    except UnitConversionError:
        return None


def _limits(
    result: LabResult, patient: Patient, ranges_by_age: dict | None = None
) -> tuple[Decimal | None, Decimal | None]:
    """LLN and ULN in the catalogue unit: those stored with the value, else the site's range for the age.

    `ranges_by_age` memoises the site's ranges by age in days for a caller grading many values.
    """
    low = _canonical(result.analyte, result.reference_low, result.unit)
    high = _canonical(result.analyte, result.reference_high, result.unit)
    if low is None or high is None:
        age = age_in_days(patient.screening.date_of_birth, _site_date(result.sampled_at, patient))
        memo = {} if ranges_by_age is None else ranges_by_age
        if age not in memo:
            memo[age] = reference_ranges_for(site=patient.site, age_days=age)
        site_range = memo[age].get(result.analyte)
        if site_range is not None:
            low = low if low is not None else _canonical(result.analyte, site_range.lower, site_range.unit)
            high = high if high is not None else _canonical(result.analyte, site_range.upper, site_range.unit)
    return low, high


def _grades(
    result: LabResult, patient: Patient, ranges_by_age: dict | None = None
) -> tuple[LabGrade, LabGrade | None] | None:
    """The grade of a lab value and of the screening value with the same limits; None if ungraded."""
    value = _canonical(result.analyte, result.value, result.unit)
    if value is None:
        return None
    low, high = _limits(result, patient, ranges_by_age)
    current = lab_grade(result.analyte, value, low, high)
    if current is None:
        return None
    baseline_value = getattr(patient.screening, BASELINE_FIELDS[result.analyte])
    baseline = None if baseline_value is None else lab_grade(result.analyte, baseline_value, low, high)
    return current, baseline


def _explanation_stored(current: LabGrade, baseline: LabGrade | None) -> str:
    """The suggestion's sentence as it is kept: English, whoever saved the panel (pages
    recompute it in the reader's language, suggestion_explanation_shown)."""
    with translation.override("en"):
        return suggestion_explain(current, baseline)[:300]


def suggestion_explanation_shown(suggestion, patient: Patient | None = None) -> str:
    """A suggestion's sentence in the reader's language, the CTCAE term marked English (HTML).

    Recomputed from its lab value and the screening value with the value's limits; the kept
    sentence (English) when the value no longer grades."""
    marker = "\x00"
    result, patient = suggestion.lab_result, patient or suggestion.patient
    graded = _grades(result, patient)
    if graded is None:
        return format_html('<span lang="en">{}</span>', suggestion.explanation)
    current, baseline = graded
    current = lab_grade(current.analyte, current.value, *_limits(result, patient), term=marker)
    text = suggestion_explain(current, baseline)
    term = format_html('<span lang="en">{}</span>', current.ctcae_term)
    return mark_safe(conditional_escape(text).replace(marker, term))  # noqa: S308 - both parts escaped


def lab_ae_suggestions_create(
    *, panel: LabPanel, new_panel: bool = False, ranges_by_age: dict | None = None
) -> list[LabAESuggestion]:
    """Offer a CTCAE grade reached by the panel's values as adverse events to accept or dismiss.

    Called by the lab-panel service after a panel is saved, in its transaction. For each HGB,
    NEUT, PLAT and ALT value sampled on or after enrollment, the value is graded with its
    reference limits and compared with the screening value graded with the same limits
    (assessments/rules/ctcae.py). One suggestion per lab value: created, updated while pending,
    or deleted while pending when a corrected value no longer reaches a worse grade. Accepted
    and dismissed suggestions are never touched. Safe to run twice: nothing is written when
    nothing changed. Returns the panel's pending suggestions. `new_panel` says the panel was
    created in the caller's transaction with its patient (site, screening) loaded;
    `ranges_by_age` the site's reference ranges the caller already read, by age in days.
    """
    with transaction.atomic(savepoint=False):
        if not new_panel:
            panel = LabPanel.objects.select_related("patient__site", "patient__screening").get(pk=panel.pk)
        patient = panel.patient
        results = LabResult.objects.filter(panel=panel, analyte__in=GRADED_ANALYTES).order_by("analyte")
        results = list(results if new_panel else results.select_for_update())
        existing = (
            {}
            if new_panel  # a panel created in this transaction has no suggestions yet
            else {
                s.lab_result_id: s
                for s in LabAESuggestion.objects.select_for_update().filter(lab_result__in=[r.pk for r in results])
            }
        )
        terms = {t.code: t for t in CtcaeTerm.objects.filter(code__in=[a.ctcae_code for a in GRADED_ANALYTES.values()])}
        pending: list[LabAESuggestion] = []
        ranges_by_age = {} if ranges_by_age is None else ranges_by_age
        for result in results:
            suggestion = existing.get(result.pk)
            if suggestion is not None and suggestion.status != LabAESuggestion.Status.PENDING:
                continue
            graded = None
            if _site_date(result.sampled_at, patient) >= patient.enrollment_date:
                graded = _grades(result, patient, ranges_by_age)
            if graded is None or not suggestion_decide(graded[0], graded[1].grade if graded[1] else None):
                if suggestion is not None:
                    reason = gettext_noop("Lab value corrected: no worse grade than baseline is reached")
                    record_delete(record=suggestion, user=None, reason=reason, check_lock=False)
                continue
            current, baseline = graded
            wanted = {
                "term": terms[current.ctcae_code],
                "grade": current.grade,
                "explanation": _explanation_stored(current, baseline),
            }
            if suggestion is None:
                suggestion = LabAESuggestion(patient=patient, lab_result=result, **wanted)
                record_write(
                    record=suggestion, user=None, reason=gettext_noop("Suggested from a lab value"), check_lock=False
                )
            elif any(getattr(suggestion, k) != v for k, v in wanted.items()):
                for key, value in wanted.items():
                    setattr(suggestion, key, value)
                record_write(record=suggestion, user=None, reason=gettext_noop("Lab value corrected"), check_lock=False)
            pending.append(suggestion)
    return pending


def suggestion_onset_date(suggestion: LabAESuggestion) -> date:
    """The onset of an accepted lab-based event: the sampling date of the value, where the site is."""
    return _site_date(suggestion.lab_result.sampled_at, suggestion.patient)


def _pending_suggestion(suggestion_id: int) -> LabAESuggestion:
    suggestion = (
        LabAESuggestion.objects.select_for_update()
        .select_related("lab_result", "term", "patient__site")
        .get(pk=suggestion_id)
    )
    if suggestion.status != LabAESuggestion.Status.PENDING:
        raise ValidationError(
            {NON_FIELD_ERRORS: f"This suggestion was already {suggestion.get_status_display().lower()}."}
        )
    return suggestion


def _decide(suggestion: LabAESuggestion, *, status: str, user, reason: str) -> None:
    suggestion.status = status
    suggestion.decided_by = user if getattr(user, "is_authenticated", False) else None
    suggestion.decided_at = timezone.now()
    record_write(record=suggestion, user=user, reason=reason)  # refused on frozen or locked data


@retried
def lab_ae_suggestion_accept(*, suggestion_id: int, user, data: dict) -> AdverseEvent:
    """Record the suggested lab adverse event: term and grade as suggested, onset the sampling date.

    `data` holds the clinician's judgement (relationship, action taken, outcome, seriousness,
    resolution date, description); it goes through the same checks as any adverse event.
    """
    with transaction.atomic():
        suggestion = _pending_suggestion(suggestion_id)
        patient = suggestion.patient
        record = _clean_data(data, ACCEPT_FIELDS) | {
            "term": suggestion.term,
            "other_specify": "",
            "grade": suggestion.grade,
            "onset_date": suggestion_onset_date(suggestion),
        }
        ae = _create(
            patient=patient,
            data=record,
            user=user,
            source=AdverseEvent.Source.LAB,
            reason=f"Accepted lab-based suggestion: {suggestion.explanation}"[:100],
        )
        suggestion.adverse_event = ae
        _decide(
            suggestion,
            status=LabAESuggestion.Status.ACCEPTED,
            user=user,
            reason=gettext_noop("Accepted as adverse event"),
        )
    return ae


@retried
def lab_ae_suggestion_dismiss(*, suggestion_id: int, user, reason: str) -> LabAESuggestion:
    """Dismiss a suggestion with the clinician's reason (e.g. cytopenia of HLH, not a new event)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for dismissing this suggestion."})
    max_length = LabAESuggestion._meta.get_field("dismissed_reason").max_length
    if len(reason) > max_length:
        raise ValidationError({"reason": f"Reason must be at most {max_length} characters (entered {len(reason)})."})
    with transaction.atomic():
        suggestion = _pending_suggestion(suggestion_id)
        suggestion.dismissed_reason = reason
        _decide(suggestion, status=LabAESuggestion.Status.DISMISSED, user=user, reason=f"Dismissed: {reason}"[:100])
    return suggestion
