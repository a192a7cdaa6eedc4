"""Endpoints of one patient (protocol section 11)."""

from datetime import date, timedelta

import pytest

from assessments.rules.endpoints import (
    AssessedStatus,
    EndpointInput,
    endpoints_compute,
    follow_up_time,
    last_contact,
)

DAY0 = date(2026, 1, 5)


def a(day: int, status: str) -> AssessedStatus:
    return AssessedStatus(study_day=day, assessment_date=DAY0 + timedelta(days=day), status=status)


def compute(assessments, **kwargs):
    data = dict(
        day0=DAY0,
        assessments=tuple(assessments),
        treatment_end_date=None,
        therapy_changed=False,
        death_date=None,
        relapse_dates=(),
        last_contact=None,
        data_cutoff=None,
    )
    data.update(kwargs)
    return endpoints_compute(EndpointInput(**data))


def test_best_response_up_to_day_28_counts_the_best_one():
    # "Primary endpoint: ... reported as best response during RUX up to day 28"
    result = compute([a(3, "nr"), a(7, "improvement"), a(14, "pr"), a(28, "pr"), a(56, "cr")])
    assert (result.best_response, result.best_response_day, result.overall_response) == ("pr", 14, True)


def test_not_assessable_is_never_a_best_response():
    assert compute([a(3, "not_assessable")]).best_response is None


def test_response_after_ruxolitinib_stopped_does_not_count():
    result = compute([a(3, "nr"), a(7, "cr")], treatment_end_date=DAY0 + timedelta(days=4), therapy_changed=True)
    assert result.best_response == "nr"


def test_non_responder_with_therapy_changed_has_efs_one_day():
    # "A patient who never responds (NR and therapy changed) has EFS = 1 day."
    result = compute([a(3, "nr")], treatment_end_date=DAY0 + timedelta(days=3), therapy_changed=True)
    assert (result.efs_event, result.efs_days) == ("no_response", 1)


def test_first_event_is_progression_relapse_or_death():
    result = compute(
        [a(3, "pr"), a(7, "cr"), a(84, "relapse")],
        death_date=DAY0 + timedelta(days=120),
        last_contact=DAY0 + timedelta(days=120),
    )
    assert (result.efs_event, result.efs_days) == ("relapse", 84)
    assert (result.cr_first_day, result.cr_duration_days) == (7, 77)


def test_without_event_censored_at_last_contact_or_cutoff_whichever_first():
    # "Without an event: censored at last follow-up or the data cutoff date"
    result = compute([a(7, "cr")], last_contact=DAY0 + timedelta(days=190), data_cutoff=DAY0 + timedelta(days=150))
    assert (result.efs_event, result.censored_on, result.efs_days) == ("", DAY0 + timedelta(days=150), 150)
    result = compute([a(7, "cr")], last_contact=DAY0 + timedelta(days=100), data_cutoff=DAY0 + timedelta(days=150))
    assert result.efs_days == 100


def test_events_after_the_data_cutoff_are_not_counted():
    result = compute(
        [a(7, "cr")],
        death_date=DAY0 + timedelta(days=200),
        last_contact=DAY0 + timedelta(days=200),
        data_cutoff=DAY0 + timedelta(days=183),
    )
    assert (result.efs_event, result.efs_days) == ("", 183)


def stopped(study_day: int) -> date:
    """The last dose on a study day (treatment day N is study day N - 1, section 6)."""
    return DAY0 + timedelta(days=study_day)


# (protocol quote, assessments, last dose study day, expected best response and its day)
BEST_RESPONSE_AFTER_TREATMENT_END = [
    (
        # Section 6: "RUX is stopped and therapy changed when: no response after 3 days" — three
        # days of doses are study days 0-2, the day-3 check (section 7) comes the day after.
        "11: best response up to day 28 — NR at day 3 after a last dose on treatment day 3",
        [a(3, "nr")],
        2,
        ("nr", 3),
    ),
    ("9: NR assessed on the day of the last dose", [a(3, "nr")], 3, ("nr", 3)),
    (
        # Section 7: the end-of-treatment visit (day 28) gives the "primary response"; a completed
        # course's last dose is treatment day 28 = study day 27.
        "1: OR at day 28 — the day-28 visit follows a completed course",
        [a(3, "nr"), a(14, "pr"), a(28, "cr")],
        27,
        ("cr", 28),
    ),
    ("7: day-28 visit early in its window (+/-2)", [a(14, "pr"), a(26, "cr")], 27, ("cr", 26)),
    ("11: the day after the last dose still assesses RUX", [a(3, "nr"), a(5, "pr")], 4, ("pr", 5)),
    ("11: two days after the last dose is after RUX", [a(3, "nr"), a(6, "pr")], 4, ("nr", 3)),
    ("11: 'up to day 28' — day 28 counts", [a(3, "improvement"), a(28, "cr")], None, ("cr", 28)),
    ("11: 'up to day 28' — day 29 does not", [a(3, "improvement"), a(29, "cr")], None, ("improvement", 3)),
]


