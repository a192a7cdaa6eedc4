"""REST API benchmark: bulk import of patients with full day 0-28 data, and list endpoints at the
cohort's size with their SQL query counts (constant whatever the page size)."""

import os
import statistics
import time
from datetime import datetime, timedelta
from datetime import time as clock

from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from api.importing import FORMAT, bundle_import
from patients.models import Patient

# The target is stated for 200 patients, which `make bench` imports (BENCH_API_IMPORT_PATIENTS
# sets another number).
IMPORT_PATIENTS = int(os.environ.get("BENCH_API_IMPORT_PATIENTS", "200"))
LAB_DAYS = {"BASE": 0, "D1": 1, "D2": 2, "D3": 3, "D4": 4, "D5": 5, "D6": 6, "D7": 7, "D14": 14, "D21": 21, "D28": 28}
LISTS = (
    "patients",
    "screenings",
    "visits",
    "lab-panels",
    "response-assessments",
    "adverse-events",
    "doses",
    "supportive-care",
    "treatment-ends",
    "subsequent-therapies",
    "follow-ups",
    "deaths",
    "queries",
)


def _screening(index: int, screened) -> dict:
    return {
        "initials": "BN",
        "sex": "MF"[index % 2],
        "date_of_birth": str(screened - timedelta(days=365 * (2 + index % 12) + 30)),
        "screening_date": str(screened),
        "weight_kg": "15.0",
        "height_cm": "100",
        "consent_date": str(screened),
        "consent_signer_initials": "MW",
        "consent_relation": "mother",
        "new_diagnosis": True,
        "prior_hlh_chemotherapy": False,
        "molecular_diagnosis": False,
        "max_temperature_c": "39.5",
        "splenomegaly": True,
        "spleen_cm": "3",
        "hemoglobin_g_l": "80",
        "anc_10e9_l": "0.8",
        "platelets_10e9_l": "45",
        "triglycerides_mmol_l": "3.5",
        "fibrinogen_g_l": "1.2",
        "hemophagocytosis": True,
        "nk_activity_pct": "20",
        "ferritin_ug_l": "3200",
        "scd25_value": "30000",
        "scd25_unit": "pg/mL",
        "cns_involvement": False,
        "serious_non_lab_manifestation": False,
        "ifn_gamma_pg_ml": "150",
        "alt_u_l": "90",
        "creatinine_umol_l": "30",
        "cirrhosis": False,
        "nyha_class": 1,
        "malignancy": False,
        "parasitic_infection": False,
        "severe_allergy_history": False,
        "corticosteroids_received": False,
        "ebv_dna_whole_blood": "25000",
        "ebv_dna_plasma": "900",
        "ebna_igg_positive": False,
        "vca_igg_positive": True,
        "vca_igm_positive": True,
        "caebv_diagnosis": False,
        "aid_diagnosis": False,
        "wes_done": True,
        "wes_pathogenic_variant": False,
    }


FOLLOW_UP_DAYS = {"FU56": 56, "FU84": 84, "FU112": 112, "FU140": 140, "FU168": 168, "FU182": 182}


