"""Etiology of secondary HLH: protocol section 4.

EBV-HLH is checked first (HLH criteria met and EBV DNA >= 500 copies in whole blood or
plasma), then AID-HLH (the clinician's judgement of the autoinflammatory picture), else
the etiology is unknown. When the data needed to rule EBV or AID in or out are missing
the result is UNDETERMINED, so that "unknown etiology", a real category of the trial's
analysis, never stands for "not entered yet".
"""

from dataclasses import dataclass
from enum import Enum

from trial.rules.criteria import Criterion, finding_criterion, fmt
from trial.rules.words import gettext as _
from trial.rules.words import gettext_noop

COPIES = gettext_noop("copies")


class Etiology(str, Enum):
    EBV = "ebv"
    AID = "aid"
    UNKNOWN = "unknown"
    UNDETERMINED = "undetermined"  # data missing; not "unknown etiology"


class EBVSubtype(str, Enum):
    FIRST_INFECTION = "first_infection"
    REACTIVATION = "reactivation"
    CAEBV = "caebv"
    UNDETERMINED = "undetermined"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class EtiologyThresholds:
    # 4: "EBV DNA raised (>= 500 copies, per the lab's unit) in whole blood or plasma"
    ebv_dna_copies: float = 500.0


@dataclass(frozen=True, kw_only=True)
class EtiologyInput:
    hlh_criteria_met: bool | None
    ebv_dna_whole_blood: float | None  # in the lab's unit (copies/mL)
    ebv_dna_plasma: float | None
    ebna_igg_positive: bool | None
    vca_igg_positive: bool | None
    vca_igm_positive: bool | None
    caebv_diagnosis: bool | None
    # The clinician's judgement that the section-4 AID picture is present (recurrent
    # fever, rash, IL-6 overproduction, no infection, tumour or specific antibody).
    aid_diagnosis: bool | None
    wes_pathogenic_variant: bool | None


@dataclass(frozen=True)
class EtiologyResult:
    etiology: Etiology
    ebv_subtype: EBVSubtype
    criteria: tuple[Criterion, ...]
    warnings: tuple[str, ...]


def etiology_classify(data: EtiologyInput, thresholds: EtiologyThresholds = EtiologyThresholds()) -> EtiologyResult:
    """Classify the etiology and EBV sub-type (protocol section 4).

    EBV when HLH criteria are met and EBV DNA >= 500 (exactly 500 counts) in whole blood
    or plasma; else AID when the clinician diagnoses it; else unknown. UNDETERMINED when
    a missing value could still change that answer. A pathogenic primary-HLH variant on
    whole-exome sequencing adds a warning.
    """
    hlh = finding_criterion("etiology.hlh_criteria", _("Meets the HLH criteria"), data.hlh_criteria_met)
    ebv_dna = _ebv_dna(data.ebv_dna_whole_blood, data.ebv_dna_plasma, thresholds)
    caebv = finding_criterion(
        "etiology.caebv",
        _("Chronic active EBV (clinician's diagnosis)"),
        data.caebv_diagnosis,
    )
    first_infection = _first_infection_serology(data)
    reactivation = _reactivation_serology(data)
    aid = finding_criterion(
        "etiology.aid",
        _("Autoinflammatory disorder (clinician's diagnosis)"),
        data.aid_diagnosis,
    )
    wes = finding_criterion(
        "etiology.wes_primary_hlh_variant",
        _("Pathogenic primary-HLH variant on whole-exome sequencing"),
        data.wes_pathogenic_variant,
    )
    criteria = (hlh, ebv_dna, caebv, first_infection, reactivation, aid, wes)

    warnings: list[str] = []
    if data.wes_pathogenic_variant:
        warnings.append(
            _("Whole-exome sequencing found a pathogenic primary-HLH variant: the child may have primary HLH.")
        )

    ebv = _both(hlh.met, ebv_dna.met)
    if ebv is True:
        subtype = _ebv_subtype(caebv.met, first_infection.met, reactivation.met)
        if subtype is EBVSubtype.UNDETERMINED:
            warnings.append(_undetermined_subtype_warning(data))
        return EtiologyResult(Etiology.EBV, subtype, criteria, tuple(warnings))
    if ebv is None:
        warnings.append(
            _(
                "Etiology undetermined: EBV-HLH cannot be ruled in or out until the HLH "
                "criteria and the EBV DNA are entered."
            )
        )
        return EtiologyResult(Etiology.UNDETERMINED, EBVSubtype.UNDETERMINED, criteria, tuple(warnings))
    if data.aid_diagnosis is None:
        warnings.append(_("Etiology undetermined: the AID diagnosis is not entered."))
        etiology = Etiology.UNDETERMINED
    else:
        etiology = Etiology.AID if data.aid_diagnosis else Etiology.UNKNOWN
    return EtiologyResult(etiology, EBVSubtype.NOT_APPLICABLE, criteria, tuple(warnings))


