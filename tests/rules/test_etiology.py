"""Etiology of secondary HLH and EBV sub-type: protocol section 4."""

from dataclasses import replace

import pytest

from patients.rules.etiology import (
    EBVSubtype,
    Etiology,
    EtiologyInput,
    EtiologyThresholds,
    etiology_classify,
)

# HLH criteria met, EBV DNA not raised, first-infection serology, no CAEBV, no AID.
NOT_EBV = EtiologyInput(
    hlh_criteria_met=True,
    ebv_dna_whole_blood=0.0,
    ebv_dna_plasma=0.0,
    ebna_igg_positive=False,
    vca_igg_positive=True,
    vca_igm_positive=True,
    caebv_diagnosis=False,
    aid_diagnosis=False,
    wes_pathogenic_variant=False,
)
EBV = replace(NOT_EBV, ebv_dna_whole_blood=25000.0)


def classify(base=NOT_EBV, thresholds=EtiologyThresholds(), **changes):
    return etiology_classify(replace(base, **changes), thresholds)


@pytest.mark.parametrize(
    ("changes", "etiology", "subtype"),
    [
        pytest.param({}, Etiology.UNKNOWN, EBVSubtype.NOT_APPLICABLE, id="no EBV, no AID: unknown"),
        pytest.param(
            {"ebv_dna_whole_blood": 500.0}, Etiology.EBV, EBVSubtype.FIRST_INFECTION, id=">= 500: whole blood 500"
        ),
        pytest.param({"ebv_dna_whole_blood": 499.0}, Etiology.UNKNOWN, EBVSubtype.NOT_APPLICABLE, id="whole blood 499"),
        pytest.param({"ebv_dna_plasma": 500.0}, Etiology.EBV, EBVSubtype.FIRST_INFECTION, id="plasma 500"),
        pytest.param(
            {"ebv_dna_whole_blood": 600.0, "ebv_dna_plasma": None},
            Etiology.EBV,
            EBVSubtype.FIRST_INFECTION,
            id="whole blood OR plasma: plasma not needed",
        ),
        pytest.param(
            {"ebv_dna_whole_blood": None, "ebv_dna_plasma": 499.99},
            Etiology.UNDETERMINED,
            EBVSubtype.UNDETERMINED,
            id="plasma low, whole blood not entered",
        ),
        pytest.param(
            {"ebv_dna_whole_blood": None, "ebv_dna_plasma": None},
            Etiology.UNDETERMINED,
            EBVSubtype.UNDETERMINED,
            id="EBV DNA not entered",
        ),
        pytest.param(
            {"ebv_dna_whole_blood": 1e5, "hlh_criteria_met": False},
            Etiology.UNKNOWN,
            EBVSubtype.NOT_APPLICABLE,
            id="EBV DNA raised but HLH criteria not met",
        ),
        pytest.param(
            {"ebv_dna_whole_blood": 1e5, "hlh_criteria_met": None},
            Etiology.UNDETERMINED,
            EBVSubtype.UNDETERMINED,
            id="HLH criteria not entered",
        ),
        pytest.param({"aid_diagnosis": True}, Etiology.AID, EBVSubtype.NOT_APPLICABLE, id="AID, EBV not raised"),
        pytest.param(
            {"aid_diagnosis": True, "ebv_dna_whole_blood": 1e5},
            Etiology.EBV,
            EBVSubtype.FIRST_INFECTION,
            id="EBV is checked before AID",
        ),
        pytest.param({"aid_diagnosis": None}, Etiology.UNDETERMINED, EBVSubtype.NOT_APPLICABLE, id="AID not entered"),
        pytest.param(
            {"aid_diagnosis": True, "ebv_dna_plasma": None},
            Etiology.UNDETERMINED,
            EBVSubtype.UNDETERMINED,
            id="AID, but EBV not yet ruled out",
        ),
    ],
)
def test_etiology(changes, etiology, subtype):
    result = classify(**changes)
    assert (result.etiology, result.ebv_subtype) == (etiology, subtype)


