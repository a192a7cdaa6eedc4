"""One form frozen or locked from its own page; locked data refused by the pages, the API and the admin."""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from assessments.models import AdverseEvent, CtcaeTerm, LabResult, Visit
from assessments.services.adverse_events import adverse_event_record
from crf.locks import RecordLocked, lock_check
from crf.models import DataLock
from patients.models import Screening, TreatmentEnd
from patients.services import screening_create, treatment_end_record
from review.services import lock_set
from tests.api.conftest import client_for
from tests.conftest import DAY0, PASSWORD, eligible_data, form_payload, make_user
from tests.review.test_review import save_day7
from trial.models import Role

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def lock_from_page(client, record_label: str, pk: int, *, level="lock", reason="Source verified, final"):
    return client.post(
        reverse("record_lock", args=[record_label, pk]), {"action": "lock", "level": level, "reason": reason}
    )


def an_event(patient, user) -> AdverseEvent:
    return adverse_event_record(
        patient=patient,
        data={
            "term": CtcaeTerm.objects.get(code="IN102"),
            "grade": 3,
            "onset_date": DAY0 + timedelta(days=3),
            "relationship": "possible",
            "action_taken": "none",
            "outcome": "recovering",
        },
        user=user,
    )


def test_data_manager_locks_a_lab_panel_from_its_page_and_the_page_shows_it(client, patient, clinician, data_manager):
    panel = save_day7(patient, clinician).panel
    url = reverse("lab_panel_edit", args=[panel.visit_id])
    page = login(client, data_manager).get(url).content.decode()
    assert 'id="form-lock-set"' in page and reverse("record_lock", args=["assessments.labpanel", panel.pk]) in page

    response = lock_from_page(client, "assessments.labpanel", panel.pk)
    assert response.status_code == 302 and response["Location"] == url
    lock = DataLock.objects.get(released_at__isnull=True)
    assert (lock.scope, lock.level, lock.target, lock.patient_id, lock.locked_by) == (
        "record",
        "lock",
        f"assessments.labpanel:{panel.pk}",
        patient.pk,
        data_manager,
    )
    assert 'id="form-unlock"' in client.get(url).content.decode()

    # The clinician sees the form locked, its values as text (no inputs) and no save button.
    login(client, clinician)
    page = client.get(url).content.decode()
    assert "This form is locked by dm_a" in page and "Source verified, final" in page
    assert 'id="lab-read-only"' in page and 'id="lab-form"' not in page and 'name="v_' not in page
    assert 'id="save-labs"' not in page
    assert 'id="form-lock-set"' not in page and 'id="form-unlock"' not in page  # not a data manager
    day = DAY0 + timedelta(days=7)
    response = client.post(
        url,
        {
            "visit_date": str(day),
            "sampled_at": f"{day}T08:00",
            "v_FERRITIN": "999",
            "version": str(panel.version),
            "reason_for_change": "Typo",
        },
    )
    assert response.status_code == 200
    assert "Not saved: the form is locked by dm_a" in response.content.decode()
    assert LabResult.objects.get(panel=panel, analyte="FERRITIN").value == Decimal("2400")


def test_a_locked_panel_holds_its_values_and_queries_on_it(patient, clinician, monitor, data_manager):
    panel = save_day7(patient, clinician).panel
    from review.services import form_lock_set

    form_lock_set(record=panel, level="lock", user=data_manager, reason="Final")
    result = LabResult.objects.get(panel=panel, analyte="FERRITIN")
    with pytest.raises(RecordLocked, match="form is locked"):
        lock_check(result)
    from crf.catalogue import target_of
    from queries.services import query_raise

    with pytest.raises(RecordLocked):
        query_raise(patient=patient, target=target_of(panel), field="FERRITIN", text="Check unit", user=monitor)
    # Another visit's form is not held.
    lock_check(Visit.objects.get(patient=patient, definition__code="D3"))


def test_unlocking_needs_a_reason_and_is_audited_with_the_role(client, patient, clinician, data_manager):
    panel = save_day7(patient, clinician).panel
    login(client, data_manager)
    lock_from_page(client, "assessments.labpanel", panel.pk, level="freeze", reason="Interim analysis")
    lock = DataLock.objects.get()
    url = reverse("record_lock", args=["assessments.labpanel", panel.pk])
    response = client.post(url, {"action": "unlock", "lock": lock.pk, "reason": "  "}, follow=True)
    assert "Give the reason for unlocking" in response.content.decode()
    lock.refresh_from_db()
    assert lock.released_at is None

    client.post(url, {"action": "unlock", "lock": lock.pk, "reason": "Late lab result to enter"})
    lock.refresh_from_db()
    assert (lock.released_by, lock.release_reason) == (data_manager, "Late lab result to enter")
    latest = DataLock.history.filter(id=lock.pk).order_by("-history_date").first()
    assert (latest.history_change_reason, latest.history_user_roles) == (
        "Unlocked: Late lab result to enter",
        "data_manager",
    )
    save_day7(patient, clinician, ferritin="2300", expected_version=panel.version, reason_for_change="Late result")


