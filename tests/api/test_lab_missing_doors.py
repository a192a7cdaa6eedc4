"""A lab value's missing-data code through every door: the page, the API, the JSON import and the
CSV import accept {"analyte", "missing", "missing_reason"} instead of a value, and refuse a code
without its reason (reason_required) or a value with a code (value_and_code) with the same message
and the same code from the one check of the lab service; a refused write stores nothing."""

import copy
import io
import json
import zipfile
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse

from api import serializers
from api.csv_bundle import FILES, bundle_to_csv_files, csv_bundle_import
from api.importing import ImportFailed, bundle_import
from api.inputs import MEASUREMENT_FIELDS
from assessments.models import LabPanel, LabResult, Visit
from tests.conftest import DAY0, PASSWORD
from trial.analytes import ANALYTES

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parents[2] / "api" / "fixtures" / "demo_bundle.json"
PROBLEM = "application/json, application/problem+json"
REASON = "Analyser out of order"
NO_REASON = ("missing_reason", "reason_required", "Ferritin: a missing-data code needs its reason.")
BOTH = ("missing", "value_and_code", "Ferritin: enter a value or a missing-data code, not both.")
CASES = [
    pytest.param({"missing": "not_done"}, NO_REASON, id="code without reason"),
    pytest.param({"missing": "not_done", "missing_reason": "  "}, NO_REASON, id="blank reason"),
    pytest.param({"value": "300", "missing": "sample_lost", "missing_reason": REASON}, BOTH, id="value and code"),
]
SHANGHAI_NOON = datetime.combine(DAY0 + timedelta(days=7), time(12))


def ferritin_item(change: dict) -> dict:
    return {"analyte": "FERRITIN", "unit": "µg/L", **change}


def api_body(visit, change: dict) -> dict:
    return {
        "visit": visit.pk,
        "sampled_at": f"{DAY0 + timedelta(days=7)}T08:00",
        "values": [{"analyte": "NEUT", "value": "2.1"}, ferritin_item(change)],
    }


def zipped(files: dict[str, str]) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        for name, text in files.items():
            out.writestr(name, text)
    return archive.getvalue()


def bundle_with(change: dict) -> dict:
    """The demo bundle with its first patient's first panel's ferritin changed."""
    bundle = copy.deepcopy(json.loads(DEMO.read_text(encoding="utf-8")))
    values = bundle["patients"][0]["labs"][0]["values"]
    index = next(i for i, v in enumerate(values) if v["analyte"] == "FERRITIN")
    values[index] = ferritin_item(change)
    return bundle, index


def test_the_input_schema_of_a_value_is_what_its_adapter_accepts():
    assert set(serializers.LabValueInputSerializer().fields) == set(MEASUREMENT_FIELDS)
    assert {"missing", "missing_reason"} <= set(FILES["labs.csv"])


@pytest.mark.parametrize(("change", "expected"), CASES)
def test_the_page_refuses_with_the_same_message_and_code(client, clinician, patient, change, expected):
    field, code, message = expected
    visit = Visit.objects.get(patient=patient, definition__code="D7")
    data = {
        "visit_date": (DAY0 + timedelta(days=7)).isoformat(),
        "sampled_at": f"{DAY0 + timedelta(days=7)}T08:00",
        "v_NEUT": "2.1",
        "v_FERRITIN": change.get("value", ""),
        "m_FERRITIN": change.get("missing", ""),
        "mr_FERRITIN": change.get("missing_reason", ""),
    }
    assert client.login(username=clinician.username, password=PASSWORD)
    with time_machine.travel(SHANGHAI_NOON, tick=False):
        response = client.post(reverse("lab_panel_edit", args=[visit.pk]), data)
    assert response.status_code == 200
    page_field = {"missing": "m_FERRITIN", "missing_reason": "mr_FERRITIN"}[field]
    errors = response.context["form"].errors.as_data()
    assert [(e.code, e.message) for e in errors[page_field]] == [(code, message)]
    assert set(errors) == {page_field}
    assert not LabPanel.objects.exists() and not LabResult.objects.exists()


