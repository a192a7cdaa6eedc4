"""Writes for visits."""

from assessments.models import Visit
from assessments.rules.schedule import ScheduledVisit, visits_plan
from patients.models import Patient
from trial.selectors import visit_definitions_for
from trial.versioning import record_save


def visits_plan_for_patient(*, patient: Patient, user) -> list[Visit]:
    """Create the planned visits with their windows from the trial's schedule (section 7)."""
    definitions = {d.code: d for d in visit_definitions_for(trial=patient.site.trial)}
    schedule = tuple(
        ScheduledVisit(code=d.code, name=d.name, day=d.day, window_before=d.window_before, window_after=d.window_after)
        for d in definitions.values()
    )
    visits = []
    for planned in visits_plan(day0=patient.first_dose_date, schedule=schedule):
        visit = Visit(
            patient=patient,
            definition=definitions[planned.code],
            name=planned.name,
            planned_day=planned.day,
            planned_date=planned.planned_date,
            window_start=planned.window_start,
            window_end=planned.window_end,
        )
        record_save(record=visit, user=user, reason="Planned at enrollment", created=True)
        visits.append(visit)
    return visits