def test_only_a_data_manager_of_the_patients_site_locks_a_form(client, patient, clinician, monitor, site_b):
    panel = save_day7(patient, clinician).panel
    for user in (clinician, monitor):
        assert lock_from_page(login(client, user), "assessments.labpanel", panel.pk).status_code == 403
    other_dm = make_user("dm_b", Role.DATA_MANAGER, site_b)
    assert lock_from_page(login(client, other_dm), "assessments.labpanel", panel.pk).status_code == 404
    assert lock_from_page(client, "auth.user", other_dm.pk).status_code == 404  # not a form
    assert not DataLock.objects.exists()


def test_a_locked_screening_form_cannot_be_edited_on_its_page(client, site_a, clinician, data_manager, patient):
    screening = patient.screening
    login(client, data_manager)
    assert 'id="form-lock-set"' in client.get(reverse("screening_detail", args=[screening.pk])).content.decode()
    lock_from_page(client, "patients.screening", screening.pk)

    login(client, clinician)
    page = client.get(reverse("screening_detail", args=[screening.pk])).content.decode()
    assert "This form is locked" in page and 'id="screening-edit-link"' not in page
    edit = client.get(reverse("screening_edit", args=[screening.pk])).content.decode()
    assert 'id="save-screening"' not in edit and 'name="ferritin_ug_l"' not in edit  # values as text, no inputs
    assert re.search(r'data-field="ferritin_ug_l">3200(\.0+)?<', edit)
    data = form_payload(eligible_data(ferritin_ug_l=Decimal("5000")))
    data.update({"version": str(screening.version), "reason_for_change": "Re-read"})
    response = client.post(reverse("screening_edit", args=[screening.pk]), data)
    assert response.status_code == 200 and "Not saved: the form is locked" in response.content.decode()
    screening.refresh_from_db()
    assert screening.ferritin_ug_l == Decimal("3200")


def test_a_locked_adverse_event_is_refused_on_its_page_and_through_the_api(client, patient, clinician, data_manager):
    ae = an_event(patient, clinician)
    other = an_event(patient, clinician)
    login(client, data_manager)
    listing = client.get(reverse("ae_list", args=[patient.pk])).content.decode()
    assert listing.count("form-lock-set") == 2
    lock_from_page(client, "assessments.adverseevent", ae.pk, level="freeze")

    login(client, clinician)
    listing = client.get(reverse("ae_list", args=[patient.pk])).content.decode()
    assert "Frozen" in listing
    assert reverse("ae_edit", args=[ae.pk]) not in listing and reverse("ae_edit", args=[other.pk]) in listing
    edit = client.get(reverse("ae_edit", args=[ae.pk])).content.decode()
    assert "This form is frozen" in edit and 'id="read-only-values"' in edit
    assert 'id="save-ae"' not in edit and 'name="grade"' not in edit
    assert 'data-field="serious">No<' in edit  # the yes/no radio's label, not the stored bool
    response = client.post(
        reverse("ae_edit", args=[ae.pk]),
        {
            "term": str(ae.term_id),
            "term_search": "Febrile neutropenia (IN102)",
            "grade": "4",
            "onset_date": str(ae.onset_date),
            "serious": "false",
            "relationship": "possible",
            "action_taken": "none",
            "outcome": "recovering",
            "version": "1",
            "reason_for_change": "Worse",
        },
    )
    assert response.status_code == 200 and "Not saved: the form is frozen" in response.content.decode()

    api = client_for(clinician)
    response = api.patch(
        f"/api/v1/adverse-events/{ae.pk}/", {"grade": 4, "version": 1, "reason_for_change": "Worse"}, format="json"
    )
    assert response.status_code == 423
    body = response.json()
    assert "the form is frozen by dm_a" in body["detail"]
    assert body["lock"]["scope"] == "record" and body["lock"]["target"] == f"assessments.adverseevent:{ae.pk}"
    assert body["lock"]["level"] == "freeze" and body["lock"]["locked_by"] == "dm_a"
    ae.refresh_from_db()
    assert ae.grade == 3
    # The other event is not held.
    ok = api.patch(
        f"/api/v1/adverse-events/{other.pk}/", {"grade": 4, "version": 1, "reason_for_change": "Worse"}, format="json"
    )
    assert ok.status_code == 200


def test_api_names_a_visit_lock_with_423(patient, clinician, data_manager, trial):
    panel = save_day7(patient, clinician).panel
    lock_set(trial=trial, scope="visit", level="lock", user=data_manager, reason="Visit done", visit=panel.visit)
    response = client_for(clinician).patch(
        f"/api/v1/lab-panels/{panel.pk}/",
        {"values": [{"analyte": "FERRITIN", "value": "100", "unit": "µg/L"}], "version": 1, "reason_for_change": "x"},
        format="json",
    )
    assert response.status_code == 423
    assert response.json()["lock"]["scope"] == "visit" and response.json()["lock"]["visit"] == panel.visit_id


