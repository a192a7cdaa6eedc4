"""Reads for screening and patients: rule inputs from the models, and site-scoped lists."""

from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.http import Http404

from patients.models import Patient, Screening
from patients.rules.dosing import DoseBand
from patients.rules.eligibility import EligibilityInput, EligibilityThresholds
from patients.rules.etiology import EtiologyInput
from patients.rules.hlh2004 import HLH2004Input, HLH2004Thresholds, SCD25Unit
from patients.rules.risk import RiskInput, RiskThresholds
from trial.models import Site
from trial.rules.age import age_in_days
from trial.selectors import dose_bands_for, reference_ranges_for, user_site_ids


def num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def scd25_unit(screening: Screening) -> SCD25Unit | None:
    return SCD25Unit(screening.scd25_unit) if screening.scd25_unit else None


def thresholds_for(*, site: Site, age_days: int | None) -> tuple[HLH2004Thresholds, RiskThresholds]:
    """The protocol thresholds with the site's reference limits where the protocol defers to them."""
    ranges = reference_ranges_for(site=site, age_days=age_days)
    hlh = HLH2004Thresholds()
    risk = RiskThresholds()
    overrides: dict = {}
    if (nk := ranges.get("NKACT")) and nk.lower is not None:
        overrides["nk_activity_lower_ref_pct"] = nk.lower
    if (scd25 := ranges.get("SCD25")) and scd25.upper is not None and scd25.unit == "pg/mL":
        overrides["scd25_upper_ref_pg_ml"] = scd25.upper
    if overrides:
        hlh = HLH2004Thresholds(**{**hlh.__dict__, **overrides})
    if (ifng := ranges.get("IFNG")) and ifng.upper is not None:
        risk = RiskThresholds(**{**risk.__dict__, "ifn_gamma_uln_pg_ml": ifng.upper})
    return hlh, risk


def hlh2004_input(screening: Screening) -> HLH2004Input:
    return HLH2004Input(
        molecular_diagnosis=screening.molecular_diagnosis,
        max_temperature_c=num(screening.max_temperature_c),
        splenomegaly=screening.splenomegaly,
        hemoglobin_g_l=num(screening.hemoglobin_g_l),
        platelets_10e9_l=num(screening.platelets_10e9_l),
        anc_10e9_l=num(screening.anc_10e9_l),
        age_days=age_in_days(screening.date_of_birth, screening.screening_date),
        triglycerides_mmol_l=num(screening.triglycerides_mmol_l),
        fibrinogen_g_l=num(screening.fibrinogen_g_l),
        hemophagocytosis=screening.hemophagocytosis,
        nk_activity_pct=num(screening.nk_activity_pct),
        ferritin_ug_l=num(screening.ferritin_ug_l),
        scd25_value=num(screening.scd25_value),
        scd25_unit=scd25_unit(screening),
    )


def eligibility_input(screening: Screening) -> EligibilityInput:
    return EligibilityInput(
        hlh2004=hlh2004_input(screening),
        screening_date=screening.screening_date,
        date_of_birth=screening.date_of_birth,
        consent_date=screening.consent_date,
        new_diagnosis=screening.new_diagnosis,
        prior_hlh_chemotherapy=screening.prior_hlh_chemotherapy,
        creatinine_clearance_ml_min=num(screening.creatinine_clearance_ml_min),
        gfr_ml_min=num(screening.gfr_ml_min),
        height_cm=num(screening.height_cm),
        creatinine_umol_l=num(screening.creatinine_umol_l),
        cirrhosis=screening.cirrhosis,
        bilirubin_umol_l=num(screening.bilirubin_umol_l),
        inr=num(screening.inr),
        dialysis_twice_past_week=screening.dialysis_twice_past_week,
        nyha_class=screening.nyha_class,
        malignancy=screening.malignancy,
        parasitic_infection=screening.parasitic_infection,
        severe_allergy_history=screening.severe_allergy_history,
        corticosteroids_received=screening.corticosteroids_received,
        corticosteroids_stop_date=screening.corticosteroid_stop_date,
        cns_involvement=screening.cns_involvement,
    )


def eligibility_thresholds() -> EligibilityThresholds:
    return EligibilityThresholds()


def etiology_input(screening: Screening, *, hlh_criteria_met: bool | None) -> EtiologyInput:
    return EtiologyInput(
        hlh_criteria_met=hlh_criteria_met,
        ebv_dna_whole_blood=num(screening.ebv_dna_whole_blood),
        ebv_dna_plasma=num(screening.ebv_dna_plasma),
        ebna_igg_positive=screening.ebna_igg_positive,
        vca_igg_positive=screening.vca_igg_positive,
        vca_igm_positive=screening.vca_igm_positive,
        caebv_diagnosis=screening.caebv_diagnosis,
        aid_diagnosis=screening.aid_diagnosis,
        wes_pathogenic_variant=screening.wes_pathogenic_variant,
    )


def risk_input(screening: Screening, *, on: date) -> RiskInput:
    return RiskInput(
        cns_involvement=screening.cns_involvement,
        date_of_birth=screening.date_of_birth,
        on=on,
        serious_non_lab_manifestation=screening.serious_non_lab_manifestation,
        anc_10e9_l=num(screening.anc_10e9_l),
        scd25_value=num(screening.scd25_value),
        scd25_unit=scd25_unit(screening),
        ferritin_ug_l=num(screening.ferritin_ug_l),
        ifn_gamma_pg_ml=num(screening.ifn_gamma_pg_ml),
        alt_u_l=num(screening.alt_u_l),
    )


def dose_bands(site: Site) -> tuple[DoseBand, ...]:
    return tuple(
        DoseBand(
            max_weight_kg=num(band.max_weight_kg),
            dose_mg=float(band.dose_mg),
            label=band.label,
        )
        for band in dose_bands_for(trial=site.trial)
    )


# Site scoping: every list and every detail goes through these.


def screenings_visible_to(user) -> QuerySet[Screening]:
    return Screening.objects.filter(site_id__in=user_site_ids(user)).select_related("site", "patient")


def patients_visible_to(user) -> QuerySet[Patient]:
    return Patient.objects.filter(site_id__in=user_site_ids(user)).select_related("site", "screening")


def screening_get_for_user(*, user, pk: int) -> Screening:
    try:
        return screenings_visible_to(user).get(pk=pk)
    except Screening.DoesNotExist as exc:
        raise Http404("No such screening at your sites.") from exc


def patient_get_for_user(*, user, pk: int) -> Patient:
    try:
        return patients_visible_to(user).get(pk=pk)
    except Patient.DoesNotExist as exc:
        raise Http404("No such patient at your sites.") from exc


def subject_list(*, user, query: str = "", status: str = "") -> QuerySet[Screening]:
    """Everyone screened at the user's sites, enrolled or not, newest first."""
    rows = screenings_visible_to(user)
    if query:
        rows = rows.filter(
            Q(screening_number__icontains=query)
            | Q(initials__icontains=query)
            | Q(patient__subject_number__icontains=query)
        )
    if status in {Screening.Status.SCREENING, Screening.Status.SCREEN_FAILURE}:
        rows = rows.filter(status=status)
    elif status in Patient.Status.values:
        rows = rows.filter(patient__status=status)
    return rows.order_by("-screening_date", "-id")
