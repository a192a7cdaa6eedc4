"""Locking, signing and source data verification with unresolved queries on the covered data
ask for an explicit confirmation that names the queries; without it nothing is stored."""

import pytest
from django.urls import reverse

from assessments.models import Visit
from audit.models import AuthEvent
from crf.edit_checks import target_of
from crf.models import DataLock, DataQuery
from queries.services import query_answer, query_close, query_raise
from review.models import Signature, SourceVerification
from review.services import lock_open_queries
from tests.conftest import PASSWORD
from tests.review.test_review import save_day7

pytestmark = pytest.mark.django_db


def login(client, user):
    client.logout()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def review(client, patient, **data):
    return client.post(reverse("patient_review", args=[patient.pk]), data)


def test_a_patient_lock_with_open_queries_is_refused_naming_them_and_the_reason_kept(
    client, patient, monitor, clinician, data_manager
):
    DataQuery.objects.all().delete()  # the edit checks' queries of the passed assessment days
    query = query_raise(patient=patient, target=target_of(patient), field="prescribed_dose_mg", text="?", user=monitor)
    login(client, data_manager)
    response = review(client, patient, action="lock", level="lock", reason="Database lock for interim")
    page = response.content.decode()
    assert response.status_code == 400
    assert f"#{query.pk} Patient: {patient.subject_number} · Prescribed dose (mg, twice daily) (open)" in page
    assert 'value="Database lock for interim"' in page
    assert not DataLock.objects.exists()
    response = review(
        client, patient, action="lock", level="lock", reason="Database lock for interim", confirm_open_queries="1"
    )
    assert response.status_code == 302
    assert DataLock.objects.get().reason == "Database lock for interim"


def test_a_freeze_needs_no_confirmation_and_a_closed_query_none(client, patient, monitor, data_manager):
    DataQuery.objects.all().delete()
    query = query_raise(patient=patient, target=target_of(patient), field="", text="?", user=monitor)
    login(client, data_manager)
    assert review(client, patient, action="lock", level="freeze", reason="Interim").status_code == 302
    DataLock.objects.all().delete()
    query_close(query_id=query.pk, user=monitor, text="Withdrawn")
    assert review(client, patient, action="lock", level="lock", reason="Final").status_code == 302
    assert DataLock.objects.filter(level="lock").count() == 1


def test_a_visit_lock_counts_the_queries_of_that_visits_records_only(patient, monitor, clinician, trial):
    DataQuery.objects.all().delete()
    panel = save_day7(patient, clinician).panel
    on_panel = query_raise(patient=patient, target=target_of(panel), field="FERRITIN", text="?", user=monitor)
    query_raise(patient=patient, target=target_of(patient.screening), field="", text="?", user=monitor)
    day7 = Visit.objects.get(patient=patient, definition__code="D7")
    day3 = Visit.objects.get(patient=patient, definition__code="D3")
    found = lock_open_queries(trial=trial, scope="visit", level="lock", patient=patient, visit=day7)
    assert [q.pk for q in found] == [on_panel.pk]
    assert lock_open_queries(trial=trial, scope="visit", level="lock", patient=patient, visit=day3) == []
    assert len(lock_open_queries(trial=trial, scope="study", level="lock")) == 2


def test_sdv_of_a_form_with_an_answered_query_needs_the_confirmation(client, patient, monitor, clinician):
    query = query_raise(patient=patient, target=target_of(patient.screening), field="sex", text="?", user=monitor)
    query_answer(query_id=query.pk, user=clinician, text="Checked")
    login(client, monitor)
    target = target_of(patient.screening)
    response = review(client, patient, action="sdv", target=target)
    assert response.status_code == 400
    assert f"Not verified: 1 unresolved query on these data: #{query.pk}" in response.content.decode()
    assert "(answered)" in response.content.decode()
    assert not SourceVerification.objects.exists()
    assert review(client, patient, action="sdv", target=target, confirm_open_queries="1").status_code == 302
    assert SourceVerification.objects.get().target == target


def test_a_signature_with_open_queries_is_refused_before_the_password_is_read(client, patient, monitor, clinician):
    query_raise(patient=patient, target=target_of(patient), field="", text="?", user=monitor)
    login(client, clinician)
    response = review(client, patient, action="sign", password="not the password")
    assert response.status_code == 400 and "Not signed:" in response.content.decode()
    assert not Signature.objects.exists()
    assert not AuthEvent.objects.filter(kind=AuthEvent.Kind.SIGNATURE_FAILED).exists()
    assert review(client, patient, action="sign", password=PASSWORD, confirm_open_queries="1").status_code == 302
    assert Signature.objects.count() == 1


def test_a_form_lock_from_its_page_asks_and_offers_the_confirmation(client, patient, monitor, clinician, data_manager):
    panel = save_day7(patient, clinician).panel
    query_raise(patient=patient, target=target_of(panel), field="FERRITIN", text="?", user=monitor)
    login(client, data_manager)
    lab_page = reverse("lab_panel_edit", args=[panel.visit_id])
    assert 'id="form-lock-confirm"' in client.get(lab_page).content.decode()
    url = reverse("record_lock", args=["assessments.labpanel", panel.pk])
    page = client.post(url, {"action": "lock", "level": "lock", "reason": "Final"}, follow=True).content.decode()
    assert "Not locked: 1 unresolved query on these data" in page
    assert not DataLock.objects.exists()
    client.post(url, {"action": "lock", "level": "lock", "reason": "Final", "confirm_open_queries": "1"})
    assert DataLock.objects.get().target == target_of(panel)
