"""What an enrollment must satisfy: protocol sections 3, 6, 7 and 8, boundaries on both sides."""

import math
from datetime import date, timedelta

import pytest

from patients.rules.enrollment import (
    SCREENING_WINDOW_DAYS,
    EnrollmentInput,
    EnrollmentLimits,
    dose_problem,
    enrollment_problems,
    weight_problem,
)

SCREENED = date(2026, 3, 2)
TODAY = date(2026, 3, 20)
# The trial's limits as the selectors give them: catalogue weight 0.3-150 kg, one dose at most 50 mg.
LIMITS = EnrollmentLimits(min_weight_kg=0.3, max_weight_kg=150.0, max_dose_mg=50.0)


def enrollment(**overrides) -> EnrollmentInput:
    values = {
        "screening_date": SCREENED,
        "consent_date": SCREENED,
        "enrollment_date": SCREENED,
        "first_dose_date": SCREENED + timedelta(days=1),
        "enrollment_weight_kg": 15.0,
        "prescribed_dose_mg": 5.0,
    }
    values.update(overrides)
    return EnrollmentInput(**values)


def codes(data: EnrollmentInput, *, today: date = TODAY, limits: EnrollmentLimits = LIMITS) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in enrollment_problems(data, limits=limits, today=today)]


def test_the_protocol_window_is_seven_days():
    # Section 7: "Screening / baseline | -7 to 0" (day 0 = first RUX dose).
    assert SCREENING_WINDOW_DAYS == 7


@pytest.mark.parametrize(
    ("day0_after_screening", "expected"),
    [
        # Section 7: "Screening / baseline | -7 to 0": screening is at most 7 days before day 0.
        pytest.param(0, [], id="day 0 on the screening day (day 0 of the window)"),
        pytest.param(7, [], id="day 0 exactly 7 days after screening (day -7): allowed"),
        pytest.param(8, [("first_dose_date", "first_dose_after_screening_window")], id="8 days after: refused"),
        pytest.param(400, [("first_dose_date", "first_dose_after_screening_window")], id="400 days after: refused"),
        # ... and never after day 0: a first dose before screening is outside the window too.
        pytest.param(
            -1,
            [
                ("first_dose_date", "first_dose_before_screening"),
                ("first_dose_date", "first_dose_before_enrollment"),
                ("first_dose_date", "first_dose_before_consent"),
            ],
            id="day 0 the day before screening (and enrollment and consent): refused",
        ),
    ],
)
def test_day0_within_the_screening_window(day0_after_screening, expected):
    day0 = SCREENED + timedelta(days=day0_after_screening)
    assert codes(enrollment(first_dose_date=day0), today=max(TODAY, day0)) == expected


def test_the_window_is_the_trials_baseline_visit_window():
    limits = EnrollmentLimits(min_weight_kg=0.3, max_weight_kg=150.0, max_dose_mg=50.0, screening_window_days=3)
    assert codes(enrollment(first_dose_date=SCREENED + timedelta(days=3)), limits=limits) == []
    assert codes(enrollment(first_dose_date=SCREENED + timedelta(days=4)), limits=limits) == [
        ("first_dose_date", "first_dose_after_screening_window")
    ]


def test_window_message_names_the_limit_and_the_last_allowed_day():
    (problem,) = enrollment_problems(
        enrollment(first_dose_date=SCREENED + timedelta(days=8)), limits=LIMITS, today=TODAY
    )
    last_allowed = (SCREENED + timedelta(days=7)).isoformat()
    assert "within 7 days of screening (2026-03-02)" in problem.message
    assert f"on or before {last_allowed}" in problem.message and "section 7" in problem.message


@pytest.mark.parametrize(
    ("enrolled", "day0", "expected"),
    [
        pytest.param(SCREENED, SCREENED, [], id="enrolled and dosed on the screening day"),
        pytest.param(
            SCREENED - timedelta(days=1),
            SCREENED,
            [("enrollment_date", "enrollment_before_screening")],
            id="enrolled the day before screening",
        ),
        pytest.param(SCREENED + timedelta(days=2), SCREENED + timedelta(days=2), [], id="day 0 on the enrollment day"),
        pytest.param(
            SCREENED + timedelta(days=2),
            SCREENED + timedelta(days=1),
            [("first_dose_date", "first_dose_before_enrollment")],
            id="day 0 the day before enrollment",
        ),
        pytest.param(TODAY, TODAY, [], id="enrolled today"),
    ],
)
def test_enrollment_date_and_day0_order(enrolled, day0, expected):
    limits = EnrollmentLimits(min_weight_kg=0.3, max_weight_kg=150.0, max_dose_mg=50.0, screening_window_days=30)
    assert codes(enrollment(enrollment_date=enrolled, first_dose_date=day0), limits=limits) == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        pytest.param(SCREENED, [], id="enrolled on the site's today"),
        pytest.param(SCREENED - timedelta(days=1), [("enrollment_date", "enrollment_date_in_future")], id="tomorrow"),
    ],
)
def test_enrollment_date_not_in_the_future(today, expected):
    # The site's today is an argument: the caller takes it from trial.clock.site_today.
    assert codes(enrollment(first_dose_date=SCREENED), today=today) == expected


