"""A synthetic cohort with full day 0-28 data, written with bulk inserts.

The benchmarks time the services that read this data, not its creation, so rows are
inserted directly (no history rows); the values follow plausible HLH courses.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction

from assessments.models import LabPanel, LabResult, Visit
from patients.models import Patient, Screening
from trial.models import Site, VisitDefinition

UNSCHEDULED_DAYS = (10, 17, 24, 26)
BATCH = 5000

# Baseline values of a child with florid HLH and the units they are stored in.
BASELINE = {
    "TEMP": (39.5, "°C"),
    "NEUT": (0.5, "10^9/L"),
    "PLAT": (40.0, "10^9/L"),
    "FIBRINO": (1.0, "g/L"),
    "SCD25": (30000.0, "pg/mL"),
    "FERRITIN": (4000.0, "µg/L"),
    "TRIG": (3.6, "mmol/L"),
    "SPLEEN": (4.0, "cm"),
    "HGB": (78.0, "g/L"),
    "WBC": (1.8, "10^9/L"),
    "ALT": (120.0, "U/L"),
    "AST": (180.0, "U/L"),
    "BILI": (30.0, "µmol/L"),
    "CREAT": (30.0, "µmol/L"),
}
NORMAL = {
    "TEMP": 36.8,
    "NEUT": 2.5,
    "PLAT": 220.0,
    "FIBRINO": 2.6,
    "SCD25": 3000.0,
    "FERRITIN": 250.0,
    "TRIG": 1.2,
    "SPLEEN": 0.0,
    "HGB": 115.0,
    "WBC": 6.0,
    "ALT": 30.0,
    "AST": 35.0,
    "BILI": 10.0,
    "CREAT": 30.0,
}


@dataclass(frozen=True)
class Cohort:
    patients: int
    panels: int
    results: int
    day0: date


def _value(code: str, day: int, course: str, rng: random.Random) -> float:
    """A marker on a study day: responders normalise by day 7-14, others stay or worsen."""
    base, normal = BASELINE[code][0], NORMAL[code]
    if day <= 0:
        fraction = 0.0
    elif course == "responder":
        fraction = min(1.0, day / 8)
    elif course == "partial":
        fraction = min(0.7, day / 14)
    elif course == "progressor":
        fraction = -min(1.0, day / 10)
    else:
        fraction = 0.1
    value = base + (normal - base) * fraction
    value *= rng.uniform(0.95, 1.05)
    if code == "SPLEEN":
        value = max(0.0, round(value if fraction < 0.95 else 0.0, 1))
    return max(0.0, round(value, 2))


def cohort_create(*, patients: int, day0: date, seed: int = 7) -> Cohort:
    """Screen, enroll and fill days 0-28 for `patients` children at the first site."""
    rng = random.Random(seed)
    site = Site.objects.order_by("id").first()
    zone = ZoneInfo(site.time_zone)
    definitions = list(VisitDefinition.objects.filter(trial=site.trial))
    courses = ("responder", "responder", "partial", "non_responder", "progressor")
    with transaction.atomic():
        start = site.last_subject_sequence
        screenings = Screening.objects.bulk_create(
            [
                Screening(
                    site=site,
                    screening_number=f"{site.code}-B{start + i + 1:05d}",
                    status=Screening.Status.ENROLLED,
                    initials="BN",
                    date_of_birth=day0 - timedelta(days=365 * rng.randint(1, 14)),
                    sex=rng.choice("MF"),
                    screening_date=day0 - timedelta(days=1),
                    weight_kg=Decimal("18.0"),
                    consent_date=day0 - timedelta(days=1),
                    max_temperature_c=Decimal("39.5"),
                    splenomegaly=True,
                    spleen_cm=Decimal("4"),
                    anc_10e9_l=Decimal("0.5"),
                    platelets_10e9_l=Decimal("40"),
                    fibrinogen_g_l=Decimal("1.0"),
                    ferritin_ug_l=Decimal("4000"),
                    triglycerides_mmol_l=Decimal("3.6"),
                    scd25_value=Decimal("30000"),
                    scd25_unit="pg/mL",
                    cns_involvement=False,
                    eligibility="eligible",
                )
                for i in range(patients)
            ],
            batch_size=BATCH,
        )
        created = Patient.objects.bulk_create(
            [
                Patient(
                    screening=s,
                    site=site,
                    subject_number=f"{site.code}-{start + i + 1:05d}",
                    enrollment_date=day0,
                    first_dose_date=day0,
                    enrollment_weight_kg=Decimal("18.0"),
                    prescribed_dose_mg=Decimal("5"),
                    expected_dose_mg=Decimal("5"),
                    dose_band_label="> 10 kg and ≤ 20 kg",
                    etiology="ebv",
                    ebv_subtype="first_infection",
                    risk_group=rng.choice(["high", "low"]),
                )
                for i, s in enumerate(screenings)
            ],
            batch_size=BATCH,
        )
        site.last_subject_sequence = start + patients
        site.save(update_fields=["last_subject_sequence"])
        visits = []
        for patient in created:
            for d in definitions:
                visits.append(
                    Visit(
                        patient=patient,
                        definition=d,
                        name=d.name,
                        planned_day=d.day,
                        planned_date=day0 + timedelta(days=d.day),
                        window_start=day0 + timedelta(days=d.day - d.window_before),
                        window_end=day0 + timedelta(days=d.day + d.window_after),
                        visit_date=day0 + timedelta(days=d.day) if d.day <= 28 else None,
                    )
                )
            for day in UNSCHEDULED_DAYS:
                visits.append(
                    Visit(
                        patient=patient,
                        name=f"Unscheduled (day {day})",
                        planned_day=day,
                        visit_date=day0 + timedelta(days=day),
                        unscheduled=True,
                        reason="Benchmark",
                    )
                )
        visits = Visit.objects.bulk_create(visits, batch_size=BATCH)
        panels = [
            LabPanel(
                patient_id=v.patient_id,
                visit=v,
                sampled_at=datetime.combine(v.visit_date, time(8), tzinfo=zone),
                cns_symptoms=False,
            )
            for v in visits
            if v.visit_date is not None
        ]
        panels = LabPanel.objects.bulk_create(panels, batch_size=BATCH)
        course_of = {p.pk: courses[i % len(courses)] for i, p in enumerate(created)}
        results = []
        for panel in panels:
            day = (panel.sampled_at.astimezone(zone).date() - day0).days
            for code, (_, unit) in BASELINE.items():
                results.append(
                    LabResult(
                        panel=panel,
                        patient_id=panel.patient_id,
                        analyte=code,
                        value=Decimal(str(_value(code, day, course_of[panel.patient_id], rng))),
                        unit=unit,
                        sampled_at=panel.sampled_at,
                    )
                )
            if len(results) >= BATCH * 4:
                LabResult.objects.bulk_create(results, batch_size=BATCH)
                results = []
        LabResult.objects.bulk_create(results, batch_size=BATCH)
    return Cohort(
        patients=patients,
        panels=len(panels),
        results=LabResult.objects.count(),
        day0=day0,
    )
