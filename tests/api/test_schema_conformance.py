"""The OpenAPI schema says what the API answers: every list, retrieve and create response of a real record
validates against it (blank choices and nulls included), and every operation documents its error
responses (400/401/403/404/409/413/423) with bodies the real errors validate against."""

import json
from datetime import timedelta

import pytest
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import response_schema_conformance

from assessments.models import Visit
from assessments.services.responses import response_assess_patient
from review.services import lock_set
from tests.api.test_schema_fuzz import live_schema  # noqa: F401 - the fixture
from tests.conftest import DAY0, SCREENING_DAY

pytestmark = pytest.mark.django_db


def day(n: int) -> str:
    return str(DAY0 + timedelta(days=n))


@pytest.fixture
def schema_json(api) -> dict:
    return api.get("/api/v1/schema/?format=json").json()


@pytest.fixture
def call(live_schema, clinician):  # noqa: F811
    token = Token.objects.get_or_create(user=clinician)[0].key

    def send(method: str, path: str, *, status: int, pk=None, body=None, query=None, headers=None, token_of=None):
        """Send through the schema's operation and validate the response against it."""
        extra = {"body": body, "media_type": "application/json"} if body is not None else {}
        case = live_schema[path][method.upper()].Case(
            path_parameters={"id": pk} if pk is not None else {}, query=query or {}, **extra
        )
        auth = Token.objects.get_or_create(user=token_of)[0].key if token_of else token
        response = case.call(headers={"Authorization": f"Token {auth}", **(headers or {})})
        assert response.status_code == status, (method, path, response.status_code, response.text[:400])
        case.validate_response(response, checks=[response_schema_conformance])
        return response.json()

    return send


def test_every_list_retrieve_and_create_conforms(call, patient, clinician, monitor, django_capture_on_commit_callbacks):
    # Creates: a screening without consent or sCD25 unit (blank choices), an unscheduled visit (code null), ...
    screening = call(
        "post",
        "/api/v1/screenings/",
        status=201,
        body={
            "site": "BCH",
            "initials": "AB",
            "sex": "M",
            "date_of_birth": "2022-01-01",
            "screening_date": str(SCREENING_DAY),
            "weight_kg": "10",
        },
    )
    assert screening["consent_relation"] == "" and screening["scd25_unit"] == ""
    unscheduled = call(
        "post", "/api/v1/visits/", status=201, body={"patient": patient.pk, "visit_date": day(2), "reason": "Fever"}
    )
    assert unscheduled["code"] is None
    d3 = Visit.objects.get(patient=patient, definition__code="D3")
    with django_capture_on_commit_callbacks(execute=True):
        panel = call(
            "post",
            "/api/v1/lab-panels/",
            status=201,
            body={"visit": d3.pk, "sampled_at": f"{day(3)}T08:00", "values": [{"analyte": "TEMP", "value": "37"}]},
        )
    response_assess_patient(patient_id=patient.pk, today=DAY0 + timedelta(days=5))
    dose = call(
        "post",
        "/api/v1/doses/",
        status=201,
        body={"patient": patient.pk, "treatment_day": 1, "slot": "pm", "status": "missed", "reason": "Vomited"},
    )
    ae = call(
        "post",
        "/api/v1/adverse-events/",
        status=201,
        body={
            "patient": patient.pk,
            "term_code": "AL101",
            "grade": 1,
            "onset_date": day(1),
            "relationship": "unlikely",
            "action_taken": "none",
            "outcome": "recovered",
        },
    )
    care = call(
        "post", "/api/v1/supportive-care/", status=201, body={"patient": patient.pk, "kind": "gcsf", "given_on": day(1)}
    )
    end = call(
        "post",
        "/api/v1/treatment-ends/",
        status=201,
        body={"patient": patient.pk, "outcome": "discontinued", "reason": "progression", "last_dose_date": day(3)},
    )
    therapy = call(
        "post",
        "/api/v1/subsequent-therapies/",
        status=201,
        body={
            "patient": patient.pk,
            "regimen": "hlh1994",
            "start_date": day(4),
            "etoposide": True,
            "dexamethasone": True,
        },
    )
    follow_up = call(
        "post",
        "/api/v1/follow-ups/",
        status=201,
        body={"patient": patient.pk, "assessed_on": day(5), "vital_status": "alive"},
    )
    death = call(
        "post", "/api/v1/deaths/", status=201, body={"patient": patient.pk, "date_of_death": day(6), "cause": "Sepsis"}
    )
    query = call(
        "post",
        "/api/v1/queries/",
        status=201,
        body={"patient": patient.pk, "target": f"patients.patient:{patient.pk}", "text": "Why?"},
        token_of=monitor,
    )
    job = call("post", "/api/v1/imports/", status=202, body={"format": "rux-hlh-bundle/1"})

    # Lists and retrieves of every kind of record.
    records = {
        "/api/v1/screenings/": screening["id"],
        "/api/v1/patients/": patient.pk,
        "/api/v1/visits/": unscheduled["id"],
        "/api/v1/lab-panels/": panel["id"],
        "/api/v1/response-assessments/": None,
        "/api/v1/doses/": dose["id"],
        "/api/v1/adverse-events/": ae["id"],
        "/api/v1/supportive-care/": care["id"],
        "/api/v1/treatment-ends/": end["id"],
        "/api/v1/subsequent-therapies/": therapy["id"],
        "/api/v1/follow-ups/": follow_up["id"],
        "/api/v1/deaths/": death["id"],
        "/api/v1/queries/": query["id"],
    }
    for path, pk in records.items():
        listed = call("get", path, status=200)
        assert listed["count"] > 0, path
        call("get", f"{path}{{id}}/", status=200, pk=pk or listed["results"][0]["id"])
    assert any(
        r["recomputed_status"] == "" for r in call("get", "/api/v1/response-assessments/", status=200)["results"]
    )
    call("get", "/api/v1/imports/{id}/", status=200, pk=job["id"])
    for path in ("/api/v1/sites/", "/api/v1/analytes/"):
        call("get", path, status=200)


