"""The one unit-conversion table of the project (protocol sections 3, 8 and 12.1).

Labs are stored in the unit they were reported in; rules that need another unit convert
here and nowhere else. A pair absent from the table has no agreed factor and raises
`UnitConversionError`, so an unconvertible value is never silently compared to a
threshold in the wrong unit (protocol 12.1: no sCD25 U/mL <-> pg/mL factor is assumed).

Analytes are named by the codes of the analyte catalogue (trial/analytes.py).
"""

CREATININE = "CREAT"
BILIRUBIN = "BILI"
HEMOGLOBIN = "HGB"
SCD25 = "SCD25"

MICROMOL_PER_L = "µmol/L"
MG_PER_DL = "mg/dL"
G_PER_L = "g/L"
G_PER_DL = "g/dL"

# Protocol section 3: "creatinine µmol/L / 88.4 = mg/dL".
CREATININE_UMOL_PER_MG_DL = 88.4
# Standard bilirubin molar conversion (molar mass 584.7 g/mol), needed for MELD in mg/dL.
BILIRUBIN_UMOL_PER_MG_DL = 17.1

CONVERSIONS: dict[tuple[str, str, str], float] = {
    (CREATININE, MICROMOL_PER_L, MG_PER_DL): 1 / CREATININE_UMOL_PER_MG_DL,
    (CREATININE, MG_PER_DL, MICROMOL_PER_L): CREATININE_UMOL_PER_MG_DL,
    (BILIRUBIN, MICROMOL_PER_L, MG_PER_DL): 1 / BILIRUBIN_UMOL_PER_MG_DL,
    (BILIRUBIN, MG_PER_DL, MICROMOL_PER_L): BILIRUBIN_UMOL_PER_MG_DL,
    (HEMOGLOBIN, G_PER_DL, G_PER_L): 10.0,
    (HEMOGLOBIN, G_PER_L, G_PER_DL): 0.1,
}

# The Greek mu (U+03BC) and a typed "u" are common stand-ins for the micro sign (U+00B5).
_UNIT_SPELLINGS = {"μmol/L": MICROMOL_PER_L, "umol/L": MICROMOL_PER_L}


class UnitConversionError(ValueError):
    """No conversion factor is defined for this analyte and pair of units."""


def convert(analyte: str, value: float, from_unit: str, to_unit: str) -> float:
    """Convert `value` of `analyte` from one unit to another using CONVERSIONS.

    The same unit returns the value unchanged. Results are rounded to 12 significant
    digits: 1/88.4 is not exact in binary, and 88.4 µmol/L must give exactly 1 mg/dL when
    it is compared with a threshold.
    """
    source = _UNIT_SPELLINGS.get(from_unit, from_unit)
    target = _UNIT_SPELLINGS.get(to_unit, to_unit)
    if source == target:
        return value
    factor = CONVERSIONS.get((analyte, source, target))
    if factor is None:
        raise UnitConversionError(f"No conversion factor for {analyte} from {from_unit} to {to_unit}.")
    return float(f"{value * factor:.12g}")
