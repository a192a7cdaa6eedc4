"""The API's supportive care, subsequent therapy, death, data queries, study report and temperatures:
written through the pages' services with their messages, roles, sites, versions and history."""

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from assessments.models import AdverseEvent, SupportiveCare, Visit
from crf.models import DataQuery
from patients.models import Death, SubsequentTherapy
from tests.api.conftest import client_for, dose_body
from tests.conftest import DAY0, PASSWORD, SCREENING_DAY, enroll_child, make_user
from trial.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_dm(data_manager) -> APIClient:
    return client_for(data_manager)


@pytest.fixture
def api_coord(coordinator) -> APIClient:
    return client_for(coordinator)


def _last_reason(model, pk: int) -> str:
    return model.history.filter(id=pk).order_by("-history_date").first().history_change_reason


# Supportive care


def test_supportive_care_create_list_and_filters(api, patient):
    gcsf = api.post(
        "/api/v1/supportive-care/",
        {"patient": patient.pk, "kind": "gcsf", "given_on": str(DAY0 + timedelta(days=2)), "detail": "5 µg/kg"},
        format="json",
    )
    assert gcsf.status_code == 201, gcsf.json()
    assert gcsf.json()["product"] == "" and gcsf.json()["version"] == 1
    platelets = {"patient": patient.pk, "kind": "transfusion", "product": "platelets", "given_on": str(DAY0)}
    assert api.post("/api/v1/supportive-care/", platelets, format="json").status_code == 201
    assert api.get(f"/api/v1/supportive-care/?patient={patient.pk}").json()["count"] == 2
    assert api.get("/api/v1/supportive-care/?kind=transfusion").json()["count"] == 1
    assert api.get(f"/api/v1/supportive-care/?date_from={DAY0 + timedelta(days=1)}").json()["count"] == 1
    assert api.get("/api/v1/supportive-care/?site=SCH").status_code == 400  # not one of your sites
    assert api.get("/api/v1/supportive-care/?kind=blood").status_code == 400
    detail = api.get(f"/api/v1/supportive-care/{gcsf.json()['id']}/")
    assert detail["ETag"] == '"1"' and detail.json()["detail"] == "5 µg/kg"


def test_supportive_care_errors_name_the_field_and_limit(api, patient):
    url = "/api/v1/supportive-care/"
    base = {"patient": patient.pk, "given_on": str(DAY0)}
    no_product = api.post(url, {**base, "kind": "transfusion"}, format="json")
    assert no_product.status_code == 400
    assert no_product.json() == {"product": ["Choose the transfused product."]}
    gcsf_product = api.post(url, {**base, "kind": "gcsf", "product": "plasma"}, format="json")
    assert gcsf_product.json() == {"product": ["A product is recorded for transfusions only."]}
    before = api.post(url, {**base, "kind": "gcsf", "given_on": str(SCREENING_DAY - timedelta(days=1))}, format="json")
    assert before.json() == {"given_on": [f"Date cannot be before screening ({SCREENING_DAY.isoformat()})."]}
    long = api.post(url, {**base, "kind": "gcsf", "detail": "x" * 101}, format="json")
    assert long.json() == {"detail": ["Ensure this value has at most 100 characters (it has 101)."]}
    for body, field in (
        ({**base, "kind": "gcsf", "given_on": "2026-02-30"}, "given_on"),
        ({**base, "kind": 3}, "kind"),
        ({**base, "kind": "gcsf", "colour": "red"}, "colour"),
        ({**base, "kind": "gcsf", "detail": "a\x00b"}, "detail"),
    ):
        response = api.post(url, body, format="json")
        assert response.status_code == 400 and field in response.json(), body
    assert not SupportiveCare.objects.exists()


