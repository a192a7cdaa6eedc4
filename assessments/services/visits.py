"""Writes for visits: dated when done, not done, unscheduled when needed (planned: crf.calendar)."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from assessments.models import Visit
from assessments.rules.schedule import visit_window_check
from crf.edit_checks import auto_query_sync
from crf.transactions import retried
from crf.writes import record_lock_for_update, record_save
from patients.models import Patient
from trial.clock import site_today


def visit_date_apply(*, visit: Visit, visit_date: date, user, reason: str | None) -> Visit:
    """Set the date a visit took place; outside its window it is saved and flagged (section 7)."""
    visit.visit_date = visit_date
    visit.not_done = False
    if visit.window_start is not None and visit.window_end is not None:
        with translation.override("en"):  # the stored note is English; pages translate it (assessments.display)
            check = visit_window_check(
                visit_date=visit_date, window_start=visit.window_start, window_end=visit.window_end
            )
        visit.out_of_window = check.deviation
        visit.window_note = check.explanation if check.deviation else ""
    record_save(record=visit, user=user, reason=reason or gettext_noop("Visit date recorded"))
    auto_query_sync(
        patient=visit.patient,
        record=visit,
        check_code="visit.out_of_window",
        failing=visit.out_of_window,
        text=f"{visit.name} done on {visit_date.isoformat()}: {visit.window_note} "
        "A visit outside its window is a protocol deviation (section 7); confirm the date or correct it.",
        link=reverse("lab_panel_edit", args=[visit.pk]),
        field="visit_date",
    )
    return visit


@retried
def visit_unscheduled_add(*, patient: Patient, visit_date: date, reason: str, user, today: date | None = None) -> Visit:
    """An unscheduled visit on any day after enrollment (section 7: any form)."""
    today = today or site_today(patient.site)
    errors = {}
    if visit_date > today:
        errors["visit_date"] = gettext("Visit date cannot be in the future (after %(date)s).") % {
            "date": today.isoformat()
        }
    elif visit_date < patient.enrollment_date:
        errors["visit_date"] = gettext("Visit date cannot be before enrollment (%(date)s).") % {
            "date": patient.enrollment_date.isoformat()
        }
    if not reason.strip():
        errors["reason"] = gettext("Give the reason for the unscheduled visit.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        day = (visit_date - patient.first_dose_date).days
        visit = Visit(
            patient=patient,
            name=f"Unscheduled (day {day})",
            planned_day=day,
            visit_date=visit_date,
            unscheduled=True,
            reason=reason.strip(),
        )
        record_save(record=visit, user=user, reason=gettext_noop("Unscheduled visit added"), created=True)
    return visit


@retried
def visit_not_done_record(*, visit_id: int, reason: str, expected_version: int, user) -> Visit:
    if not reason.strip():
        raise ValidationError({"not_done_reason": gettext("Give the reason the visit was not done.")})
    with transaction.atomic():
        visit = record_lock_for_update(model=Visit, pk=visit_id, expected_version=expected_version)
        if visit.visit_date is not None:
            raise ValidationError({"not_done_reason": gettext("This visit already has a date; it was done.")})
        visit.not_done = True
        visit.not_done_reason = reason.strip()
        record_save(record=visit, user=user, reason=gettext_noop("Visit recorded as not done"))
        # An assessment that will not happen is not missing data: its open query closes itself.
        from assessments.services.responses import response_queue_for_patient

        response_queue_for_patient(patient_id=visit.patient_id)
    return visit
