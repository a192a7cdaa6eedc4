"""The catalogue of measured variables: code, label, canonical unit and physiological limits.

A value outside its physiological limits is impossible and is rejected with a message naming
the field and the limit (protocol section 8); a value inside them but outside the reference
range is saved and flagged. Codes follow CDISC LBTESTCD / VSTESTCD where one exists.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Analyte:
    code: str
    label: str
    unit: str
    minimum: float
    maximum: float
    group: str


BLOOD_COUNT = "Blood count"
HLH_MARKERS = "HLH markers"
CYTOKINES = "Cytokines"
LIVER = "Liver"
KIDNEY = "Kidney"
VITALS = "Vital signs"
COAGULATION = "Coagulation"
INFECTION = "Infection / EBV"
HEART = "Heart"
CNS = "Spleen and CNS"

ANALYTES: dict[str, Analyte] = {
    a.code: a
    for a in (
        Analyte("TEMP", "Maximum temperature", "°C", 30.0, 45.0, VITALS),
        Analyte("WEIGHT", "Weight", "kg", 0.3, 150.0, VITALS),
        Analyte("HEIGHT", "Height", "cm", 20.0, 220.0, VITALS),
        Analyte("HGB", "Hemoglobin", "g/L", 10.0, 250.0, BLOOD_COUNT),
        Analyte("WBC", "White blood cells", "10^9/L", 0.0, 500.0, BLOOD_COUNT),
        Analyte("NEUT", "Absolute neutrophil count", "10^9/L", 0.0, 200.0, BLOOD_COUNT),
        Analyte("PLAT", "Platelets", "10^9/L", 0.0, 2000.0, BLOOD_COUNT),
        Analyte("TRIG", "Triglycerides (fasting)", "mmol/L", 0.0, 100.0, HLH_MARKERS),
        Analyte("FIBRINO", "Fibrinogen", "g/L", 0.0, 20.0, HLH_MARKERS),
        Analyte("FERRITIN", "Ferritin", "µg/L", 0.0, 1_000_000.0, HLH_MARKERS),
        Analyte("SCD25", "Soluble CD25 (sIL-2R)", "pg/mL", 0.0, 10_000_000.0, HLH_MARKERS),
        Analyte("NKACT", "NK-cell activity", "%", 0.0, 100.0, HLH_MARKERS),
        Analyte("CD107A", "NK CD107a", "%", 0.0, 100.0, HLH_MARKERS),
        Analyte("IFNG", "IFN-gamma", "pg/mL", 0.0, 100_000.0, CYTOKINES),
        Analyte("IL6", "IL-6", "pg/mL", 0.0, 100_000.0, CYTOKINES),
        Analyte("IL10", "IL-10", "pg/mL", 0.0, 100_000.0, CYTOKINES),
        Analyte("TNFA", "TNF-alpha", "pg/mL", 0.0, 100_000.0, CYTOKINES),
        Analyte("IL18", "IL-18", "pg/mL", 0.0, 1_000_000.0, CYTOKINES),
        Analyte("ALT", "ALT", "U/L", 0.0, 20_000.0, LIVER),
        Analyte("AST", "AST", "U/L", 0.0, 50_000.0, LIVER),
        Analyte("GGT", "GGT", "U/L", 0.0, 10_000.0, LIVER),
        Analyte("ALB", "Albumin", "g/L", 5.0, 80.0, LIVER),
        Analyte("BILI", "Total bilirubin", "µmol/L", 0.0, 1500.0, LIVER),
        Analyte("BILIND", "Indirect bilirubin", "µmol/L", 0.0, 1500.0, LIVER),
        Analyte("BILDIR", "Direct bilirubin", "µmol/L", 0.0, 1500.0, LIVER),
        Analyte("CREAT", "Creatinine", "µmol/L", 5.0, 3000.0, KIDNEY),
        Analyte("UREA", "Urea", "mmol/L", 0.0, 150.0, KIDNEY),
        Analyte("CRCL", "Creatinine clearance", "mL/min", 0.0, 300.0, KIDNEY),
        Analyte("GFR", "Glomerular filtration rate", "mL/min/1.73m²", 0.0, 300.0, KIDNEY),
        Analyte("INR", "INR", "ratio", 0.5, 20.0, COAGULATION),
        Analyte("SPLEEN", "Spleen below costal margin (ultrasound)", "cm", 0.0, 30.0, CNS),
        Analyte("LIVER", "Liver below costal margin", "cm", 0.0, 30.0, CNS),
        Analyte("CKMB", "CK-MB (myocardial enzyme)", "U/L", 0.0, 10_000.0, HEART),
        Analyte("CSFCELL", "CSF cells", "10^6/L", 0.0, 100_000.0, CNS),
        Analyte("CSFPROT", "CSF protein", "g/L", 0.0, 50.0, CNS),
        Analyte("EBVWB", "EBV DNA, whole blood", "copies/mL", 0.0, 1e12, INFECTION),
        Analyte("EBVPL", "EBV DNA, plasma", "copies/mL", 0.0, 1e12, INFECTION),
    )
}

# sCD25 is reported in either unit; U/mL labs have their own plausible range (protocol 12.1).
SCD25_U_PER_ML_MAXIMUM = 1_000_000.0

# Units a lab may report instead of the catalogue's; trial.rules.units converts where a factor exists.
ALTERNATIVE_UNITS: dict[str, tuple[str, ...]] = {
    "HGB": ("g/dL",),
    "CREAT": ("mg/dL",),
    "BILI": ("mg/dL",),
    "BILIND": ("mg/dL",),
    "BILDIR": ("mg/dL",),
    "SCD25": ("U/mL",),
}

# The order of the groups on the lab CRF page, as on the paper form.
GROUP_ORDER = (VITALS, BLOOD_COUNT, HLH_MARKERS, CYTOKINES, LIVER, KIDNEY, COAGULATION, HEART, CNS, INFECTION)


def units_for(code: str) -> tuple[str, ...]:
    return (ANALYTES[code].unit, *ALTERNATIVE_UNITS.get(code, ()))


def plausibility_message(code: str, value: float, unit: str) -> str | None:
    """The rejection message for an impossible value in the unit it was reported in."""
    from trial.rules.units import UnitConversionError, convert

    analyte = ANALYTES[code]
    if unit == analyte.unit:
        return limit_message(analyte, value)
    if code == "SCD25" and unit == "U/mL":
        if value < 0 or value > SCD25_U_PER_ML_MAXIMUM:
            return f"{analyte.label} must be between 0 and {SCD25_U_PER_ML_MAXIMUM:g} U/mL (entered {value:g})."
        return None
    try:
        canonical = convert(code, value, unit, analyte.unit)
    except UnitConversionError:
        return f"{analyte.label}: unit {unit} is not accepted; use {' or '.join(units_for(code))}."
    message = limit_message(analyte, canonical)
    if message is None:
        return None
    low = convert(code, analyte.minimum, analyte.unit, unit)
    high = convert(code, analyte.maximum, analyte.unit, unit)
    return f"{analyte.label} must be between {low:g} and {high:g} {unit} (entered {value:g})."


def limit_message(analyte: Analyte, value: float) -> str | None:
    """The rejection message for an impossible value, or None when the value is plausible."""
    if value < analyte.minimum:
        return f"{analyte.label} must be at least {analyte.minimum:g} {analyte.unit} (entered {value:g})."
    if value > analyte.maximum:
        return f"{analyte.label} must be at most {analyte.maximum:g} {analyte.unit} (entered {value:g})."
    return None


# The screening form's field holding each analyte's baseline value (patients.models.Screening),
# in the catalogue's unit; sCD25 carries its own unit field (`scd25_unit`).
SCREENING_FIELDS: dict[str, str] = {
    "TEMP": "max_temperature_c",
    "WEIGHT": "weight_kg",
    "HEIGHT": "height_cm",
    "HGB": "hemoglobin_g_l",
    "WBC": "wbc_10e9_l",
    "NEUT": "anc_10e9_l",
    "PLAT": "platelets_10e9_l",
    "TRIG": "triglycerides_mmol_l",
    "FIBRINO": "fibrinogen_g_l",
    "FERRITIN": "ferritin_ug_l",
    "SCD25": "scd25_value",
    "NKACT": "nk_activity_pct",
    "IFNG": "ifn_gamma_pg_ml",
    "ALT": "alt_u_l",
    "BILI": "bilirubin_umol_l",
    "CREAT": "creatinine_umol_l",
    "CRCL": "creatinine_clearance_ml_min",
    "GFR": "gfr_ml_min",
    "INR": "inr",
    "SPLEEN": "spleen_cm",
    "EBVWB": "ebv_dna_whole_blood",
    "EBVPL": "ebv_dna_plasma",
}
