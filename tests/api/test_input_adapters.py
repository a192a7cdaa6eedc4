"""One input adapter per form: the write serializer that the OpenAPI schema shows is the class that
checks a body, and the API, the JSON import and the CSV import refuse a value with the same code
and message (docs/api.md, "Error codes")."""

import copy
import io
import json
import zipfile
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from api import serializers
from api.csv_bundle import bundle_to_csv_files, csv_bundle_import
from api.importing import ImportFailed, bundle_import
from api.inputs import FormInput
from patients.models import DoseAdministration, Screening
from tests.api.conftest import dose_body

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parents[2] / "api" / "fixtures" / "demo_bundle.json"
PROBLEM = "application/json, application/problem+json"
INPUTS = sorted(
    (c for c in vars(serializers).values() if isinstance(c, type) and issubclass(c, FormInput) and c is not FormInput),
    key=lambda c: c.__name__,
)


def test_every_catalogued_write_body_is_an_input_adapter():
    names = {c.__name__ for c in INPUTS}
    assert names == {
        "AdverseEventWriteSerializer",
        "DeathWriteSerializer",
        "DoseWriteSerializer",
        "EnrollSerializer",
        "FollowUpWriteSerializer",
        "LabPanelWriteSerializer",
        "ScreeningWriteSerializer",
        "SubsequentTherapyWriteSerializer",
        "SupportiveCareWriteSerializer",
        "TreatmentEndWriteSerializer",
    }


@pytest.mark.parametrize("adapter", INPUTS, ids=lambda c: c.__name__)
def test_the_schema_of_a_body_is_what_its_adapter_accepts(adapter):
    declared = set(adapter().fields)
    assert declared == set(adapter.accepted) | set(adapter.envelope)
    assert not set(adapter.accepted) & set(adapter.envelope)


def test_is_valid_runs_the_adapter_and_keeps_its_codes():
    body = {"treatment_day": 1, "slot": "am", "status": "given", "administered_at": "2026-02-30T08:00", "dosage": 1}
    serializer = serializers.DoseWriteSerializer(data=body, context={"zone": ZoneInfo("Asia/Shanghai")})
    assert not serializer.is_valid()
    assert serializer.errors == {"dosage": ["Unknown field 'dosage'."]}
    assert [e.code for e in serializer.errors["dosage"]] == ["unknown_field"]

    del body["dosage"]
    with pytest.raises(ValidationError) as refused:
        serializers.DoseWriteSerializer.clean(body, zone=ZoneInfo("Asia/Shanghai"))
    error = refused.value.error_dict["administered_at"][0]
    assert (error.code, error.params, str(refused.value.messages[0])) == (
        "impossible_datetime",
        {"text": "2026-02-30T08:00"},
        "2026-02-30T08:00 is not a real date and time.",
    )

    body["administered_at"] = "2026-03-02T08:00"
    cleaned = serializers.DoseWriteSerializer.clean(body, zone=ZoneInfo("Asia/Shanghai"))
    assert cleaned["administered_at"].isoformat() == "2026-03-02T08:00:00+08:00"


def test_a_message_with_a_percent_sign_survives_its_parameters():
    with pytest.raises(ValidationError) as refused:
        serializers.AdverseEventWriteSerializer.clean({"term_code": "100%"})
    assert refused.value.message_dict == {"term_code": ["Unknown CTCAE v3.0 code '100%'."]}
    assert refused.value.error_dict["term_code"][0].code == "unknown_term"


def _problems(response) -> list[tuple[str, str, str]]:
    assert (response.status_code, response["Content-Type"]) == (400, "application/problem+json")
    body = response.json()
    assert (body["status"], body["title"]) == (400, "Bad Request")
    return [(e["field"], e["code"], e["message"]) for e in body["errors"]]


def test_problem_details_name_each_field_with_its_code(api, patient):
    body = dose_body(patient, administered_at="2026-02-30T08:00", dosage=1)
    plain = api.post("/api/v1/doses/", body, format="json")
    assert (plain.status_code, plain.json()) == (400, {"dosage": ["Unknown field 'dosage'."]})
    problem = api.post("/api/v1/doses/", body, format="json", HTTP_ACCEPT=PROBLEM)
    assert _problems(problem) == [("dosage", "unknown_field", "Unknown field 'dosage'.")]
    assert problem.json()["errors"][0]["params"] == {"field": "dosage"}
    assert not DoseAdministration.objects.exists()


def test_a_page_forms_limit_keeps_djangos_code_and_limit(api, site_a):
    from tests.api.test_resources import json_screening

    body = {"site": "BCH", **json_screening(), "initials": "ABCDE"}
    problem = api.post("/api/v1/screenings/", body, format="json", HTTP_ACCEPT=PROBLEM)
    errors = problem.json()["errors"]
    assert {e["field"] for e in errors} == {"initials"}
    [limit] = [e for e in errors if e["code"] == "max_length"]
    assert limit["params"] == {"limit_value": 4, "show_value": 5, "value": "ABCDE"}
    assert not Screening.objects.exists()


@pytest.fixture
def bad_dose_bundle() -> dict:
    bundle = json.loads(DEMO.read_text(encoding="utf-8"))
    bad = copy.deepcopy(bundle)
    bad["patients"][0]["doses"][0]["administered_at"] = "2026-02-30T08:00"
    return bad


def test_the_same_bad_dose_has_the_same_code_through_every_door(api, patient, clinician, bad_dose_bundle):
    api_errors = _problems(
        api.post(
            "/api/v1/doses/",
            dose_body(patient, administered_at="2026-02-30T08:00"),
            format="json",
            HTTP_ACCEPT=PROBLEM,
        )
    )
    with pytest.raises(ImportFailed) as json_failed:
        bundle_import(bundle=bad_dose_bundle, user=clinician)
    files = bundle_to_csv_files(bad_dose_bundle)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        for name, text in files.items():
            out.writestr(name, text)
    with pytest.raises(ImportFailed) as csv_failed:
        csv_bundle_import(data=archive.getvalue(), user=clinician)
    expected = ("administered_at", "impossible_datetime", "2026-02-30T08:00 is not a real date and time.")
    assert api_errors == [expected]
    assert [(e["field"], e["code"], e["message"]) for e in json_failed.value.errors] == [expected]
    assert [(e["field"], e["code"], e["message"]) for e in csv_failed.value.errors] == [expected]
    assert json_failed.value.errors[0]["row"] == "patients[0].doses[0]"
    assert csv_failed.value.errors[0]["row"].startswith("doses.csv line ")


def test_codes_do_not_change_with_the_language(api, patient):
    body = dose_body(patient, administered_at=f"{date(2026, 3, 2)}T08:00", amount_mg="１０")
    english = api.post("/api/v1/doses/", body, format="json", HTTP_ACCEPT=PROBLEM)
    chinese = api.post("/api/v1/doses/", body, format="json", HTTP_ACCEPT=PROBLEM, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert [e["code"] for e in english.json()["errors"]] == [e["code"] for e in chinese.json()["errors"]]
    assert [e["field"] for e in english.json()["errors"]] == ["amount_mg"]


def test_a_body_that_is_not_json_is_a_problem_too(api):
    response = api.post("/api/v1/doses/", data="{not json", content_type="application/json", HTTP_ACCEPT=PROBLEM)
    [(field, code, message)] = _problems(response)
    assert (field, code) == ("non_field_errors", "not_json")
    assert message
