"""Timings of the PDF documents and the CSV export against the benchmark cohort (bench.cohort).

`run()` expects the cohort to exist; it completes one patient's record to day 182 (follow-up
visits with labs, 56 doses), renders that casebook and the blank CRF book, and streams the
CSV zip of every patient, reporting the process peak resident memory.
"""

import resource
import tempfile
import time
from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model

from assessments.models import LabPanel, LabResult, Visit
from exports.documents import document_render, document_request
from exports.tabular import csv_zip_stream
from patients.models import DoseAdministration, Patient
from trial.models import Site


def _complete_to_day_182(patient: Patient) -> None:
    """Labs at every visit up to day 182 and the full twice-daily dose log."""
    zone = ZoneInfo(patient.site.time_zone)
    template = list(LabResult.objects.filter(patient=patient).order_by("-sampled_at", "analyte")[:14])
    for visit in Visit.objects.filter(patient=patient, lab_panel__isnull=True, planned_date__isnull=False):
        sampled = datetime.combine(visit.planned_date, clock(8), tzinfo=zone)
        Visit.objects.filter(pk=visit.pk).update(visit_date=visit.planned_date)
        panel = LabPanel.objects.create(patient=patient, visit=visit, sampled_at=sampled, cns_symptoms=False)
        LabResult.objects.bulk_create(
            LabResult(panel=panel, patient=patient, analyte=r.analyte, value=r.value, unit=r.unit, sampled_at=sampled)
            for r in template
        )
    doses = []
    for day in range(1, 29):
        for slot, hour in (("am", 8), ("pm", 20)):
            given = datetime.combine(patient.first_dose_date + timedelta(days=day - 1), clock(hour), tzinfo=zone)
            doses.append(
                DoseAdministration(
                    patient=patient,
                    treatment_day=day,
                    slot=slot,
                    status="given",
                    administered_at=given,
                    amount_mg=patient.prescribed_dose_mg,
                    expected_mg=patient.prescribed_dose_mg,
                )
            )
    DoseAdministration.objects.bulk_create(doses, ignore_conflicts=True)


def _render(kind: str, user, patient=None) -> tuple[float, int]:
    started = time.perf_counter()
    document = document_render(document_id=document_request(kind=kind, user=user, patient=patient).pk)
    elapsed = time.perf_counter() - started
    from pypdf import PdfReader

    pages = len(PdfReader(f"{settings.MEDIA_ROOT}/{document.file_path}").pages)
    return elapsed, pages


def run() -> list[str]:
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="bench-exports-")
    user, _ = get_user_model().objects.get_or_create(username="bench_exports", defaults={"is_superuser": True})
    patient = Patient.objects.select_related("site").order_by("id").first()
    _complete_to_day_182(patient)
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
        f"({LabPanel.objects.filter(patient=patient).count()} lab panels, 56 doses); rendered directly by the "
        "service the Celery task calls (WeasyPrint). CSV export: every patient of the cohort, streamed zip, "
        "peak memory is the process's peak resident set (resource.getrusage), an upper bound that includes "
        "building the cohort and rendering the PDFs in the same process.",
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
