"""The schedule of assessments (protocol section 7): planned dates and windows from day 0.

Day 0 is the first ruxolitinib dose. A visit done outside its window is a protocol
deviation that is flagged, never a rejected save.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum


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


class WindowStatus(str, Enum):
    EARLY = "early"
    IN_WINDOW = "in_window"
    LATE = "late"


@dataclass(frozen=True)
class WindowCheck:
    status: WindowStatus
    days_outside: int
    explanation: str

    @property
    def deviation(self) -> bool:
        return self.status is not WindowStatus.IN_WINDOW


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


def visit_window_check(*, visit_date: date, window_start: date, window_end: date) -> WindowCheck:
    """Whether a visit date falls inside its window; both window ends are inside (section 7)."""
    window = f"{window_start.isoformat()} to {window_end.isoformat()}"
    if visit_date < window_start:
        days = (window_start - visit_date).days
        return WindowCheck(WindowStatus.EARLY, days, f"{days} day(s) before the window {window}.")
    if visit_date > window_end:
        days = (visit_date - window_end).days
        return WindowCheck(WindowStatus.LATE, days, f"{days} day(s) after the window {window}.")
    return WindowCheck(WindowStatus.IN_WINDOW, 0, f"Inside the window {window}.")


class VisitStatus(str, Enum):
    DONE = "done"
    NOT_DONE = "not_done"
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    MISSED = "missed"


def visit_status(
    *,
    today: date,
    window_start: date | None,
    window_end: date | None,
    planned_date: date | None,
    visit_date: date | None,
    not_done: bool = False,
) -> VisitStatus:
    """Where a visit stands on `today` (protocol section 7).

    Done once it has a date; not done when the site recorded so. Otherwise: upcoming
    before its window, due inside the window up to the planned day, overdue inside the
    window after the planned day, missed once the window has closed.
    """
    if visit_date is not None:
        return VisitStatus.DONE
    if not_done:
        return VisitStatus.NOT_DONE
    if window_start is None or window_end is None or planned_date is None:
        return VisitStatus.UPCOMING
    if today < window_start:
        return VisitStatus.UPCOMING
    if today > window_end:
        return VisitStatus.MISSED
    return VisitStatus.DUE if today <= planned_date else VisitStatus.OVERDUE
