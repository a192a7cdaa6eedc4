"""Response criteria (protocol section 9, decisions 12.3 and 12.4), table-driven.

The baseline child below has every marker abnormal: fever 39.5 °C, ANC 0.4, platelets 30,
fibrinogen 0.9 g/L, sCD25 30,000 pg/mL, ferritin 5,000 µg/L, triglycerides 4.0 mmol/L,
spleen 4 cm, CNS abnormal.
"""

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from assessments.rules.response import (
    Marker,
    MarkerValues,
    Observation,
    Response,
    ResponseInput,
    UpperLimits,
    response_assess,
    value_for_assessment,
)

DAY = date(2026, 3, 17)

BASELINE = MarkerValues(
    max_temperature_c=39.5,
    anc=0.4,
    platelets=30,
    fibrinogen=0.9,
    scd25=30000,
    scd25_unit="pg/mL",
    ferritin=5000,
    triglycerides=4.0,
    spleen_cm=4,
    cns_abnormal=True,
)

ALL_NORMAL = MarkerValues(
    max_temperature_c=37.0,
    anc=2.0,
    platelets=180,
    fibrinogen=2.5,
    scd25=3000,
    scd25_unit="pg/mL",
    ferritin=300,
    triglycerides=1.2,
    spleen_cm=0,
    cns_abnormal=False,
)

# Every marker abnormal but none improved or worsened by 50 %.
UNCHANGED = MarkerValues(
    max_temperature_c=39.0,
    anc=0.5,
    platelets=35,
    fibrinogen=1.0,
    scd25=28000,
    scd25_unit="pg/mL",
    ferritin=4500,
    triglycerides=3.8,
    spleen_cm=4,
    cns_abnormal=True,
)


def assess(current: MarkerValues, baseline: MarkerValues = BASELINE, **kwargs):
    return response_assess(ResponseInput(assessment_date=DAY, baseline=baseline, current=current, **kwargs))


def by_marker(result):
    return {m.marker: m for m in result.markers}


def test_cr_every_marker_normal():
    # "Complete response (CR): every marker normal."
    result = assess(ALL_NORMAL)
    assert result.status is Response.CR
    assert result.missing == ()


def test_pr_three_baseline_abnormal_markers_normal_and_none_progressed():
    # "Partial response (PR): >= 3 of the markers that were abnormal at baseline have become normal,
    #  and no marker has progressed."
    current = replace(UNCHANGED, max_temperature_c=37.0, anc=1.2, platelets=120)
    result = assess(current)
    assert result.status is Response.PR
    assert result.normalised == 3


def test_two_normalised_markers_are_not_a_pr():
    current = replace(UNCHANGED, max_temperature_c=37.0, anc=1.2)
    assert assess(current).status is Response.NO_RESPONSE


def test_pr_is_refused_when_a_marker_progressed_and_two_progressed_is_progression():
    current = replace(UNCHANGED, max_temperature_c=37.0, anc=1.2, platelets=120, ferritin=7600)
    result = assess(current)
    assert result.worsened == 1
    assert result.status is not Response.PR
    assert assess(replace(current, triglycerides=6.0)).status is Response.PROGRESSION


def test_hlh_improvement_three_markers_improved_by_half():
    # "HLH improvement: >= 3 markers that were abnormal at baseline improved by >= 50 %"
    current = replace(UNCHANGED, ferritin=2500, scd25=15000, triglycerides=2.0)
    result = assess(current)
    assert result.status is Response.IMPROVEMENT
    assert result.improved == 3


@pytest.mark.parametrize(
    ("ferritin", "improved"),
    [(2500.0, True), (2500.1, False)],  # 12.3: "improved = value <= 0.5 x baseline" (baseline 5,000)
)
def test_high_bad_marker_improvement_boundary(ferritin, improved):
    assert by_marker(assess(replace(UNCHANGED, ferritin=ferritin)))[Marker.FERRITIN].improved is improved


