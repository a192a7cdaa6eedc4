"""Visit windows and statuses (protocol section 7): both ends of each window are inside."""

from datetime import date, timedelta

import pytest

from assessments.rules.schedule import (
    VisitStatus,
    WindowStatus,
    markers_expected,
    visit_status,
    visit_window_check,
)
from trial.rules.calendar import ScheduledVisit, visits_plan

DAY0 = date(2026, 3, 10)


def d(n: int) -> date:
    return DAY0 + timedelta(days=n)


def test_plan_gives_dates_and_windows_from_day_0():
    # "Efficacy day 7 | 7 (+/-1)"; "Follow-up ... day 182 (+/-7)"
    plan = visits_plan(
        day0=DAY0,
        schedule=(ScheduledVisit("FU182", "Follow-up day 182", 182, 7, 7), ScheduledVisit("D7", "Day 7", 7, 1, 1)),
    )
    assert [p.code for p in plan] == ["D7", "FU182"]
    assert (plan[0].planned_date, plan[0].window_start, plan[0].window_end) == (d(7), d(6), d(8))
    assert (plan[1].window_start, plan[1].window_end) == (d(175), d(189))


@pytest.mark.parametrize(
    ("visit_day", "status", "days_outside"),
    [
        (5, WindowStatus.EARLY, 1),  # day 7 (+/-1): day 5 is one day early
        (6, WindowStatus.IN_WINDOW, 0),  # first day of the window is inside
        (7, WindowStatus.IN_WINDOW, 0),
        (8, WindowStatus.IN_WINDOW, 0),  # last day of the window is inside
        (9, WindowStatus.LATE, 1),  # "A visit outside its window is a protocol deviation"
    ],
)
def test_window_check_on_both_sides_of_each_end(visit_day, status, days_outside):
    check = visit_window_check(visit_date=d(visit_day), window_start=d(6), window_end=d(8))
    assert check.status is status
    assert check.days_outside == days_outside
    assert check.deviation is (status is not WindowStatus.IN_WINDOW)


def test_exact_day_visit_has_a_one_day_window():
    # "Daily, week 1 | 1 to 7 (exact day)"
    assert visit_window_check(visit_date=d(3), window_start=d(3), window_end=d(3)).status is WindowStatus.IN_WINDOW
    assert visit_window_check(visit_date=d(4), window_start=d(3), window_end=d(3)).status is WindowStatus.LATE


@pytest.mark.parametrize(
    ("today", "visit_date", "not_done", "expected"),
    [
        (d(5), None, False, VisitStatus.UPCOMING),  # before the window of day 7 (+/-1)
        (d(6), None, False, VisitStatus.DUE),  # window open
        (d(7), None, False, VisitStatus.DUE),  # the planned day
        (d(8), None, False, VisitStatus.OVERDUE),  # past the planned day, window still open
        (d(9), None, False, VisitStatus.MISSED),  # window closed
        (d(9), d(8), False, VisitStatus.DONE),
        (d(20), d(12), False, VisitStatus.DONE),  # done late is still done (and flagged elsewhere)
        (d(9), None, True, VisitStatus.NOT_DONE),
    ],
)
def test_visit_status(today, visit_date, not_done, expected):
    status = visit_status(
        today=today, window_start=d(6), window_end=d(8), planned_date=d(7), visit_date=visit_date, not_done=not_done
    )
    assert status is expected


# Section 9: response "assessed on days 3, 7, 14, 28 and at follow-up visits"; section 6: RUX is
# stopped "when: no response after 3 days; ..."; section 7: follow-up "monthly: day 56 ... 182",
# "relapse check, ... survival". Only an assessment that will happen can have missing markers.
MARKERS_EXPECTED = [
    # (case, assessment day, follow-up visit?, not done?, last dose day, death day, expected)
    ("on treatment, no end recorded", 7, False, False, None, None, True),
    ("day-3 check the day after three days of doses (last dose day 2)", 3, False, False, 2, None, True),
    ("day 7 two days after the last dose (day 5): RUX stopped", 7, False, False, 5, None, False),
    ("day 7 the day after the last dose (day 6)", 7, False, False, 6, None, True),
    ("day 14 after a stop at day 2", 14, False, False, 2, None, False),
    ("day-28 visit after a completed course (last dose day 27)", 28, False, False, 27, None, True),
    ("day-28 visit late in its window, day 30", 30, False, False, 27, None, False),
    ("follow-up day 56 after a completed course", 56, True, False, 27, None, True),
    ("follow-up day 56 after a stop at day 2", 56, True, False, 2, None, True),
    ("visit recorded as not done", 7, False, True, None, None, False),
    ("follow-up visit recorded as not done", 84, True, True, 27, None, False),
    ("the day before death", 13, False, False, None, 14, True),
    ("the day of death", 14, False, False, None, 14, False),
    ("follow-up after death", 56, True, False, 27, 40, False),
]


@pytest.mark.parametrize(
    "case, day, follow_up, not_done, last_dose_day, death_day, expected",
    MARKERS_EXPECTED,
    ids=[c[0] for c in MARKERS_EXPECTED],
)
def test_markers_expected(case, day, follow_up, not_done, last_dose_day, death_day, expected):
    result = markers_expected(
        assessment_date=d(day),
        follow_up_visit=follow_up,
        not_done=not_done,
        last_dose_date=None if last_dose_day is None else d(last_dose_day),
        death_date=None if death_day is None else d(death_day),
    )
    assert result.expected is expected, result.explanation


@pytest.mark.parametrize(
    ("window_start", "window_end", "planned_date"),
    [(None, d(8), d(7)), (d(6), None, d(7)), (d(6), d(8), None)],
    ids=["no window start", "no window end", "no planned day"],
)
def test_an_unscheduled_visit_without_a_date_is_upcoming_whatever_the_day(window_start, window_end, planned_date):
    # Section 7: an unscheduled visit has no window; until it is dated there is nothing due or missed.
    for today in (d(0), d(7), d(400)):
        status = visit_status(
            today=today, window_start=window_start, window_end=window_end, planned_date=planned_date, visit_date=None
        )
        assert status == VisitStatus.UPCOMING
