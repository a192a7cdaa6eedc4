"""Screening eligibility: protocol section 3 (inclusion, exclusion, also checked)."""

import math
from dataclasses import replace
from datetime import date

import pytest

from patients.rules.eligibility import (
    Eligibility,
    EligibilityInput,
    EligibilityThresholds,
    eligibility_evaluate,
)
from patients.rules.hlh2004 import HLH2004Input, HLH2004Thresholds, SCD25Unit

SCREENING = date(2025, 6, 16)

# Five HLH-2004 criteria met (fever, splenomegaly, cytopenias, ferritin, sCD25), all entered.
HLH_MET = HLH2004Input(
    molecular_diagnosis=False,
    max_temperature_c=39.5,
    splenomegaly=True,
    hemoglobin_g_l=80.0,
    platelets_10e9_l=45.0,
    anc_10e9_l=0.8,
    age_days=2000,
    triglycerides_mmol_l=2.0,
    fibrinogen_g_l=2.5,
    hemophagocytosis=False,
    nk_activity_pct=20.0,
    ferritin_ug_l=3500.0,
    scd25_value=12000.0,
    scd25_unit=SCD25Unit.PG_PER_ML,
)

ELIGIBLE = EligibilityInput(
    hlh2004=HLH_MET,
    screening_date=SCREENING,
    date_of_birth=date(2020, 3, 1),
    consent_date=date(2025, 6, 15),
    new_diagnosis=True,
    prior_hlh_chemotherapy=False,
    creatinine_clearance_ml_min=90.0,
    gfr_ml_min=None,
    height_cm=110.0,
    creatinine_umol_l=30.0,
    cirrhosis=False,
    bilirubin_umol_l=10.0,
    inr=1.1,
    dialysis_twice_past_week=False,
    nyha_class=1,
    malignancy=False,
    parasitic_infection=False,
    severe_allergy_history=False,
    corticosteroids_received=False,
    corticosteroids_stop_date=None,
    cns_involvement=False,
)


def evaluate(**changes):
    return eligibility_evaluate(replace(ELIGIBLE, **changes))


def codes(criteria):
    return [c.code for c in criteria]


def test_complete_eligible_child():
    result = eligibility_evaluate(ELIGIBLE)
    assert result.status is Eligibility.ELIGIBLE
    assert (result.failed, result.missing, result.warnings) == ((), (), ())
    assert codes(result.inclusion) == [
        "inclusion.hlh2004",
        "inclusion.new_diagnosis",
        "inclusion.no_prior_hlh_chemotherapy",
        "inclusion.age",
        "inclusion.informed_consent",
    ]
    assert codes(result.exclusion) == [
        "exclusion.severe_renal_dysfunction",
        "exclusion.cirrhosis_meld",
        "exclusion.heart_failure",
        "exclusion.malignancy",
        "exclusion.parasitic_infection",
        "exclusion.severe_allergy",
    ]
    assert codes(result.also_checked) == ["also.corticosteroid_washout"]
    assert result.hlh2004.criteria_met == 5
    assert result.schwartz_egfr == pytest.approx(0.413 * 110.0 / (30.0 / 88.4))
    assert result.meld == pytest.approx(11.2 * math.log(1.1) + 6.43)  # bilirubin and creatinine floored at 1


