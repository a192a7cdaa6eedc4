"""Rule reasons as stored JSON, so pages, PDFs and audit records show what the rule saw."""

from trial.rules.criteria import Criterion


def criterion_json(criterion: Criterion) -> dict:
    return {
        "code": criterion.code,
        "label": criterion.label,
        "met": criterion.met,
        "verdict": criterion.verdict.value,
        "value": criterion.value,
        "threshold": criterion.threshold,
        "explanation": criterion.explanation,
    }


def criteria_json(criteria) -> list[dict]:
    return [criterion_json(c) for c in criteria]
