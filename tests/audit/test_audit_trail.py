"""The audit trail: complete, readable per record, patient and study, and append-only."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from audit.models import AuthEvent
from patients.services import screening_create, screening_update
from tests.conftest import PASSWORD, eligible_data

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.parametrize("statement", ["UPDATE {table} SET history_change_reason = 'tampered'", "DELETE FROM {table}"])
def test_the_database_refuses_to_change_or_delete_history_rows(site_a, clinician, statement):
    screening_create(site=site_a, data=eligible_data(), user=clinician)
    with pytest.raises(DatabaseError, match="audit rows cannot be changed or deleted"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement.format(table="patients_historicalscreening"))


def test_every_history_table_is_append_only():
    from audit.immutability import audit_table_names

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT event_object_table FROM information_schema.triggers WHERE trigger_name = 'audit_append_only'"
        )
        protected = {row[0] for row in cursor.fetchall()}
    tables = set(audit_table_names(connection))
    assert "patients_historicalpatient" in tables and "assessments_historicallabresult" in tables
    assert tables <= protected


def test_sign_ins_failures_and_role_changes_are_logged(client, clinician):
    login(client, clinician)
    client.logout()
    client.post(reverse("login"), {"username": clinician.username, "password": "wrong"})
    clinician.groups.add(Group.objects.get(name="monitor"))
    sessions = AuthEvent.objects.exclude(kind="role_change").order_by("id").values_list("kind", "username")
    assert list(sessions) == [("login", "clin_a"), ("logout", "clin_a"), ("login_failed", "clin_a")]
    # The fixture gave the clinician its role, and the change above added another: both logged.
    assert AuthEvent.objects.filter(kind="role_change", detail="Roles added: clinician").exists()
    assert AuthEvent.objects.filter(kind="role_change", detail="Roles added: monitor").exists()


def test_record_history_shows_old_and_new_value_who_role_and_reason(client, site_a, clinician, coordinator):
    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    screening_update(
        screening_id=screening.pk,
        data={"ferritin_ug_l": Decimal("3400")},
        expected_version=1,
        user=coordinator,
        reason_for_change="Lab report re-read",
    )
    login(client, clinician)
    page = client.get(reverse("audit_record", args=["patients.screening", screening.pk])).content.decode()
    assert "Lab report re-read" in page
    assert "coord_a" in page and "Study coordinator" in page
    assert "3200 → <strong>3400</strong>" in page  # no trailing zeros of the column


def test_patient_trail_and_study_log_are_scoped(client, site_a, clinician, clinician_b, monitor, patient):
    login(client, clinician)
    page = client.get(reverse("audit_patient", args=[patient.pk])).content.decode()
    assert "Enrolled" in page and "Planned at enrollment" in page
    assert client.get(reverse("audit_study")).status_code == 403  # data managers and monitors only
    client.logout()
    login(client, clinician_b)
    assert client.get(reverse("audit_patient", args=[patient.pk])).status_code == 404
    assert client.get(reverse("audit_record", args=["patients.patient", patient.pk])).status_code == 404
    client.logout()
    login(client, monitor)
    study = client.get(reverse("audit_study"))
    assert study.status_code == 200
    assert patient.subject_number in study.content.decode()


def test_each_saved_lab_value_links_to_its_own_history(client, clinician, patient):
    from datetime import timedelta

    from assessments.models import LabResult, Visit
    from tests.conftest import DAY0

    visit = Visit.objects.get(patient=patient, definition__code="D7")
    login(client, clinician)
    url = reverse("lab_panel_edit", args=[visit.pk])
    day = DAY0 + timedelta(days=7)
    client.post(url, {"visit_date": str(day), "sampled_at": f"{day}T08:00", "v_FERRITIN": "2400"})
    result = LabResult.objects.get(analyte="FERRITIN")
    page = client.get(url).content.decode()
    history_url = reverse("audit_record", args=["assessments.labresult", result.pk])
    assert history_url in page
    assert "2400" in client.get(history_url).content.decode()
