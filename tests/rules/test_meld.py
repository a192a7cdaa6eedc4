"""MELD score and the cirrhosis exclusion: protocol section 3."""

import math

import pytest

from patients.rules.meld import (
    MELDThresholds,
    cirrhosis_meld_exclusion,
    meld_display,
    meld_score,
    meld_score_range,
)


def hand_meld(bilirubin, inr, creatinine):
    return 3.78 * math.log(bilirubin) + 11.2 * math.log(inr) + 9.57 * math.log(creatinine) + 6.43


@pytest.mark.parametrize(
    ("bilirubin", "inr", "creatinine", "dialysis", "expected"),
    [
        pytest.param(1.0, 1.0, 1.0, False, 6.43, id="all inputs 1.0: the constant"),
        pytest.param(0.5, 0.8, 0.3, False, 6.43, id="each input floored at 1.0"),
        pytest.param(5.0, 2.0, 2.0, False, hand_meld(5, 2, 2), id="bili 5, INR 2, cr 2"),
        pytest.param(5.0, 2.0, 4.0, False, hand_meld(5, 2, 4), id="creatinine 4.0"),
        pytest.param(5.0, 2.0, 6.0, False, hand_meld(5, 2, 4), id="creatinine capped 4"),
        pytest.param(1.0, 1.0, 1.0, True, hand_meld(1, 1, 4), id="dialysis: set to 4.0"),
        pytest.param(1.0, 1.0, 0.5, True, hand_meld(1, 1, 4), id="dialysis beats floor"),
        pytest.param(40.0, 10.0, 4.0, False, 40.0, id="score capped at 40"),
    ],
)
def test_meld_score(bilirubin, inr, creatinine, dialysis, expected):
    assert meld_score(bilirubin, inr, creatinine, dialysis) == pytest.approx(expected)


def test_meld_is_not_rounded():
    assert meld_score(5.0, 2.0, 2.0, False) == hand_meld(5, 2, 2)
    assert round(hand_meld(5, 2, 2), 1) != hand_meld(5, 2, 2)


def test_protocol_threshold():
    assert MELDThresholds().exclusion_above == 20.0


@pytest.mark.parametrize(
    ("bilirubin", "inr", "creatinine", "dialysis", "low", "high"),
    [
        pytest.param(5.0, 2.0, 2.0, False, hand_meld(5, 2, 2), hand_meld(5, 2, 2), id="all"),
        pytest.param(5.0, 2.0, 2.0, None, hand_meld(5, 2, 2), hand_meld(5, 2, 4), id="dial?"),
        pytest.param(5.0, 2.0, None, False, hand_meld(5, 2, 1), hand_meld(5, 2, 4), id="cr?"),
        pytest.param(None, 2.0, 2.0, False, hand_meld(1, 2, 2), 40.0, id="bilirubin?"),
        pytest.param(5.0, None, 2.0, False, hand_meld(5, 1, 2), 40.0, id="INR?"),
    ],
)
def test_meld_score_range(bilirubin, inr, creatinine, dialysis, low, high):
    assert meld_score_range(bilirubin, inr, creatinine, dialysis) == (
        pytest.approx(low),
        pytest.approx(high),
    )


