"""The shared shape of a rule's reasons.

Every rule result carries a tuple of `Criterion` so that a page, a PDF CRF and an audit
record can all show the same thing: which criterion, which value, which threshold, and
whether it was met, not met, or could not be judged because data are missing.
"""

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum

from trial.rules.words import gettext as _
from trial.rules.words import gettext_noop

NOT_ENTERED = gettext_noop("not entered")


class Verdict(str, Enum):
    MET = "met"
    NOT_MET = "not_met"
    MISSING = "missing"


@dataclass(frozen=True)
class Criterion:
    code: str  # stable machine code, e.g. "hlh2004.fever"
    label: str  # human text, e.g. "Fever >= 38.5 °C"
    met: bool | None  # None = data missing, never silently "not met"
    value: str  # the value(s) behind it as displayed, e.g. "39.2 °C" or "not entered"
    threshold: str  # e.g. ">= 38.5 °C"
    explanation: str  # one sentence: why met / not met / missing

    @property
    def verdict(self) -> Verdict:
        if self.met is None:
            return Verdict.MISSING
        return Verdict.MET if self.met else Verdict.NOT_MET


def fmt(value: float | bool | date | None, unit: str = "") -> str:
    """Render a value for display: None as "not entered", 10.0 as "10", 39.25 as "39.25"."""
    if value is None:
        return _(NOT_ENTERED)
    if isinstance(value, bool):
        text = _("yes") if value else _("no")
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, int):
        text = str(value)
    else:
        text = _number(float(value))
    return f"{text} {unit}" if unit else text


def _number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    # Ten significant digits hide binary noise (0.1 + 0.2) without hiding a real lab digit.
    text = f"{value:.10g}"
    if "e" in text:
        text = f"{value:.10f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<": operator.lt,
    "<=": operator.le,
}


def threshold_criterion(
    code: str,
    name: str,
    value: float | None,
    op: str,
    limit: float,
    unit: str,
    note: str = "",
) -> Criterion:
    """A criterion met when `value op limit`, e.g. ferritin >= 500 µg/L; None if missing."""
    limit_text = f"{op} {fmt(limit, unit)}"
    if value is None:
        met, why = None, _("%(name)s is not entered.") % {"name": name}
    else:
        met = _COMPARISONS[op](value, limit)
        shown = {"name": name, "value": fmt(value, unit), "limit": limit_text}
        why = (_("%(name)s %(value)s is %(limit)s.") if met else _("%(name)s %(value)s is not %(limit)s.")) % shown
    return Criterion(
        code=code,
        label=f"{name} {limit_text}",
        met=met,
        value=fmt(value, unit),
        threshold=limit_text + (f" ({note})" if note else ""),
        explanation=why,
    )


def finding_criterion(code: str, label: str, present: bool | None) -> Criterion:
    """A criterion met when a clinical finding is recorded as present; None if missing."""
    if present is None:
        why = _("%(label)s: not entered.") % {"label": label}
    else:
        why = (_("%(label)s: present.") if present else _("%(label)s: absent.")) % {"label": label}
    return Criterion(
        code=code,
        label=label,
        met=present,
        value=fmt(present),
        threshold=_("present"),
        explanation=why,
    )
