"""HLH-2004 diagnostic criteria: protocol section 3, inclusion 1, with decision 12.1.

A child meets HLH-2004 with a molecular diagnosis consistent with HLH, or with at least 5
of the 8 clinical criteria. A criterion whose data are missing is "missing", never "not
met": the overall answer is None (not yet determinable) while the missing criteria could
still change it.
"""

from dataclasses import dataclass
from enum import Enum

from trial.rules.criteria import Criterion, finding_criterion, fmt, threshold_criterion
from trial.rules.words import gettext as _

PER_NL = "x10^9/L"


class SCD25Unit(str, Enum):
    U_PER_ML = "U/mL"
    PG_PER_ML = "pg/mL"


@dataclass(frozen=True)
class HLH2004Thresholds:
    fever_c: float = 38.5  # 3: "fever >= 38.5 °C"
    hemoglobin_g_l: float = 90.0  # 3: "hemoglobin < 90 g/L"
    hemoglobin_infant_g_l: float = 100.0  # 3: "(< 100 g/L in infants < 4 weeks)"
    infant_age_days: int = 28  # 3: "infants < 4 weeks"
    platelets: float = 100.0  # 3: "platelets < 100 x10^9/L"
    anc: float = 1.0  # 3: "ANC < 1.0 x10^9/L"
    lineages_required: int = 2  # 3: "cytopenia in >= 2 of 3 lineages"
    triglycerides_mmol_l: float = 3.0  # 3: "fasting triglycerides >= 3.0 mmol/L"
    fibrinogen_g_l: float = 1.5  # 3: "and/or fibrinogen <= 1.5 g/L"
    ferritin_ug_l: float = 500.0  # 3: "ferritin >= 500 µg/L" (µg/L per 12.2)
    scd25_u_ml: float = 2400.0  # 3 and 12.1: "sCD25 >= 2400 U/mL"
    scd25_upper_ref_pg_ml: float = 6400.0  # 12.1: "above the lab's upper reference limit"
    nk_activity_lower_ref_pct: float = 15.11  # 3: "below the lab's reference; < 15.11 %"
    criteria_required: int = 5  # 3: "at least 5 of these 8"


@dataclass(frozen=True, kw_only=True)
class HLH2004Input:
    molecular_diagnosis: bool | None
    max_temperature_c: float | None
    splenomegaly: bool | None
    hemoglobin_g_l: float | None
    platelets_10e9_l: float | None
    anc_10e9_l: float | None
    age_days: int | None  # age on the day the hemoglobin was sampled
    age_text: str | None = None  # that age as written for a reader ("5 years 5 months"), else days
    triglycerides_mmol_l: float | None
    fibrinogen_g_l: float | None
    hemophagocytosis: bool | None
    nk_activity_pct: float | None
    ferritin_ug_l: float | None
    scd25_value: float | None
    scd25_unit: SCD25Unit | None


@dataclass(frozen=True)
class HLH2004Result:
    # None = not yet determinable: the missing items could still change the answer.
    met: bool | None
    by_molecular: bool
    criteria_met: int  # of the 8 clinical criteria
    criteria_missing: int  # of the 8 clinical criteria
    # The molecular criterion first, then the 8 clinical ones in protocol order.
    criteria: tuple[Criterion, ...]
    explanation: str


