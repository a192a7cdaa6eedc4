"""Baseline risk stratification: protocol section 5 (sCD25 per decision 12.1).

High risk with CNS involvement, or with at least 3 of the 7 items. Low risk when there is
no CNS involvement and the items met plus the missing ones cannot reach 3. Otherwise the
result is indeterminate and lists what is missing.
"""

from dataclasses import dataclass
from datetime import date
from enum import Enum

from patients.rules.hlh2004 import PER_NL, SCD25Unit
from trial.rules.age import anniversary
from trial.rules.criteria import Criterion, finding_criterion, fmt, threshold_criterion
from trial.rules.words import gettext as _


class RiskGroup(str, Enum):
    HIGH = "high"
    LOW = "low"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True)
class RiskThresholds:
    age_years: int = 2  # 5.1: "age <= 2 years"
    anc: float = 0.5  # 5.3: "ANC < 0.5 x10^9/L"
    scd25_pg_ml: float = 25000.0  # 5.4 and 12.1: "soluble CD25 > 25,000 pg/mL"
    ferritin_ug_l: float = 2000.0  # 5.5: "ferritin > 2,000 µg/L"
    ifn_gamma_uln_multiple: float = 10.0  # 5.6: "IFN-gamma > 10 x the ULN"
    ifn_gamma_uln_pg_ml: float = 8.0  # 5.6: "(default ULN 8 pg/mL)"
    alt_u_l: float = 200.0  # 5.7: "ALT > 200 U/L"
    items_for_high: int = 3  # 5: "at least 3 of"


@dataclass(frozen=True, kw_only=True)
class RiskInput:
    cns_involvement: bool | None
    date_of_birth: date | None
    on: date  # the baseline date the risk is computed for
    serious_non_lab_manifestation: bool | None
    anc_10e9_l: float | None
    scd25_value: float | None
    scd25_unit: SCD25Unit | None
    ferritin_ug_l: float | None
    ifn_gamma_pg_ml: float | None
    alt_u_l: float | None


@dataclass(frozen=True)
class RiskResult:
    group: RiskGroup
    items_met: int  # of the 7 items (CNS is not an item)
    missing: tuple[Criterion, ...]  # every criterion, CNS included, with no data
    criteria: tuple[Criterion, ...]  # CNS first, then the 7 items in protocol order
    explanation: str


def risk_stratify(data: RiskInput, thresholds: RiskThresholds = RiskThresholds()) -> RiskResult:
    """Stratify risk at baseline (protocol section 5).

    HIGH if CNS involvement or >= 3 items met; LOW if no CNS involvement and the met
    plus missing items cannot reach 3; INDETERMINATE otherwise (CNS not entered with
    fewer than 3 items met, or missing items that could still reach 3).
    """
    t = thresholds
    ifn_limit = t.ifn_gamma_uln_multiple * t.ifn_gamma_uln_pg_ml
    cns = finding_criterion("risk.cns", _("CNS involvement"), data.cns_involvement)
    items = (
        _age(data.date_of_birth, data.on, t),
        finding_criterion(
            "risk.serious_non_lab_manifestation",
            _("Serious non-laboratory manifestation (severe hepatosplenomegaly, active bleeding or icterus)"),
            data.serious_non_lab_manifestation,
        ),
        threshold_criterion("risk.anc", "ANC", data.anc_10e9_l, "<", t.anc, PER_NL),
        _scd25(data.scd25_value, data.scd25_unit, t),
        threshold_criterion("risk.ferritin", _("Ferritin"), data.ferritin_ug_l, ">", t.ferritin_ug_l, "µg/L"),
        threshold_criterion(
            "risk.ifn_gamma",
            _("IFN-gamma"),
            data.ifn_gamma_pg_ml,
            ">",
            ifn_limit,
            "pg/mL",
            note=_("%(multiple)s x ULN %(uln)s")
            % {"multiple": fmt(t.ifn_gamma_uln_multiple), "uln": fmt(t.ifn_gamma_uln_pg_ml, "pg/mL")},
        ),
        threshold_criterion("risk.alt", "ALT", data.alt_u_l, ">", t.alt_u_l, "U/L"),
    )
    criteria = (cns, *items)
    met = sum(c.met is True for c in items)
    unknown = sum(c.met is None for c in items)
    need = t.items_for_high
    tally = _("%(met)s of %(total)s items met, %(missing)s missing") % {
        "met": met,
        "total": len(items),
        "missing": unknown,
    }
    shown = {"tally": tally, "need": need}
    if data.cns_involvement is True:
        group, why = RiskGroup.HIGH, _("High risk: CNS involvement (%(tally)s).") % shown
    elif met >= need:
        group, why = RiskGroup.HIGH, _("High risk: %(tally)s, at least %(need)s required.") % shown
    elif data.cns_involvement is False and met + unknown < need:
        group, why = RiskGroup.LOW, _("Low risk: no CNS involvement and %(tally)s.") % shown
    elif data.cns_involvement is None:
        group = RiskGroup.INDETERMINATE
        why = _("Indeterminate: CNS involvement is not entered (%(tally)s).") % shown
    else:
        group = RiskGroup.INDETERMINATE
        why = _("Indeterminate: %(tally)s; the missing ones could still reach %(need)s.") % shown
    return RiskResult(
        group=group,
        items_met=met,
        missing=tuple(c for c in criteria if c.met is None),
        criteria=criteria,
        explanation=why,
    )


