"""Screening eligibility: protocol section 3 (inclusion, exclusion, also checked).

Every criterion is shown with its value and reason. Meaning of `Criterion.met` here:
- inclusion and also-checked criteria: True is good (the requirement is fulfilled);
- exclusion criteria: True means the exclusion APPLIES and the child is excluded.
Missing data never count as fulfilled or absent: they make the result "incomplete".
There is no override: an ineligible child cannot be enrolled.
"""

from dataclasses import dataclass, replace
from datetime import date
from enum import Enum

from patients.rules.hlh2004 import (
    HLH2004Input,
    HLH2004Result,
    HLH2004Thresholds,
    hlh2004_evaluate,
)
from patients.rules.meld import MELDThresholds, cirrhosis_meld_exclusion
from patients.rules.renal import RenalThresholds, severe_renal_dysfunction
from trial.rules.age import age_in_years, anniversary
from trial.rules.criteria import Criterion, finding_criterion, fmt
from trial.rules.words import gettext as _


class Eligibility(str, Enum):
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class EligibilityThresholds:
    max_age_years: int = 18  # 3, inclusion 4: "Age < 18 years at consent"
    min_gfr_ml_min: float = 15.0  # 3: "creatinine clearance < 15 mL/min or GFR < 15"
    meld_exclusion_above: float = 20.0  # 3: "Liver cirrhosis with a MELD score > 20"
    max_nyha_class: int = 2  # 3: "worse than NYHA class II (class III or IV)"
    steroid_washout_days: int = 3  # 3: "must have stopped >= 3 days before screening"


@dataclass(frozen=True, kw_only=True)
class EligibilityInput:
    hlh2004: HLH2004Input
    screening_date: date
    date_of_birth: date | None
    consent_date: date | None
    new_diagnosis: bool | None
    prior_hlh_chemotherapy: bool | None
    creatinine_clearance_ml_min: float | None
    gfr_ml_min: float | None
    height_cm: float | None
    creatinine_umol_l: float | None
    cirrhosis: bool | None
    bilirubin_umol_l: float | None
    inr: float | None
    dialysis_twice_past_week: bool | None
    nyha_class: int | None
    malignancy: bool | None
    parasitic_infection: bool | None
    severe_allergy_history: bool | None
    corticosteroids_received: bool | None
    corticosteroids_stop_date: date | None
    cns_involvement: bool | None


@dataclass(frozen=True)
class EligibilityResult:
    status: Eligibility
    hlh2004: HLH2004Result
    inclusion: tuple[Criterion, ...]  # met=True: fulfilled
    exclusion: tuple[Criterion, ...]  # met=True: the exclusion applies
    also_checked: tuple[Criterion, ...]  # met=True: fulfilled
    warnings: tuple[str, ...]
    schwartz_egfr: float | None
    meld: float | None

    @property
    def failed(self) -> tuple[Criterion, ...]:
        """Each criterion that makes the child ineligible, for the screening log."""
        return (
            tuple(c for c in self.inclusion if c.met is False)
            + tuple(c for c in self.exclusion if c.met is True)
            + tuple(c for c in self.also_checked if c.met is False)
        )

    @property
    def missing(self) -> tuple[Criterion, ...]:
        """Each criterion that cannot be judged yet (details in hlh2004.criteria)."""
        return tuple(c for c in self.inclusion + self.exclusion + self.also_checked if c.met is None)