def bench_bundle(
    patients: int, *, site: str = "BCH", days_ago: int = 35, lab_days: dict | None = None, prefix: str = "BENCH"
) -> dict:
    """Patients with screening, enrollment, lab panels (by default the 11 of days 0-28) and 56 doses each."""
    from trial.clock import site_today
    from trial.models import Site

    day0 = site_today(Site.objects.get(code=site)) - timedelta(days=days_ago)
    records = []
    for index in range(patients):
        labs = []
        for code, day in (lab_days or LAB_DAYS).items():
            improving = min(day, 28) / 28
            when = datetime.combine(day0 + timedelta(days=day), clock(8)).isoformat()
            labs.append(
                {
                    "visit": code,
                    "sampled_at": when,
                    "cns_symptoms": False,
                    "values": [
                        {"analyte": "TEMP", "value": f"{39.5 - 2.7 * improving:.1f}"},
                        {"analyte": "NEUT", "value": f"{0.8 + 2 * improving:.2f}"},
                        {"analyte": "PLAT", "value": f"{45 + 200 * improving:.0f}"},
                        {"analyte": "FIBRINO", "value": f"{1.2 + 1.5 * improving:.2f}"},
                        {"analyte": "SCD25", "value": f"{30000 - 26000 * improving:.0f}", "unit": "pg/mL"},
                        {"analyte": "FERRITIN", "value": f"{3200 - 3000 * improving:.0f}"},
                        {"analyte": "TRIG", "value": f"{3.5 - 2.2 * improving:.2f}"},
                        {"analyte": "SPLEEN", "value": f"{3 - 3 * improving:.1f}"},
                        {"analyte": "HGB", "value": f"{80 + 30 * improving:.0f}"},
                        {"analyte": "ALT", "value": f"{90 - 50 * improving:.0f}"},
                    ],
                }
            )
        doses = [
            {
                "treatment_day": tday,
                "slot": slot,
                "status": "given",
                "administered_at": f"{day0 + timedelta(days=tday - 1)}T{hour}:00",
                "amount_mg": "5",
            }
            for tday in range(1, 29)
            for slot, hour in (("am", "08:00"), ("pm", "20:00"))
        ]
        records.append(
            {
                "site": site,
                "screening_number": f"{prefix}-{index:05d}",
                "screening": _screening(index, day0 - timedelta(days=1)),
                "enrollment": {
                    "enrollment_date": str(day0 - timedelta(days=1)),
                    "first_dose_date": str(day0),
                    "enrollment_weight_kg": "15.0",
                    "prescribed_dose_mg": "5",
                },
                "labs": labs,
                "doses": doses,
            }
        )
    return {"format": FORMAT, "patients": records}


def _lists(client: APIClient) -> list[tuple[str, float, int, int]]:
    rows = []
    for name in LISTS:
        url = f"/api/v1/{name}/"
        timings = []
        for _ in range(7):
            started = time.perf_counter()
            response = client.get(url, {"page_size": 50})
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        counts = []
        for size in (10, 100):
            with CaptureQueriesContext(connection) as captured:
                client.get(url, {"page_size": size})
            counts.append(len(captured))
        rows.append((name, statistics.median(timings), counts[0], counts[1]))
    return rows


def run() -> list[str]:
    user, _ = User.objects.get_or_create(username="bench_api", defaults={"is_superuser": True, "is_staff": True})
    client = APIClient()
    client.force_authenticate(user)
    patients_before = Patient.objects.count()
    lists = _lists(client)
    bundle = bench_bundle(IMPORT_PATIENTS)
    started = time.perf_counter()
    result = bundle_import(bundle=bundle, user=user)
    import_s = time.perf_counter() - started
    started = time.perf_counter()
    again = bundle_import(bundle=bundle, user=user)
    reimport_s = time.perf_counter() - started
    created = result.created
    lines = [
        "## REST API and bulk import",
        "",
        "| measure | target | result |",
        "| --- | --- | --- |",
        f"| import of {IMPORT_PATIENTS} patients with full day 0-28 data ({created.get('lab_panels', 0)} lab panels, "
        f"{created.get('doses', 0)} doses), through the services, then their response assessments "
        f"| < 60 s for 200 | {import_s:.1f} s ({import_s / max(IMPORT_PATIENTS, 1):.2f} s per patient; "
        f"200 patients ≈ {200 * import_s / max(IMPORT_PATIENTS, 1):.0f} s) |",
        f"| the same bundle again (validated, nothing created: {sum(again.created.values())} records) "
        f"| — | {reimport_s:.1f} s |",
    ]
    for name, median_ms, q10, q100 in lists:
        lines.append(
            f"| GET /api/v1/{name}/ (page of 50, {patients_before} patients; median of 7) | < 200 ms "
            f"| {median_ms:.0f} ms; SQL queries at page size 10 / 100: {q10} / {q100} |"
        )
    lines.append("")
    return lines
