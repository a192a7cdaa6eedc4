"""Adverse event pages: entry with the limits named, correction with a reason, concurrent edits,
roles and site scoping, lab-based suggestions, the CTCAE term search and notifications."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from assessments.models import AdverseEvent, CtcaeTerm, LabAESuggestion, LabPanel, LabResult
from assessments.services.adverse_events import adverse_event_record, lab_ae_suggestions_create
from notifications.models import Notification
from patients.services import patient_enroll, screening_create
from tests.conftest import PASSWORD, SCREENING_DAY, eligible_data

pytestmark = pytest.mark.django_db

ONSET = SCREENING_DAY + timedelta(days=4)  # 2026-03-06; enrollment is 2026-03-02


@pytest.fixture(autouse=True)
def _celery_eager():
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def patient(site_a, clinician):
    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    return patient_enroll(
        screening_id=screening.pk,
        enrollment_date=SCREENING_DAY,
        first_dose_date=SCREENING_DAY + timedelta(days=1),
        enrollment_weight_kg=Decimal("15.0"),
        prescribed_dose_mg=Decimal("5"),
        user=clinician,
    )


def term(code: str) -> CtcaeTerm:
    return CtcaeTerm.objects.get(code=code)


def payload(**overrides) -> dict:
    febrile = term("IN102")
    data = {
        "term": str(febrile.pk),
        "term_search": "Febrile neutropenia (IN102)",
        "other_specify": "",
        "grade": "3",
        "onset_date": ONSET.isoformat(),
        "resolution_date": "",
        "serious": "false",
        "relationship": "possible",
        "action_taken": "none",
        "outcome": "recovering",
        "description": "Fever 39.2 °C with ANC 0.3",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def saved_event(patient, user, **overrides) -> AdverseEvent:
    data = {
        "term": term("IN102"),
        "grade": 3,
        "onset_date": ONSET,
        "relationship": "possible",
        "action_taken": "none",
        "outcome": "recovering",
    }
    data.update(overrides)
    return adverse_event_record(patient=patient, data=data, user=user)


def test_list_requires_login(client, patient):
    response = client.get(reverse("ae_list", args=[patient.pk]))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert client.get(reverse("ctcae_term_search"), {"q": "rash"}).status_code == 302


def test_clinician_records_an_event_and_sees_it_in_the_list(client, clinician, patient):
    login(client, clinician)
    form = client.get(reverse("ae_create", args=[patient.pk])).content.decode()
    assert "data-ctcae-search" in form and "js/ctcae_search.js" in form
    assert "5 – Death related to the adverse event" in form
    response = client.post(reverse("ae_create", args=[patient.pk]), payload())
    ae = AdverseEvent.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('ae_list', args=[patient.pk])}#ae-{ae.pk}"
    assert (ae.term.code, ae.grade, ae.onset_date, ae.serious, ae.created_by) == ("IN102", 3, ONSET, False, clinician)
    page = client.get(reverse("ae_list", args=[patient.pk])).content.decode()
    assert f'id="ae-{ae.pk}"' in page
    assert "Febrile neutropenia" in page and "INFECTION" in page and "3 – Severe" in page
    assert f'class="nav-link active" href="{reverse("ae_list", args=[patient.pk])}"' in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"grade": "7"}, "grade", "Select a valid choice. 7 is not one of the available choices."),
        ({"grade": ""}, "grade", "This field is required."),
        ({"onset_date": "2026-03-01"}, "onset_date", "Onset date cannot be before enrollment (2026-03-02)."),
        ({"onset_date": "2999-01-01"}, "onset_date", "Onset date cannot be in the future (after "),
        ({"resolution_date": "2026-03-05"}, "resolution_date", "Resolution date cannot be before the onset date"),
        ({"term": "", "term_search": ""}, "term_search", "Choose a CTCAE v3.0 term, or describe the event"),
        ({"term": "", "term_search": "Headache of doom"}, "term_search", "'Headache of doom' is not a CTCAE v3.0 term"),
        ({"serious": "true"}, "serious", "A serious adverse event needs at least one seriousness criterion"),
        ({"outcome": "fatal"}, "outcome", "Outcome 'Fatal' is a grade 5 event (death); the grade entered is 3."),
        (
            {"grade": "5", "outcome": "fatal", "serious": "true", "sae_death": "on"},
            "grade",
            "Grade 5 (death) needs the patient's death recorded first",
        ),
        ({"relationship": ""}, "relationship", "This field is required."),
    ],
)
def test_bad_input_names_the_field_and_limit_and_saves_nothing(client, clinician, patient, overrides, field, message):
    login(client, clinician)
    response = client.post(reverse("ae_create", args=[patient.pk]), payload(**overrides))
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors
    page = response.content.decode()
    assert 'id="form-errors"' in page and message.replace("'", "&#x27;") in page
    assert not AdverseEvent.objects.exists()


def test_other_term_needs_the_text_on_the_page(client, clinician, patient):
    login(client, clinician)
    other = term("BL999")
    data = payload(term=str(other.pk), term_search="Hematologic-other (BL999)")
    response = client.post(reverse("ae_create", args=[patient.pk]), data)
    assert "needs the event specified in &#x27;Other, specify&#x27;" in response.content.decode()
    data["other_specify"] = "Marrow hypoplasia"
    assert client.post(reverse("ae_create", args=[patient.pk]), data).status_code == 302
    assert AdverseEvent.objects.get().term_label == "Hematologic-other: Marrow hypoplasia"


@pytest.mark.parametrize("typed", ["Diarrhea w/o prior colostomy (GI110)", "gi110", "diarrhea w/o prior colostomy"])
def test_term_typed_without_javascript_is_resolved(client, clinician, patient, typed):
    login(client, clinician)
    response = client.post(reverse("ae_create", args=[patient.pk]), payload(term="", term_search=typed))
    assert response.status_code == 302
    assert AdverseEvent.objects.get().term.code == "GI110"


def test_hidden_criteria_of_a_non_serious_event_are_not_saved(client, clinician, patient):
    login(client, clinician)
    client.post(reverse("ae_create", args=[patient.pk]), payload(serious="false", sae_hospitalisation="on"))
    ae = AdverseEvent.objects.get()
    assert (ae.serious, ae.sae_hospitalisation) == (False, False)


def test_serious_event_through_the_page_notifies_and_shows_in_the_bell(
    client, clinician, coordinator, monitor, patient, django_capture_on_commit_callbacks
):
    coordinator.email = "coord@example.org"
    coordinator.save()
    login(client, clinician)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("ae_create", args=[patient.pk]),
            payload(serious="true", sae_hospitalisation="on", grade="4"),
        )
    assert response.status_code == 302
    assert {n.recipient.username for n in Notification.objects.all()} == {coordinator.username, monitor.username}
    client.logout()
    login(client, coordinator)
    page = client.get(reverse("notification_list")).content.decode()
    assert 'id="unread-count">1<' in page
    note = Notification.objects.get(recipient=coordinator)
    assert f"Serious adverse event: {patient.subject_number}, Febrile neutropenia grade 4" in page
    response = client.post(reverse("notification_list"), {"notification": note.pk, "open": "1"})
    assert response["Location"] == note.link
    note.refresh_from_db()
    assert note.read_at is not None
    assert 'id="unread-count"' not in client.get(reverse("notification_list")).content.decode()


def test_notifications_are_the_users_own(client, clinician, coordinator, monitor, patient):
    saved_event(patient, clinician, serious=True, sae_other_important=True)
    login(client, clinician)
    page = client.get(reverse("notification_list")).content.decode()
    assert "No notifications." in page
    other = Notification.objects.get(recipient=coordinator)
    client.post(reverse("notification_list"), {"notification": other.pk})
    other.refresh_from_db()
    assert other.read_at is None
    client.logout()
    login(client, monitor)
    client.post(reverse("notification_list"))  # mark all read
    assert Notification.objects.get(recipient=monitor).read_at is not None
    assert Notification.objects.get(recipient=coordinator).read_at is None


def edit_payload(ae, version, reason="Source document checked", **overrides):
    data = payload(**overrides)
    data.update({"version": str(version), "reason_for_change": reason})
    return data


def test_edit_requires_a_reason_and_keeps_it_in_history(client, coordinator, clinician, patient):
    ae = saved_event(patient, clinician)
    login(client, coordinator)
    form = client.get(reverse("ae_edit", args=[ae.pk])).content.decode()
    assert 'value="Febrile neutropenia (IN102)"' in form and 'name="version" value="1"' in form
    response = client.post(reverse("ae_edit", args=[ae.pk]), edit_payload(ae, 1, reason="", grade="4"))
    assert response.status_code == 200 and "reason_for_change" in response.context["form"].errors
    response = client.post(reverse("ae_edit", args=[ae.pk]), edit_payload(ae, 1, grade="4"))
    assert response.status_code == 302
    ae.refresh_from_db()
    assert (ae.grade, ae.version, ae.updated_by) == (4, 2, coordinator)
    latest = ae.history.order_by("-history_date").first()
    assert latest.history_change_reason == "Source document checked"


def test_concurrent_edit_is_refused_with_409_and_shows_what_changed(client, coordinator, clinician, patient):
    ae = saved_event(patient, clinician)
    other = client.__class__()
    login(other, clinician)
    login(client, coordinator)
    first = other.post(reverse("ae_edit", args=[ae.pk]), edit_payload(ae, 1, grade="4"))
    assert first.status_code == 302
    second = client.post(reverse("ae_edit", args=[ae.pk]), edit_payload(ae, 1, outcome="recovered"))
    assert second.status_code == 409
    page = second.content.decode()
    assert "your changes were not saved" in page
    assert "<li>Grade: 3 – Severe → 4 – Life-threatening or disabling</li>" in page
    assert "grade:" not in page  # the field's label, not its column name
    ae.refresh_from_db()
    assert (ae.grade, ae.outcome, ae.version) == (4, "recovering", 2)


def test_monitor_reads_but_gets_403_on_every_change(client, monitor, clinician, patient):
    ae = saved_event(patient, clinician)
    suggestion = make_suggestion(patient)
    login(client, monitor)
    page = client.get(reverse("ae_list", args=[patient.pk])).content.decode()
    assert "Febrile neutropenia" in page and 'id="ae-new"' not in page and "Accept…" not in page
    assert client.get(reverse("ae_create", args=[patient.pk])).status_code == 403
    assert client.post(reverse("ae_create", args=[patient.pk]), payload()).status_code == 403
    assert client.post(reverse("ae_edit", args=[ae.pk]), edit_payload(ae, 1, grade="1")).status_code == 403
    assert client.post(reverse("ae_suggestion_accept", args=[suggestion.pk]), payload()).status_code == 403
    assert client.post(reverse("ae_suggestion_dismiss", args=[suggestion.pk]), {"reason": "x"}).status_code == 403
    assert client.get(reverse("ctcae_term_search"), {"q": "rash"}).status_code == 200
    ae.refresh_from_db()
    suggestion.refresh_from_db()
    assert (AdverseEvent.objects.count(), ae.grade, suggestion.status) == (1, 3, "pending")


def test_clinician_of_another_site_gets_404(client, clinician, clinician_b, patient):
    ae = saved_event(patient, clinician)
    suggestion = make_suggestion(patient)
    login(client, clinician_b)
    assert client.get(reverse("ae_list", args=[patient.pk])).status_code == 404
    assert client.get(reverse("ae_create", args=[patient.pk])).status_code == 404
    assert client.post(reverse("ae_create", args=[patient.pk]), payload()).status_code == 404
    assert client.get(reverse("ae_edit", args=[ae.pk])).status_code == 404
    assert client.get(reverse("ae_suggestion_accept", args=[suggestion.pk])).status_code == 404
    assert client.post(reverse("ae_suggestion_dismiss", args=[suggestion.pk]), {"reason": "x"}).status_code == 404
    assert AdverseEvent.objects.count() == 1
    suggestion.refresh_from_db()
    assert suggestion.status == "pending"


def test_term_search_returns_matching_terms_as_json(client, clinician):
    login(client, clinician)
    rows = client.get(reverse("ctcae_term_search"), {"q": "NEUTRO"}).json()
    assert rows[0] == {
        "id": term("BL110").pk,
        "code": "BL110",
        "term": "Neutrophils",
        "category": "BLOOD/BONE MARROW",
    }
    assert {r["code"] for r in rows} >= {"BL110", "IN102", "CN102"}
    by_category = client.get(reverse("ctcae_term_search"), {"q": "blood/bone"}).json()
    assert len(by_category) == CtcaeTerm.objects.filter(category="BLOOD/BONE MARROW").count()
    assert {r["category"] for r in by_category} == {"BLOOD/BONE MARROW"}
    assert len(client.get(reverse("ctcae_term_search"), {"q": "infection"}).json()) == 30
    assert client.get(reverse("ctcae_term_search"), {"q": "  "}).json() == []
    assert client.get(reverse("ctcae_term_search"), {"q": "zzzz-no-such-term"}).json() == []


# Lab-based suggestions on the list page.


def make_suggestion(patient, analyte="PLAT", value="20") -> LabAESuggestion:
    visit = patient.visits.filter(planned_day=7).first()
    moment = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    panel = LabPanel.objects.create(patient=patient, visit=visit, sampled_at=moment)
    LabResult.objects.create(
        panel=panel,
        patient=patient,
        analyte=analyte,
        value=Decimal(value),
        unit="10^9/L",
        sampled_at=moment,
        reference_low=Decimal("100"),
        reference_high=Decimal("300"),
    )
    [suggestion] = lab_ae_suggestions_create(panel=panel)
    return suggestion


def test_pending_suggestion_is_listed_and_accepted_through_the_form(client, clinician, patient):
    suggestion = make_suggestion(patient)
    login(client, clinician)
    page = client.get(reverse("ae_list", args=[patient.pk])).content.decode()
    assert f'id="suggestion-{suggestion.pk}"' in page
    # The official CTCAE term in the sentence is marked English (a Chinese page keeps it so).
    assert (
        'Platelets 20 10^9/L is &lt; 25 10^9/L (LLN 100 10^9/L): CTCAE v3.0 <span lang="en">Platelets</span> grade 4.'
        in page
    )
    form = client.get(reverse("ae_suggestion_accept", args=[suggestion.pk])).content.decode()
    assert 'value="Platelets (BL111)"' in form and 'value="2026-03-10"' in form
    # Fixed fields are disabled: a posted grade or term is ignored.
    data = payload(term=str(term("GI110").pk), grade="1", onset_date="2026-03-03")
    response = client.post(reverse("ae_suggestion_accept", args=[suggestion.pk]), data)
    ae = AdverseEvent.objects.get()
    assert response["Location"] == f"{reverse('ae_list', args=[patient.pk])}#ae-{ae.pk}"
    assert (ae.term.code, ae.grade, ae.onset_date.isoformat(), ae.source) == ("BL111", 4, "2026-03-10", "lab")
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.adverse_event_id) == ("accepted", ae.pk)
    page = client.get(reverse("ae_list", args=[patient.pk])).content.decode()
    assert f'id="suggestion-{suggestion.pk}"' not in page and 'id="decided-suggestions"' in page
    again = client.get(reverse("ae_suggestion_accept", args=[suggestion.pk]))
    assert again.status_code == 302 and AdverseEvent.objects.count() == 1


def test_accept_form_names_missing_answers(client, clinician, patient):
    suggestion = make_suggestion(patient)
    login(client, clinician)
    response = client.post(reverse("ae_suggestion_accept", args=[suggestion.pk]), payload(outcome=""))
    assert response.status_code == 200
    assert response.context["form"].errors["outcome"] == ["This field is required."]
    assert not AdverseEvent.objects.exists()


def test_dismiss_needs_a_reason(client, clinician, patient):
    suggestion = make_suggestion(patient)
    login(client, clinician)
    url = reverse("ae_suggestion_dismiss", args=[suggestion.pk])
    response = client.post(url, {"reason": ""}, follow=True)
    assert "Not dismissed: Give the reason for dismissing this suggestion." in response.content.decode()
    suggestion.refresh_from_db()
    assert suggestion.status == "pending"
    response = client.post(url, {"reason": "HLH thrombocytopenia, as at baseline"})
    assert response["Location"] == f"{reverse('ae_list', args=[patient.pk])}#suggestions"
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.dismissed_reason) == ("dismissed", "HLH thrombocytopenia, as at baseline")
    assert client.get(url).status_code == 405
