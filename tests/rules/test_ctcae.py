"""CTCAE v3.0 lab grading (protocol section 10): both sides of every threshold, no database."""

from decimal import Decimal

import pytest

from assessments.rules.ctcae import lab_grade, suggestion_decide, suggestion_explain

# Site reference limits used below (the trial defaults): Hb LLN 110 g/L, ANC LLN 2.0, platelets
# LLN 100 x10^9/L, ALT ULN 40 U/L.
HGB_LLN, NEUT_LLN, PLAT_LLN, ALT_ULN = 110, 2.0, 100, 40


@pytest.mark.parametrize(
    ("value", "grade", "quote"),
    [
        # "hemoglobin < LLN-100 g/L grade 1, < 100-80 grade 2, < 80-65 grade 3, < 65 grade 4"
        (120, 0, "above the LLN: no AE"),
        (110, 0, "exactly the LLN is normal"),
        (109.9, 1, "< LLN"),
        (100, 1, "< LLN-100: 100 itself is grade 1"),
        (99.9, 2, "< 100-80"),
        (80, 2, "< 100-80: 80 itself is grade 2"),
        (79.9, 3, "< 80-65"),
        (65, 3, "< 80-65: 65 itself is grade 3"),
        (64.9, 4, "< 65"),
        (10, 4, "< 65"),
    ],
)
def test_hemoglobin_grades(value, grade, quote):
    result = lab_grade("HGB", value, HGB_LLN, None)
    assert result.grade == grade, quote
    assert (result.ctcae_code, result.ctcae_term) == ("BL104", "Hemoglobin")


@pytest.mark.parametrize(
    ("value", "grade", "quote"),
    [
        # "neutrophils < LLN-1.5 x10^9/L grade 1, < 1.5-1.0 grade 2, < 1.0-0.5 grade 3, < 0.5 grade 4"
        (2.0, 0, "exactly the LLN is normal"),
        (1.99, 1, "< LLN"),
        (1.5, 1, "< LLN-1.5: 1.5 itself is grade 1"),
        (1.49, 2, "< 1.5-1.0"),
        (1.0, 2, "< 1.5-1.0: 1.0 itself is grade 2"),
        (0.99, 3, "< 1.0-0.5"),
        (0.5, 3, "< 1.0-0.5: 0.5 itself is grade 3"),
        (0.49, 4, "< 0.5"),
        (0, 4, "< 0.5"),
    ],
)
def test_neutrophil_grades(value, grade, quote):
    result = lab_grade("NEUT", value, NEUT_LLN, 7.0)
    assert result.grade == grade, quote
    assert (result.ctcae_code, result.ctcae_term) == ("BL110", "Neutrophils")


@pytest.mark.parametrize(
    ("value", "grade", "quote"),
    [
        # "platelets < LLN-75 grade 1, < 75-50 grade 2, < 50-25 grade 3, < 25 grade 4"
        (100, 0, "exactly the LLN is normal"),
        (99, 1, "< LLN"),
        (75, 1, "< LLN-75: 75 itself is grade 1"),
        (74.9, 2, "< 75-50"),
        (50, 2, "< 75-50: 50 itself is grade 2"),
        (49.9, 3, "< 50-25"),
        (25, 3, "< 50-25: 25 itself is grade 3"),
        (24.9, 4, "< 25"),
    ],
)
def test_platelet_grades(value, grade, quote):
    result = lab_grade("PLAT", value, PLAT_LLN, 300)
    assert result.grade == grade, quote
    assert (result.ctcae_code, result.ctcae_term) == ("BL111", "Platelets")


@pytest.mark.parametrize(
    ("value", "grade", "quote"),
    [
        # "ALT > ULN-2.5x ULN grade 1, > 2.5-5x grade 2, > 5-20x grade 3, > 20x grade 4" (ULN 40 U/L)
        (40, 0, "exactly the ULN is normal"),
        (40.1, 1, "> ULN"),
        (100, 1, "> ULN-2.5x: exactly 2.5 x ULN is grade 1"),
        (100.1, 2, "> 2.5-5x"),
        (200, 2, "> 2.5-5x: exactly 5 x ULN is grade 2"),
        (200.1, 3, "> 5-20x"),
        (800, 3, "> 5-20x: exactly 20 x ULN is grade 3"),
        (800.1, 4, "> 20x"),
    ],
)
def test_alt_grades(value, grade, quote):
    result = lab_grade("ALT", value, None, ALT_ULN)
    assert result.grade == grade, quote
    assert (result.ctcae_code, result.ctcae_term) == ("ME105", "ALT, SGPT")