def test_real_errors_conform_to_the_documented_error_bodies(call, patient, data_manager, trial):
    call("get", "/api/v1/screenings/", status=400, query={"status": "AAA"})
    call("get", "/api/v1/visits/", status=404, query={"page": "99"})
    call("get", "/api/v1/patients/{id}/", status=404, pk=99999)
    call("post", "/api/v1/visits/", status=400, body={"patient": patient.pk, "visit_date": "2026-02-30"})
    call("post", "/api/v1/visits/", status=400, body={"patient": patient.pk, "reason": "a\ud800"})
    call("post", "/api/v1/visits/", status=413, body={"patient": patient.pk, "reason": "x" * 3_000_000})
    call("post", "/api/v1/imports/", status=413, body={"format": "x" * 3_000_000})
    visit = Visit.objects.get(patient=patient, definition__code="D2")
    call("post", "/api/v1/visits/{id}/not-done/", status=409, pk=visit.pk, body={"reason": "x", "version": 7})
    call("post", "/api/v1/visits/{id}/not-done/", status=403, pk=visit.pk, body={"reason": "x"}, token_of=data_manager)
    lock_set(trial=trial, scope="study", level="lock", user=data_manager, reason="Final analysis")
    call("post", "/api/v1/visits/{id}/not-done/", status=423, pk=visit.pk, body={"reason": "x", "version": 1})


def test_every_operation_documents_its_error_responses(schema_json):
    refs = {
        "400": "FieldErrors",
        "401": "Detail",
        "403": "Detail",
        "404": "Detail",
        "409": "Conflict",
        "413": "FieldErrors",
        "423": "Locked",
    }
    operations = {
        (method.upper(), path): operation
        for path, methods in schema_json["paths"].items()
        for method, operation in methods.items()
    }
    assert len(operations) > 40
    for (method, path), operation in operations.items():
        responses = operation["responses"]
        documented = {code for code in responses if code in refs}
        if path == "/api/v1/auth/token/":
            assert documented == {"400"}
            continue
        expected = {"401", "403"}
        if "{id}" in path:
            expected.add("404")
        if method in ("POST", "PATCH"):
            expected |= {"400", "413"} | ({"423"} if path != "/api/v1/imports/" else set())
        elif (
            "{id}" not in path and path.endswith("/") and "page" in {p["name"] for p in operation.get("parameters", [])}
        ):
            expected |= {"400", "404"}
        if any(p["name"] == "If-Match" for p in operation.get("parameters", [])):
            expected.add("409")
        assert expected <= documented, (method, path, sorted(documented))
        for code in documented:
            schema = responses[code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": f"#/components/schemas/{refs[code]}"}, (method, path, code)
    # Each versioned change documents 409, each write to the records 423.
    for path in ("/api/v1/screenings/{id}/", "/api/v1/lab-panels/{id}/", "/api/v1/doses/{id}/"):
        assert {"409", "423"} <= set(schema_json["paths"][path]["patch"]["responses"])
    for name in ("Detail", "FieldErrors", "Conflict", "Locked"):
        assert name in schema_json["components"]["schemas"]


def test_blank_choices_and_nulls_of_responses_are_in_the_schema(schema_json):
    schemas = schema_json["components"]["schemas"]

    def allows_blank(prop: dict) -> bool:
        return any(option.get("$ref", "").endswith("/BlankEnum") for option in prop.get("oneOf", []))

    assert allows_blank(schemas["Screening"]["properties"]["consent_relation"])
    assert allows_blank(schemas["Screening"]["properties"]["scd25_unit"])
    assert allows_blank(schemas["ResponseAssessment"]["properties"]["recomputed_status"])
    assert schemas["Visit"]["properties"]["code"]["nullable"] is True
    assert schemas["AdverseEvent"]["properties"]["term_code"]["nullable"] is True
    assert json.dumps(schemas["BlankEnum"]) == json.dumps({"enum": [""]})