@pytest.mark.parametrize(
    ("caebv", "ebna_igg", "vca_igg", "vca_igm", "subtype"),
    [
        pytest.param(True, False, True, True, EBVSubtype.CAEBV, id="CAEBV: clinician's diagnosis first"),
        pytest.param(False, False, True, False, EBVSubtype.FIRST_INFECTION, id="first: EBNA-IgG neg with VCA-IgG pos"),
        pytest.param(False, False, False, True, EBVSubtype.FIRST_INFECTION, id="first: EBNA-IgG neg with VCA-IgM pos"),
        pytest.param(
            False, False, None, True, EBVSubtype.FIRST_INFECTION, id="first: VCA-IgM pos suffices, IgG missing"
        ),
        pytest.param(
            False, True, True, True, EBVSubtype.REACTIVATION, id="reactivation: EBNA-IgG, VCA-IgG, VCA-IgM pos"
        ),
        pytest.param(False, True, True, False, EBVSubtype.UNDETERMINED, id="EBNA-IgG and VCA-IgG only"),
        pytest.param(False, False, False, False, EBVSubtype.UNDETERMINED, id="all serology negative"),
        pytest.param(False, None, True, True, EBVSubtype.UNDETERMINED, id="EBNA-IgG not entered"),
        pytest.param(None, False, True, True, EBVSubtype.UNDETERMINED, id="CAEBV not entered"),
    ],
)
def test_ebv_subtype(caebv, ebna_igg, vca_igg, vca_igm, subtype):
    result = classify(
        EBV,
        caebv_diagnosis=caebv,
        ebna_igg_positive=ebna_igg,
        vca_igg_positive=vca_igg,
        vca_igm_positive=vca_igm,
    )
    assert result.etiology is Etiology.EBV
    assert result.ebv_subtype is subtype


def test_criteria_order_and_ebv_reason():
    result = classify(EBV, ebv_dna_plasma=800.0)
    assert [c.code for c in result.criteria] == [
        "etiology.hlh_criteria",
        "etiology.ebv_dna",
        "etiology.caebv",
        "etiology.ebv_first_infection_serology",
        "etiology.ebv_reactivation_serology",
        "etiology.aid",
        "etiology.wes_primary_hlh_variant",
    ]
    ebv_dna = result.criteria[1]
    assert (ebv_dna.met, ebv_dna.value, ebv_dna.explanation) == (
        True,
        "whole blood 25000; plasma 800",
        "EBV DNA raised in whole blood and plasma.",
    )


@pytest.mark.parametrize(
    ("wes", "warnings"),
    [
        (
            True,
            ("Whole-exome sequencing found a pathogenic primary-HLH variant: the child may have primary HLH.",),
        ),
        (False, ()),
        (None, ()),
    ],
)
def test_pathogenic_wes_variant_warns(wes, warnings):
    result = classify(wes_pathogenic_variant=wes)
    assert result.warnings == warnings
    assert result.etiology is Etiology.UNKNOWN


def test_undetermined_etiology_says_why():
    result = classify(ebv_dna_whole_blood=None, ebv_dna_plasma=None)
    assert result.warnings == (
        "Etiology undetermined: EBV-HLH cannot be ruled in or out until the HLH criteria and the EBV DNA are entered.",
    )


def test_lab_specific_ebv_threshold():
    result = classify(thresholds=EtiologyThresholds(ebv_dna_copies=1000.0), ebv_dna_whole_blood=999.0)
    assert result.etiology is Etiology.UNKNOWN


@pytest.mark.parametrize(
    ("changes", "warning"),
    [
        pytest.param(
            {"caebv_diagnosis": None},
            "EBV sub-type undetermined: record the CAEBV diagnosis and the EBNA-IgG, VCA-IgG and VCA-IgM serology.",
            id="data missing",
        ),
        pytest.param(
            {"ebna_igg_positive": True, "vca_igm_positive": False},
            "EBV sub-type undetermined: the serology fits neither a first infection nor a reactivation.",
            id="past-infection pattern",
        ),
    ],
)
def test_undetermined_subtype_says_why(changes, warning):
    result = classify(EBV, **changes)
    assert (result.ebv_subtype, result.warnings) == (EBVSubtype.UNDETERMINED, (warning,))
