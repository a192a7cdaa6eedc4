"""Baseline risk stratification: protocol section 5 (sCD25 per decision 12.1)."""

from dataclasses import replace
from datetime import date

import pytest

from patients.rules.hlh2004 import SCD25Unit
from patients.rules.risk import RiskGroup, RiskInput, RiskThresholds, risk_stratify

BASELINE = date(2025, 6, 16)

# No CNS involvement and every item entered and not met: low risk.
LOW = RiskInput(
    cns_involvement=False,
    date_of_birth=date(2015, 1, 1),
    on=BASELINE,
    serious_non_lab_manifestation=False,
    anc_10e9_l=2.0,
    scd25_value=5000.0,
    scd25_unit=SCD25Unit.PG_PER_ML,
    ferritin_ug_l=800.0,
    ifn_gamma_pg_ml=20.0,
    alt_u_l=50.0,
)

# The 7 items in protocol order: the fields that make each met / missing.
ITEMS = (
    ({"date_of_birth": date(2024, 1, 1)}, {"date_of_birth": None}),
    ({"serious_non_lab_manifestation": True}, {"serious_non_lab_manifestation": None}),
    ({"anc_10e9_l": 0.2}, {"anc_10e9_l": None}),
    ({"scd25_value": 40000.0}, {"scd25_value": None}),
    ({"ferritin_ug_l": 9000.0}, {"ferritin_ug_l": None}),
    ({"ifn_gamma_pg_ml": 500.0}, {"ifn_gamma_pg_ml": None}),
    ({"alt_u_l": 400.0}, {"alt_u_l": None}),
)


def stratify(**changes):
    return risk_stratify(replace(LOW, **changes))


def item(result, code):
    return next(c for c in result.criteria if c.code == f"risk.{code}")


def with_items(cns, n_met, n_missing):
    """The first n_met items met, the next n_missing missing, the rest not met."""
    changes = {"cns_involvement": cns}
    for met_fields, _ in ITEMS[:n_met]:
        changes.update(met_fields)
    for _, missing_fields in ITEMS[n_met : n_met + n_missing]:
        changes.update(missing_fields)
    return replace(LOW, **changes)


def test_criteria_order_is_cns_then_the_7_items():
    assert [c.code for c in risk_stratify(LOW).criteria] == [
        "risk.cns",
        "risk.age",
        "risk.serious_non_lab_manifestation",
        "risk.anc",
        "risk.scd25",
        "risk.ferritin",
        "risk.ifn_gamma",
        "risk.alt",
    ]


@pytest.mark.parametrize(
    ("date_of_birth", "met"),
    [
        pytest.param(date(2023, 6, 16), True, id="age <= 2 years: on the 2nd birthday"),
        pytest.param(date(2023, 6, 15), False, id="the day after the 2nd birthday"),
        pytest.param(date(2023, 6, 17), True, id="the day before the 2nd birthday"),
        pytest.param(date(2025, 6, 1), True, id="2 weeks old"),
        pytest.param(date(2023, 2, 28), False, id="2 years 3 months"),
        pytest.param(None, None, id="date of birth not entered"),
        pytest.param(date(2025, 6, 17), None, id="born after the baseline date: check"),
    ],
)
def test_age(date_of_birth, met):
    assert item(stratify(date_of_birth=date_of_birth), "age").met is met


def test_age_on_feb29_birthday():
    # Born 29 Feb 2020: the 2nd birthday is 1 Mar 2022, so 1 Mar is still <= 2 years.
    born = date(2020, 2, 29)
    assert item(stratify(date_of_birth=born, on=date(2022, 3, 1)), "age").met is True
    assert item(stratify(date_of_birth=born, on=date(2022, 3, 2)), "age").met is False


def test_age_reasons():
    age = item(stratify(date_of_birth=date(2023, 6, 15)), "age")
    assert (age.label, age.value, age.threshold, age.explanation) == (
        "Age <= 2 years",
        "born 2023-06-15, assessed 2025-06-16",
        "on or before the 2nd birthday",
        "Assessed after the 2nd birthday (2025-06-15).",
    )


@pytest.mark.parametrize(
    ("field", "code", "value", "met"),
    [
        pytest.param("anc_10e9_l", "anc", 0.5, False, id="ANC < 0.5: 0.5 is not"),
        pytest.param("anc_10e9_l", "anc", 0.49, True, id="ANC 0.49"),
        pytest.param("scd25_value", "scd25", 25000.0, False, id="sCD25 > 25,000 pg/mL: 25000 is not"),
        pytest.param("scd25_value", "scd25", 25001.0, True, id="sCD25 25001 pg/mL"),
        pytest.param("ferritin_ug_l", "ferritin", 2000.0, False, id="ferritin > 2,000: 2000 is not"),
        pytest.param("ferritin_ug_l", "ferritin", 2000.1, True, id="ferritin 2000.1"),
        pytest.param("ifn_gamma_pg_ml", "ifn_gamma", 80.0, False, id="IFN-g > 10 x ULN 8: 80 is not"),
        pytest.param("ifn_gamma_pg_ml", "ifn_gamma", 80.1, True, id="IFN-g 80.1"),
        pytest.param("alt_u_l", "alt", 200.0, False, id="ALT > 200: 200 is not"),
        pytest.param("alt_u_l", "alt", 200.1, True, id="ALT 200.1"),
        pytest.param("serious_non_lab_manifestation", "serious_non_lab_manifestation", True, True, id="icterus"),
        pytest.param("serious_non_lab_manifestation", "serious_non_lab_manifestation", False, False, id="none"),
        pytest.param("alt_u_l", "alt", None, None, id="ALT not entered"),
    ],
)
def test_items(field, code, value, met):
    assert item(stratify(**{field: value}), code).met is met