def hlh2004_evaluate(data: HLH2004Input, thresholds: HLH2004Thresholds = HLH2004Thresholds()) -> HLH2004Result:
    """Apply the HLH-2004 criteria (protocol section 3, inclusion 1; sCD25 per 12.1).

    met is True with a molecular diagnosis or >= 5 clinical criteria met; False when
    there is no molecular diagnosis (recorded as absent) and the criteria met plus the
    missing ones cannot reach 5; None otherwise.
    """
    t = thresholds
    molecular = finding_criterion(
        "hlh2004.molecular",
        _("Molecular diagnosis consistent with HLH"),
        data.molecular_diagnosis,
    )
    clinical = (
        _fever(data.max_temperature_c, t),
        finding_criterion("hlh2004.splenomegaly", _("Splenomegaly"), data.splenomegaly),
        _cytopenias(data, t),
        _triglycerides_fibrinogen(data.triglycerides_mmol_l, data.fibrinogen_g_l, t),
        finding_criterion(
            "hlh2004.hemophagocytosis",
            _("Hemophagocytosis in bone marrow, spleen or lymph nodes, no evidence of malignancy"),
            data.hemophagocytosis,
        ),
        _nk_activity(data.nk_activity_pct, t),
        threshold_criterion("hlh2004.ferritin", _("Ferritin"), data.ferritin_ug_l, ">=", t.ferritin_ug_l, "µg/L"),
        _scd25(data.scd25_value, data.scd25_unit, t),
    )
    n_met = sum(c.met is True for c in clinical)
    n_missing = sum(c.met is None for c in clinical)
    need = t.criteria_required
    tally = _("%(met)s of %(total)s clinical criteria met, %(missing)s missing") % {
        "met": n_met,
        "total": len(clinical),
        "missing": n_missing,
    }
    shown = {"tally": tally, "need": need}
    if data.molecular_diagnosis is True:
        met, why = True, _("Met by molecular diagnosis consistent with HLH.")
    elif n_met >= need:
        met, why = True, _("Met: %(tally)s (at least %(need)s required).") % shown
    elif n_met + n_missing >= need:
        met = None
        why = _("Not yet determinable: %(tally)s; the missing ones could still reach %(need)s.") % shown
    elif data.molecular_diagnosis is False:
        met = False
        why = _("Not met: %(tally)s, cannot reach %(need)s, and no molecular diagnosis.") % shown
    else:
        met = None
        why = _("Not yet determinable: %(tally)s, but the molecular diagnosis is not entered.") % shown
    return HLH2004Result(
        met=met,
        by_molecular=data.molecular_diagnosis is True,
        criteria_met=n_met,
        criteria_missing=n_missing,
        criteria=(molecular, *clinical),
        explanation=why,
    )


def _fever(max_temperature_c: float | None, t: HLH2004Thresholds) -> Criterion:
    return threshold_criterion("hlh2004.fever", _("Fever"), max_temperature_c, ">=", t.fever_c, "°C")


def _cytopenias(data: HLH2004Input, t: HLH2004Thresholds) -> Criterion:
    """Cytopenia in >= 2 of 3 lineages (section 3); each lineage limit is strict."""
    hb_low = _hemoglobin_low(data.hemoglobin_g_l, data.age_days, t)
    plt_low = _below(data.platelets_10e9_l, t.platelets)
    anc_low = _below(data.anc_10e9_l, t.anc)
    states = (hb_low, plt_low, anc_low)
    low = states.count(True)
    unknown = states.count(None)
    need = t.lineages_required
    if low >= need:
        met, why = True, _("%(low)s of 3 lineages are cytopenic.") % {"low": low}
    elif low + unknown < need:
        met, why = False, _("Only %(low)s of 3 lineages are cytopenic.") % {"low": low}
    else:
        met = None
        why = _("%(low)s of 3 lineages are cytopenic and %(unknown)s cannot be judged yet.") % {
            "low": low,
            "unknown": unknown,
        }
    hb_text = _lineage(_("hemoglobin"), data.hemoglobin_g_l, "g/L", hb_low)
    if data.hemoglobin_g_l is not None and data.age_days is not None:
        age = data.age_text or _("%(days)s days") % {"days": data.age_days}
        hb_text += _(" at %(age)s of age") % {"age": age}
    elif data.hemoglobin_g_l is not None and hb_low is None:
        hb_text += _(" (age not entered, and the limit depends on it)")
    return Criterion(
        code="hlh2004.cytopenias",
        label=_("Cytopenia in >= %(need)s of 3 lineages") % {"need": need},
        met=met,
        value="; ".join(
            (
                hb_text,
                _lineage(_("platelets"), data.platelets_10e9_l, PER_NL, plt_low),
                _lineage("ANC", data.anc_10e9_l, PER_NL, anc_low),
            )
        ),
        threshold=_(
            "hemoglobin < %(hb)s (< %(hb_infant)s if younger than %(days)s days), "
            "platelets < %(platelets)s, ANC < %(anc)s"
        )
        % {
            "hb": fmt(t.hemoglobin_g_l, "g/L"),
            "hb_infant": fmt(t.hemoglobin_infant_g_l, "g/L"),
            "days": t.infant_age_days,
            "platelets": fmt(t.platelets, PER_NL),
            "anc": fmt(t.anc, PER_NL),
        },
        explanation=why,
    )


