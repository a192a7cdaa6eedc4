"""The documents page: scoping, generation by read-only roles, status polling, logged downloads."""

import pytest
from django.urls import reverse

from exports.models import DownloadLog, GeneratedDocument
from tests.conftest import PASSWORD, enroll_child

pytestmark = pytest.mark.django_db


@pytest.fixture
def child(site_a, clinician):
    return enroll_child(site_a, clinician)


def login(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def test_monitor_generates_and_downloads_a_casebook_every_download_logged(
    client, child, monitor, django_capture_on_commit_callbacks
):
    login(client, monitor)
    page = client.get(reverse("patient_documents", args=[child.pk]))
    assert page.status_code == 200 and b"Generate casebook" in page.content and b"PDF &amp; exports" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("document_generate", args=[child.pk]), {"kind": "casebook"})
    document = GeneratedDocument.objects.get()
    assert response.status_code == 302
    status = client.get(reverse("document_status", args=[document.pk])).json()
    assert (status["status"], status["progress"], status["download_url"]) == (
        "done",
        100,
        reverse("document_download", args=[document.pk]),
    )
    for _ in range(2):
        download = client.get(status["download_url"])
        assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    assert DownloadLog.objects.filter(user=monitor, document=document).count() == 2


def test_data_manager_generates_a_visit_crf(client, child, data_manager, django_capture_on_commit_callbacks):
    login(client, data_manager)
    visit = child.visits.get(definition__code="D3")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("document_generate", args=[child.pk]), {"kind": "visit_crf", "visit": visit.pk})
    assert GeneratedDocument.objects.get().visit == visit


def test_other_site_gets_404_everywhere(client, child, clinician_b, monitor, django_capture_on_commit_callbacks):
    login(client, monitor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("document_generate", args=[child.pk]), {"kind": "casebook"})
    document = GeneratedDocument.objects.get()
    client.logout()
    login(client, clinician_b)
    assert client.get(reverse("patient_documents", args=[child.pk])).status_code == 404
    assert client.post(reverse("document_generate", args=[child.pk]), {"kind": "casebook"}).status_code == 404
    assert client.get(reverse("document_status", args=[document.pk])).status_code == 404
    assert client.get(reverse("document_download", args=[document.pk])).status_code == 404
    assert not DownloadLog.objects.exists()


def test_not_logged_in_is_sent_to_login(client, child):
    assert client.get(reverse("patient_documents", args=[child.pk])).status_code == 302


def test_data_exports_page_and_blank_book(client, data_manager, django_capture_on_commit_callbacks):
    login(client, data_manager)
    page = client.get(reverse("exports_home"))
    assert page.status_code == 200 and b"Download CSV zip" in page.content and b"Download ODM XML" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("blank_book_generate"))
    document = GeneratedDocument.objects.get(kind="blank_book")
    assert document.status == "done"
    assert client.get(reverse("document_download", args=[document.pk])).status_code == 200
    assert DownloadLog.objects.filter(document=document, user=data_manager).count() == 1
