"""CTCAE v3.0 grading of laboratory values: protocol section 10, "lab-based grading suggested
automatically".

Four analytes are graded, each against the site's own reference limit (an argument, never a
constant): the cytopenias by how far they fall below the lower limit of normal (LLN) and the
fixed CTCAE limits, ALT by its multiple of the upper limit of normal (ULN). Values are in the
catalogue units of trial/analytes.py (g/L, 10^9/L, U/L); a caller converts first.

Decisions where the protocol leaves room (recorded here and nowhere else):
- A value at or above the LLN (at or below the ULN for ALT) is grade 0, even when it lies under
  a grade-2 limit (an infant's LLN for hemoglobin may be below 100 g/L): inside the normal
  range is not an adverse event.
- Without the limit a grade needs (LLN for a cytopenia, ULN for ALT) there is no grade: the
  value is not graded rather than silently treated as normal.
- Baseline rule (section 10: "a cytopenia already present at baseline is not a new AE unless it
  worsens"): a grade is suggested only when it is worse than the grade of the patient's
  screening value graded with the same limits. The same rule applies to ALT: HLH itself raises
  the transaminases, and a liver injury already present at baseline is not new either. No
  baseline value counts as baseline grade 0, so a missing baseline never hides a suggestion.
  It is a suggestion: the clinician accepts or dismisses it.
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from trial.rules.criteria import fmt
from trial.rules.words import gettext, gettext_noop

# Protocol section 10, ALT: "> ULN-2.5x ULN grade 1, > 2.5-5x grade 2, > 5-20x grade 3, > 20x grade 4".
# A value strictly above the multiple reaches the next grade: exactly 2.5 x ULN is grade 1.
ALT_ULN_MULTIPLES = (Decimal("2.5"), Decimal("5"), Decimal("20"))
# Hemoglobin: "< LLN-100 g/L grade 1, < 100-80 grade 2, < 80-65 grade 3, < 65 grade 4".
# A value strictly below the limit reaches the next grade: exactly 100 g/L is grade 1.
HEMOGLOBIN_G_L = (Decimal("100"), Decimal("80"), Decimal("65"))
# Neutrophils: "< LLN-1.5 x10^9/L grade 1, < 1.5-1.0 grade 2, < 1.0-0.5 grade 3, < 0.5 grade 4".
NEUTROPHILS_10E9_L = (Decimal("1.5"), Decimal("1.0"), Decimal("0.5"))
# Platelets: "< LLN-75 grade 1, < 75-50 grade 2, < 50-25 grade 3, < 25 grade 4".
PLATELETS_10E9_L = (Decimal("75"), Decimal("50"), Decimal("25"))


class Direction(str, Enum):
    LOW = "low"  # an adverse event when the value falls below the LLN (cytopenias)
    HIGH = "high"  # an adverse event when the value rises above the ULN (ALT)


@dataclass(frozen=True)
class GradedAnalyte:
    code: str  # analyte code of trial/analytes.py
    label: str
    unit: str  # the catalogue unit the limits are expressed in
    direction: Direction
    # Where grades 2, 3 and 4 begin: absolute limits (LOW) or multiples of the ULN (HIGH).
    limits: tuple[Decimal, Decimal, Decimal]
    ctcae_code: str
    ctcae_term: str


GRADED_ANALYTES: dict[str, GradedAnalyte] = {
    a.code: a
    for a in (
        GradedAnalyte("HGB", gettext_noop("Hemoglobin"), "g/L", Direction.LOW, HEMOGLOBIN_G_L, "BL104", "Hemoglobin"),
        GradedAnalyte("NEUT", "ANC", "10^9/L", Direction.LOW, NEUTROPHILS_10E9_L, "BL110", "Neutrophils"),
        GradedAnalyte(
            "PLAT", gettext_noop("Platelets"), "10^9/L", Direction.LOW, PLATELETS_10E9_L, "BL111", "Platelets"
        ),
        GradedAnalyte("ALT", "ALT", "U/L", Direction.HIGH, ALT_ULN_MULTIPLES, "ME105", "ALT, SGPT"),
    )
}


@dataclass(frozen=True)
class LabGrade:
    analyte: str
    value: Decimal
    limit: Decimal  # the LLN or ULN the grade was judged against
    grade: int  # 0 = no adverse event, 1..4 CTCAE grades
    threshold: str  # the range of the grade reached, e.g. "< 80-65 g/L"
    ctcae_code: str
    ctcae_term: str
    explanation: str


def _decimal(value: float | Decimal) -> Decimal:
    # str() keeps the value as typed (0.1, not 0.1000000000000000055...), so boundaries are exact.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _low_grade(a: GradedAnalyte, value: Decimal, lln: Decimal) -> tuple[int, str]:
    g2, g3, g4 = a.limits
    u = a.unit
    if value >= lln:
        return 0, f">= LLN {fmt(lln, u)}"
    if value < g4:
        return 4, f"< {fmt(g4, u)}"
    if value < g3:
        return 3, f"< {fmt(g3)}-{fmt(g4, u)}"
    if value < g2:
        return 2, f"< {fmt(g2)}-{fmt(g3, u)}"
    return 1, f"< LLN ({fmt(lln)})-{fmt(g2, u)}"


def _high_grade(a: GradedAnalyte, value: Decimal, uln: Decimal) -> tuple[int, str]:
    m2, m3, m4 = a.limits
    u = a.unit
    if value <= uln:
        return 0, f"<= ULN {fmt(uln, u)}"
    if value > m4 * uln:
        return 4, f"> {fmt(m4)} x ULN (> {fmt(m4 * uln, u)})"
    if value > m3 * uln:
        return 3, f"> {fmt(m3)}-{fmt(m4)} x ULN (> {fmt(m3 * uln)}-{fmt(m4 * uln, u)})"
    if value > m2 * uln:
        return 2, f"> {fmt(m2)}-{fmt(m3)} x ULN (> {fmt(m2 * uln)}-{fmt(m3 * uln, u)})"
    return 1, f"> ULN-{fmt(m2)} x ULN (> {fmt(uln)}-{fmt(m2 * uln, u)})"


def lab_grade(
    analyte_code: str,
    value: float | Decimal,
    lower_limit: float | Decimal | None,
    upper_limit: float | Decimal | None,
    *,
    term: str = "",
) -> LabGrade | None:
    """The CTCAE v3.0 grade (0-4) of one lab value (protocol section 10).

    Cytopenias (HGB, NEUT, PLAT) are graded against the lower limit of normal and the fixed
    CTCAE limits; ALT against multiples of the upper limit of normal. Returns None for an
    analyte this module does not grade, or when the needed limit is missing (or, for ALT, not
    positive): the value then has no grade, which is not the same as grade 0.

    The explanation is in the active language; `term` stands for the CTCAE term in it (a page
    marks the official English term up).
    """
    analyte = GRADED_ANALYTES.get(analyte_code)
    if analyte is None:
        return None
    number = _decimal(value)
    if analyte.direction is Direction.LOW:
        if lower_limit is None:
            return None
        limit = _decimal(lower_limit)
        grade, threshold = _low_grade(analyte, number, limit)
        limit_text = f"LLN {fmt(limit, analyte.unit)}"
    else:
        if upper_limit is None or _decimal(upper_limit) <= 0:
            return None
        limit = _decimal(upper_limit)
        grade, threshold = _high_grade(analyte, number, limit)
        limit_text = f"ULN {fmt(limit, analyte.unit)}"
    shown = f"{gettext(analyte.label)} {fmt(number, analyte.unit)}"
    if grade == 0:
        explanation = gettext("%(value)s is within the normal limit (%(limit)s): no adverse event.") % {
            "value": shown,
            "limit": limit_text,
        }
    else:
        explanation = gettext("%(value)s is %(threshold)s (%(limit)s): CTCAE v3.0 %(term)s grade %(grade)s.") % {
            "value": shown,
            "threshold": threshold,
            "limit": limit_text,
            "term": term or analyte.ctcae_term,
            "grade": grade,
        }
    return LabGrade(
        analyte=analyte.code,
        value=number,
        limit=limit,
        grade=grade,
        threshold=threshold,
        ctcae_code=analyte.ctcae_code,
        ctcae_term=analyte.ctcae_term,
        explanation=explanation,
    )


def suggestion_decide(current: LabGrade, baseline_grade: int | None) -> bool:
    """Whether a graded value is offered to the clinician as an adverse event (section 10).

    Only a grade of 1 or more that is worse than the baseline grade: "a cytopenia already
    present at baseline is not a new AE unless it worsens". The same rule holds for ALT; no
    baseline value (None) counts as grade 0.
    """
    baseline = baseline_grade or 0
    return current.grade >= 1 and current.grade > baseline


def suggestion_explain(current: LabGrade, baseline: LabGrade | None) -> str:
    """The sentence kept with a suggestion: the grade reached and the baseline it is compared to."""
    if baseline is None:
        return gettext("%(explanation)s No baseline value: compared with grade 0.") % {
            "explanation": current.explanation
        }
    return gettext("%(explanation)s Baseline %(value)s: grade %(grade)s.") % {
        "explanation": current.explanation,
        "value": fmt(baseline.value, GRADED_ANALYTES[current.analyte].unit),
        "grade": baseline.grade,
    }
