"""A posted number a page cannot use is never a 500: junk in a version (or an id) is an error
naming the field, on the page or as a 400 page, and nothing saved is changed or lost."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from assessments.models import AdverseEvent, LabPanel, ResponseAssessment, Visit
from assessments.services.responses import response_assess_patient
from patients.models import Death, DoseAdministration, Screening, SubsequentTherapy, TreatmentEnd
from patients.services import death_record, screening_create, subsequent_therapy_record, treatment_end_record
from tests.conftest import DAY0, PASSWORD, eligible_data, enroll_child, form_payload
from tests.exports.conftest import record_labs
from tests.web.test_adverse_event_pages import payload as ae_payload
from tests.web.test_adverse_event_pages import saved_event
from tests.web.test_lab_pages import payload as lab_payload
from tests.web.test_treatment_pages import dose_payload, dose_url, give

pytestmark = pytest.mark.django_db

JUNK = [
    pytest.param("abc", "Version must be a whole number of at least 1 (sent 'abc').", id="abc"),
    pytest.param("1e309", "Version must be a whole number of at least 1 (sent '1e309').", id="1e309"),
    pytest.param("", "Version is missing", id="empty"),
    pytest.param("-1", "Version must be at least 1 (sent -1).", id="-1"),
]


# Each page that takes a version: (record, its URL, a payload that saves with the right version,
# and whether the page shows the error on its form or flashes it on the page it returns to).
def screening_page(site, user):
    screening = screening_create(site=site, data=eligible_data(), user=user)
    data = form_payload(eligible_data(ferritin_ug_l=Decimal("5000"))) | {"reason_for_change": "Lab report"}
    return screening, reverse("screening_edit", args=[screening.pk]), data, "form"


def lab_page(site, user):
    patient = enroll_child(site, user)
    visit = Visit.objects.get(patient=patient, definition__code="D7")
    panel = record_labs(patient, visit, user).panel
    data = lab_payload(FERRITIN="2300", reason_for_change="Re-read report")
    return panel, reverse("lab_panel_edit", args=[visit.pk]), data, "form"


def adverse_event_page(site, user):
    ae = saved_event(enroll_child(site, user), user)
    data = ae_payload(grade="4") | {"reason_for_change": "Source document checked"}
    return ae, reverse("ae_edit", args=[ae.pk]), data, "form"


def dose_page(site, user):
    patient = enroll_child(site, user)
    dose = give(patient, user)
    return dose, dose_url(patient), dose_payload(amount_mg="2.5", reason_for_change="Half tablet given"), "form"


def _ended(site, user):
    patient = enroll_child(site, user)
    end = treatment_end_record(
        patient=patient, outcome="discontinued", reason="toxicity", last_dose_date=DAY0 + timedelta(5), user=user
    )
    return patient, end


def treatment_end_page(site, user):
    patient, end = _ended(site, user)
    data = {"outcome": "discontinued", "last_dose_date": "2026-03-08", "reason": "progression"}
    return end, reverse("treatment_end", args=[patient.pk]), data | {"reason_for_change": "Confirmed"}, "form"


def therapy_page(site, user):
    patient, _ = _ended(site, user)
    therapy = subsequent_therapy_record(
        patient=patient, regimen="hlh1994", start_date=date(2026, 3, 9), etoposide=True, dexamethasone=True, user=user
    )
    data = {
        "regimen": "hlh1994",
        "start_date": "2026-03-09",
        "etoposide": "on",
        "dexamethasone": "on",
        "response": "cr",
    }
    url = reverse("subsequent_therapy_edit", args=[patient.pk, therapy.pk])
    return therapy, url, data | {"reason_for_change": "Response assessed"}, "form"


def death_page(site, user):
    patient, _ = _ended(site, user)
    death = death_record(patient=patient, date_of_death=date(2026, 4, 20), cause="HLH relapse", user=user)
    data = {"date_of_death": "2026-04-21", "cause": "HLH relapse", "hlh_related": "true"}
    return death, reverse("death_record", args=[patient.pk]), data | {"reason_for_change": "Certificate"}, "form"


def visit_not_done_page(site, user):
    visit = Visit.objects.get(patient=enroll_child(site, user), definition__code="D14")
    return visit, reverse("visit_not_done", args=[visit.pk]), {"not_done_reason": "Transferred"}, "flash"


def response_confirm_page(site, user):
    patient = enroll_child(site, user)
    record_labs(patient, Visit.objects.get(patient=patient, definition__code="D3"), user)
    response_assess_patient(patient_id=patient.pk)
    assessment = ResponseAssessment.objects.filter(patient=patient).order_by("study_day").first()
    data = {"status": assessment.computed_status if assessment.computed_status != "not_assessable" else "nr"}
    return assessment, reverse("response_confirm", args=[assessment.pk]), data | {"reason": "Reviewed"}, "flash"


PAGES = [
    pytest.param(screening_page, Screening, id="screening_edit"),
    pytest.param(lab_page, LabPanel, id="lab_panel_edit"),
    pytest.param(adverse_event_page, AdverseEvent, id="ae_edit"),
    pytest.param(dose_page, DoseAdministration, id="dose_record"),
    pytest.param(treatment_end_page, TreatmentEnd, id="treatment_end"),
    pytest.param(therapy_page, SubsequentTherapy, id="subsequent_therapy_edit"),
    pytest.param(death_page, Death, id="death_record"),
    pytest.param(visit_not_done_page, Visit, id="visit_not_done"),
    pytest.param(response_confirm_page, ResponseAssessment, id="response_confirm"),
]


def saved(model, record) -> tuple:
    """What is stored of the record: its version, its history and every column."""
    row = model.objects.filter(pk=record.pk).values().get()
    return row.pop("version"), record.history.count(), row


@pytest.mark.parametrize(("page", "model"), PAGES)
@pytest.mark.parametrize(("junk", "message"), JUNK)
def test_junk_version_is_named_and_changes_nothing(client, clinician, site_a, page, model, junk, message):
    record, url, data, shows = page(site_a, clinician)
    before = saved(model, record)
    assert client.login(username=clinician.username, password=PASSWORD)
    response = client.post(url, data | {"version": junk})
    if shows == "form":
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert list(errors) == ["version"] and errors["version"][0].startswith(message)
        assert message in response.content.decode().replace("&#x27;", "'")
    else:
        assert response.status_code == 302
        flashed = [str(m) for m in get_messages(response.wsgi_request)]
        assert any(m.startswith(message) for m in flashed), flashed
    assert saved(model, record) == before


@pytest.mark.parametrize(("page", "model"), PAGES)
def test_the_same_payload_with_the_loaded_version_saves(client, clinician, site_a, page, model):
    """The control: each payload above is a valid edit, so only its version was refused."""
    record, url, data, _ = page(site_a, clinician)
    version, history, _ = saved(model, record)
    assert client.login(username=clinician.username, password=PASSWORD)
    response = client.post(url, data | {"version": str(version)})
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    assert saved(model, record)[:2] == (version + 1, history + 1)


def test_a_saved_lab_panel_is_not_changed_without_its_version(client, clinician, site_a):
    """An empty version used to skip the concurrency check and overwrite the panel."""
    panel, url, data, _ = lab_page(site_a, clinician)
    assert client.login(username=clinician.username, password=PASSWORD)
    data.pop("version", None)
    response = client.post(url, data)
    assert response.status_code == 200 and "version" in response.context["form"].errors
    assert LabPanel.objects.get(pk=panel.pk).version == panel.version


@pytest.mark.parametrize(
    ("request_", "status", "message"),
    [
        pytest.param(
            lambda w: ("post", reverse("notification_list"), {"notification": "²"}),
            400,
            "Notification must be a whole number of at least 1 (sent '²').",
            id="notification id '²' (isdigit() but not int())",
        ),
        pytest.param(
            lambda w: ("post", reverse("document_generate", args=[w.pk]), {"kind": "visit_crf", "visit": "abc"}),
            400,
            "Visit must be a whole number of at least 1 (sent 'abc').",
            id="visit id of a visit CRF",
        ),
        pytest.param(
            lambda w: ("get", reverse("screening_create") + "?site=abc", None),
            400,
            "Site must be a whole number of at least 1 (sent 'abc').",
            id="site of a new screening",
        ),
    ],
)
def test_junk_ids_are_a_400_page_naming_the_field(client, clinician, site_a, request_, status, message):
    patient = enroll_child(site_a, clinician)
    method, url, data = request_(patient)
    assert client.login(username=clinician.username, password=PASSWORD)
    response = getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
    page = response.content.decode().replace("&#x27;", "'")
    assert response.status_code == status
    assert message in page and "Nothing was saved" in page
    assert "Traceback" not in page and "SECRET_KEY" not in page


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param({"action": "unlock", "lock": "²"}, "Lock must be a whole number", id="lock id"),
        pytest.param({"action": "lock", "level": "lock", "visit": "1e309"}, "Visit must be", id="visit id"),
        pytest.param({"action": "sdv", "target": "patients.patient:²"}, "Form id must be", id="sdv target"),
    ],
)
def test_junk_ids_on_the_review_page_are_shown_on_it(client, data_manager, monitor, site_a, body, message):
    from crf.models import DataLock

    patient = enroll_child(site_a, data_manager)
    user = monitor if body["action"] == "sdv" else data_manager
    assert client.login(username=user.username, password=PASSWORD)
    response = client.post(reverse("patient_review", args=[patient.pk]), body | {"reason": "Checked"})
    assert response.status_code == 302
    assert any(message in str(m) for m in get_messages(response.wsgi_request))
    assert not DataLock.objects.exists()


def test_the_api_names_a_junk_id_or_version(clinician, site_a):
    from tests.api.conftest import client_for

    patient = enroll_child(site_a, clinician)
    api = client_for(clinician)
    response = api.get("/api/v1/visits/?patient=²")
    assert response.status_code == 400 and list(response.json()) == ["patient"]
    # JSON 1e309 is a float infinity: int() of it raised OverflowError, a 500.
    response = api.patch(
        f"/api/v1/screenings/{patient.screening_id}/",
        data='{"version": 1e309, "ferritin_ug_l": "5000", "reason_for_change": "x"}',
        content_type="application/json",
    )
    assert response.status_code == 400 and list(response.json()) == ["version"]