@pytest.mark.parametrize(
    ("changes", "status", "failed"),
    [
        # Inclusion 1: HLH-2004.
        pytest.param(
            {"hlh2004": replace(HLH_MET, ferritin_ug_l=400.0)},
            Eligibility.INELIGIBLE,
            ["inclusion.hlh2004"],
            id="HLH-2004: 4 of 8, no molecular diagnosis",
        ),
        pytest.param(
            {"hlh2004": replace(HLH_MET, ferritin_ug_l=400.0, molecular_diagnosis=True)},
            Eligibility.ELIGIBLE,
            [],
            id="HLH-2004: molecular diagnosis",
        ),
        pytest.param(
            {"hlh2004": replace(HLH_MET, ferritin_ug_l=None, scd25_value=None)},
            Eligibility.INCOMPLETE,
            [],
            id="HLH-2004: 3 met, 2 missing",
        ),
        # Inclusion 2 and 3.
        pytest.param({"new_diagnosis": False}, Eligibility.INELIGIBLE, ["inclusion.new_diagnosis"], id="not new"),
        pytest.param({"new_diagnosis": None}, Eligibility.INCOMPLETE, [], id="new diagnosis not entered"),
        pytest.param(
            {"prior_hlh_chemotherapy": True},
            Eligibility.INELIGIBLE,
            ["inclusion.no_prior_hlh_chemotherapy"],
            id="prior etoposide",
        ),
        pytest.param({"prior_hlh_chemotherapy": None}, Eligibility.INCOMPLETE, [], id="prior chemo unknown"),
        # Inclusion 4: "Age < 18 years at consent".
        pytest.param(
            {"date_of_birth": date(2007, 6, 15), "consent_date": date(2025, 6, 15)},
            Eligibility.INELIGIBLE,
            ["inclusion.age"],
            id="18th birthday on the consent date: not < 18",
        ),
        pytest.param(
            {"date_of_birth": date(2007, 6, 15), "consent_date": date(2025, 6, 14)},
            Eligibility.ELIGIBLE,
            [],
            id="consent the day before the 18th birthday",
        ),
        pytest.param({"date_of_birth": None}, Eligibility.INCOMPLETE, [], id="date of birth missing"),
        pytest.param({"date_of_birth": date(2025, 6, 16)}, Eligibility.INCOMPLETE, [], id="born after consent: check"),
        # Inclusion 5: consent signed; it may follow the routine-care screening labs.
        pytest.param({"consent_date": None}, Eligibility.INCOMPLETE, [], id="consent not entered"),
        pytest.param({"consent_date": date(2025, 6, 18)}, Eligibility.ELIGIBLE, [], id="consent after screening"),
        # Exclusion: severe renal dysfunction.
        pytest.param(
            {"creatinine_clearance_ml_min": 14.9},
            Eligibility.INELIGIBLE,
            ["exclusion.severe_renal_dysfunction"],
            id="creatinine clearance < 15",
        ),
        pytest.param({"creatinine_clearance_ml_min": 15.0}, Eligibility.ELIGIBLE, [], id="clearance exactly 15"),
        pytest.param(
            {"gfr_ml_min": 10.0}, Eligibility.INELIGIBLE, ["exclusion.severe_renal_dysfunction"], id="GFR < 15"
        ),
        pytest.param(
            {"height_cm": 150.0, "creatinine_umol_l": 365.5},
            Eligibility.INELIGIBLE,
            ["exclusion.severe_renal_dysfunction"],
            id="Schwartz eGFR 14.98 < 15",
        ),
        pytest.param(
            {"creatinine_clearance_ml_min": None, "height_cm": None},
            Eligibility.INCOMPLETE,
            [],
            id="no kidney measure",
        ),
        # Exclusion: liver cirrhosis with MELD > 20 (bilirubin 85.5 µmol/L = 5 mg/dL).
        pytest.param(
            {"cirrhosis": True, "bilirubin_umol_l": 85.5, "inr": 2.0, "creatinine_umol_l": 88.4},
            Eligibility.INELIGIBLE,
            ["exclusion.cirrhosis_meld"],
            id="cirrhosis with MELD 20.28",
        ),
        pytest.param({"cirrhosis": True}, Eligibility.ELIGIBLE, [], id="cirrhosis with MELD 7.5"),
        pytest.param({"cirrhosis": True, "inr": None}, Eligibility.INCOMPLETE, [], id="cirrhosis, INR missing"),
        pytest.param({"cirrhosis": None}, Eligibility.INCOMPLETE, [], id="cirrhosis not entered"),
        # Exclusion: "worse than NYHA class II (class III or IV)".
        pytest.param({"nyha_class": 2}, Eligibility.ELIGIBLE, [], id="NYHA II does not exclude"),
        pytest.param({"nyha_class": 3}, Eligibility.INELIGIBLE, ["exclusion.heart_failure"], id="NYHA III"),
        pytest.param({"nyha_class": 4}, Eligibility.INELIGIBLE, ["exclusion.heart_failure"], id="NYHA IV"),
        pytest.param({"nyha_class": None}, Eligibility.INCOMPLETE, [], id="NYHA not entered"),
        # Exclusion: malignancy, parasitic infection, severe allergy history.
        pytest.param({"malignancy": True}, Eligibility.INELIGIBLE, ["exclusion.malignancy"], id="malignancy"),
        pytest.param({"malignancy": None}, Eligibility.INCOMPLETE, [], id="malignancy not entered"),
        pytest.param(
            {"parasitic_infection": True},
            Eligibility.INELIGIBLE,
            ["exclusion.parasitic_infection"],
            id="parasitic infection",
        ),
        pytest.param(
            {"severe_allergy_history": True},
            Eligibility.INELIGIBLE,
            ["exclusion.severe_allergy"],
            id="severe hypersensitivity history",
        ),
        pytest.param({"severe_allergy_history": None}, Eligibility.INCOMPLETE, [], id="allergy not entered"),
        # Also checked: corticosteroids "stopped >= 3 days before screening".
        pytest.param(
            {"corticosteroids_received": True, "corticosteroids_stop_date": date(2025, 6, 13)},
            Eligibility.ELIGIBLE,
            [],
            id="steroids stopped exactly 3 days before",
        ),
        pytest.param(
            {"corticosteroids_received": True, "corticosteroids_stop_date": date(2025, 6, 14)},
            Eligibility.INELIGIBLE,
            ["also.corticosteroid_washout"],
            id="steroids stopped 2 days before",
        ),
        pytest.param(
            {"corticosteroids_received": True, "corticosteroids_stop_date": None},
            Eligibility.INELIGIBLE,
            ["also.corticosteroid_washout"],
            id="still on steroids",
        ),
        pytest.param(
            {"corticosteroids_received": True, "corticosteroids_stop_date": date(2025, 6, 17)},
            Eligibility.INELIGIBLE,
            ["also.corticosteroid_washout"],
            id="steroids stopped after screening",
        ),
        pytest.param({"corticosteroids_received": None}, Eligibility.INCOMPLETE, [], id="steroids not entered"),
        # Known CNS involvement is recorded and warned about, never excluding.
        pytest.param({"cns_involvement": True}, Eligibility.ELIGIBLE, [], id="CNS involvement warns only"),
        pytest.param({"cns_involvement": None}, Eligibility.ELIGIBLE, [], id="CNS not recorded warns only"),
        # A failed criterion wins over missing data.
        pytest.param(
            {"malignancy": True, "nyha_class": None, "consent_date": None},
            Eligibility.INELIGIBLE,
            ["exclusion.malignancy"],
            id="ineligible despite missing data",
        ),
        pytest.param(
            {"new_diagnosis": False, "nyha_class": 3, "corticosteroids_received": True},
            Eligibility.INELIGIBLE,
            ["inclusion.new_diagnosis", "exclusion.heart_failure", "also.corticosteroid_washout"],
            id="every failed criterion listed for the screening log",
        ),
    ],
)
def test_status(changes, status, failed):
    result = evaluate(**changes)
    assert result.status is status
    assert codes(result.failed) == failed


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({"consent_date": None}, ["inclusion.age", "inclusion.informed_consent"]),
        ({"cirrhosis": True, "inr": None}, ["exclusion.cirrhosis_meld"]),
        (
            {"hlh2004": replace(HLH_MET, ferritin_ug_l=None, scd25_value=None), "malignancy": None},
            ["inclusion.hlh2004", "exclusion.malignancy"],
        ),
        ({"malignancy": True, "nyha_class": None}, ["exclusion.heart_failure"]),
    ],
)
def test_missing_lists_each_undecided_criterion(changes, missing):
    assert codes(evaluate(**changes).missing) == missing