@pytest.mark.parametrize(
    "quote, assessments, last_dose_day, expected",
    BEST_RESPONSE_AFTER_TREATMENT_END,
    ids=[case[0] for case in BEST_RESPONSE_AFTER_TREATMENT_END],
)
def test_best_response_survives_the_end_of_treatment(quote, assessments, last_dose_day, expected):
    end = None if last_dose_day is None else stopped(last_dose_day)
    result = compute(assessments, treatment_end_date=end, therapy_changed=end is not None)
    assert (result.best_response, result.best_response_day) == expected


@pytest.mark.parametrize(
    ("case", "assessments", "expected_event", "expected_efs"),
    [
        # 11: "A patient who never responds (NR and therapy changed) has EFS = 1 day." The response
        # meant is to ruxolitinib: a CR on HLH-1994 at day 56 is not a response to the trial drug.
        ("NR on RUX, CR on HLH-1994 at day 56", [a(3, "nr"), a(56, "cr")], "no_response", 1),
        # A response on the day after the last dose (day 3 after doses on days 0-2) still counts.
        ("improvement on day 3, the day after the last dose", [a(3, "improvement")], "", 3),
    ],
)
def test_never_responding_means_to_ruxolitinib(case, assessments, expected_event, expected_efs):
    result = compute(
        assessments, treatment_end_date=stopped(2), therapy_changed=True, last_contact=stopped(1) + timedelta(2)
    )
    assert (result.efs_event, result.efs_days) == (expected_event, expected_efs)


def test_non_responder_stopped_on_treatment_day_3_keeps_nr_and_efs_one_day():
    # 11: "A patient who never responds (NR and therapy changed) has EFS = 1 day."
    result = compute([a(3, "nr")], treatment_end_date=stopped(2), therapy_changed=True)
    assert (result.best_response, result.overall_response) == ("nr", False)
    assert (result.efs_event, result.efs_days) == ("no_response", 1)


# Section 11: "censored at last follow-up or the data cutoff date (a study setting)". An interim
# cutoff while enrollment goes on leaves later patients outside that analysis.
CUTOFF_CASES = [
    # (case, cutoff study day, last contact study day, expected (outside?, efs_days, censored day))
    ("cutoff the day before the first dose: outside", -1, 10, (True, None, None)),
    ("cutoff long before the first dose: outside", -200, 10, (True, None, None)),
    ("cutoff on the first dose day: inside, observed day 0", 0, 10, (False, 0, 0)),
    ("cutoff after the last contact: censored at the contact", 30, 10, (False, 10, 10)),
    ("cutoff before the last contact: censored at the cutoff", 5, 10, (False, 5, 5)),
    ("cutoff but no contact yet: nothing observed", 30, None, (False, None, None)),
]


@pytest.mark.parametrize("case, cutoff_day, contact_day, expected", CUTOFF_CASES, ids=[c[0] for c in CUTOFF_CASES])
def test_data_cutoff_and_the_first_dose(case, cutoff_day, contact_day, expected):
    contact = None if contact_day is None else DAY0 + timedelta(days=contact_day)
    result = compute([a(3, "pr")], last_contact=contact, data_cutoff=DAY0 + timedelta(days=cutoff_day))
    censored_day = None if result.censored_on is None else (result.censored_on - DAY0).days
    assert (bool(result.outside_analysis), result.efs_days, censored_day) == expected


