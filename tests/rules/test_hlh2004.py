"""HLH-2004 diagnostic criteria: protocol section 3, inclusion 1, and decision 12.1."""

from dataclasses import replace

import pytest

from patients.rules.hlh2004 import (
    HLH2004Input,
    HLH2004Thresholds,
    SCD25Unit,
    hlh2004_evaluate,
)

# Every item entered, none met, no molecular diagnosis.
NONE_MET = HLH2004Input(
    molecular_diagnosis=False,
    max_temperature_c=37.0,
    splenomegaly=False,
    hemoglobin_g_l=120.0,
    platelets_10e9_l=250.0,
    anc_10e9_l=3.0,
    age_days=3650,
    triglycerides_mmol_l=1.0,
    fibrinogen_g_l=3.0,
    hemophagocytosis=False,
    nk_activity_pct=20.0,
    ferritin_ug_l=100.0,
    scd25_value=1000.0,
    scd25_unit=SCD25Unit.PG_PER_ML,
)

# The 8 clinical criteria in protocol order: the fields that make each met / missing.
ITEMS = (
    ("fever", {"max_temperature_c": 39.0}, {"max_temperature_c": None}),
    ("splenomegaly", {"splenomegaly": True}, {"splenomegaly": None}),
    (
        "cytopenias",
        {"hemoglobin_g_l": 80.0, "platelets_10e9_l": 50.0},
        {"hemoglobin_g_l": None, "platelets_10e9_l": None, "anc_10e9_l": None},
    ),
    (
        "triglycerides_fibrinogen",
        {"triglycerides_mmol_l": 3.5},
        {"triglycerides_mmol_l": None, "fibrinogen_g_l": None},
    ),
    ("hemophagocytosis", {"hemophagocytosis": True}, {"hemophagocytosis": None}),
    ("nk_activity", {"nk_activity_pct": 5.0}, {"nk_activity_pct": None}),
    ("ferritin", {"ferritin_ug_l": 5000.0}, {"ferritin_ug_l": None}),
    ("scd25", {"scd25_value": 10000.0}, {"scd25_value": None}),
)


def evaluate(thresholds=HLH2004Thresholds(), **changes):
    return hlh2004_evaluate(replace(NONE_MET, **changes), thresholds)


def criterion(result, code):
    return next(c for c in result.criteria if c.code == f"hlh2004.{code}")


def with_items(n_met, n_missing, molecular):
    """The first n_met items met, the next n_missing missing, the rest not met."""
    changes = {"molecular_diagnosis": molecular}
    for _, met_fields, _ in ITEMS[:n_met]:
        changes.update(met_fields)
    for _, _, missing_fields in ITEMS[n_met : n_met + n_missing]:
        changes.update(missing_fields)
    return replace(NONE_MET, **changes)


def test_criteria_order_is_molecular_then_protocol_order():
    codes = [c.code for c in hlh2004_evaluate(NONE_MET).criteria]
    assert codes == ["hlh2004.molecular"] + [f"hlh2004.{name}" for name, *_ in ITEMS]


@pytest.mark.parametrize(
    ("temperature", "met"),
    [
        pytest.param(38.5, True, id="fever >= 38.5: exactly 38.5 is fever"),
        pytest.param(38.4, False, id="38.4 is not >= 38.5"),
        pytest.param(40.1, True, id="40.1"),
        pytest.param(None, None, id="not entered is missing, not afebrile"),
    ],
)
def test_fever(temperature, met):
    assert criterion(evaluate(max_temperature_c=temperature), "fever").met is met


def test_fever_reasons():
    fever = criterion(evaluate(max_temperature_c=39.2), "fever")
    assert (fever.label, fever.value, fever.threshold, fever.explanation) == (
        "Fever >= 38.5 °C",
        "39.2 °C",
        ">= 38.5 °C",
        "Fever 39.2 °C is >= 38.5 °C.",
    )


@pytest.mark.parametrize("code", ["splenomegaly", "hemophagocytosis"])
@pytest.mark.parametrize("present", [True, False, None])
def test_findings_follow_the_record(code, present):
    assert criterion(evaluate(**{code: present}), code).met is present


