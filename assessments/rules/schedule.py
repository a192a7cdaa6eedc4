"""The schedule of assessments (protocol section 7): planned dates and windows from day 0.

Day 0 is the first ruxolitinib dose. A visit done outside its window is a protocol
deviation that is flagged, never a rejected save.
"""

from dataclasses import dataclass
from datetime import date
from enum import Enum

from assessments.rules.endpoints import EndpointThresholds, on_ruxolitinib
from trial.rules.words import gettext


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


def visit_window_check(*, visit_date: date, window_start: date, window_end: date) -> WindowCheck:
    """Whether a visit date falls inside its window; both window ends are inside (section 7).

    The explanation is in the active language; a caller that stores it stores the English."""
    window = {"start": window_start.isoformat(), "end": window_end.isoformat()}
    if visit_date < window_start:
        days = (window_start - visit_date).days
        text = gettext("%(days)s day(s) before the window %(start)s to %(end)s.") % {"days": days, **window}
        return WindowCheck(WindowStatus.EARLY, days, text)
    if visit_date > window_end:
        days = (visit_date - window_end).days
        text = gettext("%(days)s day(s) after the window %(start)s to %(end)s.") % {"days": days, **window}
        return WindowCheck(WindowStatus.LATE, days, text)
    return WindowCheck(WindowStatus.IN_WINDOW, 0, gettext("Inside the window %(start)s to %(end)s.") % window)


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


@dataclass(frozen=True)
class MarkersExpected:
    expected: bool
    explanation: str


def markers_expected(
    *,
    assessment_date: date,
    follow_up_visit: bool,
    not_done: bool,
    last_dose_date: date | None,
    death_date: date | None,
    days_after_last_dose: int = EndpointThresholds.assessed_days_after_last_dose,
) -> MarkersExpected:
    """Whether an assessment day's HLH markers are still expected, so that their absence is
    missing data worth a query (sections 7 and 9). An assessment that will not happen is not
    missing data:

    - a visit recorded as not done expects nothing;
    - nothing is expected from the day of death on;
    - a treatment-phase assessment (days 3 to 28) after ruxolitinib stopped assesses nothing
      the protocol asks for; the day after the last dose still does (on_ruxolitinib: the
      day-3 check after three days of doses, the day-28 visit after a completed course).

    Follow-up visits stay expected after the drug stopped: section 9 assesses response "at
    follow-up visits" and section 7 gives every patient their monthly relapse check; they come
    after ruxolitinib by design, and a relapse missed there would be an EFS event missed.
    """
    if not_done:
        return MarkersExpected(False, "Visit recorded as not done.")
    if death_date is not None and assessment_date >= death_date:
        return MarkersExpected(False, f"On or after the date of death ({death_date.isoformat()}).")
    if not follow_up_visit and not on_ruxolitinib(
        assessment_date, last_dose_date=last_dose_date, days_after_last_dose=days_after_last_dose
    ):
        return MarkersExpected(
            False, f"Ruxolitinib stopped (last dose {last_dose_date.isoformat()}): no treatment assessment."
        )
    return MarkersExpected(True, "Assessment day of the schedule (sections 7 and 9).")