def test_treatment_end_locked_from_the_summary(client, patient, clinician, data_manager):
    end = treatment_end_record(
        patient=patient, outcome="discontinued", reason="toxicity", last_dose_date=DAY0 + timedelta(3), user=clinician
    )
    login(client, data_manager)
    summary = client.get(reverse("treatment_summary", args=[patient.pk])).content.decode()
    assert reverse("record_lock", args=["patients.treatmentend", end.pk]) in summary
    response = lock_from_page(client, "patients.treatmentend", end.pk)
    assert response["Location"] == reverse("treatment_summary", args=[patient.pk])

    login(client, clinician)
    summary = client.get(reverse("treatment_summary", args=[patient.pk])).content.decode()
    assert 'id="treatment-end-link"' not in summary and "Locked" in summary
    page = client.get(reverse("treatment_end", args=[patient.pk])).content.decode()
    assert 'id="save-treatment-end"' not in page and 'name="reason"' not in page
    assert re.search(r'data-field="reason">[^<]*[Tt]oxicity', page)
    response = client.post(
        reverse("treatment_end", args=[patient.pk]),
        {
            "outcome": "discontinued",
            "reason": "relapse",
            "reason_detail": "",
            "last_dose_date": str(DAY0 + timedelta(3)),
            "version": "1",
            "reason_for_change": "Wrong reason",
        },
    )
    assert response.status_code == 200 and "Not saved: the form is locked" in response.content.decode()
    assert TreatmentEnd.objects.get(pk=end.pk).reason == "toxicity"


def test_a_write_path_without_its_own_form_answers_423_not_500(client, site_a, clinician, data_manager, trial):
    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    lock_set(trial=trial, scope="study", level="lock", user=data_manager, reason="Database lock")
    response = login(client, clinician).post(
        reverse("screening_enroll", args=[screening.pk]),
        {
            "enrollment_date": str(screening.screening_date),
            "first_dose_date": str(DAY0),
            "weight_kg": "15.0",
            "prescribed_dose_mg": "5",
            "confirm": "on",
        },
    )
    assert response.status_code == 423, response.content.decode()[-3000:]
    assert "the whole study is locked by dm_a" in response.content.decode()
    assert not hasattr(Screening.objects.get(pk=screening.pk), "patient")


@pytest.fixture
def admin_client(client, db):
    admin = User.objects.create_superuser("root", "root@localhost", PASSWORD)
    client.force_login(admin)
    return client


def test_the_admin_refuses_to_save_locked_data_with_a_message(admin_client, patient, data_manager, trial):
    screening = patient.screening
    before = screening.version
    lock_set(trial=trial, scope="patient", level="lock", user=data_manager, reason="Database lock", patient=patient)
    url = reverse("admin:patients_screening_change", args=[screening.pk])
    page = admin_client.get(url).content.decode()
    assert "This record cannot be changed: the patient is locked by dm_a" in page
    response = admin_client.post(url, {"initials": "AAA"}, follow=True)
    assert response.status_code == 200
    assert "Not saved: the patient is locked by dm_a" in response.content.decode()
    screening.refresh_from_db()
    assert (screening.initials, screening.version) == ("ZXY", before)


def test_the_admin_history_page_cannot_revert_a_record(admin_client, site_a, clinician):
    from patients.services import screening_update

    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    screening_update(
        screening_id=screening.pk,
        data={"initials": "ABC"},
        expected_version=1,
        user=clinician,
        reason_for_change="Typo",
    )
    first = Screening.history.filter(id=screening.pk).order_by("history_date").first()
    url = reverse("admin:patients_screening_simple_history", args=[screening.pk, first.history_id])
    form = admin_client.get(url).context["adminform"].form
    # Every field of the old version, as the page's Revert button posts them.
    data = {"_change_history": "1"}
    for name in form.fields:
        value = form.initial.get(name)
        if value is not None:
            data[name] = json.dumps(value) if isinstance(value, dict | list) else str(getattr(value, "pk", value))
    response = admin_client.post(url, data, follow=True)
    assert "clinical records cannot be changed in the admin" in response.content.decode()
    screening.refresh_from_db()
    assert (screening.initials, screening.version) == ("ABC", 2)


def test_a_locked_death_record_shows_its_values_as_text(client, patient, clinician, data_manager):
    from patients.services.treatment import death_record

    death = death_record(
        patient=patient,
        date_of_death=DAY0 + timedelta(5),
        cause="Multi-organ failure",
        user=clinician,
        hlh_related=True,
    )
    login(client, data_manager)
    lock_from_page(client, "patients.death", death.pk)
    page = login(client, clinician).get(reverse("death_record", args=[patient.pk])).content.decode()
    assert "This form is locked" in page and 'id="save-death"' not in page and 'name="cause"' not in page
    assert 'data-field="cause">Multi-organ failure<' in page
    assert re.search(r'class="btn btn-outline-secondary" href="[^"]+">Back</a>', page)  # nothing to cancel
    assert 'data-field="hlh_related">Yes<' in page
