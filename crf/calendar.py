"""The visit calendar planned at enrollment: one visit of the catalogue's visit form per visit of
the trial's schedule, with its planned date and window (protocol section 7, trial.rules.calendar).

The core plans it so the enrollment (patients) needs no feature app below it: the visit form is
the catalogue's, resolved by its label like every form the core writes.
"""

from django.utils.translation import gettext_noop

from crf.catalogue import BY_LABEL
from crf.writes import records_create
from trial.rules.calendar import ScheduledVisit, visits_plan
from trial.selectors import visit_definitions_for

VISIT_FORM = BY_LABEL["assessments.visit"]


def visits_plan_for_patient(*, patient, user) -> list:
    """Create the planned visits with their windows from the trial's schedule (section 7)."""
    definitions = {d.code: d for d in visit_definitions_for(trial=patient.site.trial)}
    schedule = tuple(
        ScheduledVisit(code=d.code, name=d.name, day=d.day, window_before=d.window_before, window_after=d.window_after)
        for d in definitions.values()
    )
    Visit = VISIT_FORM.model
    visits = [
        Visit(
            patient=patient,
            definition=definitions[planned.code],
            name=planned.name,
            planned_day=planned.day,
            planned_date=planned.planned_date,
            window_start=planned.window_start,
            window_end=planned.window_end,
        )
        for planned in visits_plan(day0=patient.first_dose_date, schedule=schedule)
    ]
    # The whole calendar in one statement, with one history row per visit; a study lock refuses it.
    return records_create(records=visits, model=Visit, user=user, reason=gettext_noop("Planned at enrollment"))
