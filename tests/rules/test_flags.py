"""Reference-range flags (protocol section 8): outside the range is saved and flagged."""

import pytest

from assessments.rules.flags import Flag, RangeInUnit, range_in_unit, value_flag

FERRITIN = RangeInUnit(lower=None, upper=500.0, unit="µg/L")  # default "ferritin <= 500 µg/L"
FIBRINOGEN = RangeInUnit(lower=2.0, upper=4.0, unit="g/L")  # default "fibrinogen 2.0-4.0 g/L"


@pytest.mark.parametrize(
    ("value", "reference", "flag"),
    [
        (500.0, FERRITIN, Flag.NORMAL),  # the limit itself is within the range
        (500.1, FERRITIN, Flag.HIGH),
        (2.0, FIBRINOGEN, Flag.NORMAL),
        (1.99, FIBRINOGEN, Flag.LOW),
        (4.0, FIBRINOGEN, Flag.NORMAL),
        (4.01, FIBRINOGEN, Flag.HIGH),
        (3.0, None, Flag.NO_RANGE),
    ],
)
def test_value_flag(value, reference, flag):
    assert value_flag(value=value, reference=reference).flag is flag


def test_range_converts_to_the_value_unit_where_a_factor_exists():
    # Hemoglobin range 110-160 g/L judged against a value reported in g/dL.
    reference = range_in_unit(analyte="HGB", lower=110.0, upper=160.0, range_unit="g/L", value_unit="g/dL")
    assert (reference.lower, reference.upper) == (11.0, 16.0)
    assert value_flag(value=10.9, reference=reference).flag is Flag.LOW


def test_scd25_in_u_per_ml_has_no_range_from_a_pg_per_ml_limit():
    # Protocol 12.1: "No conversion factor between the two is assumed."
    reference = range_in_unit(analyte="SCD25", lower=None, upper=6400.0, range_unit="pg/mL", value_unit="U/mL")
    assert reference is None
    assert value_flag(value=3000.0, reference=reference).flag is Flag.NO_RANGE
