"""Locks, source data verification and signatures (21 CFR Part 11, ICH E6(R3))."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from assessments.models import LabPanel, Visit
from assessments.services.labs import Measurement, lab_panel_save
from crf.catalogue import target_of
from crf.locks import RecordLocked
from crf.models import DataLock
from queries.services import query_answer, query_raise
from review.services import (
    ReviewNotAllowed,
    lock_release,
    lock_set,
    sdv_mark,
    sdv_status,
    signature_sign,
    signature_valid,
)
from tests.conftest import DAY0, PASSWORD, make_user
from trial.models import Role

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def dm(site_a):
    return make_user("dm_review", Role.DATA_MANAGER, site_a)


def save_day7(patient, user, ferritin="2400", **kwargs):
    when = datetime.combine(DAY0 + timedelta(days=7), time(8), tzinfo=ZONE)
    return lab_panel_save(
        visit=Visit.objects.get(patient=patient, definition__code="D7"),
        sampled_at=when,
        values={"FERRITIN": Measurement(Decimal(ferritin), "µg/L", when)},
        panel_data={},
        user=user,
        today=DAY0 + timedelta(days=30),
        **kwargs,
    )


def test_locked_patient_data_cannot_change_by_any_service(patient, clinician, dm, trial):
    lock_set(trial=trial, scope="patient", level="lock", user=dm, reason="Database lock", patient=patient)
    with pytest.raises(RecordLocked, match="patient is locked by dm_review"):
        save_day7(patient, clinician)
    assert not LabPanel.objects.exists()


def test_freeze_still_lets_the_site_answer_queries_but_lock_does_not(patient, clinician, monitor, dm, trial):
    query = query_raise(patient=patient, target=target_of(patient), field="", text="Check weight", user=monitor)
    freeze = lock_set(trial=trial, scope="patient", level="freeze", user=dm, reason="Interim analysis", patient=patient)
    with pytest.raises(RecordLocked):
        save_day7(patient, clinician)
    query_answer(query_id=query.pk, user=clinician, text="Weight confirmed")
    lock_release(lock_id=freeze.pk, user=dm, reason="Interim done")
    lock_set(trial=trial, scope="study", level="lock", user=dm, reason="Final lock")
    from queries.services import query_reopen

    with pytest.raises(RecordLocked):
        query_reopen(query_id=query.pk, user=monitor, text="Again")


def test_unlocking_needs_a_reason_and_is_kept_in_history(patient, clinician, dm, trial):
    lock = lock_set(trial=trial, scope="patient", level="lock", user=dm, reason="Lock", patient=patient)
    with pytest.raises(ValidationError, match="reason for unlocking"):
        lock_release(lock_id=lock.pk, user=dm, reason=" ")
    lock_release(lock_id=lock.pk, user=dm, reason="Late lab result to enter")
    save_day7(patient, clinician)
    assert DataLock.history.filter(id=lock.pk).order_by("-history_date").first().history_change_reason == (
        "Unlocked: Late lab result to enter"
    )


def test_only_data_managers_lock(patient, clinician, trial):
    with pytest.raises(ReviewNotAllowed):
        lock_set(trial=trial, scope="patient", level="lock", user=clinician, reason="x", patient=patient)


def test_source_verification_is_cleared_by_a_later_change(patient, clinician, monitor):
    panel = save_day7(patient, clinician).panel
    sdv_mark(record=panel, user=monitor)
    assert sdv_status(record=panel).verified_by == monitor
    save_day7(patient, clinician, ferritin="2300", expected_version=panel.version, reason_for_change="Corrected")
    panel.refresh_from_db()
    assert sdv_status(record=panel) is None
    with pytest.raises(ReviewNotAllowed):
        sdv_mark(record=panel, user=clinician)


def test_signature_needs_the_password_and_breaks_when_signed_data_change(patient, clinician):
    panel = save_day7(patient, clinician).panel
    with pytest.raises(ValidationError, match="password is not correct"):
        signature_sign(patient=patient, user=clinician, password="wrong")
    signature = signature_sign(patient=patient, user=clinician, password=PASSWORD)
    assert "confirm that I have reviewed the casebook" in signature.meaning
    assert signature_valid(signature) is True
    save_day7(patient, clinician, ferritin="2100", expected_version=panel.version, reason_for_change="Corrected")
    assert signature_valid(signature) is False


def test_review_page_shows_locks_sdv_and_broken_signatures(client, patient, clinician, dm, trial):
    signature_sign(patient=patient, user=clinician, password=PASSWORD)
    save_day7(patient, clinician)  # changes the casebook after signing
    lock_set(trial=trial, scope="patient", level="freeze", user=dm, reason="Interim", patient=patient)
    assert client.login(username=clinician.username, password=PASSWORD)
    page = client.get(reverse("patient_review", args=[patient.pk])).content.decode()
    assert "Broken: data changed after signing" in page
    assert "Freeze" in page and "Interim" in page
    # A save refused by the lock is shown as an error on the lab page, never a 500.
    url = reverse("lab_panel_edit", args=[Visit.objects.get(patient=patient, definition__code="D3").pk])
    response = client.post(
        url,
        {
            "visit_date": str(DAY0 + timedelta(days=3)),
            "sampled_at": f"{DAY0 + timedelta(days=3)}T08:00",
            "v_TEMP": "37",
        },
    )
    assert response.status_code == 200 and "is frozen by" in response.content.decode()
