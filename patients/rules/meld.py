"""MELD score for the cirrhosis exclusion: protocol section 3.

MELD = 3.78 ln(bilirubin mg/dL) + 11.2 ln(INR) + 9.57 ln(creatinine mg/dL) + 6.43, each
input floored at 1.0, creatinine capped at 4.0 (and set to 4.0 with dialysis >= 2 times
in the past week), score capped at 40. A child with cirrhosis and MELD > 20 is excluded.

Rounding: the protocol states the formula with two-decimal coefficients and no rounding, so
the exclusion compares the unrounded score with 20, and every page, PDF and reason prints the
score with the coefficients' two decimals (meld_display), never a coarser value that could
read as the other side of the limit.
"""

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from trial.rules.criteria import Criterion, fmt
from trial.rules.units import (
    BILIRUBIN,
    CREATININE,
    MG_PER_DL,
    MICROMOL_PER_L,
    convert,
)
from trial.rules.words import gettext as _

# The formula of section 3, kept together so a reviewer can compare it line by line.
BILIRUBIN_COEFFICIENT = 3.78
INR_COEFFICIENT = 11.2
CREATININE_COEFFICIENT = 9.57
CONSTANT = 6.43
INPUT_FLOOR = 1.0  # "each input floored at 1.0"
CREATININE_CAP_MG_DL = 4.0  # "creatinine capped at 4.0 (and set to 4.0 with dialysis)"
SCORE_CAP = 40.0  # "score capped at 40"
DISPLAY_PLACES = Decimal("0.01")  # the coefficients' precision


def meld_display(score: float) -> str:
    """The score as printed everywhere: two decimals, half up, trailing zeros dropped (7.5, 20.28)."""
    return fmt(float(Decimal(repr(score)).quantize(DISPLAY_PLACES, rounding=ROUND_HALF_UP)))


@dataclass(frozen=True)
class MELDThresholds:
    exclusion_above: float = 20.0  # 3: "Liver cirrhosis with a MELD score > 20"


@dataclass(frozen=True)
class MELDResult:
    criterion: Criterion  # met=True when the exclusion applies
    meld: float | None  # the score when every input is entered


def meld_score(
    bilirubin_mg_dl: float,
    inr: float,
    creatinine_mg_dl: float,
    dialysis_twice_past_week: bool,
) -> float:
    """MELD exactly as protocol section 3 defines it; unrounded."""
    bilirubin = max(bilirubin_mg_dl, INPUT_FLOOR)
    inr = max(inr, INPUT_FLOOR)
    if dialysis_twice_past_week:
        creatinine = CREATININE_CAP_MG_DL
    else:
        creatinine = min(max(creatinine_mg_dl, INPUT_FLOOR), CREATININE_CAP_MG_DL)
    score = (
        BILIRUBIN_COEFFICIENT * math.log(bilirubin)
        + INR_COEFFICIENT * math.log(inr)
        + CREATININE_COEFFICIENT * math.log(creatinine)
        + CONSTANT
    )
    return min(score, SCORE_CAP)


def meld_score_range(
    bilirubin_mg_dl: float | None,
    inr: float | None,
    creatinine_mg_dl: float | None,
    dialysis_twice_past_week: bool | None,
) -> tuple[float, float]:
    """The lowest and highest MELD the entered inputs allow (section 3 formula).

    The score never decreases when an input rises or dialysis is added, so a missing
    input at its floor (no dialysis) gives the lowest score and at its ceiling (the
    creatinine cap, dialysis; the score cap for bilirubin and INR) the highest. With
    every input entered both equal meld_score.
    """
    low = meld_score(
        INPUT_FLOOR if bilirubin_mg_dl is None else bilirubin_mg_dl,
        INPUT_FLOOR if inr is None else inr,
        INPUT_FLOOR if creatinine_mg_dl is None else creatinine_mg_dl,
        bool(dialysis_twice_past_week),
    )
    if bilirubin_mg_dl is None or inr is None:
        return low, SCORE_CAP
    high = meld_score(
        bilirubin_mg_dl,
        inr,
        CREATININE_CAP_MG_DL if creatinine_mg_dl is None else creatinine_mg_dl,
        dialysis_twice_past_week is not False,
    )
    return low, high


