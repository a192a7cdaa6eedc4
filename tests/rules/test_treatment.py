"""Study drug schedule, dose deviations, end of treatment and status: protocol sections 6, 7 and 11."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from patients.rules.dosing import PROTOCOL_BANDS, DoseBand
from patients.rules.treatment import (
    GivenDose,
    OffBandDose,
    PatientStatus,
    ScheduledDose,
    administration_time_check,
    completion_check,
    dose_amount_problem,
    dose_check,
    dose_counts,
    dose_interval_problem,
    dose_neighbours,
    dose_schedule,
    dose_window,
    next_dose,
    off_band_decisions,
    patient_status_derive,
    slots_for,
    study_day,
    treatment_day_date,
    treatment_end_problems,
    weight_band_change,
)

DAY0 = date(2026, 3, 3)


def d(n: int) -> date:
    """Study day n: day 0 is the first dose."""
    return DAY0 + timedelta(days=n)


# Section 6: "Duration: 28 consecutive days (56 doses)."


def test_schedule_has_56_doses_twice_daily_for_28_days():
    schedule = dose_schedule(DAY0)
    assert len(schedule) == 56
    assert schedule[0] == ScheduledDose(1, "am", DAY0)
    assert schedule[1] == ScheduledDose(1, "pm", DAY0)
    assert schedule[-1] == ScheduledDose(28, "pm", d(27))
    assert {s.treatment_day for s in schedule} == set(range(1, 29))


def test_treatment_day_1_is_day_0_and_day_28_is_study_day_27():
    assert treatment_day_date(DAY0, 1) == DAY0
    assert treatment_day_date(DAY0, 28) == d(27)
    assert dose_schedule(DAY0)[-1].study_day == 27
    assert study_day(DAY0, d(27)) == 27


def test_schedule_follows_the_configured_cycle():
    # A longer protocol version or once-daily dosing is configuration, not code.
    assert len(dose_schedule(DAY0, treatment_days=42, doses_per_day=1)) == 42
    assert [s.slot for s in dose_schedule(DAY0, treatment_days=1)] == ["am", "pm"]


@pytest.mark.parametrize(("doses_per_day", "treatment_days"), [(0, 28), (3, 28), (2, 0)])
def test_schedule_refuses_impossible_shapes(doses_per_day, treatment_days):
    with pytest.raises(ValueError):
        dose_schedule(DAY0, treatment_days=treatment_days, doses_per_day=doses_per_day)


def test_slots_are_morning_then_evening():
    assert slots_for(2) == ("am", "pm")
    assert slots_for(1) == ("am",)


# Section 6: "A prescribed dose that differs from the band is a protocol deviation:
# allowed to save (clinical reality) but flagged."


@pytest.mark.parametrize(
    ("status", "amount", "expected", "deviation"),
    [
        pytest.param("given", 5.0, 5.0, False, id="exactly the band's 5 mg"),
        pytest.param("given", 5.01, 5.0, True, id="0.01 mg more is a deviation"),
        pytest.param("given", 4.99, 5.0, True, id="0.01 mg less is a deviation"),
        pytest.param("given", 2.5, 2.5, False, id="2.5 mg band"),
        pytest.param("given", 10.0000000001, 10.0, False, id="decimal noise is not a deviation"),
        pytest.param("given", 10.0, 5.0, True, id="double dose"),
        pytest.param("missed", None, 5.0, False, id="missed: counted, not a dose deviation"),
        pytest.param("held", None, 5.0, False, id="held: counted, not a dose deviation"),
    ],
)
def test_dose_check(status, amount, expected, deviation):
    assert dose_check(status, amount, expected).deviation is deviation


def test_dose_deviation_is_explained_with_both_amounts():
    assert dose_check("given", 5.01, 5.0).explanation == (
        "Protocol deviation: given 5.01 mg, but the weight band's dose is 5 mg (protocol section 6)."
    )
    assert dose_check("given", 5.0, 5.0).explanation == "Given 5 mg, the weight band's dose."
    assert dose_check("held", None, 5.0).explanation.startswith("Dose held")


def test_a_given_dose_needs_an_amount():
    with pytest.raises(ValueError, match="amount"):
        dose_check("given", None, 5.0)


@pytest.mark.parametrize(
    ("amount", "problem"),
    [
        (None, "enter the amount given"),
        (0.0, "more than 0 mg"),
        (-2.5, "more than 0 mg"),
        (0.01, None),
        (50.0, None),
        (50.01, "at most 50 mg"),
    ],
)
def test_dose_amount_limits(amount, problem):
    message = dose_amount_problem(amount)
    assert (message is None) if problem is None else (problem in message)


# Section 6: "Each administered, missed or held dose is recorded with date and time."
# Decision: on its scheduled date (site time); the evening dose until 06:00 the next day.


@pytest.mark.parametrize(
    ("slot", "given_at", "on_schedule"),
    [
        pytest.param("am", datetime(2026, 3, 5, 0, 0), True, id="am at 00:00 on its date"),
        pytest.param("am", datetime(2026, 3, 5, 23, 59), True, id="am at 23:59 on its date"),
        pytest.param("am", datetime(2026, 3, 4, 23, 59), False, id="am the evening before"),
        pytest.param("am", datetime(2026, 3, 6, 0, 30), False, id="am after midnight: no grace"),
        pytest.param("pm", datetime(2026, 3, 5, 20, 0), True, id="pm at 20:00"),
        pytest.param("pm", datetime(2026, 3, 6, 5, 59), True, id="pm at 05:59 next day: grace"),
        pytest.param("pm", datetime(2026, 3, 6, 6, 0), False, id="pm at 06:00 next day: too late"),
        pytest.param("pm", datetime(2026, 3, 4, 20, 0), False, id="pm the day before"),
    ],
)
def test_administration_time_check(slot, given_at, on_schedule):
    scheduled = ScheduledDose(3, slot, DAY0 + timedelta(days=2))  # treatment day 3 = 2026-03-05
    assert administration_time_check(scheduled=scheduled, administered_local=given_at).on_schedule is on_schedule


def test_administration_time_message_names_the_allowed_dates():
    scheduled = ScheduledDose(3, "pm", date(2026, 3, 5))
    check = administration_time_check(scheduled=scheduled, administered_local=datetime(2026, 3, 7, 8, 0))
    assert check.explanation == (
        "The evening dose of treatment day 3 must be given on 2026-03-05 or before 06:00 on 2026-03-06 "
        "(site time), not 2026-03-07 08:00."
    )


def test_grace_can_be_switched_off():
    scheduled = ScheduledDose(3, "pm", date(2026, 3, 5))
    late = datetime(2026, 3, 6, 0, 30)
    assert not administration_time_check(
        scheduled=scheduled, administered_local=late, evening_grace_hours=0
    ).on_schedule


@pytest.mark.parametrize(
    ("slot", "given_at"),
    [
        (slot, datetime.combine(DAY0 + timedelta(days=day), time(hour, minute)))
        for slot in ("am", "pm")
        for day in (1, 2, 3)
        for hour, minute in ((0, 0), (5, 59), (6, 0), (23, 59))
    ],
)
def test_dose_window_is_the_window_administration_time_check_accepts(slot, given_at):
    scheduled = ScheduledDose(3, slot, DAY0 + timedelta(days=2))
    start, end = dose_window(scheduled)
    accepted = administration_time_check(scheduled=scheduled, administered_local=given_at).on_schedule
    assert (start <= given_at < end) is accepted


# Section 1: "oral ruxolitinib (RUX), twice daily (BID)". Decision: two given doses at least
# the trial's minimum interval apart (default 8 h); a shorter interval needs a confirmation.

SHANGHAI = ZoneInfo("Asia/Shanghai")
MORNING = GivenDose(9, "am", datetime(2026, 3, 11, 8, 2, tzinfo=SHANGHAI))
EVENING = GivenDose(9, "pm", datetime(2026, 3, 11, 20, 0, tzinfo=SHANGHAI))


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("administered", "previous", "following", "hours", "short_by"),
    [
        pytest.param(shanghai(11, 16, 2), MORNING, None, 8, None, id="exactly 8 h after: enough"),
        pytest.param(shanghai(11, 16, 1), MORNING, None, 8, MORNING, id="8 h less one minute: short"),
        pytest.param(shanghai(11, 8, 15), MORNING, None, 8, MORNING, id="13 min after (the stale Given now)"),
        pytest.param(shanghai(11, 8, 2), MORNING, None, 8, MORNING, id="the same minute"),
        pytest.param(shanghai(11, 12, 0), None, EVENING, 8, None, id="exactly 8 h before the next"),
        pytest.param(shanghai(11, 12, 1), None, EVENING, 8, EVENING, id="8 h less one minute before the next"),
        pytest.param(shanghai(11, 14, 0), MORNING, EVENING, 8, MORNING, id="between two: the previous first"),
        pytest.param(shanghai(11, 12, 2), MORNING, None, 4, None, id="a trial with a 4 h minimum"),
        pytest.param(shanghai(11, 8, 15), MORNING, None, 0, None, id="0 h: no check"),
        pytest.param(shanghai(11, 8, 15), None, None, 8, None, id="no other dose given"),
    ],
)
def test_dose_interval_problem(administered, previous, following, hours, short_by):
    problem = dose_interval_problem(
        administered=administered, previous=previous, following=following, min_interval_hours=hours
    )
    assert (problem and problem.neighbour) == short_by
    if problem:
        expected_gap = abs(administered - short_by.at)  # one zone without DST: wall clock = elapsed
        assert (problem.gap, problem.minimum) == (expected_gap, timedelta(hours=hours))


def test_short_interval_names_the_previous_dose_its_time_and_the_limit():
    problem = dose_interval_problem(
        administered=shanghai(11, 8, 15), previous=MORNING, following=None, min_interval_hours=8
    )
    assert problem.explanation == (
        "Only 13 min after the previous dose (the morning dose of treatment day 9, given at 08:02 on 2026-03-11, "
        "site time); doses must be at least 8 h apart (twice daily, protocol section 6)."
    )
    same = dose_interval_problem(administered=MORNING.at, previous=MORNING, following=None, min_interval_hours=8)
    assert same.explanation.startswith("At the same minute as the previous dose")
    before = dose_interval_problem(
        administered=shanghai(11, 12, 30), previous=None, following=EVENING, min_interval_hours=8
    )
    assert before.explanation.startswith(
        "Only 7 h 30 min before the next dose (the evening dose of treatment day 9, given at 20:00 on 2026-03-11"
    )


def test_interval_is_elapsed_time_across_a_clock_change():
    # Berlin leaves summer time at 03:00 on 2026-10-25: 22:00 CEST to 05:30 CET is 8 h 30 min
    # elapsed, though the wall clock moved on only 7 h 30 min.
    berlin = ZoneInfo("Europe/Berlin")
    evening = GivenDose(1, "pm", datetime(2026, 10, 24, 22, 0, tzinfo=berlin))
    morning = datetime(2026, 10, 25, 5, 30, tzinfo=berlin)
    assert dose_interval_problem(administered=morning, previous=evening, following=None, min_interval_hours=8) is None
    assert dose_interval_problem(administered=morning, previous=evening, following=None, min_interval_hours=9)


def test_dose_neighbours_are_the_latest_before_and_the_first_after():
    earlier = GivenDose(8, "pm", datetime(2026, 3, 10, 20, 0, tzinfo=SHANGHAI))
    doses = [EVENING, earlier, MORNING]
    assert dose_neighbours(doses, shanghai(11, 12)) == (MORNING, EVENING)
    assert dose_neighbours(doses, MORNING.at) == (MORNING, EVENING)  # at the same moment counts as before
    assert dose_neighbours(doses, shanghai(10, 7)) == (None, earlier)
    assert dose_neighbours([], shanghai(10, 7)) == (None, None)


# The next dose and when it opens: its window (section 6 decision above) and the minimum interval.


def recorded_through(day: int) -> set[tuple[int, str]]:
    """Both doses of treatment days 1..day recorded."""
    return {(d, s) for d in range(1, day + 1) for s in ("am", "pm")}


def upcoming(*, recorded, latest_given, now, hours=8, **kwargs):
    # DAY0 2026-03-03: treatment day 9 is 2026-03-11.
    return next_dose(
        schedule=dose_schedule(DAY0),
        recorded=recorded,
        latest_given=latest_given,
        now=now,
        min_interval_hours=hours,
        **kwargs,
    )


def slot_and_opening(dose):
    return (dose.scheduled.treatment_day, dose.scheduled.slot, dose.opens_at)


def test_after_the_morning_dose_the_evening_opens_8_h_later():
    ask = {"recorded": recorded_through(8) | {(9, "am")}, "latest_given": MORNING.at}
    at_0815 = upcoming(now=shanghai(11, 8, 15), **ask)
    assert (slot_and_opening(at_0815), at_0815.due) == ((9, "pm", shanghai(11, 16, 2)), False)
    assert at_0815.explanation == (
        "The evening dose of treatment day 9 opens at 16:02 on 2026-03-11 (site time): 8 h after the latest "
        "dose, given at 08:02 on 2026-03-11."
    )
    assert upcoming(now=shanghai(11, 16, 1), **ask).due is False
    assert upcoming(now=shanghai(11, 16, 2), **ask).due is True


def test_the_morning_dose_opens_at_its_date_or_the_interval_whichever_is_later():
    late = upcoming(recorded=recorded_through(9), latest_given=shanghai(11, 20), now=shanghai(11, 21))
    assert slot_and_opening(late) == (10, "am", shanghai(12, 4))
    early = upcoming(recorded=recorded_through(9), latest_given=shanghai(11, 14), now=shanghai(11, 21))
    assert slot_and_opening(early) == (10, "am", shanghai(12, 0))
    assert early.explanation.endswith("(site time): its day begins.")


def test_a_dose_that_cannot_open_before_its_window_closes_is_passed_over():
    # The morning dose of day 9 given at 23:00: the evening window closes at 06:00 the next
    # day, before 8 h have passed; the next dose is the morning of day 10, from 07:00.
    passed = upcoming(
        recorded=recorded_through(8) | {(9, "am")}, latest_given=shanghai(11, 23), now=shanghai(11, 23, 30)
    )
    assert slot_and_opening(passed) == (10, "am", shanghai(12, 7))


def test_an_open_earlier_slot_comes_first_and_a_passed_one_is_skipped():
    ask = {"recorded": recorded_through(8) - {(8, "pm")}, "latest_given": shanghai(10, 8)}
    late_evening = upcoming(now=shanghai(11, 5, 59), **ask)  # day 8's evening is open until 06:00
    assert (slot_and_opening(late_evening)[:2], late_evening.due) == ((8, "pm"), True)
    morning = upcoming(now=shanghai(11, 6, 0), **ask)
    assert (slot_and_opening(morning)[:2], morning.due) == ((9, "am"), True)


def test_nothing_is_next_when_the_28_days_are_over_or_treatment_stopped():
    # Treatment day 28 is 2026-03-30.
    assert upcoming(recorded=recorded_through(28), latest_given=shanghai(30, 20), now=shanghai(30, 21)) is None
    # Nothing recorded on day 28 and its evening window (until 06:00 on 2026-03-31) has passed.
    assert upcoming(recorded=set(), latest_given=None, now=shanghai(31, 6)) is None
    assert upcoming(recorded=set(), latest_given=None, now=shanghai(11, 9), last_date=date(2026, 3, 10)) is None


# Section 6: "A prescribed dose that differs from the band is a protocol deviation: ... flagged,
# with a data query raised automatically." One query per prescribing decision, not per dose.


def off(day: int, slot: str, amount: float, expected: float = 10.0) -> OffBandDose:
    return OffBandDose(day, slot, amount, expected)


def test_doses_at_the_off_band_prescription_are_the_prescriptions_decision():
    doses = [off(day, slot, 5.0, 2.5) for day in range(1, 29) for slot in ("am", "pm")]
    assert off_band_decisions(doses, prescribed_mg=[5.0]) == ()


def test_an_amount_never_prescribed_is_one_decision_whatever_the_number_of_doses():
    doses = [off(5, "am", 7.5), off(4, "pm", 7.5), off(4, "am", 7.5), off(6, "am", 2.5)]
    decisions = off_band_decisions(doses, prescribed_mg=[10.0])
    assert [(d.amount_mg, [(x.treatment_day, x.slot) for x in d.doses]) for d in decisions] == [
        (2.5, [(6, "am")]),
        (7.5, [(4, "am"), (4, "pm"), (5, "am")]),
    ]
    assert decisions[1].explanation == (
        "Given 7.5 mg instead of the weight band's 10 mg, an amount never prescribed, from the morning dose of "
        "treatment day 4 on; every such dose is flagged on the dose log."
    )


def test_an_amount_prescribed_before_stays_with_that_prescription():
    # Prescribed 5 mg at first, corrected to the band's 10 mg: the 5 mg doses were that decision.
    assert off_band_decisions([off(1, "am", 5.0), off(1, "pm", 5.0)], prescribed_mg=[10.0, 5.0]) == ()


# Section 6: "Duration: 28 consecutive days". Completed = last dose on treatment day 28
# (study day 27) or later.


@pytest.mark.parametrize(
    ("last_dose_study_day", "completed", "treatment_day"),
    [
        pytest.param(26, False, 27, id="study day 26 = treatment day 27: one day short"),
        pytest.param(27, True, 28, id="study day 27 = treatment day 28: completed"),
        pytest.param(0, False, 1, id="only day 0"),
    ],
)
def test_completion_check(last_dose_study_day, completed, treatment_day):
    check = completion_check(DAY0, d(last_dose_study_day))
    assert (check.completed, check.study_day, check.treatment_day) == (completed, last_dose_study_day, treatment_day)


def end(**overrides):
    args = {
        "day0": DAY0,
        "outcome": "completed",
        "reason": "",
        "reason_detail": "",
        "last_dose_date": d(27),
        "today": d(40),
    }
    args.update(overrides)
    return {(p.field, p.message) for p in treatment_end_problems(**args)}


def fields(problems) -> set[str]:
    return {field for field, _ in problems}


@pytest.mark.parametrize(
    ("overrides", "problem_fields"),
    [
        pytest.param({}, set(), id="completed on study day 27"),
        pytest.param({"last_dose_date": d(26)}, {"outcome"}, id="completed on study day 26 is refused"),
        pytest.param({"reason": "toxicity"}, {"reason"}, id="completed with a reason"),
        pytest.param({"outcome": "discontinued"}, {"reason"}, id="discontinued without a reason"),
        pytest.param(
            {"outcome": "discontinued", "reason": "no_response_day3", "last_dose_date": d(3)},
            set(),
            id="stopped for no response after 3 days",
        ),
        pytest.param(
            {"outcome": "discontinued", "reason": "toxicity", "last_dose_date": d(27)},
            set(),
            id="discontinued on the last day for toxicity",
        ),
        pytest.param(
            {"outcome": "discontinued", "reason": "other", "last_dose_date": d(5)},
            {"reason_detail"},
            id="other needs a detail",
        ),
        pytest.param(
            {"outcome": "discontinued", "reason": "progression", "last_dose_date": d(-1)},
            {"last_dose_date"},
            id="last dose the day before day 0",
        ),
        pytest.param(
            {"outcome": "discontinued", "reason": "progression", "last_dose_date": d(0)},
            set(),
            id="last dose on day 0",
        ),
        pytest.param({"last_dose_date": d(28)}, {"last_dose_date"}, id="last dose after treatment day 28"),
        pytest.param({"today": d(26)}, {"last_dose_date"}, id="last dose in the future"),
        pytest.param({"latest_given_dose_date": d(27)}, set(), id="on the latest given dose"),
        pytest.param(
            {"outcome": "discontinued", "reason": "relapse", "last_dose_date": d(10), "latest_given_dose_date": d(11)},
            {"last_dose_date"},
            id="before a dose recorded as given",
        ),
        pytest.param({"date_of_death": d(26)}, {"last_dose_date"}, id="after death"),
    ],
)
def test_treatment_end_problems(overrides, problem_fields):
    assert fields(end(**overrides)) == problem_fields


def test_completed_one_day_short_says_what_to_do():
    (problem,) = end(last_dose_date=d(26))
    assert problem[1] == (
        "Completed needs the last dose on treatment day 28 (study day 27, 2026-03-30) or later; the last dose on "
        "2026-03-29 is treatment day 27. Record it as discontinued with its reason."
    )


def test_future_last_dose_names_today():
    assert ("last_dose_date", "Last dose date cannot be in the future (after 2026-03-29).") in end(today=d(26))


# Status (sections 6 and 11): follows the facts, whatever order they were entered in.


@pytest.mark.parametrize(
    ("end_reason", "dead", "lost", "status"),
    [
        (None, False, False, PatientStatus.ON_TREATMENT),
        ("", False, False, PatientStatus.FOLLOW_UP),  # completed
        ("toxicity", False, False, PatientStatus.FOLLOW_UP),
        ("no_response_day3", False, False, PatientStatus.FOLLOW_UP),
        ("consent_withdrawn", False, False, PatientStatus.OFF_STUDY),
        ("death", False, False, PatientStatus.OFF_STUDY),
        (None, True, False, PatientStatus.OFF_STUDY),  # died during treatment
        ("", False, True, PatientStatus.OFF_STUDY),  # lost to follow-up
    ],
)
def test_patient_status_derive(end_reason, dead, lost, status):
    assert patient_status_derive(treatment_end_reason=end_reason, dead=dead, lost_to_follow_up=lost).status is status


# Section 6: "A weight re-measured during treatment that falls in another band raises a query."


@pytest.mark.parametrize(
    ("enrollment_kg", "new_kg", "changed"),
    [
        pytest.param(9.5, 10.0, False, id="10.0 kg stays in <= 10 kg"),
        pytest.param(9.5, 10.01, True, id="10.01 kg moves to 5 mg"),
        pytest.param(15.0, 20.0, False, id="20.0 kg stays in 10-20 kg"),
        pytest.param(15.0, 20.01, True, id="20.01 kg moves to 10 mg"),
        pytest.param(15.0, 10.0, True, id="weight loss to 10.0 kg moves down to 2.5 mg"),
        pytest.param(25.0, 40.0, False, id="> 20 kg is open-ended"),
    ],
)
def test_weight_band_change(enrollment_kg, new_kg, changed):
    assert weight_band_change(enrollment_kg, new_kg).changed is changed


def test_weight_band_change_explains_both_bands():
    result = weight_band_change(15.0, 21.0)
    assert result.explanation.startswith(
        "Weight 21 kg is in the band > 20 kg (10 mg twice daily); "
        "at enrollment 15 kg was in > 10 kg and <= 20 kg (5 mg)."
    )
    assert (result.enrollment.dose_mg, result.current.dose_mg) == (5.0, 10.0)


def test_weight_band_change_uses_the_bands_given():
    bands = (DoseBand(12.0, 3.0, "<= 12 kg"), DoseBand(None, 6.0, "> 12 kg"))
    assert weight_band_change(11.0, 11.9, bands).changed is False
    assert weight_band_change(11.0, 12.5, bands).changed is True
    assert weight_band_change(11.0, 12.5, PROTOCOL_BANDS).changed is False  # both in > 10 and <= 20 kg


def test_dose_counts_of_56():
    counts = dose_counts([("given", False)] * 50 + [("given", True)] * 2 + [("missed", False), ("held", False)])
    assert (counts.planned, counts.given, counts.missed, counts.held, counts.not_recorded, counts.deviations) == (
        56,
        52,
        1,
        1,
        2,
        2,
    )
