"""Bad input on the pages that share the write path: too long a lock or unlock reason, a lab correction's
reason longer than the history keeps, a version that is not a number. A message on the page, never a 500,
and nothing stored."""

import pytest
from django.urls import reverse

from assessments.models import ResponseAssessment, Visit
from assessments.services.responses import response_assess_patient
from crf.models import DataLock
from tests.conftest import DAY0
from tests.review.test_review import save_day7
from tests.web.test_lab_pages import payload
from trial.versioning import REASON_MAX_LENGTH

pytestmark = pytest.mark.django_db


def lock_url(panel) -> str:
    return reverse("record_lock", args=["assessments.labpanel", panel.pk])


def test_a_lock_reason_longer_than_its_column_is_named_and_nothing_is_locked(client, patient, clinician, data_manager):
    panel = save_day7(patient, clinician).panel
    client.force_login(data_manager)
    response = client.post(lock_url(panel), {"action": "lock", "level": "lock", "reason": "r" * 301}, follow=True)
    assert response.status_code == 200
    assert "Reason must be at most 300 characters (it has 301)." in response.content.decode()
    assert not DataLock.objects.exists() and not DataLock.history.exists()

    response = client.post(reverse("patient_review", args=[patient.pk]), {"action": "lock", "reason": "r" * 301})
    assert response.status_code == 302 and not DataLock.objects.exists()


def test_a_lock_reason_that_fills_the_history_row_is_kept_whole_on_the_lock(client, patient, clinician, data_manager):
    panel = save_day7(patient, clinician).panel
    client.force_login(data_manager)
    reason = "Locked after source data verification of every value against the hospital's laboratory system."
    assert len(f"lock record: {reason}") > REASON_MAX_LENGTH
    client.post(lock_url(panel), {"action": "lock", "level": "lock", "reason": reason})
    lock = DataLock.objects.get()
    assert lock.reason == reason
    kept = DataLock.history.get().history_change_reason
    assert len(kept) == REASON_MAX_LENGTH and kept.startswith("lock record: Locked after")

    response = client.post(lock_url(panel), {"action": "unlock", "lock": lock.pk, "reason": "u" * 301}, follow=True)
    assert "Release reason must be at most 300 characters (it has 301)." in response.content.decode()
    lock.refresh_from_db()
    assert lock.released_at is None and DataLock.history.count() == 1
    client.post(lock_url(panel), {"action": "unlock", "lock": lock.pk, "reason": "u" * 120})
    lock.refresh_from_db()
    assert lock.release_reason == "u" * 120 and lock.released_at is not None


def test_the_lab_page_refuses_a_reason_for_change_longer_than_the_history_keeps(client, patient, clinician):
    save_day7(patient, clinician)
    client.force_login(clinician)
    url = reverse("lab_panel_edit", args=[Visit.objects.get(patient=patient, definition__code="D7").pk])
    response = client.post(url, payload(FERRITIN="2200", version="1", reason_for_change="r" * 150))
    assert response.status_code == 200
    assert "Ensure this value has at most 100 characters (it has 150)." in response.content.decode()


def test_a_page_post_with_version_abc_is_a_message_not_a_500(client, patient, clinician):
    from datetime import timedelta

    client.force_login(clinician)
    client.raise_request_exception = False
    visit = Visit.objects.get(patient=patient, definition__code="D2")
    response = client.post(reverse("visit_not_done", args=[visit.pk]), {"not_done_reason": "x", "version": "abc"})
    assert response.status_code == 302
    assert "Version" in client.get(response["Location"]).content.decode()
    response_assess_patient(patient_id=patient.pk, today=DAY0 + timedelta(days=4))
    assessment = ResponseAssessment.objects.get(patient=patient, study_day=3)
    url = reverse("response_confirm", args=[assessment.pk])
    assert client.post(url, {"status": "pr", "reason": "x", "version": "abc"}).status_code == 302
    visit.refresh_from_db()
    assessment.refresh_from_db()
    assert not visit.not_done and assessment.confirmed_status == ""
