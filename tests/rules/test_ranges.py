"""Which reference range applies at an age (protocol section 8: "Reference ranges are per site
and may depend on age"): the site's own row wins over the trial default, an age-banded row over
one for all ages; a band includes its first day and excludes its last."""

from dataclasses import dataclass

import pytest

from trial.rules.ranges import age_banded, criteria_rows, range_covers, ranges_pick

SITE = 7


@dataclass(frozen=True)
class Row:
    name: str
    site_id: int | None = None
    analyte: str = "HGB"
    age_min_days: int | None = None
    age_max_days: int | None = None


DEFAULT_ALL_AGES = Row("default, all ages")
DEFAULT_2_TO_6 = Row("default, 2-<6 y", age_min_days=730, age_max_days=2191)
DEFAULT_6_TO_12 = Row("default, 6-<12 y", age_min_days=2191, age_max_days=4383)
SITE_ALL_AGES = Row("site, all ages", site_id=SITE)
SITE_2_TO_6 = Row("site, 2-<6 y", site_id=SITE, age_min_days=730, age_max_days=2191)
SITE_FROM_18 = Row("site, from 18 y", site_id=SITE, age_min_days=6575)
SITE_UNDER_1 = Row("site, under 1 y", site_id=SITE, age_max_days=365)


@pytest.mark.parametrize(
    ("rows", "age_days", "expected"),
    [
        # Only the trial default for all ages: it applies at any age and without an age.
        ((DEFAULT_ALL_AGES,), 1986, "default, all ages"),
        ((DEFAULT_ALL_AGES,), None, "default, all ages"),
        # A banded default beats the all-ages default inside its band (a 5-year-old, 1986 days) ...
        ((DEFAULT_ALL_AGES, DEFAULT_2_TO_6), 1986, "default, 2-<6 y"),
        ((DEFAULT_2_TO_6, DEFAULT_ALL_AGES), 1986, "default, 2-<6 y"),
        # ... from its first day (inclusive) ...
        ((DEFAULT_ALL_AGES, DEFAULT_2_TO_6), 730, "default, 2-<6 y"),
        ((DEFAULT_ALL_AGES, DEFAULT_2_TO_6), 729, "default, all ages"),
        # ... to the day before its last (exclusive), where the next band takes over.
        ((DEFAULT_ALL_AGES, DEFAULT_2_TO_6, DEFAULT_6_TO_12), 2190, "default, 2-<6 y"),
        ((DEFAULT_ALL_AGES, DEFAULT_2_TO_6, DEFAULT_6_TO_12), 2191, "default, 6-<12 y"),
        # Without an age a banded row never applies.
        ((DEFAULT_ALL_AGES, DEFAULT_2_TO_6), None, "default, all ages"),
        # The site's own row for the age wins over the trial default for the age ...
        ((DEFAULT_2_TO_6, SITE_2_TO_6), 1986, "site, 2-<6 y"),
        ((SITE_2_TO_6, DEFAULT_2_TO_6), 1986, "site, 2-<6 y"),
        # ... and the site's row for all ages wins over the trial default's band.
        ((DEFAULT_2_TO_6, SITE_ALL_AGES), 1986, "site, all ages"),
        # At the site, a banded row beats its all-ages row inside the band only.
        ((SITE_ALL_AGES, SITE_2_TO_6, DEFAULT_ALL_AGES), 2190, "site, 2-<6 y"),
        ((SITE_ALL_AGES, SITE_2_TO_6, DEFAULT_ALL_AGES), 2191, "site, all ages"),
        # Open-ended bands: from a first day with no end, to an end with no first day.
        ((DEFAULT_ALL_AGES, SITE_FROM_18), 6575, "site, from 18 y"),
        ((DEFAULT_ALL_AGES, SITE_FROM_18), 6574, "default, all ages"),
        ((DEFAULT_ALL_AGES, SITE_UNDER_1), 364, "site, under 1 y"),
        ((DEFAULT_ALL_AGES, SITE_UNDER_1), 365, "default, all ages"),
    ],
)
def test_the_row_for_the_age_and_the_site_is_picked(rows, age_days, expected):
    assert ranges_pick(rows, age_days=age_days)["HGB"].name == expected


def test_an_analyte_without_a_row_for_the_age_has_no_range():
    assert ranges_pick((DEFAULT_2_TO_6,), age_days=2191) == {}
    assert ranges_pick((DEFAULT_2_TO_6,), age_days=None) == {}


def test_each_analyte_is_picked_on_its_own():
    alt = Row("ALT default", analyte="ALT")
    picked = ranges_pick((alt, DEFAULT_2_TO_6), age_days=1000)
    assert {code: row.name for code, row in picked.items()} == {"ALT": "ALT default", "HGB": "default, 2-<6 y"}


@pytest.mark.parametrize(
    ("row", "age_days", "covers"),
    [
        (DEFAULT_2_TO_6, 729, False),
        (DEFAULT_2_TO_6, 730, True),
        (DEFAULT_2_TO_6, 2190, True),
        (DEFAULT_2_TO_6, 2191, False),
        (DEFAULT_2_TO_6, None, False),
        (DEFAULT_ALL_AGES, 0, True),
        (DEFAULT_ALL_AGES, None, True),
    ],
)
def test_a_band_covers_its_first_day_and_not_its_last(row, age_days, covers):
    assert range_covers(row, age_days) is covers


def test_a_row_is_age_banded_with_either_limit():
    assert [age_banded(r) for r in (DEFAULT_ALL_AGES, SITE_FROM_18, SITE_UNDER_1, DEFAULT_2_TO_6)] == [
        False,
        True,
        True,
        True,
    ]


def test_the_response_criteria_read_the_site_rows_and_the_all_ages_defaults_only():
    # Section 9 "within the reference range": the protocol's section 8 defaults or the site's
    # laboratory, never the population bands seeded as trial defaults.
    rows = (DEFAULT_ALL_AGES, DEFAULT_2_TO_6, SITE_ALL_AGES, SITE_2_TO_6)
    assert [r.name for r in criteria_rows(rows)] == ["default, all ages", "site, all ages", "site, 2-<6 y"]
    assert ranges_pick(criteria_rows((DEFAULT_ALL_AGES, DEFAULT_2_TO_6)), age_days=1986)["HGB"].name == (
        "default, all ages"
    )