@pytest.mark.parametrize(
    ("consent_after_screening", "expected"),
    [
        # Section 3, inclusion 5: "Informed consent signed ... before any study procedure."
        pytest.param(1, [], id="consent on day 0"),
        pytest.param(2, [("first_dose_date", "first_dose_before_consent")], id="consent the day after day 0"),
    ],
)
def test_day0_not_before_consent(consent_after_screening, expected):
    data = enrollment(consent_date=SCREENED + timedelta(days=consent_after_screening))
    assert codes(data) == expected


@pytest.mark.parametrize(
    ("weight_kg", "code"),
    [
        # Section 8: "A value outside physiological limits (e.g. ... weight 300 kg) is rejected
        # with a message naming the field and the limit."
        pytest.param(150.0, None, id="exactly 150 kg (the limit): allowed"),
        pytest.param(150.01, "weight_above_maximum", id="150.01 kg: refused"),
        pytest.param(400.0, "weight_above_maximum", id="400 kg: refused"),
        pytest.param(0.3, None, id="exactly 0.3 kg (the lower limit): allowed"),
        pytest.param(0.29, "weight_below_minimum", id="0.29 kg: refused"),
        pytest.param(0.0, "weight_below_minimum", id="0 kg: refused"),
        pytest.param(-5.0, "weight_below_minimum", id="negative: refused"),
        pytest.param(math.nan, "weight_not_a_number", id="NaN: refused"),
    ],
)
def test_weight_within_physiological_limits(weight_kg, code):
    problem = weight_problem(weight_kg, LIMITS)
    assert (problem.code if problem else None) == code
    assert problem is None or problem.field == "enrollment_weight_kg"


def test_weight_message_names_the_field_the_limit_and_the_value():
    assert weight_problem(400.0, LIMITS).message == "Weight at enrollment must be at most 150 kg (entered 400 kg)."
    assert weight_problem(0.2, LIMITS).message == "Weight at enrollment must be at least 0.3 kg (entered 0.2 kg)."


def test_a_trial_with_a_lower_weight_ceiling_refuses_above_it():
    limits = EnrollmentLimits(min_weight_kg=0.3, max_weight_kg=80.0, max_dose_mg=50.0)
    assert weight_problem(80.0, limits) is None
    assert weight_problem(80.01, limits).code == "weight_above_maximum"


@pytest.mark.parametrize(
    ("weight_kg", "dose_mg", "code"),
    [
        # Section 6: "A prescribed dose that differs from the band is a protocol deviation:
        # allowed to save (clinical reality) but flagged" - so only an impossible dose is refused.
        pytest.param(15.0, 5.0, None, id="the band's 5 mg at 15 kg"),
        pytest.param(15.0, 7.5, None, id="off-band 7.5 mg at 15 kg: allowed (flagged elsewhere)"),
        pytest.param(8.0, 10.0, None, id="off-band 10 mg at 8 kg: allowed (flagged elsewhere)"),
        pytest.param(15.0, 50.0, None, id="exactly the 50 mg ceiling: allowed"),
        pytest.param(15.0, 50.01, "dose_above_maximum", id="50.01 mg: refused"),
        pytest.param(15.0, 90.0, "dose_above_maximum", id="90 mg: refused"),
        pytest.param(15.0, 0.01, None, id="0.01 mg: allowed (more than 0)"),
        pytest.param(15.0, 0.0, "dose_not_positive", id="0 mg: refused"),
        pytest.param(15.0, -2.5, "dose_not_positive", id="negative: refused"),
        pytest.param(15.0, math.nan, "dose_not_a_number", id="NaN: refused"),
    ],
)
def test_prescribed_dose_is_possible_not_necessarily_on_band(weight_kg, dose_mg, code):
    problems = enrollment_problems(
        enrollment(enrollment_weight_kg=weight_kg, prescribed_dose_mg=dose_mg), limits=LIMITS, today=TODAY
    )
    assert [p.code for p in problems] == ([code] if code else [])
    assert all(p.field == "prescribed_dose_mg" for p in problems)


def test_dose_message_names_the_limit_and_the_value():
    message = dose_problem(90.0, LIMITS).message
    assert message.startswith("Prescribed dose must be at most 50 mg twice daily (entered 90 mg)")


def test_every_problem_is_reported_in_the_order_of_the_page():
    data = enrollment(
        enrollment_date=SCREENED - timedelta(days=1),
        first_dose_date=SCREENED + timedelta(days=400),
        enrollment_weight_kg=400.0,
        prescribed_dose_mg=90.0,
    )
    assert codes(data, today=SCREENED + timedelta(days=400)) == [
        ("enrollment_date", "enrollment_before_screening"),
        ("first_dose_date", "first_dose_after_screening_window"),
        ("enrollment_weight_kg", "weight_above_maximum"),
        ("prescribed_dose_mg", "dose_above_maximum"),
    ]
