"""Severe renal dysfunction, an exclusion criterion: protocol section 3.

The protocol names three measures of kidney function: a measured creatinine clearance, a
reported GFR, and the bedside Schwartz eGFR computed from height and serum creatinine.
They are alternatives: any one below 15 mL/min excludes the child; any one entered and
none below 15 is enough to say the exclusion does not apply; with none entered the
criterion is missing.
"""

from dataclasses import dataclass

from trial.rules.criteria import Criterion, fmt
from trial.rules.units import CREATININE, MG_PER_DL, MICROMOL_PER_L, convert
from trial.rules.words import gettext as _

# Section 3: "bedside Schwartz eGFR = 0.413 x height(cm) / creatinine(mg/dL)".
SCHWARTZ_K = 0.413
EGFR_UNIT = "mL/min/1.73 m²"


@dataclass(frozen=True)
class RenalThresholds:
    # Section 3: "creatinine clearance < 15 mL/min or GFR < 15 mL/min".
    min_clearance_ml_min: float = 15.0


@dataclass(frozen=True)
class RenalResult:
    criterion: Criterion  # met=True when the exclusion applies
    schwartz_egfr: float | None


def schwartz_egfr(height_cm: float, creatinine_umol_l: float) -> float:
    """Bedside Schwartz eGFR in mL/min/1.73 m² (protocol section 3).

    0.413 x height (cm) / creatinine (mg/dL), creatinine converted from µmol/L by the
    project's one conversion table (/ 88.4). Unrounded.
    """
    if height_cm <= 0 or creatinine_umol_l <= 0:
        raise ValueError("Height and creatinine must be greater than zero.")
    creatinine_mg_dl = convert(CREATININE, creatinine_umol_l, MICROMOL_PER_L, MG_PER_DL)
    return SCHWARTZ_K * height_cm / creatinine_mg_dl


def severe_renal_dysfunction(
    *,
    creatinine_clearance_ml_min: float | None,
    gfr_ml_min: float | None,
    height_cm: float | None,
    creatinine_umol_l: float | None,
    thresholds: RenalThresholds = RenalThresholds(),
) -> RenalResult:
    """Exclusion "severe renal dysfunction" (protocol section 3).

    Applies (met=True) when creatinine clearance, GFR or the Schwartz eGFR is below
    15 mL/min; exactly 15 does not exclude. The eGFR is computed when height and
    creatinine are both entered.
    """
    limit = thresholds.min_clearance_ml_min
    egfr = None
    if _positive(height_cm) and _positive(creatinine_umol_l):
        egfr = schwartz_egfr(height_cm, creatinine_umol_l)
    measures = {
        _("creatinine clearance"): creatinine_clearance_ml_min,
        "GFR": gfr_ml_min,
        _("Schwartz eGFR"): egfr,  # unrounded: the display rounds, the comparison does not
    }
    entered = {name: value for name, value in measures.items() if value is not None}
    low = [name for name, value in entered.items() if value < limit]
    if low:
        met = True
        why = _("%(measures)s below %(limit)s: severe renal dysfunction.") % {
            "measures": _(" and ").join(low),
            "limit": fmt(limit, "mL/min"),
        }
    elif entered:
        met = False
        why = _("No entered measure of kidney function is below %(limit)s.") % {"limit": fmt(limit, "mL/min")}
    else:
        met = None
        why = _(
            "No measure of kidney function is entered (creatinine clearance, GFR, "
            "or height and creatinine for the Schwartz eGFR)."
        )
    inputs = _("height %(height)s, creatinine %(creatinine)s") % {
        "height": fmt(height_cm, "cm"),
        "creatinine": fmt(creatinine_umol_l, MICROMOL_PER_L),
    }
    if egfr is None:
        schwartz_text = _("not computable (%(inputs)s)") % {"inputs": inputs}
    else:
        schwartz_text = f"{fmt(round(egfr, 2), EGFR_UNIT)} ({inputs})"
    return RenalResult(
        criterion=Criterion(
            code="exclusion.severe_renal_dysfunction",
            label=_("Severe renal dysfunction"),
            met=met,
            value=_("creatinine clearance %(clearance)s; GFR %(gfr)s; Schwartz eGFR %(schwartz)s")
            % {
                "clearance": fmt(creatinine_clearance_ml_min, "mL/min"),
                "gfr": fmt(gfr_ml_min, "mL/min"),
                "schwartz": schwartz_text,
            },
            threshold=_("any measure < %(limit)s") % {"limit": fmt(limit, "mL/min")},
            explanation=why,
        ),
        schwartz_egfr=egfr,
    )


def _positive(value: float | None) -> bool:
    return value is not None and value > 0
