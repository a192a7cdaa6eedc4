"""The catalogue of measured variables: code, label, canonical unit and physiological limits.

A value outside its physiological limits is impossible and is rejected with a message naming
the field and the limit (protocol section 8); a value inside them but outside the reference
range is saved and flagged. Codes follow CDISC LBTESTCD / VSTESTCD where one exists.
"""

from dataclasses import dataclass

from django.utils.translation import gettext, gettext_noop

# The labels and group names stay English in the data and the exports; pages show them through
# gettext (marked here with gettext_noop so that makemessages finds them).


@dataclass(frozen=True)
class Analyte:
    code: str
    label: str
    unit: str
    minimum: float
    maximum: float
    group: str


BLOOD_COUNT = gettext_noop("Blood count")
HLH_MARKERS = gettext_noop("HLH markers")
CYTOKINES = gettext_noop("Cytokines")
LIVER = gettext_noop("Liver")
KIDNEY = gettext_noop("Kidney")
VITALS = gettext_noop("Vital signs")
COAGULATION = gettext_noop("Coagulation")
INFECTION = gettext_noop("Infection / EBV")
HEART = gettext_noop("Heart")
CNS = gettext_noop("Spleen and CNS")

ANALYTES: dict[str, Analyte] = {
    a.code: a
    for a in (
        Analyte("TEMP", gettext_noop("Maximum temperature"), "°C", 30.0, 45.0, VITALS),
        Analyte("WEIGHT", gettext_noop("Weight"), "kg", 0.3, 150.0, VITALS),
        Analyte("HEIGHT", gettext_noop("Height"), "cm", 20.0, 220.0, VITALS),
        Analyte("HGB", gettext_noop("Hemoglobin"), "g/L", 10.0, 250.0, BLOOD_COUNT),
        Analyte("WBC", gettext_noop("White blood cells"), "10^9/L", 0.0, 500.0, BLOOD_COUNT),
        Analyte("NEUT", gettext_noop("Absolute neutrophil count"), "10^9/L", 0.0, 200.0, BLOOD_COUNT),
        Analyte("PLAT", gettext_noop("Platelets"), "10^9/L", 0.0, 2000.0, BLOOD_COUNT),
        Analyte("TRIG", gettext_noop("Triglycerides (fasting)"), "mmol/L", 0.0, 100.0, HLH_MARKERS),
        Analyte("FIBRINO", gettext_noop("Fibrinogen"), "g/L", 0.0, 20.0, HLH_MARKERS),
        Analyte("FERRITIN", gettext_noop("Ferritin"), "µg/L", 0.0, 1_000_000.0, HLH_MARKERS),
        Analyte("SCD25", gettext_noop("Soluble CD25 (sIL-2R)"), "pg/mL", 0.0, 10_000_000.0, HLH_MARKERS),
        Analyte("NKACT", gettext_noop("NK-cell activity"), "%", 0.0, 100.0, HLH_MARKERS),
        Analyte("CD107A", gettext_noop("NK CD107a"), "%", 0.0, 100.0, HLH_MARKERS),
        Analyte("IFNG", gettext_noop("IFN-gamma"), "pg/mL", 0.0, 100_000.0, CYTOKINES),
        Analyte("IL6", gettext_noop("IL-6"), "pg/mL", 0.0, 100_000.0, CYTOKINES),
        Analyte("IL10", gettext_noop("IL-10"), "pg/mL", 0.0, 100_000.0, CYTOKINES),
        Analyte("TNFA", gettext_noop("TNF-alpha"), "pg/mL", 0.0, 100_000.0, CYTOKINES),
        Analyte("IL18", gettext_noop("IL-18"), "pg/mL", 0.0, 1_000_000.0, CYTOKINES),
        Analyte("ALT", gettext_noop("ALT"), "U/L", 0.0, 20_000.0, LIVER),
        Analyte("AST", gettext_noop("AST"), "U/L", 0.0, 50_000.0, LIVER),
        Analyte("GGT", gettext_noop("GGT"), "U/L", 0.0, 10_000.0, LIVER),
        Analyte("ALB", gettext_noop("Albumin"), "g/L", 5.0, 80.0, LIVER),
        Analyte("BILI", gettext_noop("Total bilirubin"), "µmol/L", 0.0, 1500.0, LIVER),
        Analyte("BILIND", gettext_noop("Indirect bilirubin"), "µmol/L", 0.0, 1500.0, LIVER),
        Analyte("BILDIR", gettext_noop("Direct bilirubin"), "µmol/L", 0.0, 1500.0, LIVER),
        Analyte("CREAT", gettext_noop("Creatinine"), "µmol/L", 5.0, 3000.0, KIDNEY),
        Analyte("UREA", gettext_noop("Urea"), "mmol/L", 0.0, 150.0, KIDNEY),
        Analyte("CRCL", gettext_noop("Creatinine clearance"), "mL/min", 0.0, 300.0, KIDNEY),
        Analyte("GFR", gettext_noop("Glomerular filtration rate"), "mL/min/1.73m²", 0.0, 300.0, KIDNEY),
        Analyte("INR", gettext_noop("INR"), "ratio", 0.5, 20.0, COAGULATION),
        Analyte("SPLEEN", gettext_noop("Spleen below costal margin (ultrasound)"), "cm", 0.0, 30.0, CNS),
        Analyte("LIVER", gettext_noop("Liver below costal margin"), "cm", 0.0, 30.0, CNS),
        Analyte("CKMB", gettext_noop("CK-MB (myocardial enzyme)"), "U/L", 0.0, 10_000.0, HEART),
        Analyte("CSFCELL", gettext_noop("CSF cells"), "10^6/L", 0.0, 100_000.0, CNS),
        Analyte("CSFPROT", gettext_noop("CSF protein"), "g/L", 0.0, 50.0, CNS),
        Analyte("EBVWB", gettext_noop("EBV DNA, whole blood"), "copies/mL", 0.0, 1e12, INFECTION),
        Analyte("EBVPL", gettext_noop("EBV DNA, plasma"), "copies/mL", 0.0, 1e12, INFECTION),
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
            return _between(analyte.label, 0, SCD25_U_PER_ML_MAXIMUM, "U/mL", value)
        return None
    try:
        canonical = convert(code, value, unit, analyte.unit)
    except UnitConversionError:
        return gettext("%(label)s: unit %(unit)s is not accepted; use %(units)s.") % {
            "label": gettext(analyte.label),
            "unit": unit,
            "units": gettext(" or ").join(units_for(code)),
        }
    message = limit_message(analyte, canonical)
    if message is None:
        return None
    low = convert(code, analyte.minimum, analyte.unit, unit)
    high = convert(code, analyte.maximum, analyte.unit, unit)
    return _between(analyte.label, low, high, unit, value)


def _between(label: str, low: float, high: float, unit: str, value: float) -> str:
    return gettext("%(label)s must be between %(low)s and %(high)s %(unit)s (entered %(value)s).") % {
        "label": gettext(label),
        "low": f"{low:g}",
        "high": f"{high:g}",
        "unit": unit,
        "value": f"{value:g}",
    }


def limit_message(analyte: Analyte, value: float) -> str | None:
    """The rejection message for an impossible value, or None when the value is plausible."""
    shown = {"label": gettext(analyte.label), "unit": analyte.unit, "value": f"{value:g}"}
    if value < analyte.minimum:
        return gettext("%(label)s must be at least %(limit)s %(unit)s (entered %(value)s).") % {
            **shown,
            "limit": f"{analyte.minimum:g}",
        }
    if value > analyte.maximum:
        return gettext("%(label)s must be at most %(limit)s %(unit)s (entered %(value)s).") % {
            **shown,
            "limit": f"{analyte.maximum:g}",
        }
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