# Bilirubin and creatinine in µmol/L as entered: 85.5 µmol/L = 5 mg/dL, 88.4 = 1 mg/dL.
@pytest.mark.parametrize(
    ("cirrhosis", "bilirubin", "inr", "creatinine", "dialysis", "excluded"),
    [
        pytest.param(False, 855.0, 5.0, 300.0, True, False, id="no cirrhosis: MELD moot"),
        pytest.param(None, 17.1, 1.0, 88.4, False, None, id="cirrhosis not entered"),
        pytest.param(True, 85.5, 2.0, 88.4, False, True, id="cirrhosis, MELD 20.28 > 20"),
        pytest.param(True, 171.0, 1.5, 88.4, False, False, id="cirrhosis, MELD 19.68"),
        pytest.param(True, 171.0, 1.5, 88.4, True, True, id="dialysis raises it to 32.9"),
        pytest.param(True, 85.5, 2.0, 88.4, None, True, id=">20 without dialysis"),
        pytest.param(True, 17.1, 1.0, 50.0, None, False, id="<=20 even with dialysis"),
        pytest.param(True, 34.2, 1.5, 88.4, None, None, id="depends on dialysis"),
        pytest.param(True, 855.0, None, 88.4, False, True, id="bili 50 mg/dL: >20, INR?"),
        pytest.param(True, 85.5, None, 88.4, False, None, id="INR missing, open"),
        pytest.param(True, None, 2.0, 88.4, False, None, id="bilirubin missing, open"),
        pytest.param(True, 85.5, 1.5, None, False, None, id="creatinine missing, open"),
    ],
)
def test_cirrhosis_meld_exclusion(cirrhosis, bilirubin, inr, creatinine, dialysis, excluded):
    result = cirrhosis_meld_exclusion(
        cirrhosis=cirrhosis,
        bilirubin_umol_l=bilirubin,
        inr=inr,
        creatinine_umol_l=creatinine,
        dialysis_twice_past_week=dialysis,
    )
    assert result.criterion.met is excluded


@pytest.mark.parametrize(
    ("limit", "excluded"),
    [
        pytest.param(hand_meld(5, 2, 1), False, id="MELD exactly at the limit: not > it"),
        pytest.param(hand_meld(5, 2, 1) - 0.01, True, id="MELD just above the limit"),
    ],
)
def test_meld_equal_to_the_limit_does_not_exclude(limit, excluded):
    result = cirrhosis_meld_exclusion(
        cirrhosis=True,
        bilirubin_umol_l=85.5,
        inr=2.0,
        creatinine_umol_l=88.4,
        dialysis_twice_past_week=False,
        thresholds=MELDThresholds(exclusion_above=limit),
    )
    assert result.meld == hand_meld(5, 2, 1)
    assert result.criterion.met is excluded


def test_meld_reasons():
    result = cirrhosis_meld_exclusion(
        cirrhosis=True,
        bilirubin_umol_l=85.5,
        inr=2.0,
        creatinine_umol_l=88.4,
        dialysis_twice_past_week=False,
    )
    assert result.meld == pytest.approx(20.277, abs=1e-3)
    assert result.criterion.value == (
        "MELD 20.28; cirrhosis yes; bilirubin 85.5 µmol/L (5 mg/dL); INR 2; "
        "creatinine 88.4 µmol/L (1 mg/dL); dialysis >= 2 times in the past week no"
    )
    assert result.criterion.label == "Liver cirrhosis with MELD > 20"
    assert result.criterion.explanation == "Cirrhosis with MELD above 20."


def test_meld_decided_without_dialysis_is_explained():
    result = cirrhosis_meld_exclusion(
        cirrhosis=True,
        bilirubin_umol_l=85.5,
        inr=2.0,
        creatinine_umol_l=88.4,
        dialysis_twice_past_week=None,
    )
    assert result.meld is None
    assert result.criterion.value.startswith("MELD at least 20.28;")
    assert result.criterion.explanation == ("Cirrhosis with MELD above 20, whatever the missing input.")


@pytest.mark.parametrize(
    ("score", "printed"),
    [
        pytest.param(7.4567, "7.46", id="two-decimals"),
        pytest.param(7.5, "7.5", id="trailing-zero-dropped"),
        pytest.param(7.455, "7.46", id="half-up-not-binary-noise"),
        pytest.param(20.0, "20", id="at-the-limit"),
        pytest.param(20.284, "20.28", id="above-the-limit"),
    ],
)
def test_meld_display_prints_the_coefficients_two_decimals(score, printed):
    assert meld_display(score) == printed


def test_the_criterion_and_the_pages_print_the_same_meld():
    result = cirrhosis_meld_exclusion(
        cirrhosis=True, bilirubin_umol_l=30.0, inr=1.3, creatinine_umol_l=30.0, dialysis_twice_past_week=False
    )
    score = hand_meld(30 / 17.1, 1.3, 1.0)
    assert result.meld == pytest.approx(score)
    assert result.criterion.value.startswith(f"MELD {meld_display(result.meld)};")
    assert meld_display(result.meld) == "11.49"
