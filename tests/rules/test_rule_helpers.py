"""Small parts of the rules that the pages and documents lean on, each case stated with its answer."""

from datetime import date

import pytest

from assessments.rules.expectations import INFECTION, expected_groups
from assessments.rules.response import Response, ResponseResult
from assessments.rules.statistics import survival_curve
from patients.rules.etiology import _both, _either
from patients.rules.treatment import ScheduledDose, dose_label, slot_shown


@pytest.mark.parametrize(
    ("a", "b", "either", "both"),
    [
        # Three-valued logic: a known True (OR) or False (AND) decides; otherwise an unknown stays open.
        (True, None, True, None),
        (None, True, True, None),
        (False, None, None, False),
        (None, None, None, None),
        (False, False, False, False),
        (True, True, True, True),
        (True, False, True, False),
    ],
)
def test_three_valued_or_and_and(a, b, either, both):
    assert _either(a, b) is either
    assert _both(a, b) is both


@pytest.mark.parametrize(
    ("slot", "day", "shown", "label"),
    [
        ("am", 3, "morning", "morning dose of treatment day 3"),
        ("pm", 28, "evening", "evening dose of treatment day 28"),
        # A slot the schedule does not know is named as stored, never guessed.
        ("noon", 5, "noon", "noon 5"),
    ],
)
def test_a_dose_slot_is_named_in_words(slot, day, shown, label):
    assert slot_shown(slot) == shown
    assert dose_label(slot, day) == label
    scheduled = ScheduledDose(treatment_day=day, slot=slot, date=date(2026, 3, 1))
    assert scheduled.slot_label == shown
    assert scheduled.study_day == day - 1  # treatment day 1 is study day 0 (section 7)


def test_a_response_result_is_labelled_by_its_status():
    result = ResponseResult(Response.CR, (), (), "Every marker is normal.", 0, 0, 0, 0)
    assert result.label == "Complete response"


def test_a_survival_curve_without_patients_is_empty():
    curve = survival_curve([], [])
    assert (curve.times, curve.survival, curve.censored) == ((), (), ())


def test_the_baseline_visit_expects_the_infection_group():
    # Section 8: EBV DNA and serology are taken at screening/baseline.
    assert INFECTION in expected_groups(kind="baseline", full_hlh_panel=True, response_assessment=False)
    assert INFECTION not in expected_groups(kind="treatment", full_hlh_panel=False, response_assessment=False)
