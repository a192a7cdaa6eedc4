"""The recompute task crosses the queue: a real Celery worker on the Redis at 127.0.0.1."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from config.celery import app
from patients.models import Patient
from patients.services import patient_enroll, screening_create, screening_update
from patients.tasks import patient_derived_recompute_task
from tests.conftest import SCREENING_DAY, eligible_data

# serialized_rollback restores the seeded trial that the flush after a transactional test removes.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.worker]


@pytest.fixture(scope="module")
def worker():
    # One worker thread for the module: starting and stopping one costs seconds.
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "make test sets REDIS_URL"
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as running:
            yield running
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


def wait_for(predicate, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_baseline_correction_is_recomputed_by_the_worker_after_commit(worker, site_a, clinician):
    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    patient = patient_enroll(
        screening_id=screening.pk,
        enrollment_date=SCREENING_DAY,
        first_dose_date=SCREENING_DAY + timedelta(days=1),
        enrollment_weight_kg=Decimal("15"),
        prescribed_dose_mg=Decimal("5"),
        user=clinician,
    )
    assert patient.risk_group == "high"
    screening.refresh_from_db()  # enrollment moved the screening to its next version
    screening_update(
        screening_id=screening.pk,
        data={"scd25_value": Decimal("9000"), "ferritin_ug_l": Decimal("1500"), "ifn_gamma_pg_ml": Decimal("20")},
        expected_version=screening.version,
        user=clinician,
        reason_for_change="Lab report corrected",
    )
    assert wait_for(lambda: Patient.objects.get(pk=patient.pk).risk_group == "low")
    patient.refresh_from_db()
    assert patient.history.order_by("-history_date").first().history_change_reason.startswith("Recomputed")


def test_running_the_task_twice_stores_one_result(worker, site_a, clinician):
    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    patient = patient_enroll(
        screening_id=screening.pk,
        enrollment_date=SCREENING_DAY,
        first_dose_date=SCREENING_DAY + timedelta(days=1),
        enrollment_weight_kg=Decimal("15"),
        prescribed_dose_mg=Decimal("5"),
        user=clinician,
    )
    rows = patient.history.count()
    first = patient_derived_recompute_task.delay(patient.pk).get(timeout=20)
    second = patient_derived_recompute_task.delay(patient.pk).get(timeout=20)
    assert (first, second) == (False, False)
    assert Patient.objects.get(pk=patient.pk).history.count() == rows


def test_beat_sweep_assesses_patients_through_the_worker(worker, site_a, clinician):
    """The beat task queues one assessment per patient; the worker stores the results."""
    from assessments.models import ResponseAssessment
    from assessments.tasks import response_sweep_task
    from tests.conftest import DAY0, enroll_child

    first = enroll_child(site_a, clinician, initials="AA")
    second = enroll_child(site_a, clinician, initials="BB")
    # Both children reached day 3 long ago (day 0 is in March 2026): every assessment day is due.
    queued = response_sweep_task.delay().get(timeout=30)
    assert queued == 2
    assert wait_for(
        lambda: ResponseAssessment.objects.filter(patient__in=[first, second]).count() == 2 * 10, 60
    )  # days 3, 7, 14, 28 and six follow-ups
    assert set(ResponseAssessment.objects.values_list("computed_status", flat=True)) == {"not_assessable"}
    assert DAY0 < ResponseAssessment.objects.order_by("-study_day").first().assessment_date


def test_a_requested_pdf_is_rendered_by_the_worker(worker, site_a, clinician, settings, tmp_path):
    """The page only queues the document; the worker renders it, with progress, checksum and file."""
    from pathlib import Path

    from pypdf import PdfReader

    from exports.documents import document_request
    from exports.models import GeneratedDocument
    from tests.conftest import enroll_child

    settings.MEDIA_ROOT = str(tmp_path)
    patient = enroll_child(site_a, clinician, initials="PD")
    document = document_request(kind="casebook", user=clinician, patient=patient)  # queued after commit
    assert wait_for(lambda: GeneratedDocument.objects.get(pk=document.pk).status == "done", 90)
    document.refresh_from_db()
    assert document.progress == 100 and len(document.sha256) == 64
    reader = PdfReader(Path(tmp_path) / document.file_path)
    assert f"Subject {patient.subject_number}" in reader.pages[0].extract_text()
    assert not list(Path(tmp_path, "exports").glob(".render-*"))  # no temporary file left behind