def eligibility_evaluate(
    data: EligibilityInput,
    thresholds: EligibilityThresholds = EligibilityThresholds(),
    hlh2004_thresholds: HLH2004Thresholds = HLH2004Thresholds(),
) -> EligibilityResult:
    """Decide eligibility at screening (protocol section 3).

    INELIGIBLE when any inclusion criterion is not met, any exclusion applies or any
    also-checked requirement fails; otherwise INCOMPLETE while any criterion is
    missing; otherwise ELIGIBLE. Known CNS involvement gives a warning, never an
    exclusion.
    """
    hlh = hlh2004_evaluate(data.hlh2004, hlh2004_thresholds)
    inclusion = (
        _hlh2004_criterion(hlh, hlh2004_thresholds),
        _new_diagnosis(data.new_diagnosis),
        _no_prior_chemotherapy(data.prior_hlh_chemotherapy),
        _age_at_consent(data.date_of_birth, data.consent_date, thresholds),
        _consent(data.consent_date),
    )
    renal = severe_renal_dysfunction(
        creatinine_clearance_ml_min=data.creatinine_clearance_ml_min,
        gfr_ml_min=data.gfr_ml_min,
        height_cm=data.height_cm,
        creatinine_umol_l=data.creatinine_umol_l,
        thresholds=RenalThresholds(min_clearance_ml_min=thresholds.min_gfr_ml_min),
    )
    liver = cirrhosis_meld_exclusion(
        cirrhosis=data.cirrhosis,
        bilirubin_umol_l=data.bilirubin_umol_l,
        inr=data.inr,
        creatinine_umol_l=data.creatinine_umol_l,
        dialysis_twice_past_week=data.dialysis_twice_past_week,
        thresholds=MELDThresholds(exclusion_above=thresholds.meld_exclusion_above),
    )
    exclusion = (
        renal.criterion,
        liver.criterion,
        _heart_failure(data.nyha_class, thresholds),
        finding_criterion("exclusion.malignancy", _("Malignancy"), data.malignancy),
        finding_criterion(
            "exclusion.parasitic_infection",
            _("Parasitic infection"),
            data.parasitic_infection,
        ),
        finding_criterion(
            "exclusion.severe_allergy",
            _("History of severe allergic, anaphylactic or other hypersensitivity reactions to chemicals"),
            data.severe_allergy_history,
        ),
    )
    also_checked = (
        _corticosteroid_washout(
            data.corticosteroids_received,
            data.corticosteroids_stop_date,
            data.screening_date,
            thresholds,
        ),
    )
    # Start incomplete; the criteria themselves then decide (failed wins over missing).
    result = EligibilityResult(
        status=Eligibility.INCOMPLETE,
        hlh2004=hlh,
        inclusion=inclusion,
        exclusion=exclusion,
        also_checked=also_checked,
        warnings=_cns_warnings(data.cns_involvement),
        schwartz_egfr=renal.schwartz_egfr,
        meld=liver.meld,
    )
    if result.failed:
        return replace(result, status=Eligibility.INELIGIBLE)
    if result.missing:
        return result
    return replace(result, status=Eligibility.ELIGIBLE)


def _hlh2004_criterion(hlh: HLH2004Result, t: HLH2004Thresholds) -> Criterion:
    """Inclusion 1: meets the HLH-2004 diagnostic criteria (section 3)."""
    molecular = hlh.criteria[0]
    return Criterion(
        code="inclusion.hlh2004",
        label=_("Meets the HLH-2004 diagnostic criteria"),
        met=hlh.met,
        value=_("molecular diagnosis %(molecular)s; %(met)s of 8 criteria met, %(missing)s missing")
        % {"molecular": molecular.value, "met": hlh.criteria_met, "missing": hlh.criteria_missing},
        threshold=_("molecular diagnosis, or >= %(need)s of 8 criteria") % {"need": t.criteria_required},
        explanation=hlh.explanation,
    )


def _new_diagnosis(new_diagnosis: bool | None) -> Criterion:
    """Inclusion 2: new diagnosis of HLH (section 3)."""
    return Criterion(
        code="inclusion.new_diagnosis",
        label=_("New diagnosis of HLH"),
        met=new_diagnosis,
        value=fmt(new_diagnosis),
        threshold=_("yes"),
        explanation={
            True: _("HLH is newly diagnosed."),
            False: _("HLH is not a new diagnosis."),
            None: _("Whether HLH is newly diagnosed is not entered."),
        }[new_diagnosis],
    )


def _no_prior_chemotherapy(prior: bool | None) -> Criterion:
    """Inclusion 3: no prior chemotherapy for HLH (e.g. etoposide) (section 3)."""
    return Criterion(
        code="inclusion.no_prior_hlh_chemotherapy",
        label=_("No prior chemotherapy for HLH (e.g. etoposide) before screening"),
        met=None if prior is None else not prior,
        value=_("prior HLH chemotherapy %(value)s") % {"value": fmt(prior)},
        threshold=_("none"),
        explanation={
            True: _("The child has received chemotherapy for HLH."),
            False: _("No prior chemotherapy for HLH."),
            None: _("Prior chemotherapy for HLH is not entered."),
        }[prior],
    )


def _age_at_consent(date_of_birth: date | None, consent_date: date | None, t: EligibilityThresholds) -> Criterion:
    """Inclusion 4: age < 18 years at consent (section 3).

    Completed years on the consent date: a child is no longer eligible from its 18th
    birthday on; the day before, it still is.
    """
    limit = t.max_age_years
    value = _("born %(born)s, consent %(consent)s") % {"born": fmt(date_of_birth), "consent": fmt(consent_date)}
    if date_of_birth is None or consent_date is None:
        met, why = None, _("Age at consent needs the date of birth and the consent date.")
    elif consent_date < date_of_birth:
        met, why = (
            None,
            _("The consent date is before the date of birth: check the dates."),
        )
    else:
        years = age_in_years(date_of_birth, consent_date)
        value = _("%(years)s years at consent (%(dates)s)") % {"years": years, "dates": value}
        met = years < limit
        shown = {"limit": limit, "birthday": fmt(anniversary(date_of_birth, limit))}
        why = (
            _("Under %(limit)s at consent (%(limit)sth birthday on %(birthday)s).") % shown
            if met
            else _("Aged %(limit)s or more at consent (%(limit)sth birthday on %(birthday)s).") % shown
        )
    return Criterion(
        code="inclusion.age",
        label=_("Age < %(limit)s years at consent") % {"limit": limit},
        met=met,
        value=value,
        threshold=_("< %(limit)s years (completed years at the consent date)") % {"limit": limit},
        explanation=why,
    )