def test_alt_boundary_is_exact_with_a_decimal_uln():
    # 2.5 x 40.3 = 100.75 must not be lost to binary floating point.
    assert lab_grade("ALT", 100.75, None, 40.3).grade == 1
    assert lab_grade("ALT", Decimal("100.76"), None, Decimal("40.3")).grade == 2


def test_limits_are_the_sites_not_constants():
    # A site whose hemoglobin LLN is 120 g/L grades 115 as grade 1; with LLN 110 it is normal.
    assert lab_grade("HGB", 115, 120, None).grade == 1
    assert lab_grade("HGB", 115, 110, None).grade == 0
    # ALT 130 U/L: grade 2 with ULN 40 (> 100), grade 1 with ULN 60 (<= 150).
    assert lab_grade("ALT", 130, None, 40).grade == 2
    assert lab_grade("ALT", 130, None, 60).grade == 1


def test_value_inside_a_low_lln_is_not_an_adverse_event():
    # An infant's LLN of 95 g/L: 97 g/L is normal although it is under the grade-2 limit of 100.
    assert lab_grade("HGB", 97, 95, None).grade == 0
    assert lab_grade("HGB", 94, 95, None).grade == 2


def test_missing_limit_gives_no_grade_rather_than_normal():
    assert lab_grade("HGB", 50, None, 160) is None
    assert lab_grade("ALT", 900, 5, None) is None
    assert lab_grade("ALT", 900, None, 0) is None


def test_analytes_not_graded_here_give_none():
    assert lab_grade("FERRITIN", 5000, None, 500) is None


def test_explanation_names_value_range_limit_and_grade():
    result = lab_grade("ALT", 250, None, 40)
    assert result.threshold == "> 5-20 x ULN (> 200-800 U/L)"
    assert result.explanation == (
        "ALT 250 U/L is > 5-20 x ULN (> 200-800 U/L) (ULN 40 U/L): CTCAE v3.0 ALT, SGPT grade 3."
    )
    normal = lab_grade("PLAT", 150, 100, 300)
    assert normal.explanation == "Platelets 150 10^9/L is within the normal limit (LLN 100 10^9/L): no adverse event."
    assert lab_grade("HGB", 70, 110, None).threshold == "< 80-65 g/L"


@pytest.mark.parametrize(
    ("analyte", "value", "baseline_grade", "suggested", "why"),
    [
        # "HLH itself causes cytopenia: a cytopenia already present at baseline is not a new AE unless it worsens"
        ("HGB", 90, None, True, "grade 2, no baseline value counts as 0"),
        ("HGB", 90, 0, True, "grade 2 from a normal baseline"),
        ("HGB", 90, 2, False, "grade 2 already at baseline"),
        ("HGB", 70, 2, True, "grade 3 is worse than baseline grade 2"),
        ("HGB", 95, 3, False, "improved from baseline grade 3"),
        ("NEUT", 0.4, 3, True, "grade 4 worse than baseline grade 3"),
        ("NEUT", 0.8, 3, False, "grade 3 already at baseline"),
        ("PLAT", 20, 4, False, "grade 4 at baseline cannot worsen"),
        ("ALT", 90, 2, False, "ALT follows the same rule: grade 1 under baseline grade 2"),
        ("ALT", 300, 2, True, "ALT grade 3 worse than baseline grade 2"),
        ("PLAT", 150, None, False, "grade 0 is never suggested"),
    ],
)
def test_suggestion_only_when_worse_than_baseline(analyte, value, baseline_grade, suggested, why):
    limits = {"HGB": (110, None), "NEUT": (2.0, None), "PLAT": (100, None), "ALT": (None, 40)}[analyte]
    assert suggestion_decide(lab_grade(analyte, value, *limits), baseline_grade) is suggested, why


def test_suggestion_explanation_mentions_the_baseline():
    current = lab_grade("NEUT", 0.4, 2.0, None)
    baseline = lab_grade("NEUT", 0.8, 2.0, None)
    assert suggestion_explain(current, baseline).endswith("Baseline 0.8 10^9/L: grade 3.")
    assert suggestion_explain(current, None).endswith("No baseline value: compared with grade 0.")
