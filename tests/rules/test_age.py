"""Birthday-based age (trial/rules/age.py), used by protocol sections 3 and 5."""

from datetime import date

import pytest

from trial.rules.age import age_in_days, age_in_months, age_in_years, age_label, anniversary, has_reached_age


@pytest.mark.parametrize(
    ("dob", "on", "years"),
    [
        pytest.param(date(2010, 5, 10), date(2010, 5, 10), 0, id="day-of-birth"),
        pytest.param(date(2010, 5, 10), date(2028, 5, 9), 17, id="day-before-18th"),
        pytest.param(date(2010, 5, 10), date(2028, 5, 10), 18, id="18th-birthday"),
        pytest.param(date(2010, 12, 31), date(2011, 1, 1), 0, id="new-year-not-birthday"),
        pytest.param(date(2008, 2, 29), date(2026, 2, 28), 17, id="feb29-on-feb28"),
        pytest.param(date(2008, 2, 29), date(2026, 3, 1), 18, id="feb29-birthday-mar1"),
        pytest.param(date(2008, 2, 29), date(2028, 2, 28), 19, id="feb29-leap-feb28"),
        pytest.param(date(2008, 2, 29), date(2028, 2, 29), 20, id="feb29-leap-year"),
    ],
)
def test_age_in_years(dob, on, years):
    assert age_in_years(dob, on) == years


@pytest.mark.parametrize(
    ("dob", "on", "days"),
    [
        (date(2024, 1, 1), date(2024, 1, 1), 0),
        # HLH-2004 "infants < 4 weeks": 27 days is an infant, 28 is not.
        (date(2024, 1, 1), date(2024, 1, 28), 27),
        (date(2024, 1, 1), date(2024, 1, 29), 28),
        (date(2024, 2, 28), date(2024, 3, 1), 2),
    ],
)
def test_age_in_days(dob, on, days):
    assert age_in_days(dob, on) == days


@pytest.mark.parametrize(
    ("dob", "on", "years", "reached"),
    [
        pytest.param(date(2007, 6, 15), date(2025, 6, 14), 18, False, id="day-before"),
        pytest.param(date(2007, 6, 15), date(2025, 6, 15), 18, True, id="on-birthday"),
        pytest.param(date(2007, 6, 15), date(2025, 6, 16), 18, True, id="day-after"),
        pytest.param(date(2008, 2, 29), date(2026, 2, 28), 18, False, id="feb29-feb28"),
        pytest.param(date(2008, 2, 29), date(2026, 3, 1), 18, True, id="feb29-mar1"),
    ],
)
def test_has_reached_age(dob, on, years, reached):
    assert has_reached_age(dob, on, years) is reached


@pytest.mark.parametrize(
    ("dob", "years", "expected"),
    [
        (date(2023, 6, 16), 2, date(2025, 6, 16)),
        (date(2008, 2, 29), 1, date(2009, 3, 1)),
        (date(2008, 2, 29), 4, date(2012, 2, 29)),
    ],
)
def test_anniversary(dob, years, expected):
    assert anniversary(dob, years) == expected


@pytest.mark.parametrize("function", [age_in_years, age_in_days])
def test_birth_after_reference_date_is_an_error(function):
    with pytest.raises(ValueError, match="after"):
        function(date(2020, 1, 2), date(2020, 1, 1))


def test_has_reached_age_rejects_birth_after_reference_date():
    with pytest.raises(ValueError, match="after"):
        has_reached_age(date(2020, 1, 2), date(2020, 1, 1), 1)


@pytest.mark.parametrize(
    ("dob", "on", "expected"),
    [
        pytest.param(date(2026, 3, 1), date(2026, 3, 1), "0 days", id="day-of-birth"),
        pytest.param(date(2026, 3, 1), date(2026, 3, 21), "20 days", id="newborn"),
        pytest.param(date(2026, 1, 31), date(2026, 2, 28), "28 days", id="no-31-february"),
        pytest.param(date(2026, 1, 31), date(2026, 3, 1), "1 month", id="anniversary-on-the-1st"),
        pytest.param(date(2025, 7, 10), date(2026, 3, 9), "7 months", id="day-before-monthly"),
        pytest.param(date(2025, 7, 10), date(2026, 3, 10), "8 months", id="infant"),
        pytest.param(date(2024, 3, 11), date(2026, 3, 10), "23 months", id="under-two-in-months"),
        pytest.param(date(2024, 3, 10), date(2026, 3, 10), "2 years", id="second-birthday"),
        pytest.param(date(2020, 9, 23), date(2026, 3, 2), "5 years 5 months", id="1986-days"),
        pytest.param(date(2013, 2, 2), date(2026, 3, 2), "13 years 1 month", id="one-month"),
        pytest.param(date(2008, 2, 29), date(2026, 2, 28), "17 years 11 months", id="feb29-not-yet"),
    ],
)
def test_age_label_reads_as_a_clinician_writes_it(dob, on, expected):
    assert age_label(dob, on) == expected


def test_the_reported_1986_days_of_age_read_5_years_5_months():
    dob, on = date(2020, 9, 23), date(2026, 3, 2)
    assert age_in_days(dob, on) == 1986
    # Birthdays 2025-09-23 (5 years), then 23 Oct, Nov, Dec, Jan, Feb: five more months.
    assert age_in_months(dob, on) == 5 * 12 + 5
