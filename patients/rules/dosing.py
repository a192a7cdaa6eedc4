"""Ruxolitinib dose by weight band: protocol section 6.

<= 10 kg -> 2.5 mg BID; > 10 kg and <= 20 kg -> 5 mg BID; > 20 kg -> 10 mg BID.
Boundaries belong to the lower band (exactly 10.0 kg -> 2.5 mg). A prescribed dose that
differs from the band is a deviation that may be saved but is flagged; a weight
re-measured in another band raises a query.
"""

import math
import re
from dataclasses import dataclass

from trial.rules.criteria import fmt
from trial.rules.words import gettext as _
from trial.rules.words import pgettext


@dataclass(frozen=True)
class DoseBand:
    max_weight_kg: float | None  # inclusive upper bound; None = no upper bound
    dose_mg: float  # per dose, given twice daily (BID)
    label: str


# Section 6: "<= 10 kg -> 2.5 mg BID; > 10 kg and <= 20 kg -> 5 mg BID; > 20 kg -> 10 mg".
PROTOCOL_BANDS = (
    DoseBand(10.0, 2.5, "<= 10 kg"),
    DoseBand(20.0, 5.0, "> 10 kg and <= 20 kg"),
    DoseBand(None, 10.0, "> 20 kg"),
)


@dataclass(frozen=True)
class DoseBandResult:
    weight_kg: float
    band: DoseBand
    dose_mg: float
    explanation: str


@dataclass(frozen=True)
class DoseCheck:
    expected_mg: float
    prescribed_mg: float
    matches: bool
    explanation: str


def dose_band_for_weight(weight_kg: float, bands: tuple[DoseBand, ...] = PROTOCOL_BANDS) -> DoseBandResult:
    """The weight band and its BID dose for a weight (protocol section 6).

    The bands may be given in any order; a weight equal to a band's upper bound belongs
    to that (lower) band. Raises ValueError for a weight <= 0 or a weight above every
    band's bound.
    """
    if not weight_kg > 0:  # also rejects NaN
        raise ValueError(f"Weight must be greater than 0 kg, not {weight_kg}.")
    for band in _ordered(bands):
        if band.max_weight_kg is None or weight_kg <= band.max_weight_kg:
            return DoseBandResult(
                weight_kg=weight_kg,
                band=band,
                dose_mg=band.dose_mg,
                explanation=_("Weight %(weight)s is in the band %(band)s: %(dose)s twice daily.")
                % {"weight": fmt(weight_kg, "kg"), "band": band_label(band.label), "dose": fmt(band.dose_mg, "mg")},
            )
    raise ValueError(f"No dose band covers {fmt(weight_kg, 'kg')}.")


def prescribed_dose_check(prescribed_mg: float, expected: DoseBandResult) -> DoseCheck:
    """Compare a prescribed dose with the weight band's dose (protocol section 6).

    A mismatch is a protocol deviation: the caller saves it, flags it and raises a query.
    """
    # A tolerance only absorbs binary noise from decimal entry (2.5 vs 2.50000001).
    matches = math.isclose(prescribed_mg, expected.dose_mg, rel_tol=0, abs_tol=1e-9)
    if matches:
        why = _("Prescribed %(prescribed)s matches the band %(band)s.") % {
            "prescribed": fmt(prescribed_mg, "mg"),
            "band": band_label(expected.band.label),
        }
    else:
        why = _("Protocol deviation: prescribed %(prescribed)s, but the band %(band)s (%(weight)s) gives %(dose)s.") % {
            "prescribed": fmt(prescribed_mg, "mg"),
            "band": band_label(expected.band.label),
            "weight": fmt(expected.weight_kg, "kg"),
            "dose": fmt(expected.dose_mg, "mg"),
        }
    return DoseCheck(
        expected_mg=expected.dose_mg,
        prescribed_mg=prescribed_mg,
        matches=matches,
        explanation=why,
    )


def weight_band_changed(
    enrollment: DoseBandResult,
    new_weight_kg: float,
    bands: tuple[DoseBand, ...] = PROTOCOL_BANDS,
) -> bool:
    """True when a weight re-measured during treatment falls in another band (section 6).

    The caller raises a query; the dose itself is not changed by this rule.
    """
    return dose_band_for_weight(new_weight_kg, bands).band != enrollment.band


def band_label(label: str) -> str:
    """A weight band's label ("> 10 kg and <= 20 kg") with its conjunction in the reader's language."""
    return re.sub(r"\band\b", pgettext("weight band", "and"), str(label or ""))


def _ordered(bands: tuple[DoseBand, ...]) -> list[DoseBand]:
    # Ascending upper bounds, the open-ended band last.
    return sorted(bands, key=lambda b: math.inf if b.max_weight_kg is None else b.max_weight_kg)