@pytest.mark.parametrize(
    ("ferritin", "worsened"),
    [(7500.0, True), (7499.9, False)],  # 12.3: "worsened = value >= 1.5 x baseline"
)
def test_high_bad_marker_worsening_boundary(ferritin, worsened):
    assert by_marker(assess(replace(UNCHANGED, ferritin=ferritin)))[Marker.FERRITIN].worsened is worsened


@pytest.mark.parametrize(
    ("platelets", "improved", "worsened"),
    [
        (45.0, True, False),  # 12.3 low-bad: "improved = value >= 1.5 x baseline" (baseline 30)
        (44.9, False, False),
        (15.0, False, True),  # "worsened = value <= 0.5 x baseline"
        (15.1, False, False),
    ],
)
def test_low_bad_marker_boundaries(platelets, improved, worsened):
    marker = by_marker(assess(replace(UNCHANGED, platelets=platelets)))[Marker.PLATELETS]
    assert (marker.improved, marker.worsened) == (improved, worsened)


@pytest.mark.parametrize(
    ("marker", "field", "value", "normal"),
    [
        (Marker.ANC, "anc", 1.0, True),  # "ANC >= 1.0"
        (Marker.ANC, "anc", 0.99, False),
        (Marker.PLATELETS, "platelets", 100.0, True),  # "platelets >= 100"
        (Marker.PLATELETS, "platelets", 99.9, False),
        (Marker.FIBRINOGEN, "fibrinogen", 1.50, False),  # "fibrinogen > 1.50 g/L"
        (Marker.FIBRINOGEN, "fibrinogen", 1.51, True),
        (Marker.FEVER, "max_temperature_c", 37.5, False),  # "max temperature < 37.5 °C"
        (Marker.FEVER, "max_temperature_c", 37.4, True),
        (Marker.FERRITIN, "ferritin", 500.0, True),  # within the reference range (<= 500)
        (Marker.FERRITIN, "ferritin", 500.1, False),
        (Marker.TRIGLYCERIDES, "triglycerides", 1.7, True),
        (Marker.TRIGLYCERIDES, "triglycerides", 1.71, False),
        (Marker.SCD25, "scd25", 6400.0, True),
        (Marker.SCD25, "scd25", 6401.0, False),
        (Marker.SPLEEN, "spleen_cm", 0.0, True),  # "spleen not enlarged (0 cm)"
        (Marker.SPLEEN, "spleen_cm", 0.5, False),
    ],
)
def test_normal_boundaries(marker, field, value, normal):
    assert by_marker(assess(replace(ALL_NORMAL, **{field: value})))[marker].normal is normal


@pytest.mark.parametrize(
    ("days_before", "supported"),
    [(0, True), (3, True), (4, False)],  # support window: the assessment day and the 3 days before it
)
def test_transfusion_before_the_assessment_day(days_before, supported):
    # "platelets >= 100 x10^9/L ... without G-CSF or transfusion support in the preceding 4 days"
    result = assess(ALL_NORMAL, platelet_transfusion_dates=(DAY - timedelta(days=days_before),))
    marker = by_marker(result)[Marker.PLATELETS]
    assert marker.supported is supported
    assert marker.normal is (not supported)
    assert result.status is (Response.PR if supported else Response.CR)


def test_gcsf_makes_a_normal_anc_not_count():
    result = assess(ALL_NORMAL, gcsf_dates=(DAY - timedelta(days=1),))
    assert by_marker(result)[Marker.ANC].normal is False
    assert by_marker(result)[Marker.PLATELETS].normal is True  # G-CSF supports the ANC only
    assert result.status is Response.PR


def test_a_marker_normal_at_baseline_cannot_count_as_improved():
    # 12.3: "Only markers abnormal at baseline can count as improved."
    baseline = replace(BASELINE, ferritin=400)
    marker = by_marker(assess(replace(UNCHANGED, ferritin=100), baseline=baseline))[Marker.FERRITIN]
    assert marker.baseline_abnormal is False
    assert marker.improved is False


