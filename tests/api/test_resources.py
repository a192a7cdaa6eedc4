"""The REST API: reads and writes through the services, errors by field, roles, sites, versions."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from assessments.models import LabPanel, ResponseAssessment, Visit
from patients.models import Screening
from tests.api.conftest import dose_body
from tests.conftest import DAY0, PASSWORD, eligible_data

pytestmark = pytest.mark.django_db


def json_screening(**overrides) -> dict:
    out = {}
    for key, value in eligible_data(**overrides).items():
        out[key] = str(value) if isinstance(value, (Decimal, date)) else value
    return out


def test_token_obtained_with_password_and_used(clinician):
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": "clin_a", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/v1/screenings/").status_code == 200


def test_anonymous_is_refused():
    assert APIClient().get("/api/v1/screenings/").status_code in (401, 403)


def test_session_login_works_too(clinician, client):
    client.login(username="clin_a", password=PASSWORD)
    assert client.get("/api/v1/patients/").status_code == 200


def test_screening_created_with_eligibility_and_reasons(api):
    response = api.post("/api/v1/screenings/", {"site": "BCH", **json_screening()}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["eligibility"] == "eligible"
    assert body["screening_number"].startswith("BCH-S")
    assert body["eligibility_detail"]["hlh2004"]["criteria_met"] >= 5
    assert api.get(f"/api/v1/screenings/{body['id']}/").json()["eligibility"] == "eligible"


def test_screening_error_names_field_and_limit(api):
    response = api.post("/api/v1/screenings/", {"site": "BCH", **json_screening(max_temperature_c="60")}, format="json")
    assert response.status_code == 400
    assert response.json() == {"max_temperature_c": ["Maximum temperature must be at most 45 °C (entered 60)."]}
    assert not Screening.objects.exists()


def test_screening_bad_types_and_unknown_fields_are_400_not_500(api):
    for body in (
        {"site": "BCH", **json_screening(weight_kg="heavy")},
        {"site": "BCH", "nonsense": 1},
        {"site": "XXX"},
        [],
    ):
        response = api.post("/api/v1/screenings/", body, format="json")
        assert response.status_code == 400, body


def test_ineligible_screening_lists_reasons(api):
    body = api.post(
        "/api/v1/screenings/", {"site": "BCH", **json_screening(prior_hlh_chemotherapy=True)}, format="json"
    ).json()
    assert body["eligibility"] == "ineligible"
    assert body["status"] == "screen_failure"
    assert body["eligibility_detail"]["failed"]


def test_enroll_computes_etiology_risk_and_dose_band(api):
    screening = api.post("/api/v1/screenings/", {"site": "BCH", **json_screening()}, format="json").json()
    response = api.post(
        f"/api/v1/screenings/{screening['id']}/enroll/",
        {
            "enrollment_date": "2026-03-02",
            "first_dose_date": "2026-03-03",
            "weight_kg": "15.0",
            "prescribed_dose_mg": "5",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    patient = response.json()
    assert patient["subject_number"] == "BCH-001"
    assert patient["etiology"] == "ebv"
    assert patient["risk_group"] in {"high", "low"}
    assert Decimal(patient["expected_dose_mg"]) == Decimal("5")
    assert patient["dose_deviation"] is False
    visits = api.get(f"/api/v1/visits/?patient={patient['id']}&page_size=100").json()
    assert visits["count"] == Visit.objects.filter(patient_id=patient["id"]).count() > 10


def test_enroll_refused_for_ineligible_child(api):
    screening = api.post(
        "/api/v1/screenings/", {"site": "BCH", **json_screening(prior_hlh_chemotherapy=True)}, format="json"
    ).json()
    response = api.post(
        f"/api/v1/screenings/{screening['id']}/enroll/",
        {
            "enrollment_date": "2026-03-02",
            "first_dose_date": "2026-03-03",
            "weight_kg": "15.0",
            "prescribed_dose_mg": "5",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "not eligible" in response.json()["non_field_errors"][0]


def test_enroll_form_errors_same_as_page(api):
    screening = api.post("/api/v1/screenings/", {"site": "BCH", **json_screening()}, format="json").json()
    response = api.post(
        f"/api/v1/screenings/{screening['id']}/enroll/",
        {
            "enrollment_date": "2026-03-02",
            "first_dose_date": "2026-03-03",
            "weight_kg": "200",
            "prescribed_dose_mg": "5",
        },
        format="json",
    )
    assert response.json() == {"weight_kg": ["Weight at enrollment must be at most 150 kg (entered 200 kg)."]}


def test_screening_update_needs_version_and_409_when_stale(api):
    screening = api.post("/api/v1/screenings/", {"site": "BCH", **json_screening()}, format="json").json()
    url = f"/api/v1/screenings/{screening['id']}/"
    etag = api.get(url)["ETag"]
    assert etag == '"1"'
    ok = api.patch(url, {"ferritin_ug_l": "5000", "reason_for_change": "Lab report"}, format="json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 200, ok.json()
    assert ok.json()["version"] == 2
    stale = api.patch(url, {"ferritin_ug_l": "6000", "reason_for_change": "Again", "version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert "ferritin_ug_l" in stale.json()["changes"]
    missing = api.patch(url, {"ferritin_ug_l": "6000", "reason_for_change": "x"}, format="json")
    assert missing.status_code == 400 and "version" in missing.json()
    no_reason = api.patch(url, {"ferritin_ug_l": "6000", "version": 2}, format="json")
    assert no_reason.status_code == 400 and "reason_for_change" in no_reason.json()


def test_monitor_reads_but_cannot_write(api_monitor, patient):
    assert api_monitor.get("/api/v1/patients/").json()["count"] == 1
    assert (
        api_monitor.post("/api/v1/screenings/", {"site": "BCH", **json_screening()}, format="json").status_code == 403
    )
    screening_url = f"/api/v1/screenings/{patient.screening_id}/"
    assert api_monitor.patch(screening_url, {"version": 1}, format="json").status_code == 403


def test_other_site_is_404_and_not_listed(api_b, patient):
    assert api_b.get(f"/api/v1/patients/{patient.pk}/").status_code == 404
    assert api_b.get(f"/api/v1/screenings/{patient.screening_id}/").status_code == 404
    assert api_b.get("/api/v1/patients/").json()["count"] == 0
    visit = Visit.objects.filter(patient=patient).first()
    assert api_b.get(f"/api/v1/visits/{visit.pk}/").status_code == 404
    response = api_b.post("/api/v1/lab-panels/", {"visit": visit.pk, "sampled_at": "2026-03-03T08:00"}, format="json")
    assert response.status_code == 404


def test_list_filters_by_site_and_date(api, patient):
    assert api.get("/api/v1/patients/?site=BCH").json()["count"] == 1
    # A site that is not one of yours is named, not answered with an empty list.
    assert api.get("/api/v1/patients/?site=SCH").json() == {"site": ["Choose one of your sites: BCH."]}
    assert api.get("/api/v1/screenings/?date_from=2026-03-03").json()["count"] == 0
    assert api.get("/api/v1/screenings/?date_from=2026-03-02").json()["count"] == 1
    assert api.get("/api/v1/screenings/?date_from=bad").status_code == 400


def _lab_body(visit, day: int, temp: str = "36.8") -> dict:
    when = datetime.combine(DAY0 + timedelta(days=day), time(8)).isoformat()
    return {
        "visit": visit.pk,
        "sampled_at": when,
        "values": [
            {"analyte": "TEMP", "value": temp, "unit": "°C"},
            {"analyte": "NEUT", "value": "1.6"},
            {"analyte": "PLAT", "value": "160", "unit": "10^9/L"},
            {"analyte": "FIBRINO", "value": "2.3"},
            {"analyte": "SCD25", "value": "5200", "unit": "pg/mL"},
            {"analyte": "FERRITIN", "value": "420"},
            {"analyte": "TRIG", "value": "1.5"},
            {"analyte": "SPLEEN", "value": "0"},
        ],
        "cns_symptoms": False,
    }


def test_lab_panel_write_read_and_response_computed(api, patient, django_capture_on_commit_callbacks):
    visit = Visit.objects.get(patient=patient, definition__code="D7")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/lab-panels/", _lab_body(visit, 7), format="json")
    assert response.status_code == 201, response.json()
    panel = response.json()
    assert {r["analyte"] for r in panel["results"]} >= {"TEMP", "FERRITIN"}
    assert api.get(f"/api/v1/lab-panels/?patient={patient.pk}").json()["count"] == 1
    assert api.get(f"/api/v1/visits/{visit.pk}/").json()["visit_date"] == str(DAY0 + timedelta(days=7))
    assessments = api.get(f"/api/v1/response-assessments/?patient={patient.pk}").json()
    assert assessments["count"] == ResponseAssessment.objects.filter(patient=patient).count() >= 1


def test_lab_value_beyond_limit_names_field_and_limit(api, patient):
    visit = Visit.objects.get(patient=patient, definition__code="D7")
    response = api.post("/api/v1/lab-panels/", _lab_body(visit, 7, temp="60"), format="json")
    assert response.status_code == 400
    assert response.json() == {"values[0].value": ["Maximum temperature must be at most 45 °C (entered 60)."]}
    assert not LabPanel.objects.exists()


def test_lab_panel_correction_needs_reason_and_version(api, patient):
    visit = Visit.objects.get(patient=patient, definition__code="D7")
    panel = api.post("/api/v1/lab-panels/", _lab_body(visit, 7), format="json").json()
    url = f"/api/v1/lab-panels/{panel['id']}/"
    body = {"values": [{"analyte": "FERRITIN", "value": "400"}], "version": 1}
    assert "reason_for_change" in api.patch(url, body, format="json").json()
    ok = api.patch(url, {**body, "reason_for_change": "Transcription error"}, format="json")
    assert ok.status_code == 200, ok.json()
    values = {r["analyte"]: r["value"] for r in ok.json()["results"]}
    assert Decimal(values["FERRITIN"]) == 400 and "TEMP" in values
    stale = api.patch(url, {**body, "reason_for_change": "again"}, format="json")
    assert stale.status_code == 409


def test_response_confirm(api, patient, django_capture_on_commit_callbacks):
    visit = Visit.objects.get(patient=patient, definition__code="D7")
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/v1/lab-panels/", _lab_body(visit, 7), format="json")
    assessment = ResponseAssessment.objects.filter(patient=patient).order_by("study_day").last()
    url = f"/api/v1/response-assessments/{assessment.pk}/confirm/"
    other = next(s for s in ("cr", "pr", "nr") if s != assessment.computed_status)
    refused = api.post(url, {"status": other, "version": assessment.version}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()
    body = {"status": other, "reason": "Clinical judgement", "version": assessment.version}
    ok = api.post(url, body, format="json")
    assert ok.status_code == 200, ok.json()
    assert ok.json()["confirmed_status"] == other
    assert api.post(url, body, format="json").status_code == 409


def test_monitor_cannot_confirm(api_monitor, patient, django_capture_on_commit_callbacks):
    visit = Visit.objects.get(patient=patient, definition__code="D7")
    from tests.api.conftest import client_for

    with django_capture_on_commit_callbacks(execute=True):
        client_for(patient.created_by).post("/api/v1/lab-panels/", _lab_body(visit, 7), format="json")
    assessment = ResponseAssessment.objects.filter(patient=patient).first()
    response = api_monitor.post(
        f"/api/v1/response-assessments/{assessment.pk}/confirm/", {"status": "cr", "version": 1}
    )
    assert response.status_code == 403


AE = {
    "term_code": "AL101",
    "grade": 2,
    "onset_date": str(DAY0 + timedelta(days=2)),
    "serious": False,
    "relationship": "possible",
    "action_taken": "none",
    "outcome": "recovered",
}


def _ae_choices():
    from assessments.models import AdverseEvent

    return AdverseEvent.Relationship.values[0], AdverseEvent.Action.values[0], AdverseEvent.Outcome.values[0]


def test_adverse_event_create_update_and_errors(api, patient):
    relationship, action, outcome = _ae_choices()
    body = {**AE, "patient": patient.pk, "relationship": relationship, "action_taken": action, "outcome": outcome}
    response = api.post("/api/v1/adverse-events/", body, format="json")
    assert response.status_code == 201, response.json()
    ae = response.json()
    assert ae["term_code"] == "AL101" and ae["grade"] == 2
    bad = api.post("/api/v1/adverse-events/", {**body, "grade": 7}, format="json")
    assert bad.status_code == 400
    assert bad.json()["grade"] == ["Grade must be 1 to 5 (CTCAE v3.0: 1 mild to 5 death); entered 7."]
    url = f"/api/v1/adverse-events/{ae['id']}/"
    updated = api.patch(url, {"grade": 3, "version": 1, "reason_for_change": "Regraded"}, format="json")
    assert updated.status_code == 200 and updated.json()["grade"] == 3
    assert api.patch(url, {"grade": 1, "version": 1, "reason_for_change": "x"}, format="json").status_code == 409


def test_read_only_lists_of_other_parts(api, patient):
    for url in ("doses", "treatment-ends", "follow-ups", "sites", "analytes"):
        assert api.get(f"/api/v1/{url}/").status_code == 200, url


def test_schema_and_docs_page_served_offline(api, client, clinician):
    schema = api.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    assert "/api/v1/screenings/" in schema.json()["paths"]
    client.force_login(clinician)  # the documentation pages are for a signed-in browser
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "swagger-ui" in html


def test_timezone_naive_sampling_is_site_time(api, patient):
    visit = Visit.objects.get(patient=patient, definition__code="D3")
    panel = api.post("/api/v1/lab-panels/", _lab_body(visit, 3), format="json").json()
    sampled = datetime.fromisoformat(panel["sampled_at"])
    assert timezone.is_aware(sampled)


def test_list_query_count_is_constant(api, site_a, clinician):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import enroll_child

    for initials in ("AB", "CD", "EF"):
        enroll_child(site_a, clinician, initials=initials)
    api.get("/api/v1/sites/")  # a token's first use of the day writes its use log (accounts/tokens.py)
    for name in ("patients", "screenings", "visits", "lab-panels", "response-assessments", "adverse-events"):
        counts = []
        for size in (1, 50):
            with CaptureQueriesContext(connection) as captured:
                assert api.get(f"/api/v1/{name}/?page_size={size}").status_code == 200
            counts.append(len(captured))
        assert counts[0] == counts[1], name


def test_docs_page_assets_are_vendored(client, clinician):
    client.force_login(clinician)
    html = client.get("/api/v1/docs/").content.decode()
    src = next(part.split('"')[0] for part in html.split('src="')[1:] if "swagger-ui" in part)
    assert src.startswith("/static/")
    assert client.get(src).status_code == 200


def test_dose_treatment_end_and_follow_up_written_through_services(api, patient):
    given = dose_body(patient)
    response = api.post("/api/v1/doses/", given, format="json")
    assert response.status_code == 201, response.json()
    dose = response.json()
    assert dose["deviation"] is False
    assert api.post("/api/v1/doses/", given, format="json").status_code == 400
    missed = api.post(
        "/api/v1/doses/", {"patient": patient.pk, "treatment_day": 1, "slot": "pm", "status": "missed"}, format="json"
    )
    assert missed.status_code == 400 and missed.json()["reason"] == ["A missed dose needs its reason."]
    bad_amount = api.post("/api/v1/doses/", {**given, "slot": "pm", "amount_mg": "5.001"}, format="json")
    assert bad_amount.json()["amount_mg"] == ["Enter at most 2 decimal places (0.01 mg)."]
    url = f"/api/v1/doses/{dose['id']}/"
    corrected = api.patch(url, {"amount_mg": "4", "version": 1, "reason_for_change": "Chart"}, format="json")
    assert corrected.status_code == 200, corrected.json()
    assert corrected.json()["deviation"] is True
    assert api.patch(url, {"amount_mg": "5", "version": 1, "reason_for_change": "x"}, format="json").status_code == 409

    end = api.post(
        "/api/v1/treatment-ends/",
        {"patient": patient.pk, "outcome": "discontinued", "reason": "", "last_dose_date": str(DAY0)},
        format="json",
    )
    assert end.status_code == 400 and "reason" in end.json()
    end = api.post(
        "/api/v1/treatment-ends/",
        {"patient": patient.pk, "outcome": "discontinued", "reason": "progression", "last_dose_date": str(DAY0)},
        format="json",
    )
    assert end.status_code == 201, end.json()
    follow_up = api.post(
        "/api/v1/follow-ups/",
        {"patient": patient.pk, "assessed_on": str(DAY0 + timedelta(days=30)), "vital_status": "alive"},
        format="json",
    )
    assert follow_up.status_code == 201, follow_up.json()
    assert api.get(f"/api/v1/follow-ups/?patient={patient.pk}").json()["count"] == 1


def test_a_dose_too_soon_after_the_previous_needs_confirm_short_interval(api, patient):
    day2 = DAY0 + timedelta(days=1)
    first = dose_body(patient, treatment_day=2, administered_at=f"{day2}T08:02")
    assert api.post("/api/v1/doses/", first, format="json").status_code == 201
    evening = {**first, "slot": "pm", "administered_at": f"{day2}T08:15"}
    refused = api.post("/api/v1/doses/", evening, format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "administered_at": [
            f"Only 13 min after the previous dose (the morning dose of treatment day 2, given at 08:02 on {day2}, "
            "site time); doses must be at least 8 h apart (twice daily, protocol section 6). To record it anyway, "
            "confirm the short interval."
        ]
    }
    not_a_flag = api.post("/api/v1/doses/", {**evening, "confirm_short_interval": "yes"}, format="json")
    assert not_a_flag.json() == {"confirm_short_interval": ["Confirm short interval: true or false."]}
    confirmed = api.post("/api/v1/doses/", {**evening, "confirm_short_interval": True}, format="json")
    assert confirmed.status_code == 201, confirmed.json()
    body = confirmed.json()
    assert body["short_interval"] is True and "Only 13 min after" in body["short_interval_note"]


def test_a_repeated_dose_post_changes_nothing_and_says_so(api, patient):
    given = dose_body(patient)
    dose = api.post("/api/v1/doses/", given, format="json").json()
    again = api.post("/api/v1/doses/", {**given, "administered_at": f"{DAY0}T08:20"}, format="json")
    assert again.status_code == 400
    assert again.json() == {
        "slot": [
            f"The morning dose of treatment day 1 ({DAY0}) is already recorded as given at 08:00; nothing changed. "
            f"Open it to change it with a reason for change. (PATCH /doses/{dose['id']}/)"
        ]
    }
    assert api.get(f"/api/v1/doses/{dose['id']}/").json()["version"] == 1


def test_monitor_cannot_record_doses(api_monitor, patient):
    body = {"patient": patient.pk, "treatment_day": 1, "slot": "am", "status": "missed", "reason": "x"}
    assert api_monitor.post("/api/v1/doses/", body, format="json").status_code == 403


def test_unscheduled_visit_and_visit_not_done(api, api_monitor, patient):
    response = api.post(
        "/api/v1/visits/",
        {"patient": patient.pk, "visit_date": str(DAY0 + timedelta(days=10)), "reason": "Fever"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["unscheduled"] is True
    no_reason = api.post(
        "/api/v1/visits/", {"patient": patient.pk, "visit_date": str(DAY0), "reason": ""}, format="json"
    )
    assert no_reason.json() == {"reason": ["Give the reason for the unscheduled visit."]}
    visit = Visit.objects.get(patient=patient, definition__code="D2")
    url = f"/api/v1/visits/{visit.pk}/not-done/"
    assert api_monitor.post(url, {"reason": "x", "version": 1}, format="json").status_code == 403
    done = api.post(url, {"reason": "Discharged home", "version": visit.version}, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["not_done"] is True
    assert api.post(url, {"reason": "again", "version": visit.version}, format="json").status_code == 409


@pytest.mark.parametrize(
    ("day", "slot"), [("abc", "am"), ("1", "am"), (10**20, "am"), (True, "am"), (1, ["am"]), (None, None)]
)
def test_a_dose_for_no_scheduled_slot_is_a_400_naming_the_field(api, patient, day, slot):
    response = api.post("/api/v1/doses/", dose_body(patient, treatment_day=day, slot=slot), format="json")
    assert response.status_code == 400
    assert set(response.json()) <= {"treatment_day", "slot"} and response.json()
