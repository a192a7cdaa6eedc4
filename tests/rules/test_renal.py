"""Severe renal dysfunction exclusion and the bedside Schwartz eGFR: protocol section 3."""

import pytest

from patients.rules.renal import RenalThresholds, schwartz_egfr, severe_renal_dysfunction


@pytest.mark.parametrize(
    ("height_cm", "creatinine_umol_l", "expected"),
    [
        # 0.413 x height(cm) / creatinine(mg/dL); creatinine µmol/L / 88.4 = mg/dL.
        pytest.param(100.0, 88.4, 41.3, id="100 cm, 1 mg/dL"),
        pytest.param(120.0, 44.2, 99.12, id="120 cm, 0.5 mg/dL"),
        pytest.param(150.0, 365.092, 15.0, id="150 cm, 4.13 mg/dL: exactly 15"),
        pytest.param(75.0, 30.0, 0.413 * 75.0 / (30.0 / 88.4), id="75 cm, 30 µmol/L"),
    ],
)
def test_schwartz_egfr(height_cm, creatinine_umol_l, expected):
    assert schwartz_egfr(height_cm, creatinine_umol_l) == pytest.approx(expected)


@pytest.mark.parametrize(("height_cm", "creatinine_umol_l"), [(0.0, 50.0), (100.0, 0.0)])
def test_schwartz_egfr_rejects_non_positive_inputs(height_cm, creatinine_umol_l):
    with pytest.raises(ValueError, match="greater than zero"):
        schwartz_egfr(height_cm, creatinine_umol_l)


@pytest.mark.parametrize(
    ("clearance", "gfr", "height", "creatinine", "excluded"),
    [
        pytest.param(14.9, None, None, None, True, id="creatinine clearance < 15"),
        pytest.param(15.0, None, None, None, False, id="clearance exactly 15 is not < 15"),
        pytest.param(None, 14.99, None, None, True, id="GFR < 15"),
        pytest.param(None, 15.0, None, None, False, id="GFR exactly 15 is not < 15"),
        pytest.param(80.0, 14.0, None, None, True, id="any one measure < 15 excludes"),
        pytest.param(None, None, 150.0, 365.092, False, id="Schwartz exactly 15"),
        pytest.param(None, None, 150.0, 365.5, True, id="Schwartz 14.98"),
        pytest.param(None, None, 150.0, 364.6, False, id="Schwartz 15.02"),
        pytest.param(90.0, None, 150.0, 500.0, True, id="clearance fine, Schwartz < 15"),
        pytest.param(90.0, None, None, 500.0, False, id="height missing, clearance fine"),
        pytest.param(None, None, None, 500.0, None, id="height missing, nothing else"),
        pytest.param(None, None, 150.0, None, None, id="creatinine missing"),
        pytest.param(None, None, None, None, None, id="nothing entered"),
    ],
)
def test_severe_renal_dysfunction(clearance, gfr, height, creatinine, excluded):
    result = severe_renal_dysfunction(
        creatinine_clearance_ml_min=clearance,
        gfr_ml_min=gfr,
        height_cm=height,
        creatinine_umol_l=creatinine,
    )
    assert result.criterion.met is excluded


def test_schwartz_result_and_reasons():
    result = severe_renal_dysfunction(
        creatinine_clearance_ml_min=None,
        gfr_ml_min=None,
        height_cm=150.0,
        creatinine_umol_l=365.5,
    )
    assert result.schwartz_egfr == pytest.approx(0.413 * 150.0 / (365.5 / 88.4))
    assert result.criterion.value == (
        "creatinine clearance not entered; GFR not entered; "
        "Schwartz eGFR 14.98 mL/min/1.73 m² (height 150 cm, creatinine 365.5 µmol/L)"
    )
    assert result.criterion.threshold == "any measure < 15 mL/min"
    assert result.criterion.explanation == ("Schwartz eGFR below 15 mL/min: severe renal dysfunction.")


def test_missing_measures_are_explained():
    result = severe_renal_dysfunction(
        creatinine_clearance_ml_min=None,
        gfr_ml_min=None,
        height_cm=None,
        creatinine_umol_l=60.0,
    )
    assert result.schwartz_egfr is None
    assert "not computable (height not entered" in result.criterion.value


def test_site_threshold_override():
    result = severe_renal_dysfunction(
        creatinine_clearance_ml_min=None,
        gfr_ml_min=19.0,
        height_cm=None,
        creatinine_umol_l=None,
        thresholds=RenalThresholds(min_clearance_ml_min=20.0),
    )
    assert result.criterion.met is True


def test_protocol_threshold():
    assert RenalThresholds().min_clearance_ml_min == 15.0