def _consent(consent_date: date | None) -> Criterion:
    """Inclusion 5: informed consent signed by parent/guardian (section 3).

    The signed consent's date must be recorded. It is not required to precede the
    screening labs, which are routine care.
    """
    return Criterion(
        code="inclusion.informed_consent",
        label=_("Informed consent signed"),
        met=None if consent_date is None else True,
        value=fmt(consent_date),
        threshold=_("signed, with its date recorded"),
        explanation=(
            _("Consent signed on %(date)s.") % {"date": fmt(consent_date)}
            if consent_date
            else _("The consent date is not entered.")
        ),
    )


_NYHA_NUMERALS = {1: "I", 2: "II", 3: "III", 4: "IV"}


def _heart_failure(nyha_class: int | None, t: EligibilityThresholds) -> Criterion:
    """Exclusion: heart function worse than NYHA class II, i.e. III or IV (section 3)."""
    worst = _NYHA_NUMERALS[t.max_nyha_class]
    if nyha_class is None:
        met, value, why = None, fmt(None), _("The NYHA class is not entered.")
    elif nyha_class not in _NYHA_NUMERALS:
        raise ValueError(f"NYHA class must be 1 to 4, not {nyha_class}.")
    else:
        met = nyha_class > t.max_nyha_class
        value = _("NYHA class %(class)s") % {"class": _NYHA_NUMERALS[nyha_class]}
        shown = {"value": value, "worst": worst}
        why = (
            _("%(value)s is worse than class %(worst)s.") if met else _("%(value)s is not worse than class %(worst)s.")
        ) % shown
    return Criterion(
        code="exclusion.heart_failure",
        label=_("Heart function worse than NYHA class %(class)s") % {"class": worst},
        met=met,
        value=value,
        threshold=_("NYHA class > %(class)s") % {"class": worst},
        explanation=why,
    )


def _corticosteroid_washout(
    received: bool | None,
    stop_date: date | None,
    screening_date: date,
    t: EligibilityThresholds,
) -> Criterion:
    """Also checked: corticosteroids stopped >= 3 days before screening (section 3).

    A child who received corticosteroids and has no stop date is taken to be still on
    them, which fails the washout.
    """
    days = t.steroid_washout_days
    value = _("received %(received)s, stopped %(stopped)s") % {"received": fmt(received), "stopped": fmt(stop_date)}
    if received is None:
        met, why = None, _("Corticosteroid use is not entered.")
    elif not received:
        met, why = True, _("No corticosteroids received.")
    elif stop_date is None:
        met, why = False, _("Still on corticosteroids (no stop date).")
    else:
        gap = (screening_date - stop_date).days
        value = _("%(value)s, %(gap)s days before screening on %(date)s") % {
            "value": value,
            "gap": gap,
            "date": fmt(screening_date),
        }
        met = gap >= days
        if gap < 0:
            why = _("The stop date is after screening: still on corticosteroids then.")
        elif met:
            why = _("Stopped %(gap)s days before screening, at least %(days)s required.") % {"gap": gap, "days": days}
        else:
            why = _("Stopped only %(gap)s days before screening, %(days)s required.") % {"gap": gap, "days": days}
    return Criterion(
        code="also.corticosteroid_washout",
        label=_("Corticosteroids stopped >= %(days)s days before screening") % {"days": days},
        met=met,
        value=value,
        threshold=_("none received, or stopped >= %(days)s days before screening") % {"days": days},
        explanation=why,
    )


def _cns_warnings(cns_involvement: bool | None) -> tuple[str, ...]:
    """Also checked: known CNS involvement is recorded and warned about (section 3)."""
    if cns_involvement is None:
        return (_("CNS involvement is not recorded; the protocol asks to record it."),)
    if cns_involvement:
        return (
            _(
                "Known CNS involvement: none of the published pilot patients had it "
                "(protocol section 3). It does not exclude; it makes the child high "
                "risk (section 5)."
            ),
        )
    return ()