@pytest.mark.parametrize(
    ("value", "unit", "explanation"),
    [
        (
            30000.0,
            SCD25Unit.U_PER_ML,
            "Cannot be judged: the item is defined in pg/mL and no conversion factor from U/mL is assumed "
            "(protocol 12.1).",
        ),
        (30000.0, None, "Cannot be judged without the unit (protocol 12.1)."),
        (None, SCD25Unit.PG_PER_ML, "Soluble CD25 is not entered."),
    ],
)
def test_scd25_outside_pg_ml_is_missing(value, unit, explanation):
    scd25 = item(stratify(scd25_value=value, scd25_unit=unit), "scd25")
    assert (scd25.met, scd25.explanation) == (None, explanation)


def test_ifn_gamma_threshold_text():
    ifn = item(stratify(ifn_gamma_pg_ml=80.1), "ifn_gamma")
    assert (ifn.label, ifn.threshold) == ("IFN-gamma > 80 pg/mL", "> 80 pg/mL (10 x ULN 8 pg/mL)")


@pytest.mark.parametrize(
    ("cns", "n_met", "n_missing", "group"),
    [
        pytest.param(True, 0, 0, RiskGroup.HIGH, id="high risk if CNS involvement"),
        pytest.param(True, 0, 7, RiskGroup.HIGH, id="CNS involvement, items missing"),
        pytest.param(False, 3, 0, RiskGroup.HIGH, id="at least 3 of: 3"),
        pytest.param(False, 3, 4, RiskGroup.HIGH, id=">= 3 already met, rest missing"),
        pytest.param(None, 3, 0, RiskGroup.HIGH, id="3 met, CNS not entered"),
        pytest.param(False, 2, 0, RiskGroup.LOW, id="2 of 7, no CNS: low"),
        pytest.param(False, 1, 1, RiskGroup.LOW, id="met + missing cannot reach 3"),
        pytest.param(False, 0, 2, RiskGroup.LOW, id="0 met, 2 missing"),
        pytest.param(False, 2, 1, RiskGroup.INDETERMINATE, id="2 met + 1 missing could reach 3"),
        pytest.param(False, 0, 3, RiskGroup.INDETERMINATE, id="0 met, 3 missing"),
        pytest.param(None, 0, 0, RiskGroup.INDETERMINATE, id="CNS not entered"),
    ],
)
def test_group(cns, n_met, n_missing, group):
    result = risk_stratify(with_items(cns, n_met, n_missing))
    assert result.group is group
    assert result.items_met == n_met


@pytest.mark.parametrize(
    ("cns", "n_met", "n_missing", "missing"),
    [
        (False, 2, 1, ["risk.anc"]),
        (None, 0, 0, ["risk.cns"]),
        (None, 1, 2, ["risk.cns", "risk.serious_non_lab_manifestation", "risk.anc"]),
        (False, 2, 0, []),
    ],
)
def test_missing_items_are_listed(cns, n_met, n_missing, missing):
    assert [c.code for c in risk_stratify(with_items(cns, n_met, n_missing)).missing] == missing


def test_scd25_in_u_ml_counts_as_missing():
    # Two items met; sCD25 in U/mL cannot be judged, so the third could still be met.
    result = stratify(anc_10e9_l=0.2, alt_u_l=400.0, scd25_value=30000.0, scd25_unit=SCD25Unit.U_PER_ML)
    assert result.group is RiskGroup.INDETERMINATE
    assert [c.code for c in result.missing] == ["risk.scd25"]


def test_group_explanations():
    assert risk_stratify(with_items(False, 2, 1)).explanation == (
        "Indeterminate: 2 of 7 items met, 1 missing; the missing ones could still reach 3."
    )
    assert (
        risk_stratify(with_items(True, 0, 0)).explanation == "High risk: CNS involvement (0 of 7 items met, 0 missing)."
    )


def test_site_ifn_gamma_uln():
    result = risk_stratify(replace(LOW, ifn_gamma_pg_ml=60.1), RiskThresholds(ifn_gamma_uln_pg_ml=6.0))
    assert item(result, "ifn_gamma").met is True