@pytest.mark.parametrize(
    ("hb", "plt", "anc", "age_days", "met"),
    [
        pytest.param(89.9, 99.0, 3.0, 3650, True, id="Hb<90 and PLT<100: 2 of 3"),
        pytest.param(50.0, 20.0, 0.1, 3650, True, id="all 3 lineages"),
        pytest.param(90.0, 99.0, 3.0, 3650, False, id="Hb 90 is not < 90"),
        pytest.param(89.0, 100.0, 3.0, 3650, False, id="PLT 100 is not < 100"),
        pytest.param(89.0, 250.0, 1.0, 3650, False, id="ANC 1.0 is not < 1.0"),
        pytest.param(89.0, 250.0, 0.99, 3650, True, id="ANC 0.99 < 1.0"),
        pytest.param(120.0, 99.0, 0.99, 3650, True, id="PLT and ANC"),
        pytest.param(95.0, 99.0, 3.0, 27, True, id="infant <4 weeks: Hb 95 < 100"),
        pytest.param(99.9, 99.0, 3.0, 0, True, id="newborn: Hb 99.9 < 100"),
        pytest.param(100.0, 99.0, 3.0, 10, False, id="infant: Hb 100 is not < 100"),
        pytest.param(95.0, 99.0, 3.0, 28, False, id="28 days is not < 4 weeks"),
        pytest.param(89.0, None, 3.0, 3650, None, id="1 low, 1 missing: open"),
        pytest.param(120.0, None, None, 3650, None, id="0 low, 2 missing: open"),
        pytest.param(89.0, 99.0, None, 3650, True, id="2 low, 1 missing: met"),
        pytest.param(120.0, None, 3.0, 3650, False, id="0 low, 1 missing: cannot reach 2"),
        pytest.param(None, None, None, 3650, None, id="nothing entered"),
        pytest.param(95.0, 99.0, 3.0, None, None, id="age missing, Hb 95 depends on it"),
        pytest.param(89.0, 99.0, 3.0, None, True, id="age missing, Hb 89 < both limits"),
        pytest.param(100.0, 99.0, 3.0, None, False, id="age missing, Hb 100 >= both"),
    ],
)
def test_cytopenias(hb, plt, anc, age_days, met):
    result = evaluate(hemoglobin_g_l=hb, platelets_10e9_l=plt, anc_10e9_l=anc, age_days=age_days)
    assert criterion(result, "cytopenias").met is met


def test_cytopenias_reasons():
    cytopenias = criterion(
        evaluate(hemoglobin_g_l=95.0, platelets_10e9_l=99.0, anc_10e9_l=None, age_days=20),
        "cytopenias",
    )
    assert cytopenias.value == (
        "hemoglobin 95 g/L (low) at 20 days of age; platelets 99 x10^9/L (low); ANC not entered"
    )
    assert cytopenias.threshold == (
        "hemoglobin < 90 g/L (< 100 g/L if younger than 28 days), platelets < 100 x10^9/L, ANC < 1 x10^9/L"
    )
    assert cytopenias.explanation == "2 of 3 lineages are cytopenic."


@pytest.mark.parametrize(
    ("tg", "fibrinogen", "met"),
    [
        pytest.param(3.0, 3.0, True, id="TG >= 3.0: exactly 3.0"),
        pytest.param(2.99, 3.0, False, id="TG 2.99, fibrinogen normal"),
        pytest.param(1.0, 1.5, True, id="fibrinogen <= 1.5: exactly 1.50"),
        pytest.param(1.0, 1.51, False, id="fibrinogen 1.51 is not <= 1.5"),
        pytest.param(3.5, 1.0, True, id="and/or: both"),
        pytest.param(3.0, None, True, id="TG high, fibrinogen missing"),
        pytest.param(None, 1.5, True, id="fibrinogen low, TG missing"),
        pytest.param(1.0, None, None, id="TG normal, fibrinogen missing: open"),
        pytest.param(None, 2.0, None, id="fibrinogen normal, TG missing: open"),
        pytest.param(None, None, None, id="neither entered"),
    ],
)
def test_triglycerides_fibrinogen(tg, fibrinogen, met):
    result = evaluate(triglycerides_mmol_l=tg, fibrinogen_g_l=fibrinogen)
    assert criterion(result, "triglycerides_fibrinogen").met is met


@pytest.mark.parametrize(
    ("nk", "met"),
    [
        pytest.param(15.11, False, id="default reference 15.11 %: not below"),
        pytest.param(15.10, True, id="15.10 < 15.11"),
        pytest.param(0.0, True, id="absent NK activity"),
        pytest.param(None, None, id="not entered"),
    ],
)
def test_nk_activity(nk, met):
    assert criterion(evaluate(nk_activity_pct=nk), "nk_activity").met is met


def test_nk_activity_uses_the_labs_reference():
    site = HLH2004Thresholds(nk_activity_lower_ref_pct=20.0)
    assert criterion(evaluate(site, nk_activity_pct=19.9), "nk_activity").met is True


@pytest.mark.parametrize(
    ("ferritin", "met"),
    [
        pytest.param(500.0, True, id="ferritin >= 500: exactly 500"),
        pytest.param(499.9, False, id="499.9"),
        pytest.param(None, None, id="not entered"),
    ],
)
def test_ferritin(ferritin, met):
    assert criterion(evaluate(ferritin_ug_l=ferritin), "ferritin").met is met