def cirrhosis_meld_exclusion(
    *,
    cirrhosis: bool | None,
    bilirubin_umol_l: float | None,
    inr: float | None,
    creatinine_umol_l: float | None,
    dialysis_twice_past_week: bool | None,
    thresholds: MELDThresholds = MELDThresholds(),
) -> MELDResult:
    """Exclusion "liver cirrhosis with a MELD score > 20" (protocol section 3).

    Applies (met=True) with cirrhosis and MELD > 20; MELD exactly 20 does not exclude.
    A missing MELD input leaves the criterion missing unless the answer does not depend
    on it (e.g. MELD already > 20 without dialysis, which can only raise it).
    """
    limit = thresholds.exclusion_above
    bilirubin = _mg_dl(BILIRUBIN, bilirubin_umol_l)
    creatinine = _mg_dl(CREATININE, creatinine_umol_l)
    meld = None
    if None not in (bilirubin, inr, creatinine, dialysis_twice_past_week):
        meld = meld_score(bilirubin, inr, creatinine, dialysis_twice_past_week)
    value = _(
        "cirrhosis %(cirrhosis)s; bilirubin %(bilirubin)s; INR %(inr)s; creatinine %(creatinine)s; "
        "dialysis >= 2 times in the past week %(dialysis)s"
    ) % {
        "cirrhosis": fmt(cirrhosis),
        "bilirubin": _both(bilirubin_umol_l, bilirubin),
        "inr": fmt(inr),
        "creatinine": _both(creatinine_umol_l, creatinine),
        "dialysis": fmt(dialysis_twice_past_week),
    }
    if cirrhosis is None:
        met, why = None, _("Cirrhosis is not entered.")
    elif cirrhosis is False:
        met, why = False, _("No liver cirrhosis.")
    else:
        low, high = meld_score_range(bilirubin, inr, creatinine, dialysis_twice_past_week)
        if meld is not None:
            value = f"MELD {meld_display(meld)}; {value}"
        elif low > limit:
            value = _("MELD at least %(score)s; %(value)s") % {"score": meld_display(low), "value": value}
        elif high <= limit:
            value = _("MELD at most %(score)s; %(value)s") % {"score": meld_display(high), "value": value}
        unknown = "" if meld is not None else _(", whatever the missing input")
        shown = {"limit": fmt(limit), "unknown": unknown}
        if low > limit:
            met, why = True, _("Cirrhosis with MELD above %(limit)s%(unknown)s.") % shown
        elif high <= limit:
            met, why = False, _("Cirrhosis with MELD not above %(limit)s%(unknown)s.") % shown
        else:
            met = None
            why = _("Cirrhosis, but MELD cannot be computed: an input is not entered.")
    return MELDResult(
        criterion=Criterion(
            code="exclusion.cirrhosis_meld",
            label=_("Liver cirrhosis with MELD > %(limit)s") % {"limit": fmt(limit)},
            met=met,
            value=value,
            threshold=_("cirrhosis and MELD > %(limit)s") % {"limit": fmt(limit)},
            explanation=why,
        ),
        meld=meld,
    )


def _mg_dl(analyte: str, umol_l: float | None) -> float | None:
    return None if umol_l is None else convert(analyte, umol_l, MICROMOL_PER_L, MG_PER_DL)


def _both(umol_l: float | None, mg_dl: float | None) -> str:
    if umol_l is None:
        return fmt(None)
    return f"{fmt(umol_l, MICROMOL_PER_L)} ({fmt(round(mg_dl, 2), MG_PER_DL)})"
