"""Demo users (one per role) and a handful of screened and enrolled children.

Idempotent: running it again changes nothing. Used by `make run`; never run on a real study.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from assessments.models import Visit
from assessments.services.labs import Measurement, lab_panel_save
from assessments.services.responses import response_assess_patient
from patients.models import Screening
from patients.services import patient_enroll, screening_create
from trial.models import Role, Site, SiteMembership

DEMO_PASSWORD = "rux-demo-2026"
DEMO_USERS = [
    ("clinician", "Li", "Wei", Role.CLINICIAN),
    ("coordinator", "Chen", "Jing", Role.COORDINATOR),
    ("monitor", "Anna", "Berg", Role.MONITOR),
    ("datamanager", "Omar", "Haddad", Role.DATA_MANAGER),
]

ELIGIBLE_BASE = dict(
    new_diagnosis=True,
    prior_hlh_chemotherapy=False,
    molecular_diagnosis=False,
    splenomegaly=True,
    hemophagocytosis=True,
    cns_involvement=False,
    cirrhosis=False,
    nyha_class=1,
    malignancy=False,
    parasitic_infection=False,
    severe_allergy_history=False,
    corticosteroids_received=False,
    scd25_unit="pg/mL",
    consent_relation="mother",
    consent_signer_initials="MW",
    wes_done=True,
    wes_pathogenic_variant=False,
)

# (initials, sex, age in days, weight kg, findings): values in the range the published cohort reports.
DEMO_CHILDREN = [
    (
        "ZXY",
        "M",
        365 * 3 + 40,
        "14.5",
        dict(
            max_temperature_c="39.6",
            spleen_cm="3.0",
            hemoglobin_g_l="78",
            anc_10e9_l="0.6",
            platelets_10e9_l="42",
            triglycerides_mmol_l="3.4",
            fibrinogen_g_l="1.2",
            ferritin_ug_l="4820",
            scd25_value="31200",
            nk_activity_pct="12.1",
            ifn_gamma_pg_ml="215",
            alt_u_l="236",
            ebv_dna_whole_blood="56000",
            ebv_dna_plasma="3200",
            ebna_igg_positive=False,
            vca_igg_positive=True,
            vca_igm_positive=True,
            serious_non_lab_manifestation=False,
        ),
    ),
    (
        "LHM",
        "F",
        365 * 8 + 100,
        "24.0",
        dict(
            max_temperature_c="39.1",
            spleen_cm="2.0",
            hemoglobin_g_l="88",
            anc_10e9_l="1.4",
            platelets_10e9_l="71",
            triglycerides_mmol_l="2.1",
            fibrinogen_g_l="1.4",
            ferritin_ug_l="1260",
            scd25_value="12400",
            nk_activity_pct="18.0",
            ifn_gamma_pg_ml="35",
            alt_u_l="88",
            ebv_dna_whole_blood="0",
            ebv_dna_plasma="0",
            aid_diagnosis=False,
            serious_non_lab_manifestation=False,
        ),
    ),
    (
        "WQ",
        "M",
        365 + 200,
        "10.0",
        dict(
            max_temperature_c="40.1",
            spleen_cm="4.5",
            hemoglobin_g_l="72",
            anc_10e9_l="0.4",
            platelets_10e9_l="23",
            triglycerides_mmol_l="4.6",
            fibrinogen_g_l="0.9",
            ferritin_ug_l="12600",
            scd25_value="44000",
            nk_activity_pct="9.4",
            ifn_gamma_pg_ml="410",
            alt_u_l="312",
            ebv_dna_whole_blood="820000",
            ebv_dna_plasma="14000",
            ebna_igg_positive=True,
            vca_igg_positive=True,
            vca_igm_positive=True,
            serious_non_lab_manifestation=True,
        ),
    ),
]


# Marker values at days 3, 7, 14 (TEMP, NEUT, PLAT, FIBRINO, SCD25, FERRITIN, TRIG, SPLEEN, CNS abnormal):
# the first child reaches CR by day 7, the second improves, the third does not respond.
DEMO_COURSES = [
    {
        3: ("37.9", "0.9", "70", "1.6", "15000", "2100", "2.4", "2", False),
        7: ("36.8", "1.6", "160", "2.3", "5200", "420", "1.5", "0", False),
        14: ("36.6", "2.4", "240", "2.6", "3900", "210", "1.2", "0", False),
    },
    {
        3: ("38.6", "1.2", "80", "1.5", "11000", "1100", "2.0", "2", False),
        7: ("37.2", "1.8", "140", "1.9", "5600", "560", "1.9", "1", False),
    },
    {
        3: ("39.4", "0.4", "25", "0.9", "46000", "13000", "4.4", "4.5", False),
    },
]
MARKER_CODES = (
    ("TEMP", "°C"),
    ("NEUT", "10^9/L"),
    ("PLAT", "10^9/L"),
    ("FIBRINO", "g/L"),
    ("SCD25", "pg/mL"),
    ("FERRITIN", "µg/L"),
    ("TRIG", "mmol/L"),
    ("SPLEEN", "cm"),
)


class Command(BaseCommand):
    help = "Create demo users (one per role) and demo patients; safe to run twice."

    @transaction.atomic
    def handle(self, *args, **options):
        site = Site.objects.get(code="BCH")
        for username, first, last, role in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"first_name": first, "last_name": last}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            user.groups.add(Group.objects.get(name=role.value))
            SiteMembership.objects.get_or_create(user=user, site=site)
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@localhost", DEMO_PASSWORD)
        if Screening.objects.filter(site=site).exists():
            return
        clinician = User.objects.get(username="clinician")
        today = timezone.localdate()
        for index, (initials, sex, age_days, weight, findings) in enumerate(DEMO_CHILDREN):
            screened = today - timedelta(days=40 - index * 12)
            data = {
                **ELIGIBLE_BASE,
                **{k: (Decimal(v) if isinstance(v, str) else v) for k, v in findings.items()},
                "initials": initials,
                "sex": sex,
                "date_of_birth": screened - timedelta(days=age_days),
                "screening_date": screened,
                "consent_date": screened,
                "weight_kg": Decimal(weight),
                "height_cm": Decimal("95") + index * 20,
                "creatinine_umol_l": Decimal("32"),
            }
            screening = screening_create(site=site, data=data, user=clinician)
            band = {"10.0": "2.5", "14.5": "5", "24.0": "10"}[weight]
            patient = patient_enroll(
                screening_id=screening.pk,
                enrollment_date=screened + timedelta(days=1),
                first_dose_date=screened + timedelta(days=2),
                weight_kg=Decimal(weight),
                prescribed_dose_mg=Decimal(band),
                user=clinician,
            )
            self._labs(patient, DEMO_COURSES[index], clinician, today)
        # A screen failure (prior etoposide) and a screening still missing data.
        failed = {
            **ELIGIBLE_BASE,
            **{k: (Decimal(v) if isinstance(v, str) else v) for k, v in DEMO_CHILDREN[0][4].items()},
        }
        screening_create(
            site=site,
            data={
                **failed,
                "initials": "SF",
                "sex": "F",
                "date_of_birth": today - timedelta(days=2000),
                "screening_date": today - timedelta(days=3),
                "consent_date": today - timedelta(days=3),
                "weight_kg": Decimal("18"),
                "prior_hlh_chemotherapy": True,
            },
            user=clinician,
        )
        screening_create(
            site=site,
            data={
                "initials": "PD",
                "sex": "M",
                "date_of_birth": today - timedelta(days=900),
                "screening_date": today,
                "weight_kg": Decimal("12.2"),
                "max_temperature_c": Decimal("39.0"),
                "ferritin_ug_l": Decimal("2300"),
            },
            user=clinician,
        )
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))

    def _labs(self, patient, course, user, today):
        for day, row in course.items():
            visit = Visit.objects.get(patient=patient, definition__code=f"D{day}")
            when = timezone.make_aware(datetime.combine(patient.first_dose_date + timedelta(days=day), time(8)))
            if when.date() > today:
                continue
            values = {
                code: Measurement(value=Decimal(value), unit=unit, sampled_at=when)
                for (code, unit), value in zip(MARKER_CODES, row[:-1], strict=True)
            }
            lab_panel_save(
                visit=visit,
                sampled_at=when,
                values=values,
                panel_data={"cns_symptoms": row[-1]},
                user=user,
                today=today,
            )
        response_assess_patient(patient_id=patient.pk, today=today)