def _age(date_of_birth: date | None, on: date, t: RiskThresholds) -> Criterion:
    """Item 1, age <= 2 years (section 5).

    Decision: "<= 2 years" includes the whole 2nd birthday, so the item is met up to and
    including the day the child turns 2 and not met from the day after.
    """
    years = t.age_years
    label = _("Age <= %(years)s years") % {"years": years}
    threshold = _("on or before the %(ordinal)s birthday") % {"ordinal": _ordinal(years)}
    dates = {"born": fmt(date_of_birth), "on": fmt(on)}
    if date_of_birth is None:
        met, value, why = None, fmt(None), _("The date of birth is not entered.")
    elif on < date_of_birth:
        met, value = None, _("born %(born)s, assessed %(on)s") % dates
        why = _("The date of birth is after the assessment date: check the dates.")
    else:
        birthday = anniversary(date_of_birth, years)
        met = on <= birthday
        value = _("born %(born)s, assessed %(on)s") % dates
        shown = {"ordinal": _ordinal(years), "birthday": fmt(birthday)}
        why = (
            _("Assessed on or before the %(ordinal)s birthday (%(birthday)s).") % shown
            if met
            else _("Assessed after the %(ordinal)s birthday (%(birthday)s).") % shown
        )
    return Criterion(
        code="risk.age",
        label=label,
        met=met,
        value=value,
        threshold=threshold,
        explanation=why,
    )


def _scd25(value: float | None, unit: SCD25Unit | str | None, t: RiskThresholds) -> Criterion:
    """Item 4, sCD25 > 25,000 pg/mL (section 5); only in pg/mL (decision 12.1)."""
    if value is not None and unit is not None and SCD25Unit(unit) is SCD25Unit.PG_PER_ML:
        return threshold_criterion("risk.scd25", _("Soluble CD25"), value, ">", t.scd25_pg_ml, "pg/mL")
    if value is None:
        value_text, why = fmt(None), _("Soluble CD25 is not entered.")
    elif unit is None:
        value_text = _("%(value)s (unit not entered)") % {"value": fmt(value)}
        why = _("Cannot be judged without the unit (protocol 12.1).")
    else:
        value_text = fmt(value, SCD25Unit(unit).value)
        why = _(
            "Cannot be judged: the item is defined in pg/mL and no conversion factor "
            "from U/mL is assumed (protocol 12.1)."
        )
    return Criterion(
        code="risk.scd25",
        label=_("Soluble CD25 > %(limit)s") % {"limit": fmt(t.scd25_pg_ml, "pg/mL")},
        met=None,
        value=value_text,
        threshold=f"> {fmt(t.scd25_pg_ml, 'pg/mL')}",
        explanation=why,
    )


def _ordinal(n: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n if n < 20 else n % 10, "th")
    ordinals = {"st": _("%(n)sst"), "nd": _("%(n)snd"), "rd": _("%(n)srd"), "th": _("%(n)sth")}
    return ordinals[suffix] % {"n": n}
