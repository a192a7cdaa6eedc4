"""The one conversion table (trial/rules/units.py), protocol sections 3 and 12.1."""

import pytest

from trial.rules.units import (
    BILIRUBIN,
    CONVERSIONS,
    CREATININE,
    HEMOGLOBIN,
    SCD25,
    UnitConversionError,
    convert,
)


@pytest.mark.parametrize(
    ("analyte", "value", "from_unit", "to_unit", "expected"),
    [
        # Section 3: "creatinine µmol/L / 88.4 = mg/dL".
        pytest.param(CREATININE, 88.4, "µmol/L", "mg/dL", 1.0, id="creat-88.4-is-1"),
        pytest.param(CREATININE, 176.8, "µmol/L", "mg/dL", 2.0, id="creat-176.8-is-2"),
        pytest.param(CREATININE, 365.092, "µmol/L", "mg/dL", 4.13, id="creat-4.13"),
        pytest.param(CREATININE, 1.0, "mg/dL", "µmol/L", 88.4, id="creat-inverse"),
        pytest.param(CREATININE, 88.4, "μmol/L", "mg/dL", 1.0, id="greek-mu"),
        pytest.param(CREATININE, 88.4, "umol/L", "mg/dL", 1.0, id="ascii-u"),
        pytest.param(BILIRUBIN, 17.1, "µmol/L", "mg/dL", 1.0, id="bili-17.1-is-1"),
        pytest.param(BILIRUBIN, 85.5, "µmol/L", "mg/dL", 5.0, id="bili-85.5-is-5"),
        pytest.param(BILIRUBIN, 2.0, "mg/dL", "µmol/L", 34.2, id="bili-inverse"),
        pytest.param(HEMOGLOBIN, 9.5, "g/dL", "g/L", 95.0, id="hb-g/dL-x10"),
        pytest.param(HEMOGLOBIN, 95.0, "g/L", "g/dL", 9.5, id="hb-g/L-/10"),
        pytest.param(SCD25, 1234.5, "pg/mL", "pg/mL", 1234.5, id="same-unit"),
        pytest.param("ANYTHING", 7.25, "x", "x", 7.25, id="same-unit-any-analyte"),
    ],
)
def test_convert(analyte, value, from_unit, to_unit, expected):
    assert convert(analyte, value, from_unit, to_unit) == expected


@pytest.mark.parametrize(
    ("analyte", "from_unit", "to_unit"),
    [
        # 12.1: "No conversion factor between the two is assumed."
        pytest.param(SCD25, "U/mL", "pg/mL", id="scd25-U-to-pg"),
        pytest.param(SCD25, "pg/mL", "U/mL", id="scd25-pg-to-U"),
        pytest.param(CREATININE, "mg/dL", "g/L", id="unknown-pair"),
        pytest.param("FERRITIN", "µg/L", "mg/L", id="unknown-analyte"),
        pytest.param(BILIRUBIN, "g/dL", "g/L", id="hb-factor-not-for-bilirubin"),
    ],
)
def test_convert_without_factor_raises(analyte, from_unit, to_unit):
    with pytest.raises(UnitConversionError, match="No conversion factor"):
        convert(analyte, 100.0, from_unit, to_unit)


def test_conversion_error_is_a_value_error():
    assert issubclass(UnitConversionError, ValueError)


@pytest.mark.parametrize("key", sorted(CONVERSIONS))
def test_every_factor_has_its_inverse(key):
    analyte, from_unit, to_unit = key
    inverse = CONVERSIONS[(analyte, to_unit, from_unit)]
    assert CONVERSIONS[key] * inverse == pytest.approx(1.0)


def test_table_holds_the_six_protocol_factors():
    assert len(CONVERSIONS) == 6
    assert CONVERSIONS[(CREATININE, "mg/dL", "µmol/L")] == 88.4
    assert CONVERSIONS[(BILIRUBIN, "mg/dL", "µmol/L")] == 17.1
    assert CONVERSIONS[(HEMOGLOBIN, "g/dL", "g/L")] == 10.0