@pytest.mark.parametrize(
    ("value", "unit", "met"),
    [
        pytest.param(2400.0, SCD25Unit.U_PER_ML, True, id="sCD25 >= 2400 U/mL: 2400"),
        pytest.param(2399.0, SCD25Unit.U_PER_ML, False, id="2399 U/mL"),
        pytest.param(6400.0, SCD25Unit.PG_PER_ML, False, id="12.1: 6400 pg/mL not above"),
        pytest.param(6401.0, SCD25Unit.PG_PER_ML, True, id="12.1: 6401 pg/mL above"),
        pytest.param(6401.0, "pg/mL", True, id="unit as plain string"),
        pytest.param(3000.0, None, None, id="value without unit"),
        pytest.param(None, SCD25Unit.PG_PER_ML, None, id="not entered"),
        pytest.param(None, None, None, id="neither"),
    ],
)
def test_scd25(value, unit, met):
    result = evaluate(scd25_value=value, scd25_unit=unit)
    assert criterion(result, "scd25").met is met


def test_scd25_without_unit_says_why():
    scd25 = criterion(evaluate(scd25_value=3000.0, scd25_unit=None), "scd25")
    assert scd25.value == "3000 (unit not entered)"
    assert "no conversion factor is assumed (protocol 12.1)" in scd25.explanation


def test_scd25_pg_ml_uses_the_sites_upper_reference_limit():
    site = HLH2004Thresholds(scd25_upper_ref_pg_ml=5000.0)
    result = evaluate(site, scd25_value=5001.0)
    assert criterion(result, "scd25").met is True
    assert criterion(result, "scd25").threshold == ("> 5000 pg/mL (the lab's upper reference limit, protocol 12.1)")


def test_unknown_scd25_unit_is_rejected():
    with pytest.raises(ValueError, match="ng/mL"):
        evaluate(scd25_unit="ng/mL")


@pytest.mark.parametrize(
    ("molecular", "n_met", "n_missing", "met", "by_molecular"),
    [
        pytest.param(True, 0, 0, True, True, id="molecular diagnosis alone"),
        pytest.param(True, 0, 8, True, True, id="molecular, everything else missing"),
        pytest.param(False, 5, 0, True, False, id="at least 5 of these 8: 5"),
        pytest.param(False, 8, 0, True, False, id="all 8"),
        pytest.param(None, 5, 0, True, False, id="5 met, molecular not entered"),
        pytest.param(False, 5, 3, True, False, id="5 met, rest missing"),
        pytest.param(False, 4, 0, False, False, id="4 of 8, no molecular: not met"),
        pytest.param(False, 3, 1, False, False, id="3 met + 1 missing cannot reach 5"),
        pytest.param(False, 4, 1, None, False, id="4 met + 1 missing could reach 5"),
        pytest.param(False, 0, 8, None, False, id="nothing entered"),
        pytest.param(None, 4, 0, None, False, id="4 met, molecular not entered"),
        pytest.param(None, 0, 0, None, False, id="0 met, molecular not entered"),
    ],
)
def test_overall(molecular, n_met, n_missing, met, by_molecular):
    result = hlh2004_evaluate(with_items(n_met, n_missing, molecular))
    assert result.met is met
    assert result.by_molecular is by_molecular
    assert (result.criteria_met, result.criteria_missing) == (n_met, n_missing)


@pytest.mark.parametrize(
    ("molecular", "n_met", "n_missing", "explanation"),
    [
        (True, 0, 0, "Met by molecular diagnosis consistent with HLH."),
        (
            False,
            5,
            0,
            "Met: 5 of 8 clinical criteria met, 0 missing (at least 5 required).",
        ),
        (
            False,
            4,
            1,
            "Not yet determinable: 4 of 8 clinical criteria met, 1 missing; the missing ones could still reach 5.",
        ),
        (
            False,
            4,
            0,
            "Not met: 4 of 8 clinical criteria met, 0 missing, cannot reach 5, and no molecular diagnosis.",
        ),
        (
            None,
            4,
            0,
            "Not yet determinable: 4 of 8 clinical criteria met, 0 missing, "
            "but the molecular diagnosis is not entered.",
        ),
    ],
)
def test_overall_explanation(molecular, n_met, n_missing, explanation):
    result = hlh2004_evaluate(with_items(n_met, n_missing, molecular))
    assert result.explanation == explanation


def test_criteria_required_can_be_overridden():
    result = hlh2004_evaluate(with_items(4, 0, False), HLH2004Thresholds(criteria_required=4))
    assert result.met is True