def test_supportive_care_update_needs_version_and_reason_and_is_audited(api, patient):
    body = {"patient": patient.pk, "kind": "transfusion", "product": "red_cells", "given_on": str(DAY0)}
    care = api.post("/api/v1/supportive-care/", body, format="json").json()
    url = f"/api/v1/supportive-care/{care['id']}/"
    assert "version" in api.patch(url, {"product": "platelets", "reason_for_change": "Chart"}, format="json").json()
    no_reason = api.patch(url, {"product": "platelets", "version": 1}, format="json")
    assert no_reason.json() == {"reason_for_change": ["A reason for change is required to change saved data."]}
    ok = api.patch(
        url, {"product": "platelets", "reason_for_change": "Blood bank record"}, HTTP_IF_MATCH='"1"', format="json"
    )
    assert ok.status_code == 200, ok.json()
    assert ok.json()["product"] == "platelets" and ok.json()["version"] == 2 and ok["ETag"] == '"2"'
    assert _last_reason(SupportiveCare, care["id"]) == "Blood bank record"
    stale = api.patch(url, {"product": "plasma", "version": 1, "reason_for_change": "again"}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2 and stale.json()["changes"]["product"]["to"] == "platelets"
    too_long = api.patch(url, {"detail": "1 unit", "version": 2, "reason_for_change": "r" * 101}, format="json")
    assert too_long.json() == {"reason_for_change": ["Reason for change must be at most 100 characters (it has 101)."]}
    assert SupportiveCare.objects.get(pk=care["id"]).product == "platelets"


def test_supportive_care_roles_and_sites(api, api_monitor, api_b, patient):
    body = {"patient": patient.pk, "kind": "gcsf", "given_on": str(DAY0)}
    assert api_monitor.post("/api/v1/supportive-care/", body, format="json").status_code == 403
    care = api.post("/api/v1/supportive-care/", body, format="json").json()
    url = f"/api/v1/supportive-care/{care['id']}/"
    assert api_monitor.get(url).status_code == 200
    assert (
        api_monitor.patch(url, {"detail": "x", "version": 1, "reason_for_change": "x"}, format="json").status_code
        == 403
    )
    assert api_b.get(url).status_code == 404
    assert api_b.post("/api/v1/supportive-care/", body, format="json").status_code == 404
    assert api_b.get("/api/v1/supportive-care/").json()["count"] == 0


# Subsequent therapy and death


def _end_treatment(api, patient, day: int = 3):
    response = api.post(
        "/api/v1/treatment-ends/",
        {
            "patient": patient.pk,
            "outcome": "discontinued",
            "reason": "progression",
            "last_dose_date": str(DAY0 + timedelta(days=day)),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()


HLH1994 = {"regimen": "hlh1994", "etoposide": True, "dexamethasone": True}


def test_subsequent_therapy_follows_the_end_of_treatment(api, patient):
    url = "/api/v1/subsequent-therapies/"
    start = str(DAY0 + timedelta(days=4))
    first = api.post(url, {"patient": patient.pk, **HLH1994, "start_date": start}, format="json")
    assert first.status_code == 400
    assert first.json() == {
        "start_date": [
            "Subsequent therapy follows ruxolitinib (protocol section 6): record the end of treatment first."
        ]
    }
    _end_treatment(api, patient)
    half = api.post(
        url, {"patient": patient.pk, "regimen": "hlh1994", "etoposide": True, "start_date": start}, format="json"
    )
    assert half.json() == {"regimen": ["HLH-1994 is etoposide + dexamethasone (+/- cyclosporine A): tick both."]}
    early = api.post(url, {"patient": patient.pk, **HLH1994, "start_date": str(DAY0)}, format="json")
    assert early.json() == {
        "start_date": [f"Start date cannot be before the last ruxolitinib dose ({DAY0 + timedelta(days=3)})."]
    }
    assert (
        api.post(
            url, {"patient": patient.pk, **HLH1994, "etoposide": "yes", "start_date": start}, format="json"
        ).status_code
        == 400
    )
    created = api.post(
        url, {"patient": patient.pk, **HLH1994, "cyclosporine": True, "start_date": start}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["cyclosporine"] is True and created.json()["response"] == ""
    again = api.post(url, {"patient": patient.pk, **HLH1994, "start_date": start}, format="json")
    assert again.status_code == 400 and "PATCH /subsequent-therapies/" in again.json()["start_date"][0]
    assert api.get(f"{url}?patient={patient.pk}&date_from={start}").json()["count"] == 1


def test_subsequent_therapy_update_with_reason_version_and_history(api, api_monitor, api_b, patient):
    _end_treatment(api, patient)
    start = str(DAY0 + timedelta(days=4))
    therapy = api.post(
        "/api/v1/subsequent-therapies/", {"patient": patient.pk, **HLH1994, "start_date": start}, format="json"
    ).json()
    url = f"/api/v1/subsequent-therapies/{therapy['id']}/"
    no_reason = api.patch(url, {"response": "cr", "version": 1}, format="json")
    assert no_reason.json() == {"reason_for_change": ["A reason for change is required to change saved data."]}
    bad = api.patch(url, {"response": "great", "version": 1, "reason_for_change": "x"}, format="json")
    assert bad.status_code == 400 and "response" in bad.json()
    ok = api.patch(
        url, {"response": "cr", "outcome": "In remission", "version": 1, "reason_for_change": "Day 56"}, format="json"
    )
    assert ok.status_code == 200, ok.json()
    assert ok.json()["response"] == "cr" and ok.json()["etoposide"] is True and ok.json()["version"] == 2
    assert _last_reason(SubsequentTherapy, therapy["id"]) == "Day 56"
    stale = api.patch(url, {"response": "pr", "version": 1, "reason_for_change": "x"}, format="json")
    assert stale.status_code == 409 and stale.json()["changes"]["response"] == {"from": "", "to": "cr"}
    assert (
        api_monitor.patch(url, {"response": "pr", "version": 2, "reason_for_change": "x"}, format="json").status_code
        == 403
    )
    assert api_monitor.get(url).status_code == 200
    assert api_b.get(url).status_code == 404
    assert (
        api_b.patch(url, {"response": "pr", "version": 2, "reason_for_change": "x"}, format="json").status_code == 404
    )


def _grade5(patient) -> dict:
    return {
        "patient": patient.pk,
        "term_code": "AL101",
        "grade": 5,
        "onset_date": str(DAY0 + timedelta(days=2)),
        "serious": True,
        "sae_death": True,
        "relationship": AdverseEvent.Relationship.values[0],
        "action_taken": AdverseEvent.Action.values[0],
        "outcome": "fatal",
    }


def test_death_keeps_the_rules_grade5_ae_needs_it(api, patient):
    refused = api.post("/api/v1/adverse-events/", _grade5(patient), format="json")
    assert refused.status_code == 400
    assert refused.json()["grade"] == [
        "Grade 5 (death) needs the patient's death recorded first (date and cause of death)."
    ]
    died = str(DAY0 + timedelta(days=5))
    before = api.post(
        "/api/v1/deaths/",
        {"patient": patient.pk, "date_of_death": str(SCREENING_DAY - timedelta(days=1)), "cause": "HLH"},
        format="json",
    )
    assert before.json() == {
        "date_of_death": [f"Date of death cannot be before enrollment ({SCREENING_DAY.isoformat()})."]
    }
    no_cause = api.post("/api/v1/deaths/", {"patient": patient.pk, "date_of_death": died}, format="json")
    assert no_cause.status_code == 400 and list(no_cause.json()) == ["cause"]
    long_cause = api.post(
        "/api/v1/deaths/", {"patient": patient.pk, "date_of_death": died, "cause": "c" * 301}, format="json"
    )
    assert long_cause.json() == {"cause": ["Ensure this value has at most 300 characters (it has 301)."]}
    created = api.post(
        "/api/v1/deaths/",
        {"patient": patient.pk, "date_of_death": died, "cause": "Multi-organ failure", "hlh_related": True},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["hlh_related"] is True
    assert api.get(f"/api/v1/patients/{patient.pk}/").json()["status"] == "off_study"
    again = api.post("/api/v1/deaths/", {"patient": patient.pk, "date_of_death": died, "cause": "x"}, format="json")
    assert again.status_code == 400 and "PATCH /deaths/" in again.json()["non_field_errors"][0]
    accepted = api.post("/api/v1/adverse-events/", _grade5(patient), format="json")
    assert accepted.status_code == 201, accepted.json()
    late_dose = api.post(
        "/api/v1/doses/",
        {"patient": patient.pk, "treatment_day": 8, "slot": "am", "status": "missed", "reason": "x"},
        format="json",
    )
    assert late_dose.status_code == 400 and "after the date of death" in late_dose.json()["treatment_day"][0]


def test_death_correction_with_reason_version_and_history(api, api_monitor, api_b, patient):
    died = str(DAY0 + timedelta(days=5))
    death = api.post(
        "/api/v1/deaths/", {"patient": patient.pk, "date_of_death": died, "cause": "Sepsis"}, format="json"
    ).json()
    url = f"/api/v1/deaths/{death['id']}/"
    assert api.get(url)["ETag"] == '"1"'
    no_reason = api.patch(url, {"cause": "Septic shock", "version": 1}, format="json")
    assert no_reason.json() == {"reason_for_change": ["A reason for change is required to change saved data."]}
    future = api.patch(url, {"date_of_death": "2099-01-01", "version": 1, "reason_for_change": "x"}, format="json")
    assert future.status_code == 400 and "cannot be in the future" in future.json()["date_of_death"][0]
    ok = api.patch(
        url, {"cause": "Septic shock", "reason_for_change": "Death certificate"}, HTTP_IF_MATCH='"1"', format="json"
    )
    assert ok.status_code == 200, ok.json()
    assert ok.json()["cause"] == "Septic shock" and ok.json()["date_of_death"] == died and ok["ETag"] == '"2"'
    assert _last_reason(Death, death["id"]) == "Death certificate"
    stale = api.patch(url, {"cause": "Bleeding", "version": 1, "reason_for_change": "x"}, format="json")
    assert stale.status_code == 409 and stale.json()["changes"]["cause"] == {"from": "Sepsis", "to": "Septic shock"}
    assert (
        api_monitor.patch(url, {"cause": "x", "version": 2, "reason_for_change": "x"}, format="json").status_code == 403
    )
    assert api_monitor.post("/api/v1/deaths/", {"patient": patient.pk}, format="json").status_code == 403
    assert api_monitor.get("/api/v1/deaths/").json()["count"] == 1
    assert api_b.get(url).status_code == 404
    assert api_b.get("/api/v1/deaths/").json()["count"] == 0


# Data queries


def _raise(client, patient, **overrides):
    body = {
        "patient": patient.pk,
        "target": f"patients.screening:{patient.screening_id}",
        "field": "ferritin_ug_l",
        "text": "Ferritin 3200: source says 3020?",
        **overrides,
    }
    return client.post("/api/v1/queries/", body, format="json")


def test_query_lifecycle_through_the_api(api, api_monitor, patient):
    raised = _raise(api_monitor, patient)
    assert raised.status_code == 201, raised.json()
    query = raised.json()
    assert (query["status"], query["origin"], query["raised_by_role"]) == ("open", "manual", "monitor")
    assert (query["form"], query["record_id"], query["site"]) == ("patients.screening", patient.screening_id, "BCH")
    assert [m["action"] for m in query["messages"]] == ["raise"]
    url = f"/api/v1/queries/{query['id']}/"

    answered = api.post(f"{url}answer/", {"text": "Checked: 3200 is correct."}, format="json")
    assert answered.status_code == 200, answered.json()
    assert answered.json()["status"] == "answered"
    twice = api.post(f"{url}answer/", {"text": "again"}, format="json")
    assert twice.status_code == 400
    assert twice.json() == {"status": ["The query is answered; it cannot be answered."]}
    reopened = api_monitor.post(f"{url}reopen/", {"text": "Attach the lab sheet.", "version": 2}, format="json")
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"
    stale = api.post(f"{url}answer/", {"text": "Uploaded", "version": 2}, format="json")
    assert stale.status_code == 409 and stale.json()["current_version"] == 3
    commented = api.post(f"{url}messages/", {"text": "Sheet is in the ISF."}, format="json")
    assert commented.status_code == 200 and commented.json()["status"] == "open"
    assert api.post(f"{url}answer/", {"text": "Uploaded"}, HTTP_IF_MATCH='"3"', format="json").status_code == 200
    closed = api_monitor.post(f"{url}close/", {"text": "Verified against source."}, format="json")
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed" and closed.json()["closed_by"] == "mon_a"
    assert api.post(f"{url}messages/", {"text": "late"}, format="json").json() == {
        "status": ["The query is closed; re-open it to continue the conversation."]
    }
    conversation = api.get(url).json()["messages"]
    assert [m["action"] for m in conversation] == ["raise", "answer", "reopen", "comment", "answer", "close"]
    assert conversation[1]["author"] == "clin_a" and conversation[3]["text"] == "Sheet is in the ISF."
    assert _last_reason(DataQuery, query["id"]) == "Query close"
    assert api.get(url)["ETag"] == f'"{DataQuery.objects.get(pk=query["id"]).version}"'


def test_query_roles(api, api_coord, api_monitor, api_dm, patient):
    refused = _raise(api, patient)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Only monitors and data managers raise queries."}
    query = _raise(api_dm, patient).json()
    assert query["raised_by_role"] == "data_manager"
    url = f"/api/v1/queries/{query['id']}/"
    assert api_coord.post(f"{url}close/", {"text": "fine"}, format="json").json() == {
        "detail": "Only monitors and data managers close queries."
    }
    assert api_monitor.post(f"{url}answer/", {"text": "me"}, format="json").status_code == 403
    assert api_coord.post(f"{url}reopen/", {"text": "x"}, format="json").status_code == 403
    assert api_coord.post(f"{url}answer/", {"text": "Corrected"}, format="json").status_code == 200
    assert api_monitor.post(f"{url}close/", {"text": "OK"}, format="json").status_code == 200
    assert DataQuery.objects.get(pk=query["id"]).status == "closed"


def test_query_validation_names_the_field(api_monitor, patient):
    wrong_target = _raise(api_monitor, patient, target="patients.screening:999999")
    assert wrong_target.status_code == 400 and "target" in wrong_target.json()
    assert _raise(api_monitor, patient, text="  ").json() == {"text": ["Write the question for the site."]}
    assert _raise(api_monitor, patient, field="f" * 61).json() == {
        "field": ["Field must be at most 60 characters (it has 61)."]
    }
    assert _raise(api_monitor, patient, text=5).status_code == 400
    assert _raise(api_monitor, patient, colour="red").json() == {"colour": ["Unknown field 'colour'."]}
    query = _raise(api_monitor, patient).json()
    empty = api_monitor.post(f"/api/v1/queries/{query['id']}/close/", {"text": ""}, format="json")
    assert empty.status_code == 400 and "text" in empty.json()
    assert DataQuery.objects.count() == 1


def test_query_other_site_is_404_and_lists_filter(api, api_b, api_monitor, clinician_b, site_b, patient):
    query = _raise(api_monitor, patient).json()
    assert api_b.get(f"/api/v1/queries/{query['id']}/").status_code == 404
    assert api_b.post(f"/api/v1/queries/{query['id']}/answer/", {"text": "x"}, format="json").status_code == 404
    assert api_b.get("/api/v1/queries/").json()["count"] == 0
    other = enroll_child(site_b, clinician_b)
    b_monitor = client_for(make_user("mon_b", Role.MONITOR, site_b))
    assert _raise(b_monitor, patient).status_code == 404
    assert _raise(api_monitor, other).status_code == 404

    _raise(api_monitor, patient, target=f"patients.patient:{patient.pk}", field="")
    assert api.get("/api/v1/queries/").json()["count"] == 2
    assert api.get("/api/v1/queries/?form=patients.patient").json()["count"] == 1
    assert api.get(f"/api/v1/queries/?patient={patient.pk}&site=BCH&status=open").json()["count"] == 2
    assert api.get("/api/v1/queries/?status=closed").json()["count"] == 0
    assert api.get("/api/v1/queries/?origin=auto").json()["count"] == 0
    assert api.get("/api/v1/queries/?status=nonsense").status_code == 400
    assert api.get("/api/v1/queries/?form=bad form").status_code == 400
    listed = api.get("/api/v1/queries/").json()["results"][0]
    assert "messages" not in listed and listed["subject_number"] == patient.subject_number


# Study report


@pytest.fixture
def _empty_cache():
    cache.clear()


def test_report_has_the_page_json_figures_for_your_sites(api, client, clinician, api_b, patient, _empty_cache):
    response = api.get("/api/v1/report/")
    assert response.status_code == 200
    body = response.json()
    assert body["enrollment"]["enrolled"] == 1 and body["sites"] == ["BCH"]
    assert {o["subject"] for o in body["outcomes"]} == {patient.subject_number}
    client.login(username=clinician.username, password=PASSWORD)
    page_json = json.loads(client.get(reverse("study_report_json")).content)
    assert page_json == body  # the same cached report
    other = api_b.get("/api/v1/report/").json()
    assert other["enrollment"]["enrolled"] == 0 and other["sites"] == ["SCH"] and other["outcomes"] == []
    assert APIClient().get("/api/v1/report/").status_code in (401, 403)


def test_report_gives_the_follow_up_in_days_and_months(api, patient, _empty_cache):
    # The patient has had no contact since the first dose: counted as without follow-up, not as 0 days.
    follow_up = api.get("/api/v1/report/").json()["follow_up"]
    assert (follow_up["n"], follow_up["without_follow_up"], follow_up["days_per_month"]) == (0, 1, 30.4375)
    assert follow_up["days"]["median"] is None and follow_up["months"]["median"] is None
    schema = api.get("/api/v1/schema/?format=json").json()
    assert "follow_up" in str(schema["components"]["schemas"]["StudyReport"]["properties"])


def test_report_in_schema(api):
    schema = api.get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/report/"]["get"]
    assert "cached" in operation["responses"]["200"]["description"]
    for path in ("supportive-care", "subsequent-therapies", "deaths", "queries"):
        assert f"/api/v1/{path}/" in schema["paths"], path
    assert "/api/v1/queries/{id}/answer/" in schema["paths"]


# Temperatures: stored as lab values (analyte TEMP) of a visit's panel, read and written there.


def test_temperatures_are_lab_values_of_the_panels(api, patient):
    analytes = {a["code"]: a for a in api.get("/api/v1/analytes/").json()}
    assert analytes["TEMP"]["unit"] == "°C" and analytes["TEMP"]["maximum"] == 45.0
    visit = Visit.objects.get(patient=patient, definition__code="D1")
    body = {
        "visit": visit.pk,
        "sampled_at": f"{DAY0 + timedelta(days=1)}T08:00",
        "values": [{"analyte": "TEMP", "value": "38.9", "unit": "°C"}],
    }
    assert api.post("/api/v1/lab-panels/", body, format="json").status_code == 201
    panels = api.get(f"/api/v1/lab-panels/?patient={patient.pk}").json()["results"]
    temps = [r for p in panels for r in p["results"] if r["analyte"] == "TEMP"]
    assert [(t["value"], t["unit"]) for t in temps] == [("38.9000", "°C")]
    screening = api.get(f"/api/v1/screenings/{patient.screening_id}/").json()
    assert screening["max_temperature_c"] == "39.5"


def test_new_lists_query_count_is_constant(api, api_monitor, site_a, clinician, patient):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    others = [enroll_child(site_a, clinician, initials=initials) for initials in ("AB", "CD")]
    for child in (patient, *others):
        _raise(api_monitor, child)
        api.post(
            "/api/v1/supportive-care/",
            {"patient": child.pk, "kind": "gcsf", "given_on": str(DAY0)},
            format="json",
        )
    for name in ("queries", "supportive-care", "subsequent-therapies", "deaths"):
        counts = []
        for size in (1, 50):
            with CaptureQueriesContext(connection) as captured:
                assert api.get(f"/api/v1/{name}/?page_size={size}").status_code == 200
            counts.append(len(captured))
        assert counts[0] == counts[1], name


# Impossible dates, NUL characters and long reasons for change are 400s on every resource.


def test_impossible_dates_and_nul_filters_are_400s(api, patient):
    follow_up = api.post(
        "/api/v1/follow-ups/",
        {"patient": patient.pk, "assessed_on": "2026-02-30", "vital_status": "alive"},
        format="json",
    )
    # The message of the import for the same field: every door names the impossible date.
    assert follow_up.json() == {"assessed_on": ["2026-02-30 is not a real date."]}
    end = api.post(
        "/api/v1/treatment-ends/",
        {"patient": patient.pk, "outcome": "completed", "last_dose_date": "2026-02-31"},
        format="json",
    )
    assert end.json() == {"last_dose_date": ["2026-02-31 is not a real date."]}
    dose = api.post(
        "/api/v1/doses/",
        {
            "patient": patient.pk,
            "treatment_day": 1,
            "slot": "am",
            "status": "given",
            "amount_mg": "5",
            "administered_at": "2026-02-30T08:00",
        },
        format="json",
    )
    assert dose.json() == {"administered_at": ["2026-02-30T08:00 is not a real date and time."]}
    assert api.get("/api/v1/doses/?site=B%00CH").json() == {"site": ["The value contains a NUL character."]}
    assert api.get("/api/v1/adverse-events/?date_to=2026-02-30").json() == {"date_to": ["Enter a date as YYYY-MM-DD."]}


def test_reason_for_change_is_named_and_limited_everywhere(api, patient):
    limit = ["Reason for change must be at most 100 characters (it has 101)."]
    given = dose_body(patient)
    dose = api.post("/api/v1/doses/", given, format="json").json()
    url = f"/api/v1/doses/{dose['id']}/"
    assert api.patch(url, {"amount_mg": "4", "version": 1}, format="json").json() == {
        "reason_for_change": ["A reason for change is required to change saved data."]
    }
    assert api.patch(url, {"amount_mg": "4", "version": 1, "reason_for_change": "r" * 101}, format="json").json() == {
        "reason_for_change": limit
    }
    ae = api.post("/api/v1/adverse-events/", {**_grade5(patient), "grade": 2, "outcome": "recovered"}, format="json")
    assert ae.status_code == 400  # sae_death goes with grade 5 only
    body = {**_grade5(patient), "grade": 2, "outcome": "recovered", "serious": False, "sae_death": False}
    ae = api.post("/api/v1/adverse-events/", body, format="json").json()
    response = api.patch(
        f"/api/v1/adverse-events/{ae['id']}/", {"grade": 3, "version": 1, "reason_for_change": "r" * 101}, format="json"
    )
    assert response.json() == {"reason_for_change": limit}
    screening = api.patch(
        f"/api/v1/screenings/{patient.screening_id}/",
        {"ferritin_ug_l": "5000", "version": 1, "reason_for_change": "r" * 101},
        format="json",
    )
    assert screening.json() == {"reason_for_change": ["Ensure this value has at most 100 characters (it has 101)."]}
