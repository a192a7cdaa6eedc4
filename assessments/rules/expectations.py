"""Which groups of the lab CRF each visit expects (protocol sections 7 and 8).

Daily visits of week 1: maximum temperature and the blood count. Response-assessment
days add the HLH markers the response rule reads; full-panel visits (baseline, day 7,
14, 21, 28) add cytokines, liver and kidney; follow-up visits check EBV DNA and the
safety labs. Groups not expected are optional. Expected values that are missing are
listed for the visit, never invented.
"""

VITALS = "Vital signs"
BLOOD_COUNT = "Blood count"
HLH_MARKERS = "HLH markers"
CYTOKINES = "Cytokines"
LIVER = "Liver"
KIDNEY = "Kidney"
SPLEEN_CNS = "Spleen and CNS"
INFECTION = "Infection / EBV"

# The values inside an expected group that count as its core (a panel "has" the group with these).
CORE_ANALYTES: dict[str, tuple[str, ...]] = {
    VITALS: ("TEMP",),
    BLOOD_COUNT: ("HGB", "NEUT", "PLAT"),
    HLH_MARKERS: ("TRIG", "FIBRINO", "FERRITIN", "SCD25"),
    CYTOKINES: ("IFNG",),
    LIVER: ("ALT", "AST", "BILI"),
    KIDNEY: ("CREAT",),
    SPLEEN_CNS: ("SPLEEN",),
    INFECTION: ("EBVWB",),
}


def expected_groups(*, kind: str, full_hlh_panel: bool, response_assessment: bool) -> tuple[str, ...]:
    """The lab groups a visit of this kind expects; the rest of the form is optional."""
    groups = [VITALS, BLOOD_COUNT]
    if response_assessment or full_hlh_panel:
        groups += [HLH_MARKERS, SPLEEN_CNS]
    if full_hlh_panel:
        groups += [CYTOKINES, LIVER, KIDNEY]
    if kind == "follow_up":
        groups = [VITALS, BLOOD_COUNT, HLH_MARKERS, SPLEEN_CNS, LIVER, KIDNEY, INFECTION]
    if kind == "baseline":
        groups.append(INFECTION)
    return tuple(dict.fromkeys(groups))


def missing_expected(*, groups: tuple[str, ...], entered: set[str]) -> tuple[str, ...]:
    """Core analytes of the expected groups that have no value yet."""
    return tuple(code for group in groups for code in CORE_ANALYTES[group] if code not in entered)