def test_patient_dosed_after_the_cutoff_has_no_endpoints_and_says_why():
    result = compute(
        [a(3, "nr")],
        treatment_end_date=stopped(2),
        therapy_changed=True,
        last_contact=DAY0 + timedelta(days=3),
        data_cutoff=DAY0 - timedelta(days=1),
    )
    assert (result.best_response, result.efs_event, result.efs_days, result.cr_duration_days) == (None, "", None, None)
    assert "First dose after the data cutoff" in result.outside_analysis
    assert result.explanation == result.outside_analysis


def test_assessments_after_the_cutoff_are_outside_the_analysis():
    result = compute([a(3, "nr"), a(7, "cr")], last_contact=DAY0 + timedelta(days=7), data_cutoff=DAY0 + timedelta(6))
    assert (result.best_response, result.cr_first_day, result.efs_days) == ("nr", None, 6)
    result = compute([a(3, "nr"), a(7, "cr")], last_contact=DAY0 + timedelta(days=7), data_cutoff=DAY0 + timedelta(7))
    assert (result.best_response, result.cr_first_day, result.cr_duration_days) == ("cr", 7, 0)


@pytest.mark.parametrize("contact_day", [-7, -1])
def test_a_contact_before_the_first_dose_is_not_follow_up(contact_day):
    # Section 7: the baseline visit may be done on days -7 to 0, before the first dose (day 0).
    contact = last_contact(day0=DAY0, visit_dates=(DAY0 + timedelta(days=contact_day),), follow_ups=(), death_date=None)
    assert contact is None
    assert compute([], last_contact=contact).efs_days is None


def test_a_contact_on_the_first_dose_day_is_follow_up():
    assert last_contact(day0=DAY0, visit_dates=(DAY0 - timedelta(days=2), DAY0), follow_ups=(), death_date=None) == DAY0


def day(n: int | None) -> date | None:
    return None if n is None else DAY0 + timedelta(days=n)


# Follow-up (section 11 reports it "as a publication would"): first dose (day 0) to death, else to
# the last contact, capped at the data cutoff. Expected days counted by hand from day 0.
FOLLOW_UP_CASES = [
    # (case, death day, last contact day, cutoff day, expected (days, ended by))
    ("alive, last contact day 229", None, 229, None, (229, "last_contact")),
    ("death ends follow-up, not a later record", 100, 150, None, (100, "death")),
    ("death with no other contact", 12, None, None, (12, "death")),
    ("cutoff after the last contact: not capped", None, 120, 183, (120, "last_contact")),
    ("last contact on the cutoff day: not capped", None, 183, 183, (183, "last_contact")),
    ("last contact the day after the cutoff: capped", None, 184, 183, (183, "data_cutoff")),
    ("death after the cutoff: capped", 200, 200, 183, (183, "data_cutoff")),
    ("seen on day 0 only", None, 0, None, (0, "last_contact")),
    ("no contact yet", None, None, 183, (None, "")),
    ("first dose after the cutoff: outside the analysis", None, 10, -1, (None, "")),
]


@pytest.mark.parametrize(
    "case, death_day, contact_day, cutoff_day, expected", FOLLOW_UP_CASES, ids=[c[0] for c in FOLLOW_UP_CASES]
)
def test_follow_up_time(case, death_day, contact_day, cutoff_day, expected):
    result = follow_up_time(
        day0=DAY0, death_date=day(death_day), last_contact=day(contact_day), data_cutoff=day(cutoff_day)
    )
    assert (result.days, result.ended_by) == expected


def test_follow_up_is_not_the_efs_time_of_a_never_responder():
    # 11: the never-responder's EFS is 1 day, but they are followed to their last contact.
    efs = compute([a(3, "nr")], treatment_end_date=stopped(2), therapy_changed=True, last_contact=day(90))
    followed = follow_up_time(day0=DAY0, death_date=None, last_contact=day(90), data_cutoff=None)
    assert (efs.efs_days, followed.days) == (1, 90)


@pytest.mark.parametrize(
    "follow_ups, expected_day",
    [
        (((day(56), "alive"), (day(84), "lost")), 56),  # lost at day 84: last known on day 56
        (((day(56), "alive"), (day(84), "alive")), 84),
        (((day(84), "lost"),), 28),  # only the day-28 visit remains
    ],
)
def test_lost_to_follow_up_is_not_a_contact(follow_ups, expected_day):
    contact = last_contact(day0=DAY0, visit_dates=(day(3), day(28)), follow_ups=follow_ups, death_date=None)
    assert contact == day(expected_day)
