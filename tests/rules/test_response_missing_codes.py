"""A marker recorded with a missing-data code is missing, never normal (protocol section 9 and
decision 12.4), table-driven.

Section 9: "Complete response (CR): every marker normal." and "Missing markers are listed, never
silently treated as normal." Decision 12.4: "The lab value used at an assessment day is the one
sampled that day, else the latest in the visit window before it" - a code is not a value.

The baseline child has every marker abnormal; the current values are all normal but for the
marker left out (blank) or coded in each row.
"""

from dataclasses import replace
from datetime import date

import pytest

from assessments.models.labs import MissingCode
from assessments.rules.response import (
    MISSING_CODE_LABELS,
    CodedMissing,
    Marker,
    MarkerValues,
    Response,
    ResponseInput,
    response_assess,
)
from tests.rules.test_response import ALL_NORMAL, BASELINE

DAY = date(2026, 3, 17)
# Every marker abnormal at baseline, every one normal now (the tables of tests/rules/test_response.py).
FIELD = {
    Marker.FEVER: "max_temperature_c",
    Marker.ANC: "anc",
    Marker.PLATELETS: "platelets",
    Marker.FIBRINOGEN: "fibrinogen",
    Marker.FERRITIN: "ferritin",
    Marker.TRIGLYCERIDES: "triglycerides",
    Marker.SPLEEN: "spleen_cm",
}


def assess(current: MarkerValues):
    return response_assess(ResponseInput(assessment_date=DAY, baseline=BASELINE, current=current))


def test_all_normal_is_cr_the_other_side_of_every_row_below():
    # Section 9: "Complete response (CR): every marker normal."
    result = assess(ALL_NORMAL)
    assert result.status is Response.CR
    assert result.missing == ()


# (marker, code, reason, the label the reasons name the code with - written out here, not looked up)
CASES = [
    (Marker.FERRITIN, "not_done", "Analyser out of order", "Not done"),
    (Marker.FERRITIN, "sample_lost", "Tube broke in transport", "Sample lost"),
    (Marker.TRIGLYCERIDES, "unknown", "Result not in the outside lab's report", "Unknown"),
    (Marker.FIBRINOGEN, "not_applicable", "Not ordered on this day", "Not applicable"),
    (Marker.ANC, "not_done", "No blood drawn", "Not done"),
    (Marker.PLATELETS, "sample_lost", "Clotted sample", "Sample lost"),
    (Marker.FEVER, "unknown", "Chart lost", "Unknown"),
    (Marker.SPLEEN, "not_done", "Ultrasound not available", "Not done"),
]


@pytest.mark.parametrize(("marker", "code", "reason", "label"), CASES)
def test_a_coded_marker_blocks_cr_as_a_blank_one_and_is_named_with_code_and_reason(marker, code, reason, label):
    # Section 9: "Missing markers are listed, never silently treated as normal."
    blank = replace(ALL_NORMAL, **{FIELD[marker]: None})
    coded = replace(blank, coded=(CodedMissing(marker=marker, code=code, reason=reason),))
    blank_result, coded_result = assess(blank), assess(coded)
    assert blank_result.status is coded_result.status is Response.NOT_ASSESSABLE
    assert blank_result.missing == coded_result.missing == (marker,)
    one = next(m for m in coded_result.markers if m.marker is marker)
    assert one.normal is None
    assert one.missing
    assert f"{label}: {reason}" in one.explanation
    assert one.current == label
    assert f"({label}: {reason})" in coded_result.decided_by
    # The blank one is missing without a code to name.
    assert label not in blank_result.decided_by


def test_a_code_beside_a_value_is_ignored_the_value_is_used():
    # Decision 12.4 picks values; a code recorded for a marker that has a value names nothing.
    current = replace(ALL_NORMAL, coded=(CodedMissing(marker=Marker.FERRITIN, code="not_done", reason="x"),))
    result = assess(current)
    assert result.status is Response.CR
    assert "Not done" not in result.decided_by


def test_two_coded_markers_are_both_named_in_the_order_of_the_markers():
    current = replace(
        ALL_NORMAL,
        ferritin=None,
        anc=None,
        coded=(
            CodedMissing(marker=Marker.FERRITIN, code="not_done", reason="r1"),
            CodedMissing(marker=Marker.ANC, code="sample_lost", reason="r2"),
        ),
    )
    result = assess(current)
    assert result.missing == (Marker.ANC, Marker.FERRITIN)
    assert result.decided_by == "Missing at the assessment day: ANC (Sample lost: r2), Ferritin (Not done: r1)."


def test_a_coded_marker_cannot_undo_progression():
    # Module docstring: "Missing markers cannot undo 1 or 2" - progression is decided on the markers present.
    worse = replace(
        BASELINE, ferritin=None, anc=0.1, platelets=10, coded=(CodedMissing(Marker.FERRITIN, "unknown", "r"),)
    )
    assert assess(worse).status is Response.PROGRESSION


def test_the_rule_names_every_code_of_the_model_with_its_english_label():
    assert {code: str(label) for code, label in MissingCode.choices} == MISSING_CODE_LABELS
