"""Reads for screening and patients: rule inputs from the models, and site-scoped lists."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.http import Http404

from patients.models import Death, DoseAdministration, Patient, Screening, TreatmentEnd
from patients.rules.dosing import DoseBand
from patients.rules.eligibility import EligibilityInput, EligibilityThresholds
from patients.rules.enrollment import SCREENING_WINDOW_DAYS, EnrollmentInput, EnrollmentLimits
from patients.rules.etiology import EtiologyInput
from patients.rules.hlh2004 import HLH2004Input, HLH2004Thresholds, SCD25Unit
from patients.rules.risk import RiskInput, RiskThresholds
from patients.rules.treatment import (
    MAX_SINGLE_DOSE_MG,
    CompletionCheck,
    DoseCounts,
    GivenDose,
    NextDose,
    administration_time_check,
    completion_check,
    dose_counts,
    dose_interval_problem,
    dose_neighbours,
    dose_schedule,
    next_dose,
    slot_shown,
)
from trial.analytes import ANALYTES
from trial.clock import zone_of
from trial.models import Site, VisitDefinition
from trial.rules.age import age_in_days, age_label
from trial.selectors import dose_bands_for, reference_ranges_for, user_site_ids, visit_definitions_for


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
        age_text=age_label(screening.date_of_birth, screening.screening_date),
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


def enrollment_limits(site: Site) -> EnrollmentLimits:
    """The limits of an enrollment at this site's trial (protocol sections 6, 7 and 8).

    Weight: the catalogue's physiological limits, the upper one capped by the trial's heaviest
    plausible weight. Dose: the ceiling of one dose. Window: the days before day 0 of the
    trial's screening / baseline visit.
    """
    trial = site.trial
    weight = ANALYTES["WEIGHT"]
    baseline = visit_definitions_for(trial=trial).filter(kind=VisitDefinition.Kind.BASELINE).first()
    return EnrollmentLimits(
        min_weight_kg=weight.minimum,
        max_weight_kg=min(weight.maximum, float(trial.max_weight_kg)),
        max_dose_mg=MAX_SINGLE_DOSE_MG,
        screening_window_days=baseline.window_before if baseline is not None else SCREENING_WINDOW_DAYS,
    )


def enrollment_input(
    screening: Screening,
    *,
    enrollment_date: date,
    first_dose_date: date,
    enrollment_weight_kg: Decimal,
    prescribed_dose_mg: Decimal,
) -> EnrollmentInput:
    return EnrollmentInput(
        screening_date=screening.screening_date,
        consent_date=screening.consent_date,
        enrollment_date=enrollment_date,
        first_dose_date=first_dose_date,
        enrollment_weight_kg=float(enrollment_weight_kg),
        prescribed_dose_mg=float(prescribed_dose_mg),
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


# Study drug and outcome (protocol sections 6 and 11)


@dataclass(frozen=True)
class DoseCell:
    treatment_day: int
    slot: str
    slot_label: str
    date: date
    record: DoseAdministration | None
    time_local: datetime | None  # in the site's time zone
    given_now: bool  # "Given now" would be on schedule at this moment


@dataclass(frozen=True)
class DoseRow:
    treatment_day: int
    study_day: int
    date: date
    expected_mg: Decimal
    is_today: bool
    is_future: bool
    after_end: bool  # after the recorded last dose or death: nothing to record
    cells: tuple[DoseCell, ...]


@dataclass(frozen=True)
class DoseGrid:
    rows: tuple[DoseRow, ...]
    counts: DoseCounts
    current: DoseCell | None  # the slot the "Given now" button at the top records: due now
    next: NextDose | None  # the next dose to give and when it opens; None when no dose is left to give
    stopped_on: date | None  # the recorded last dose or date of death, after which no dose is given
    short_intervals: int  # given doses flagged as less than the minimum interval from another
    today: date
    time_zone: str

    @property
    def records(self) -> list:
        """The recorded doses of the grid (their live queries are read in one statement)."""
        return [cell.record for row in self.rows for cell in row.cells if cell.record is not None]


def _treatment_stop(patient: Patient) -> date | None:
    """The last date a dose can be recorded for: the recorded last dose or the date of death."""
    stops = [
        d
        for d in (
            TreatmentEnd.objects.filter(patient=patient).values_list("last_dose_date", flat=True).first(),
            Death.objects.filter(patient=patient).values_list("date_of_death", flat=True).first(),
        )
        if d is not None
    ]
    return min(stops) if stops else None


def patient_dose_counts(patient: Patient) -> DoseCounts:
    trial = patient.site.trial
    return dose_counts(
        DoseAdministration.objects.filter(patient=patient).values_list("status", "deviation"),
        treatment_days=trial.treatment_days,
        doses_per_day=trial.doses_per_day,
    )


def dose_grid(*, patient: Patient, now: datetime) -> DoseGrid:
    """The 28 x 2 grid of scheduled doses with what was recorded, seen from the site's clock.

    "Given now" is offered for a slot that is on schedule now and not within the trial's
    minimum interval after the latest given dose; the top card shows the next dose: due
    now, or when it opens (patients.rules.treatment.next_dose).
    """
    trial = patient.site.trial
    zone = zone_of(patient.site)
    now_local = now.astimezone(zone)
    today = now_local.date()
    stop = _treatment_stop(patient)
    records = {(r.treatment_day, r.slot): r for r in DoseAdministration.objects.filter(patient=patient)}
    given = [
        GivenDose(r.treatment_day, r.slot, r.administered_at.astimezone(zone))
        for r in records.values()
        if r.status == DoseAdministration.Status.GIVEN
    ]
    previous, _ = dose_neighbours(given, now_local)
    too_soon = (
        dose_interval_problem(
            administered=now_local, previous=previous, following=None, min_interval_hours=trial.min_dose_interval_hours
        )
        is not None
    )
    schedule = dose_schedule(patient.first_dose_date, trial.treatment_days, trial.doses_per_day)
    upcoming = next_dose(
        schedule=schedule,
        recorded=records.keys(),
        latest_given=max((g.at for g in given), default=None, key=lambda at: at.timestamp()),
        now=now_local,
        min_interval_hours=trial.min_dose_interval_hours,
        last_date=stop,
    )
    by_day: dict[int, list[DoseCell]] = {}
    dates: dict[int, date] = {}
    for scheduled in schedule:
        record = records.get((scheduled.treatment_day, scheduled.slot))
        open_slot = record is None and (stop is None or scheduled.date <= stop)
        given_now = (
            open_slot
            and not too_soon
            and administration_time_check(
                scheduled=scheduled, administered_local=now_local.replace(tzinfo=None)
            ).on_schedule
        )
        by_day.setdefault(scheduled.treatment_day, []).append(
            DoseCell(
                treatment_day=scheduled.treatment_day,
                slot=scheduled.slot,
                slot_label=slot_shown(scheduled.slot).capitalize(),
                date=scheduled.date,
                record=record,
                time_local=record.administered_at.astimezone(zone) if record and record.administered_at else None,
                given_now=given_now,
            )
        )
        dates[scheduled.treatment_day] = scheduled.date
    rows = tuple(
        DoseRow(
            treatment_day=day,
            study_day=day - 1,
            date=dates[day],
            expected_mg=next((c.record.expected_mg for c in cells if c.record), patient.expected_dose_mg),
            is_today=dates[day] == today,
            is_future=dates[day] > today,
            after_end=stop is not None and dates[day] > stop,
            cells=tuple(cells),
        )
        for day, cells in by_day.items()
    )
    current = None
    if upcoming is not None and upcoming.due:
        key = (upcoming.scheduled.treatment_day, upcoming.scheduled.slot)
        current = next((c for row in rows for c in row.cells if (c.treatment_day, c.slot) == key), None)
    return DoseGrid(
        rows=rows,
        counts=dose_counts(
            ((r.status, r.deviation) for r in records.values()),
            treatment_days=trial.treatment_days,
            doses_per_day=trial.doses_per_day,
        ),
        current=current,
        next=upcoming,
        stopped_on=stop,
        short_intervals=sum(r.short_interval for r in records.values()),
        today=today,
        time_zone=patient.site.time_zone,
    )


def treatment_completion(patient: Patient) -> CompletionCheck | None:
    end = TreatmentEnd.objects.filter(patient=patient).first()
    if end is None:
        return None
    return completion_check(patient.first_dose_date, end.last_dose_date, patient.site.trial.treatment_days)