def test_missing_marker_makes_the_assessment_not_assessable_and_is_listed():
    # "Missing markers are listed, never silently treated as normal."
    result = assess(replace(ALL_NORMAL, scd25=None, cns_abnormal=None))
    assert result.status is Response.NOT_ASSESSABLE
    assert result.missing == (Marker.SCD25, Marker.CNS)
    assert "Soluble CD25" in result.decided_by and "CNS" in result.decided_by


def test_progression_is_decided_even_with_markers_missing():
    current = replace(UNCHANGED, ferritin=8000, triglycerides=6.5, scd25=None)
    assert assess(current).status is Response.PROGRESSION


def test_relapse_only_after_a_cr():
    # "Relapse: after a CR, >= 3 markers abnormal again."
    current = replace(ALL_NORMAL, max_temperature_c=38.8, ferritin=1200, platelets=60)
    assert assess(current, previous_cr=True, fever_resolved_before=True).status is Response.RELAPSE
    assert assess(current).status is not Response.RELAPSE


def test_two_abnormal_after_cr_is_not_relapse():
    current = replace(ALL_NORMAL, ferritin=1200, platelets=60)
    assert assess(current, previous_cr=True).status is not Response.RELAPSE


def test_fever_worsens_only_when_it_returns_after_resolving():
    # 12.3: "fever ... worsened = fever returns after it had resolved"
    febrile = replace(UNCHANGED, max_temperature_c=39.0)
    assert by_marker(assess(febrile))[Marker.FEVER].worsened is False
    assert by_marker(assess(febrile, fever_resolved_before=True))[Marker.FEVER].worsened is True


def test_new_cns_abnormality_is_worsening():
    # 12.3: "CNS worsened = new CNS abnormality"
    baseline = replace(BASELINE, cns_abnormal=False)
    assert by_marker(assess(replace(UNCHANGED, cns_abnormal=True), baseline=baseline))[Marker.CNS].worsened is True


def test_scd25_in_another_unit_than_the_limit_cannot_be_judged():
    # 12.1: no conversion factor between U/mL and pg/mL.
    current = replace(ALL_NORMAL, scd25=900, scd25_unit="U/mL")
    result = assess(current)
    assert by_marker(result)[Marker.SCD25].normal is None
    assert result.status is Response.NOT_ASSESSABLE
    limits = UpperLimits(scd25=2400, scd25_unit="U/mL")
    assert assess(current, limits=limits).status is Response.CR


def test_each_marker_reports_baseline_current_and_why():
    marker = by_marker(assess(replace(UNCHANGED, ferritin=2000)))[Marker.FERRITIN]
    assert (marker.baseline, marker.current) == ("5000 µg/L", "2000 µg/L")
    assert "improved >= 50 % from baseline" in marker.explanation


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour)


@pytest.mark.parametrize(
    ("observations", "expected"),
    [
        ([(17, 6, 1.0), (17, 18, 2.0), (16, 8, 3.0)], 2.0),  # sampled that day: the latest of that day
        ([(16, 8, 3.0), (15, 8, 4.0)], 3.0),  # else the latest in the window before it
        ([(18, 8, 9.0), (16, 8, 3.0)], 3.0),  # never a value from after the assessment day
        ([(13, 8, 5.0)], None),  # before the window opens (day 14)
        ([(18, 8, 9.0)], None),
    ],
)
def test_value_used_at_an_assessment_day(observations, expected):
    # 12.4: "the one sampled that day, else the latest in the visit window before it"
    obs = [Observation(at(d, h), v) for d, h, v in observations]
    chosen = value_for_assessment(obs, assessment_date=date(2026, 3, 17), window_start=date(2026, 3, 14))
    assert (chosen.value if chosen else None) == expected
