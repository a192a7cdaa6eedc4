"""Nothing lost when parts fail: a real worker, a broker stopped and restarted, a worker killed
mid-job, a row lock held by another writer, and saves racing the recompute worker.

The broker is a Redis server of this module's own (on a free port of 127.0.0.1), so it can be
stopped and started again without touching the one the rest of the suite uses; the worker is a
real `celery worker` process on it, sharing the test database (transactional tests: data are
committed where the worker can read them).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from api.models import ImportJob
from assessments.models import LabPanel, ResponseAssessment, Visit
from config.celery import app
from crf.models import QueuedTask
from exports.models import GeneratedDocument
from patients.models import Patient
from tests.conftest import DAY0, enroll_child

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.worker]

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
CELERY_WORKER = [sys.executable, "-m", "celery", "-A", "config.celery", "worker", "-P", "solo", "-l", "WARNING"]
CELERY_WORKER += ["--without-heartbeat", "--without-mingle", "--without-gossip"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, seconds=30.0, step=0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


class Broker:
    """A Redis server of the module's own, stopped and started at will."""

    def __init__(self):
        self.port = free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - a fixed local command
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_for(self.up, 10), "the module's Redis did not start"

    def up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
        assert wait_for(lambda: not self.up(), 10)


class Worker:
    """A real Celery worker process on the module's broker and the test database."""

    def __init__(self, broker: Broker, media_root: Path):
        self.broker, self.media_root, self.process = broker, media_root, None

    def start(self) -> None:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "REDIS_URL": self.broker.url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "MEDIA_ROOT": str(self.media_root),
            "JOB_STALE_SECONDS": str(settings.JOB_STALE_SECONDS),
        }
        self.process = subprocess.Popen(  # noqa: S603 - the project's own worker
            [*CELERY_WORKER, "-n", f"faults-{os.getpid()}@%h"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill(self) -> None:
        """kill -9: no chance to finish, acknowledge or clean up."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def broker():
    running = Broker()
    running.start()
    before = (app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager = running.url, None, False
    _reset_producers()
    yield running
    running.stop()
    app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager = before
    _reset_producers()


def _reset_producers() -> None:
    # The app keeps its connection pool: a new broker URL needs new connections.
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def worker(broker, media, settings):
    settings.JOB_STALE_SECONDS = 4
    running = Worker(broker, media)
    running.start()
    yield running
    running.stop()


def save_labs(client: Client, patient: Patient, code: str, day: int, *, ferritin: str = "1800", reason: str = ""):
    visit = Visit.objects.get(patient=patient, definition__code=code)
    when = DAY0 + timedelta(days=day)
    data = {
        "visit_date": when.isoformat(),
        "sampled_at": f"{when}T08:00",
        "v_TEMP": "38.4",
        "v_NEUT": "0.8",
        "v_PLAT": "60",
        "v_FIBRINO": "1.3",
        "v_SCD25": "20000",
        "v_FERRITIN": ferritin,
        "v_TRIG": "3.1",
        "v_SPLEEN": "3",
        "cns_symptoms": "False",
    }
    panel = LabPanel.objects.filter(visit=visit).first()
    if panel is not None:
        data.update(version=str(panel.version), reason_for_change=reason or "Lab sheet re-read")
    return client.post(reverse("lab_panel_edit", args=[visit.pk]), data)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_work_queued_while_the_broker_is_down_is_done_when_it_is_back(
    broker, worker, site_a, clinician, media, settings
):
    patient = enroll_child(site_a, clinician)
    client = logged_in(clinician)
    assert save_labs(client, patient, "BASE", 0).status_code == 302
    assert wait_for(lambda: ResponseAssessment.objects.filter(patient=patient).exists(), 60)

    broker.stop()
    # A correction of day 3's labs while the broker is down: saved, audited, no 500.
    response = save_labs(client, patient, "D3", 3, ferritin="400")
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert LabPanel.objects.filter(visit__patient=patient, visit__definition__code="D3").exists()
    pending = QueuedTask.objects.filter(key=f"response:{patient.pk}", sent_at__isnull=True)
    assert pending.exists() and "Error" in pending.first().last_error
    # The pages say so instead of failing; a casebook asked for now waits in the outbox.
    page = client.get(reverse("patient_responses", args=[patient.pk]))
    assert page.status_code == 200 and 'id="recompute-pending"' in page.content.decode()
    assert client.get(reverse("study_report")).status_code == 200
    asked = client.post(reverse("document_generate", args=[patient.pk]), {"kind": "casebook"})
    assert asked.status_code == 302
    document = GeneratedDocument.objects.get(patient=patient)
    assert document.status == "queued"

    broker.start()
    # Celery beat's flush (every minute) hands the waiting work to the worker once it is back.
    from crf.outbox import outbox_deliver

    assert outbox_deliver() >= 2
    assert wait_for(
        lambda: ResponseAssessment.objects.filter(patient=patient, visit__definition__code="D3").exists(), 60
    )
    assert wait_for(lambda: GeneratedDocument.objects.get(pk=document.pk).status == "done", 120)
    assert not QueuedTask.objects.filter(sent_at__isnull=True).exists()
    page = client.get(reverse("patient_responses", args=[patient.pk])).content.decode()
    assert 'id="recompute-pending"' not in page


def test_an_import_asked_for_while_the_broker_is_down_runs_when_it_is_back(broker, worker, site_a, clinician):
    from rest_framework.test import APIClient

    from tests.review.test_refused_writes import patient_bundle

    api = APIClient()
    api.force_authenticate(clinician)
    broker.stop()
    response = api.post("/api/v1/imports/", patient_bundle(), format="json")
    assert response.status_code == 202, response.content
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert job.status == "pending"
    broker.start()
    from crf.outbox import outbox_deliver

    outbox_deliver()
    assert wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == "succeeded", 120)
    assert Patient.objects.filter(screening__site=site_a).count() == 1


def test_a_worker_killed_while_rendering_is_noticed_and_the_casebook_rendered_again(
    broker, worker, site_a, clinician, media
):
    from tests.exports.conftest import build_patient

    patient = build_patient(site_a, clinician, through_day=60)
    client = logged_in(clinician)
    client.post(reverse("document_generate", args=[patient.pk]), {"kind": "casebook"})
    document = GeneratedDocument.objects.get(patient=patient)
    assert wait_for(lambda: GeneratedDocument.objects.get(pk=document.pk).status == "rendering", 60, 0.05)
    worker.kill()
    document.refresh_from_db()
    assert document.status == "rendering"  # as the dead worker left it
    worker.start()  # a new worker, as a supervisor would start
    # The progress bar's poll notices the lost render once the heartbeat is stale, and queues it again.
    assert wait_for(lambda: "stopped" in client.get(reverse("document_status", args=[document.pk])).json()["note"], 30)
    assert wait_for(lambda: GeneratedDocument.objects.get(pk=document.pk).status == "done", 180)
    document.refresh_from_db()
    assert document.attempts == 2 and (media / document.file_path).is_file()
    status = client.get(reverse("document_status", args=[document.pk])).json()
    assert status["progress"] == 100 and "rendering again (attempt 2 of 3)" in status["note"]


def test_baseline_then_day3_back_to_back_never_deadlocks_with_the_recompute_worker(broker, worker, site_a, clinician):
    """Each save queues a recomputation that the worker runs at once, against the next save."""
    patients = [enroll_child(site_a, clinician, initials=f"D{i}A") for i in range(6)]
    client = logged_in(clinician)
    for patient in patients:
        assert save_labs(client, patient, "BASE", 0).status_code == 302
        assert save_labs(client, patient, "D3", 3).status_code == 302
    # And two writers of one patient at once, with the worker recomputing between them.
    target = patients[0]
    results = []

    def write(code, day):
        try:
            results.append(save_labs(logged_in(clinician), target, code, day).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=args) for args in (("D7", 7), ("D14", 14))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [302, 302]
    assert LabPanel.objects.filter(visit__patient__in=patients).count() == 6 * 2 + 2
    assert wait_for(lambda: not QueuedTask.objects.filter(sent_at__isnull=True).exists(), 30)
    assert wait_for(
        lambda: ResponseAssessment.objects.filter(patient=target, visit__definition__code="D14").exists(), 60
    )


def test_a_writer_held_up_by_a_row_lock_gets_a_503_and_reads_go_on(site_a, clinician):
    patient = enroll_child(site_a, clinician)
    held, release = threading.Event(), threading.Event()

    def hold_the_patient_row():
        with transaction.atomic():
            Patient.objects.select_for_update().get(pk=patient.pk)
            held.set()
            release.wait(30)
        connections.close_all()

    holder = threading.Thread(target=hold_the_patient_row)
    holder.start()
    try:
        assert held.wait(10)
        client = logged_in(clinician)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")  # the test's own connection: a short wait
        started = time.monotonic()
        response = save_labs(client, patient, "BASE", 0)
        waited = time.monotonic() - started
        assert response.status_code == 503, response.content.decode()[-2000:]
        assert response["Retry-After"] == "5"
        assert "try again" in response.content.decode() and waited < 10
        api = client.post(
            "/api/v1/supportive-care/",
            {"patient": patient.pk, "kind": "gcsf", "given_on": str(DAY0)},
            content_type="application/json",
        )
        assert api.status_code == 503 and api.json()["code"] == "database_busy"
        # Reads do not wait for row locks.
        assert client.get(reverse("patient_overview", args=[patient.pk])).status_code == 200
        assert client.get(reverse("visit_calendar", args=[patient.pk])).status_code == 200
    finally:
        release.set()
        holder.join(30)
    assert not LabPanel.objects.filter(visit__patient=patient).exists()  # the refused save stored nothing
