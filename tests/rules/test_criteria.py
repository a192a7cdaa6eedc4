"""The shared Criterion shape and value formatting (trial/rules/criteria.py)."""

from datetime import date

import pytest

from trial.rules.criteria import (
    Criterion,
    Verdict,
    finding_criterion,
    fmt,
    threshold_criterion,
)


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        pytest.param(None, "°C", "not entered", id="missing-is-not-entered"),
        pytest.param(10.0, "", "10", id="10.0-without-trailing-zero"),
        pytest.param(1.5, "", "1.5", id="1.5"),
        pytest.param(39.25, "°C", "39.25 °C", id="39.25-with-unit"),
        pytest.param(0.1 + 0.2, "", "0.3", id="binary-noise-hidden"),
        pytest.param(25000.0, "pg/mL", "25000 pg/mL", id="large-number-no-exponent"),
        pytest.param(1e12, "", "1000000000000", id="1e12-no-exponent"),
        pytest.param(0.0000001, "", "0.0000001", id="tiny-no-exponent"),
        pytest.param(-0.0, "", "0", id="negative-zero"),
        pytest.param(3, "days", "3 days", id="int"),
        pytest.param(True, "", "yes", id="true-is-yes"),
        pytest.param(False, "", "no", id="false-is-no"),
        pytest.param(date(2025, 6, 16), "", "2025-06-16", id="date-iso"),
    ],
)
def test_fmt(value, unit, expected):
    assert fmt(value, unit) == expected


@pytest.mark.parametrize(
    ("met", "verdict"),
    [(True, Verdict.MET), (False, Verdict.NOT_MET), (None, Verdict.MISSING)],
)
def test_verdict_follows_met(met, verdict):
    criterion = Criterion("x.y", "X", met, "v", "t", "e")
    assert criterion.verdict is verdict
    assert criterion.verdict.value == {True: "met", False: "not_met", None: "missing"}[met]


def test_criterion_is_frozen():
    criterion = Criterion("x.y", "X", True, "v", "t", "e")
    with pytest.raises(AttributeError):
        criterion.met = False


@pytest.mark.parametrize(
    ("value", "op", "limit", "met"),
    [
        (38.5, ">=", 38.5, True),
        (38.4, ">=", 38.5, False),
        (80.0, ">", 80.0, False),
        (80.1, ">", 80.0, True),
        (0.99, "<", 1.0, True),
        (1.0, "<", 1.0, False),
        (1.5, "<=", 1.5, True),
        (1.51, "<=", 1.5, False),
        (None, ">=", 38.5, None),
    ],
)
def test_threshold_criterion(value, op, limit, met):
    assert threshold_criterion("c", "X", value, op, limit, "u").met is met


def test_threshold_criterion_texts():
    criterion = threshold_criterion("hlh2004.fever", "Fever", 39.2, ">=", 38.5, "°C")
    assert criterion == Criterion(
        code="hlh2004.fever",
        label="Fever >= 38.5 °C",
        met=True,
        value="39.2 °C",
        threshold=">= 38.5 °C",
        explanation="Fever 39.2 °C is >= 38.5 °C.",
    )


def test_threshold_criterion_missing_texts():
    criterion = threshold_criterion("risk.alt", "ALT", None, ">", 200.0, "U/L")
    assert (criterion.value, criterion.explanation) == (
        "not entered",
        "ALT is not entered.",
    )


@pytest.mark.parametrize(
    ("present", "value", "explanation"),
    [
        (True, "yes", "Malignancy: present."),
        (False, "no", "Malignancy: absent."),
        (None, "not entered", "Malignancy: not entered."),
    ],
)
def test_finding_criterion(present, value, explanation):
    criterion = finding_criterion("exclusion.malignancy", "Malignancy", present)
    assert (criterion.met, criterion.value, criterion.explanation) == (
        present,
        value,
        explanation,
    )