def _hemoglobin_low(hemoglobin: float | None, age_days: int | None, t: HLH2004Thresholds) -> bool | None:
    if hemoglobin is None:
        return None
    if age_days is not None:
        infant = age_days < t.infant_age_days
        return hemoglobin < (t.hemoglobin_infant_g_l if infant else t.hemoglobin_g_l)
    # Without the age, only a value below both limits, or at or above both, is decided.
    lower, upper = sorted((t.hemoglobin_g_l, t.hemoglobin_infant_g_l))
    if hemoglobin < lower:
        return True
    if hemoglobin >= upper:
        return False
    return None


def _lineage(name: str, value: float | None, unit: str, low: bool | None) -> str:
    if value is None or low is None:
        return f"{name} {fmt(value, unit)}"
    return f"{name} {fmt(value, unit)} ({_('low') if low else _('not low')})"


def _triglycerides_fibrinogen(triglycerides: float | None, fibrinogen: float | None, t: HLH2004Thresholds) -> Criterion:
    """Fasting triglycerides >= 3.0 mmol/L and/or fibrinogen <= 1.5 g/L (section 3)."""
    tg_high = _at_least(triglycerides, t.triglycerides_mmol_l)
    fib_low = None if fibrinogen is None else fibrinogen <= t.fibrinogen_g_l
    if tg_high or fib_low:
        met = True
        why = _("Triglycerides are high.") if tg_high else _("Fibrinogen is low.")
        if tg_high and fib_low:
            why = _("Triglycerides are high and fibrinogen is low.")
    elif tg_high is False and fib_low is False:
        met, why = False, _("Triglycerides are not high and fibrinogen is not low.")
    else:
        met = None
        why = _("The entered value is normal and the other one is not entered.")
        if tg_high is None and fib_low is None:
            why = _("Neither triglycerides nor fibrinogen is entered.")
    return Criterion(
        code="hlh2004.triglycerides_fibrinogen",
        label=_("Hypertriglyceridemia and/or hypofibrinogenemia"),
        met=met,
        value=_("triglycerides %(tg)s; fibrinogen %(fib)s")
        % {"tg": fmt(triglycerides, "mmol/L"), "fib": fmt(fibrinogen, "g/L")},
        threshold=_("triglycerides >= %(tg)s or fibrinogen <= %(fib)s")
        % {"tg": fmt(t.triglycerides_mmol_l, "mmol/L"), "fib": fmt(t.fibrinogen_g_l, "g/L")},
        explanation=why,
    )


def _nk_activity(nk_activity_pct: float | None, t: HLH2004Thresholds) -> Criterion:
    return threshold_criterion(
        "hlh2004.nk_activity",
        _("Low or absent NK-cell activity"),
        nk_activity_pct,
        "<",
        t.nk_activity_lower_ref_pct,
        "%",
    )


def _scd25(value: float | None, unit: SCD25Unit | str | None, t: HLH2004Thresholds) -> Criterion:
    """sCD25: >= 2400 U/mL, or above the lab's upper reference limit in pg/mL (12.1)."""
    label = _("Soluble CD25 (sIL-2R)")
    if unit is None:
        return Criterion(
            code="hlh2004.scd25",
            label=label,
            met=None,
            value=fmt(value) if value is None else _("%(value)s (unit not entered)") % {"value": fmt(value)},
            threshold=_(">= %(u_ml)s or > %(pg_ml)s")
            % {"u_ml": fmt(t.scd25_u_ml, "U/mL"), "pg_ml": fmt(t.scd25_upper_ref_pg_ml, "pg/mL")},
            explanation=_(
                "Cannot be judged without the unit: the threshold depends on it "
                "and no conversion factor is assumed (protocol 12.1)."
            ),
        )
    if SCD25Unit(unit) is SCD25Unit.U_PER_ML:
        return threshold_criterion("hlh2004.scd25", label, value, ">=", t.scd25_u_ml, "U/mL")
    return threshold_criterion(
        "hlh2004.scd25",
        label,
        value,
        ">",
        t.scd25_upper_ref_pg_ml,
        "pg/mL",
        note=_("the lab's upper reference limit, protocol 12.1"),
    )


def _below(value: float | None, limit: float) -> bool | None:
    return None if value is None else value < limit


def _at_least(value: float | None, limit: float) -> bool | None:
    return None if value is None else value >= limit