@pytest.mark.parametrize(
    ("cns", "warning"),
    [
        (True, "Known CNS involvement: none of the published pilot patients had it"),
        (None, "CNS involvement is not recorded"),
    ],
)
def test_cns_warnings(cns, warning):
    (text,) = evaluate(cns_involvement=cns).warnings
    assert text.startswith(warning)


def test_age_reasons():
    age = evaluate(date_of_birth=date(2007, 6, 15), consent_date=date(2025, 6, 15)).inclusion[3]
    assert (age.met, age.value, age.threshold, age.explanation) == (
        False,
        "18 years at consent (born 2007-06-15, consent 2025-06-15)",
        "< 18 years (completed years at the consent date)",
        "Aged 18 or more at consent (18th birthday on 2025-06-15).",
    )


def test_washout_reasons():
    washout = evaluate(corticosteroids_received=True, corticosteroids_stop_date=date(2025, 6, 14)).also_checked[0]
    assert washout.value == "received yes, stopped 2025-06-14, 2 days before screening on 2025-06-16"
    assert washout.explanation == "Stopped only 2 days before screening, 3 required."


def test_still_on_steroids_reason():
    washout = evaluate(corticosteroids_received=True).also_checked[0]
    assert (washout.met, washout.explanation) == (False, "Still on corticosteroids (no stop date).")


def test_hlh2004_inclusion_reasons():
    hlh = evaluate().inclusion[0]
    assert hlh.value == "molecular diagnosis no; 5 of 8 criteria met, 0 missing"
    assert hlh.threshold == "molecular diagnosis, or >= 5 of 8 criteria"


def test_nyha_outside_1_to_4_is_rejected():
    with pytest.raises(ValueError, match="NYHA class must be 1 to 4"):
        evaluate(nyha_class=5)


def test_thresholds_can_be_overridden():
    site = EligibilityThresholds(steroid_washout_days=7, max_nyha_class=3)
    data = replace(
        ELIGIBLE,
        nyha_class=3,
        corticosteroids_received=True,
        corticosteroids_stop_date=date(2025, 6, 10),
    )
    result = eligibility_evaluate(data, site)
    assert result.status is Eligibility.INELIGIBLE
    assert codes(result.failed) == ["also.corticosteroid_washout"]


def test_hlh2004_thresholds_are_passed_through():
    result = eligibility_evaluate(ELIGIBLE, hlh2004_thresholds=HLH2004Thresholds(criteria_required=6))
    assert result.status is Eligibility.INELIGIBLE
    assert codes(result.failed) == ["inclusion.hlh2004"]


def test_protocol_thresholds():
    assert EligibilityThresholds() == EligibilityThresholds(
        max_age_years=18,
        min_gfr_ml_min=15.0,
        meld_exclusion_above=20.0,
        max_nyha_class=2,
        steroid_washout_days=3,
    )
