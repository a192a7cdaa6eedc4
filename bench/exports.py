"""Timings of the PDF documents and the CSV export against the benchmark cohort (bench.cohort).

`run()` expects the cohort to exist; it imports one more patient with every visit to day 182
(labs, 56 doses) through the services, renders that casebook (audit trail included) and the
blank CRF book, and streams the CSV zip of every patient, reporting the process peak resident
memory.
"""

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model

from assessments.models import LabPanel, LabResult
from exports.documents import document_request
from exports.tabular import csv_zip_stream
from patients.models import Patient
from trial.models import Site


def _patient_through_day_182(user) -> Patient:
    """A patient with every visit's labs to day 182 and the 56 doses, entered through the bulk
    import (the services, so every value has its audit trail), one value corrected with a reason."""
    from api.importing import bundle_import
    from assessments.services.labs import Measurement, lab_panel_save
    from bench.api import FOLLOW_UP_DAYS, LAB_DAYS, bench_bundle

    bundle = bench_bundle(1, days_ago=190, lab_days={**LAB_DAYS, **FOLLOW_UP_DAYS}, prefix="CASEBOOK")
    result = bundle_import(bundle=bundle, user=user)
    patient = Patient.objects.select_related("site").get(pk=result.patient_ids[0])
    panel = LabPanel.objects.select_related("visit").get(patient=patient, visit__definition__code="D7")
    value = panel.results.get(analyte="FERRITIN")
    lab_panel_save(
        visit=panel.visit,
        sampled_at=panel.sampled_at,
        values={"FERRITIN": Measurement(value.value + 10, value.unit, value.sampled_at)},
        panel_data={},
        user=user,
        expected_version=panel.version,
        reason_for_change="Transcription error",
    )
    return patient


def _render(kind: str, user, patient=None) -> tuple[float, int]:
    """Seconds and pages of one document rendered by the service the Celery task calls, in a
    fresh process as in a worker."""
    from pypdf import PdfReader

    document = document_request(kind=kind, user=user, patient=patient)
    out = subprocess.run(
        [sys.executable, "-m", "bench.render_one", str(document.pk), str(settings.MEDIA_ROOT)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["seconds"], len(PdfReader(f"{settings.MEDIA_ROOT}/{result['file']}").pages)


def run() -> list[str]:
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="bench-exports-")
    user, _ = get_user_model().objects.get_or_create(username="bench_exports", defaults={"is_superuser": True})
    patient = _patient_through_day_182(user)
    from audit.selectors import patient_trail

    audit_entries = len(patient_trail(patient=patient, limit=100_000))
    casebook_s, casebook_pages = _render("casebook", user, patient)
    blank_s, blank_pages = _render("blank_book", user)

    site_ids = set(Site.objects.values_list("id", flat=True))
    patients = Patient.objects.count()
    results = LabResult.objects.count()
    started = time.perf_counter()
    size = sum(len(chunk) for chunk in csv_zip_stream(site_ids=site_ids))
    csv_s = time.perf_counter() - started
    # The process's peak resident memory so far: an upper bound of the export's own peak.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return [
        "## PDF and exports",
        "",
        f"Casebook: patient {patient.subject_number} with day 0-182 data "
        f"({LabPanel.objects.filter(patient=patient).count()} lab panels, 56 doses, entered through the bulk "
        f"import so that its audit trail of {audit_entries} entries is printed too); rendered directly by the "
        "service the Celery task calls (WeasyPrint), in a fresh process as in a worker. CSV export: every "
        "patient of the cohort, streamed zip; peak memory is the process's peak resident set "
        "(resource.getrusage), an upper bound that includes building the cohort in the same process.",
        "",
        "| measure | target | result |",
        "| --- | --- | --- |",
        f"| casebook of a patient with full day 0-182 data | < 10 s | {casebook_s:.1f} s ({casebook_pages} pages) |",
        f"| blank CRF book | < 5 s | {blank_s:.1f} s ({blank_pages} pages) |",
        f"| CSV zip of {patients} patients ({results} lab values) | < 30 s | {csv_s:.1f} s "
        f"({size / 2**20:.1f} MiB zip) |",
        f"| peak memory of the process, CSV export included (ru_maxrss) | < 500 MB | {peak / 2**20:.0f} MiB |",
        "",
    ]
