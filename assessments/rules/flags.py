"""Reference-range flags of lab values (protocol section 8).

A value inside its physiological limits but outside the reference range is saved and
flagged high or low; with no range in a comparable unit it carries no flag, never a
silent "normal".
"""

from dataclasses import dataclass
from enum import Enum

from trial.rules.units import UnitConversionError, convert


class Flag(str, Enum):
    NORMAL = "N"
    HIGH = "H"
    LOW = "L"
    NO_RANGE = ""


@dataclass(frozen=True)
class RangeInUnit:
    """A reference range expressed in the unit of the value it judges."""

    lower: float | None
    upper: float | None
    unit: str


@dataclass(frozen=True)
class FlagResult:
    flag: Flag
    reference: RangeInUnit | None
    explanation: str


def range_in_unit(
    *, analyte: str, lower: float | None, upper: float | None, range_unit: str, value_unit: str
) -> RangeInUnit | None:
    """The range converted to the value's unit, or None when no conversion factor exists (12.1)."""
    try:
        return RangeInUnit(
            lower=None if lower is None else convert(analyte, lower, range_unit, value_unit),
            upper=None if upper is None else convert(analyte, upper, range_unit, value_unit),
            unit=value_unit,
        )
    except UnitConversionError:
        return None


def value_flag(*, value: float, reference: RangeInUnit | None) -> FlagResult:
    """High above the upper limit, low below the lower limit; both limits are normal."""
    if reference is None or (reference.lower is None and reference.upper is None):
        return FlagResult(Flag.NO_RANGE, reference, "No reference range in this unit.")
    if reference.upper is not None and value > reference.upper:
        return FlagResult(Flag.HIGH, reference, f"{value:g} is above the upper limit {reference.upper:g}.")
    if reference.lower is not None and value < reference.lower:
        return FlagResult(Flag.LOW, reference, f"{value:g} is below the lower limit {reference.lower:g}.")
    return FlagResult(Flag.NORMAL, reference, "Within the reference range.")
