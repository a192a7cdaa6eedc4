"""Ruxolitinib weight bands and dose checks: protocol section 6."""

import math

import pytest

from patients.rules.dosing import (
    PROTOCOL_BANDS,
    DoseBand,
    dose_band_for_weight,
    prescribed_dose_check,
    weight_band_changed,
)


@pytest.mark.parametrize(
    ("weight_kg", "dose_mg", "label"),
    [
        pytest.param(3.2, 2.5, "<= 10 kg", id="newborn 3.2 kg"),
        pytest.param(10.0, 2.5, "<= 10 kg", id="exactly 10.0 kg -> 2.5 mg"),
        pytest.param(10.01, 5.0, "> 10 kg and <= 20 kg", id="10.01 kg -> 5 mg"),
        pytest.param(20.0, 5.0, "> 10 kg and <= 20 kg", id="exactly 20.0 kg -> 5 mg"),
        pytest.param(20.01, 10.0, "> 20 kg", id="20.01 kg -> 10 mg"),
        pytest.param(45.0, 10.0, "> 20 kg", id="45 kg"),
    ],
)
def test_dose_band_for_weight(weight_kg, dose_mg, label):
    result = dose_band_for_weight(weight_kg)
    assert (result.weight_kg, result.dose_mg, result.band.label) == (weight_kg, dose_mg, label)


def test_explanation():
    assert dose_band_for_weight(10.0).explanation == "Weight 10 kg is in the band <= 10 kg: 2.5 mg twice daily."


def test_bands_in_any_order():
    shuffled = (PROTOCOL_BANDS[2], PROTOCOL_BANDS[0], PROTOCOL_BANDS[1])
    assert [dose_band_for_weight(w, shuffled).dose_mg for w in (10.0, 10.01, 20.0, 20.01)] == [2.5, 5.0, 5.0, 10.0]


@pytest.mark.parametrize("weight_kg", [0.0, -1.0, math.nan])
def test_weight_must_be_positive(weight_kg):
    with pytest.raises(ValueError, match="greater than 0 kg"):
        dose_band_for_weight(weight_kg)


def test_weight_above_every_closed_band_is_an_error():
    bands = (DoseBand(10.0, 2.5, "<= 10 kg"), DoseBand(20.0, 5.0, "> 10 kg and <= 20 kg"))
    with pytest.raises(ValueError, match="No dose band covers 25 kg"):
        dose_band_for_weight(25.0, bands)


@pytest.mark.parametrize(
    ("weight_kg", "prescribed_mg", "matches"),
    [
        pytest.param(10.0, 2.5, True, id="2.5 mg at 10 kg"),
        pytest.param(10.0, 5.0, False, id="5 mg at 10 kg: deviation"),
        pytest.param(15.0, 5.0, True, id="5 mg at 15 kg"),
        pytest.param(25.0, 5.0, False, id="5 mg at 25 kg: deviation"),
        pytest.param(25.0, 10.0000000001, True, id="decimal noise is not a deviation"),
    ],
)
def test_prescribed_dose_check(weight_kg, prescribed_mg, matches):
    check = prescribed_dose_check(prescribed_mg, dose_band_for_weight(weight_kg))
    assert (check.matches, check.prescribed_mg, check.expected_mg) == (
        matches,
        prescribed_mg,
        dose_band_for_weight(weight_kg).dose_mg,
    )


def test_deviation_explanation():
    check = prescribed_dose_check(5.0, dose_band_for_weight(10.0))
    assert check.explanation == "Protocol deviation: prescribed 5 mg, but the band <= 10 kg (10 kg) gives 2.5 mg."


@pytest.mark.parametrize(
    ("enrollment_kg", "new_kg", "changed"),
    [
        pytest.param(10.0, 10.0, False, id="same weight"),
        pytest.param(10.0, 10.01, True, id="10.0 -> 10.01 kg crosses into 5 mg"),
        pytest.param(10.0, 8.0, False, id="lighter, same band"),
        pytest.param(15.0, 20.0, False, id="20.0 still in the middle band"),
        pytest.param(15.0, 20.01, True, id="15 -> 20.01 kg"),
        pytest.param(25.0, 19.5, True, id="heavier band -> lighter band"),
    ],
)
def test_weight_band_changed(enrollment_kg, new_kg, changed):
    assert weight_band_changed(dose_band_for_weight(enrollment_kg), new_kg) is changed