@pytest.mark.parametrize(("change", "expected"), CASES)
def test_the_api_refuses_with_the_same_message_and_code(api, patient, change, expected):
    field, code, message = expected
    visit = Visit.objects.get(patient=patient, definition__code="D7")
    with time_machine.travel(SHANGHAI_NOON, tick=False):
        response = api.post("/api/v1/lab-panels/", api_body(visit, change), format="json", HTTP_ACCEPT=PROBLEM)
    assert response.status_code == 400
    assert [(e["field"], e["code"], e["message"]) for e in response.json()["errors"]] == [
        (f"values[1].{field}", code, message)
    ]
    assert not LabPanel.objects.exists() and not LabResult.objects.exists()


@pytest.mark.parametrize(("change", "expected"), CASES)
def test_the_json_import_refuses_with_the_same_message_and_code(clinician, site_a, change, expected):
    field, code, message = expected
    bundle, index = bundle_with(change)
    with pytest.raises(ImportFailed) as failed:
        bundle_import(bundle=bundle, user=clinician)
    assert [(e["row"], e["field"], e["code"], e["message"]) for e in failed.value.errors] == [
        ("patients[0].labs[0]", f"values[{index}].{field}", code, message)
    ]
    assert not LabResult.objects.exists()


@pytest.mark.parametrize(("change", "expected"), CASES)
def test_the_csv_import_refuses_with_the_same_message_and_code(clinician, site_a, change, expected):
    field, code, message = expected
    bundle, _ = bundle_with(change)
    with pytest.raises(ImportFailed) as failed:
        csv_bundle_import(data=zipped(bundle_to_csv_files(bundle)), user=clinician)
    [error] = failed.value.errors
    assert (error["field"], error["code"], error["message"]) == (field, code, message)
    assert error["row"].startswith("labs.csv line ")
    assert not LabResult.objects.exists()


def test_every_door_stores_the_same_coded_value(client, api, clinician, patient, site_a):
    change = {"missing": "not_done", "missing_reason": REASON}
    d7, d14 = (Visit.objects.get(patient=patient, definition__code=c) for c in ("D7", "D14"))
    with time_machine.travel(SHANGHAI_NOON + timedelta(days=10), tick=False):
        assert api.post("/api/v1/lab-panels/", api_body(d7, change), format="json").status_code == 201
        assert client.login(username=clinician.username, password=PASSWORD)
        page = client.post(
            reverse("lab_panel_edit", args=[d14.pk]),
            {
                "visit_date": (DAY0 + timedelta(days=14)).isoformat(),
                "sampled_at": f"{DAY0 + timedelta(days=14)}T08:00",
                "m_FERRITIN": "not_done",
                "mr_FERRITIN": REASON,
            },
        )
    assert page.status_code == 302
    bundle, _ = bundle_with(change)
    bundle_import(bundle=bundle, user=clinician)
    csv_bundle, _ = bundle_with(change)
    for child in csv_bundle["screenings"] + csv_bundle["patients"]:
        child["screening_number"] += "-CSV"
    csv_bundle_import(data=zipped(bundle_to_csv_files(csv_bundle)), user=clinician)
    coded = LabResult.objects.filter(analyte="FERRITIN", missing="not_done")
    assert [(r.value, r.missing_reason) for r in coded] == [(None, REASON)] * 4
    # The API reads it back with its code and reason.
    panel = api.get(f"/api/v1/lab-panels/?patient={patient.pk}&visit={d7.pk}").json()["results"][0]
    ferritin = next(r for r in panel["results"] if r["analyte"] == "FERRITIN")
    assert (ferritin["value"], ferritin["missing"], ferritin["missing_reason"]) == (None, "not_done", REASON)
    assert ANALYTES["FERRITIN"].unit == ferritin["unit"]


def test_a_patch_keeps_a_saved_coded_value(api, patient):
    visit = Visit.objects.get(patient=patient, definition__code="D7")
    with time_machine.travel(SHANGHAI_NOON, tick=False):
        body = api_body(visit, {"missing": "unknown", "missing_reason": REASON})
        panel = api.post("/api/v1/lab-panels/", body, format="json").json()
        patch = {"values": [{"analyte": "NEUT", "value": "2.5"}], "version": 1, "reason_for_change": "Typo"}
        response = api.patch(f"/api/v1/lab-panels/{panel['id']}/", patch, format="json")
    assert response.status_code == 200, response.json()
    ferritin = LabResult.objects.get(analyte="FERRITIN")
    assert (ferritin.value, ferritin.missing, ferritin.missing_reason) == (None, "unknown", REASON)