def _ebv_dna(whole_blood: float | None, plasma: float | None, t: EtiologyThresholds) -> Criterion:
    """EBV DNA >= 500 copies in whole blood or plasma (section 4); either suffices."""
    limit = t.ebv_dna_copies
    raised = [
        name
        for name, value in ((_("whole blood"), whole_blood), (_("plasma"), plasma))
        if value is not None and value >= limit
    ]
    if raised:
        met, why = True, _("EBV DNA raised in %(samples)s.") % {"samples": _(" and ").join(raised)}
    elif whole_blood is not None and plasma is not None:
        met, why = False, _("EBV DNA not raised in whole blood or plasma.")
    else:
        met = None
        why = _("EBV DNA is not raised where entered, and not entered in the other sample.")
        if whole_blood is None and plasma is None:
            why = _("EBV DNA is not entered.")
    copies = fmt(limit, _(COPIES))
    return Criterion(
        code="etiology.ebv_dna",
        label=_("EBV DNA >= %(limit)s in whole blood or plasma") % {"limit": copies},
        met=met,
        value=_("whole blood %(whole_blood)s; plasma %(plasma)s")
        % {"whole_blood": fmt(whole_blood), "plasma": fmt(plasma)},
        threshold=_(">= %(limit)s (the lab's unit) in either") % {"limit": copies},
        explanation=why,
    )


def _first_infection_serology(data: EtiologyInput) -> Criterion:
    """First infection: EBNA-IgG negative with VCA-IgG or VCA-IgM positive (section 4)."""
    vca_positive = _either(data.vca_igg_positive, data.vca_igm_positive)
    ebna_negative = None if data.ebna_igg_positive is None else not data.ebna_igg_positive
    met = _both(ebna_negative, vca_positive)
    return Criterion(
        code="etiology.ebv_first_infection_serology",
        label=_("EBV first-infection serology"),
        met=met,
        value=_serology(data),
        threshold=_("EBNA-IgG negative and (VCA-IgG or VCA-IgM positive)"),
        explanation={
            True: _("The serology shows a first EBV infection."),
            False: _("The serology does not show a first EBV infection."),
            None: _("The serology needed for a first infection is not entered."),
        }[met],
    )


def _reactivation_serology(data: EtiologyInput) -> Criterion:
    """Reactivation: EBNA-IgG, VCA-IgG and VCA-IgM all positive (section 4)."""
    met = _both(data.ebna_igg_positive, _both(data.vca_igg_positive, data.vca_igm_positive))
    return Criterion(
        code="etiology.ebv_reactivation_serology",
        label=_("EBV reactivation serology"),
        met=met,
        value=_serology(data),
        threshold=_("EBNA-IgG, VCA-IgG and VCA-IgM all positive"),
        explanation={
            True: _("The serology shows an EBV reactivation."),
            False: _("The serology does not show an EBV reactivation."),
            None: _("The serology needed for a reactivation is not entered."),
        }[met],
    )


def _ebv_subtype(caebv: bool | None, first_infection: bool | None, reactivation: bool | None) -> EBVSubtype:
    """CAEBV (the clinician's diagnosis) takes precedence over the serology patterns.

    Without a recorded CAEBV answer no sub-type is given: a serology pattern could be
    overridden by a CAEBV diagnosis not yet entered.
    """
    if caebv is True:
        return EBVSubtype.CAEBV
    if caebv is None:
        return EBVSubtype.UNDETERMINED
    if first_infection:
        return EBVSubtype.FIRST_INFECTION
    if reactivation:
        return EBVSubtype.REACTIVATION
    return EBVSubtype.UNDETERMINED


def _undetermined_subtype_warning(data: EtiologyInput) -> str:
    recorded = (data.caebv_diagnosis, data.ebna_igg_positive, data.vca_igg_positive, data.vca_igm_positive)
    if None in recorded:
        return _(
            "EBV sub-type undetermined: record the CAEBV diagnosis and the EBNA-IgG, VCA-IgG and VCA-IgM serology."
        )
    return _("EBV sub-type undetermined: the serology fits neither a first infection nor a reactivation.")


def _serology(data: EtiologyInput) -> str:
    return (
        f"EBNA-IgG {_sign(data.ebna_igg_positive)}; "
        f"VCA-IgG {_sign(data.vca_igg_positive)}; "
        f"VCA-IgM {_sign(data.vca_igm_positive)}"
    )


def _sign(positive: bool | None) -> str:
    return fmt(None) if positive is None else (_("positive") if positive else _("negative"))


def _both(a: bool | None, b: bool | None) -> bool | None:
    """Three-valued AND: False as soon as one is False, None if still open."""
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _either(a: bool | None, b: bool | None) -> bool | None:
    """Three-valued OR: True as soon as one is True, None if still open."""
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False
