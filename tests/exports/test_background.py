"""The embedded default renders PDFs on the in-process background runner (crf.background): the
request answers with the document queued or rendering, and the render completes afterwards.

The render is held at 40 % on an event (tests.exports.gate), so nothing here depends on timing.
The data are committed (transaction=True) because the runner's thread has its own connection."""

import time

import pytest
from django.urls import reverse

from crf.models import QueuedTask
from exports.documents import document_request
from exports.models import GeneratedDocument
from tests.conftest import enroll_child
from tests.exports.gate import DEADLINE_SECONDS, RenderGate

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

UNFINISHED = {GeneratedDocument.Status.QUEUED, GeneratedDocument.Status.RENDERING}


@pytest.fixture
def gate(monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS_IN_BACKGROUND = True
    held = RenderGate(monkeypatch)
    yield held
    held.close()


def finished(document_id: int) -> GeneratedDocument:
    """Poll until the document is done or failed, with a deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        document = GeneratedDocument.objects.get(pk=document_id)
        if document.status not in UNFINISHED:
            return document
        time.sleep(0.1)
    raise AssertionError(f"document {document_id} still {document.status} at the deadline")


def test_casebook_request_answers_before_the_render_and_the_render_completes_after(
    client, site_a, clinician, monitor, gate
):
    patient = enroll_child(site_a, clinician)
    client.force_login(monitor)
    response = client.post(reverse("document_generate", args=[patient.pk]), {"kind": "casebook"})
    assert response.status_code == 302
    document = GeneratedDocument.objects.get(patient=patient, kind="casebook")
    assert document.status in UNFINISHED and document.progress < 100
    assert QueuedTask.objects.get(key=f"document:{document.pk}").sent_at is not None  # handed to the runner

    gate.wait_started()
    status = client.get(reverse("document_status", args=[document.pk])).json()
    assert (status["status"], status["progress"], status["download_url"]) == ("rendering", 40, "")

    gate.release.set()
    document = finished(document.pk)
    assert (document.status, document.progress, len(document.sha256)) == ("done", 100, 64)
    status = client.get(reverse("document_status", args=[document.pk])).json()
    assert status["download_url"] == reverse("document_download", args=[document.pk])
    download = client.get(status["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")


@pytest.mark.parametrize(
    ("url_name", "kind"),
    [("blank_book_generate", "blank_book"), ("study_report_generate", "study_report")],
)
def test_blank_book_and_report_requests_answer_before_the_render(client, data_manager, gate, url_name, kind):
    client.force_login(data_manager)
    response = client.post(reverse(url_name))
    assert response.status_code == 302
    document = GeneratedDocument.objects.get(kind=kind, requested_by=data_manager)
    assert document.status in UNFINISHED
    gate.wait_started()
    assert GeneratedDocument.objects.get(pk=document.pk).progress == 40
    gate.release.set()
    assert finished(document.pk).status == "done"


@pytest.mark.parametrize("kind", ["casebook", "blank_book", "study_report"])
def test_document_request_returns_queued_and_the_runner_renders_it(site_a, clinician, data_manager, gate, kind):
    patient = enroll_child(site_a, clinician) if kind == "casebook" else None
    document = document_request(kind=kind, user=data_manager, patient=patient)
    assert document.status == GeneratedDocument.Status.QUEUED
    gate.wait_started()
    rendering = GeneratedDocument.objects.get(pk=document.pk)
    assert (rendering.status, rendering.progress) == ("rendering", 40)
    gate.release.set()
    done = finished(document.pk)
    assert (done.status, done.progress) == ("done", 100)
    assert document_request(kind=kind, user=data_manager, patient=patient).pk == done.pk  # reused, unchanged data


def test_without_the_runner_an_eager_render_still_runs_inside_the_request(
    client, site_a, clinician, monitor, settings, tmp_path
):
    """PostgreSQL + a broker, or the tests' eager mode: unchanged, the render is done when the request answers."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS_IN_BACKGROUND = False
    patient = enroll_child(site_a, clinician)
    client.force_login(monitor)
    client.post(reverse("document_generate", args=[patient.pk]), {"kind": "casebook"})
    document = GeneratedDocument.objects.get(patient=patient, kind="casebook")
    assert (document.status, document.progress) == ("done", 100)
