"""The visit calendar (protocol section 7): each visit's planned date and window from day 0.

Day 0 is the first ruxolitinib dose; the schedule is the trial's configuration (its visit
definitions: day and window before and after). The windows are checked against the visit's
date in assessments.rules.schedule.
"""

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class ScheduledVisit:
    code: str
    name: str
    day: int
    window_before: int
    window_after: int


@dataclass(frozen=True)
class PlannedVisit:
    code: str
    name: str
    day: int
    planned_date: date
    window_start: date
    window_end: date


def visits_plan(*, day0: date, schedule: tuple[ScheduledVisit, ...]) -> tuple[PlannedVisit, ...]:
    """Planned date and window of each visit of the schedule (protocol section 7)."""
    return tuple(
        PlannedVisit(
            code=v.code,
            name=v.name,
            day=v.day,
            planned_date=day0 + timedelta(days=v.day),
            window_start=day0 + timedelta(days=v.day - v.window_before),
            window_end=day0 + timedelta(days=v.day + v.window_after),
        )
        for v in sorted(schedule, key=lambda v: v.day)
    )
