"""Bulk import: all or nothing with every error by row and field, idempotent, as a Celery task."""

import copy
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from api.importing import ImportFailed, bundle_import
from api.models import ImportJob
from assessments.models import AdverseEvent, LabPanel, LabResult, ResponseAssessment
from patients.models import DoseAdministration, FollowUp, Patient, Screening, TreatmentEnd

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parents[2] / "api" / "fixtures" / "demo_bundle.json"


@pytest.fixture
def bundle() -> dict:
    return json.loads(DEMO.read_text(encoding="utf-8"))


def counts() -> dict:
    return {
        m.__name__: m.objects.count()
        for m in (Screening, Patient, LabPanel, LabResult, DoseAdministration, AdverseEvent, TreatmentEnd, FollowUp)
    }


def test_demo_bundle_imports_everything(bundle, clinician):
    result = bundle_import(bundle=bundle, user=clinician)
    assert Screening.objects.count() == 5
    assert Patient.objects.count() == 3
    assert LabPanel.objects.count() == 6
    assert DoseAdministration.objects.count() == 56
    assert AdverseEvent.objects.count() == 1
    assert TreatmentEnd.objects.count() == 1
    assert FollowUp.objects.count() == 1
    assert result.subject_numbers["BCH/SRC-001"] == "BCH-001"
    # Response assessments computed for the imported patients.
    assert ResponseAssessment.objects.filter(patient__subject_number="BCH-001").exists()


def test_import_twice_creates_no_duplicates(bundle, clinician):
    bundle_import(bundle=bundle, user=clinician)
    before = counts()
    result = bundle_import(bundle=bundle, user=clinician)
    assert counts() == before
    assert result.created == {}
    assert result.skipped["screenings"] == 5


def test_one_bad_value_writes_nothing_and_every_error_is_listed(bundle, clinician):
    bad = copy.deepcopy(bundle)
    bad["patients"][1]["labs"][0]["values"][0]["value"] = "60"
    bad["patients"][2]["screening"]["max_temperature_c"] = "61"
    bad["screenings"][0]["site"] = "NOPE"
    bad["patients"][0]["doses"][3]["slot"] = "noon"
    with pytest.raises(ImportFailed) as failed:
        bundle_import(bundle=bad, user=clinician)
    errors = failed.value.errors
    assert {
        "row": "patients[1].labs[0]",
        "field": "values[0].value",
        "code": "implausible_value",
        "message": "Maximum temperature must be at most 45 °C (entered 60).",
    } in errors
    assert {
        "row": "patients[2].screening",
        "field": "max_temperature_c",
        "code": "implausible_value",
        "message": "Maximum temperature must be at most 45 °C (entered 61).",
    } in errors
    assert any(e["row"] == "screenings[0]" and e["field"] == "site" for e in errors)
    assert any(e["row"] == "patients[0].doses[3]" and e["field"] == "slot" for e in errors)
    assert all(n == 0 for n in counts().values())


def test_a_dose_too_soon_after_the_previous_is_an_error_of_its_row_unless_confirmed(bundle, clinician):
    short = copy.deepcopy(bundle)
    doses = short["patients"][0]["doses"]
    assert (doses[2]["slot"], doses[3]["slot"]) == ("am", "pm")
    doses[3]["administered_at"] = doses[2]["administered_at"].replace("T08:00", "T08:10")
    with pytest.raises(ImportFailed) as excinfo:
        bundle_import(bundle=short, user=clinician)
    (error,) = excinfo.value.errors
    assert (error["row"], error["field"]) == ("patients[0].doses[3]", "administered_at")
    assert error["message"].startswith("Only 10 min after the previous dose (the morning dose of treatment day 2")
    assert not DoseAdministration.objects.exists()
    doses[3]["confirm_short_interval"] = True
    bundle_import(bundle=short, user=clinician)
    assert list(DoseAdministration.objects.filter(short_interval=True).values_list("treatment_day", "slot")) == [
        (2, "pm")
    ]


def test_impossible_dates_and_bad_doses_are_named_by_row_and_field(bundle, clinician):
    bad = copy.deepcopy(bundle)
    bad["patients"][0]["labs"][0]["sampled_at"] = "2026-02-30T08:00"
    bad["patients"][0]["doses"][5]["administered_at"] = "2026-02-30T08:00"
    bad["patients"][0]["doses"][7]["amount_mg"] = "-5"
    bad["patients"][0]["treatment_end"]["last_dose_date"] = "2026-13-01"
    with pytest.raises(ImportFailed) as failed:
        bundle_import(bundle=bad, user=clinician)
    errors = failed.value.errors
    assert {
        "row": "patients[0].labs[0]",
        "field": "sampled_at",
        "code": "impossible_datetime",
        "message": "2026-02-30T08:00 is not a real date and time.",
    } in errors
    assert {
        "row": "patients[0].doses[5]",
        "field": "administered_at",
        "code": "impossible_datetime",
        "message": "2026-02-30T08:00 is not a real date and time.",
    } in errors
    assert any(e["row"] == "patients[0].doses[7]" and e["field"] == "amount_mg" for e in errors)
    assert {
        "row": "patients[0].treatment_end",
        "field": "last_dose_date",
        "code": "impossible_date",
        "message": "2026-13-01 is not a real date.",
    } in errors
    assert all(n == 0 for n in counts().values())


def test_bundle_format_checked(clinician):
    with pytest.raises(ImportFailed) as failed:
        bundle_import(bundle={"patients": []}, user=clinician)
    assert failed.value.errors[0]["field"] == "format"


def test_other_sites_records_refused(bundle, clinician_b):
    with pytest.raises(ImportFailed) as failed:
        bundle_import(bundle=bundle, user=clinician_b)
    assert any(e["field"] == "site" for e in failed.value.errors)
    assert Screening.objects.count() == 0


def test_command_prints_progress_and_errors(bundle, clinician, tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command("import_trial", str(path), user="clin_a", stdout=out, stderr=err)
    assert "Imported:" in out.getvalue()
    assert "#" in err.getvalue()
    out = StringIO()
    call_command("import_trial", str(path), user="clin_a", stdout=out, stderr=StringIO(), quiet=True)
    assert "Imported: nothing new. Already there: 5 screenings" in out.getvalue()


def test_command_refuses_bad_bundle(bundle, clinician, tmp_path):
    bundle["patients"][0]["enrollment"]["enrollment_weight_kg"] = "200"
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_trial", str(path), user="clin_a", stdout=StringIO(), stderr=err, quiet=True)
    message = "Weight at enrollment must be at most 150 kg (entered 200 kg)."
    assert f"patients[0].enrollment enrollment_weight_kg: {message}" in err.getvalue()
    assert Screening.objects.count() == 0


def test_import_endpoint_runs_task_and_reports(api, bundle, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/imports/", bundle, format="json")
    assert response.status_code == 202
    job = api.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert job["status"] == "succeeded", job["errors"][:3]
    assert job["done"] == job["total"] > 0
    assert job["summary"]["created"]["screenings"] == 5


def test_import_endpoint_reports_errors(api, bundle, django_capture_on_commit_callbacks):
    bundle["patients"][0]["labs"][1]["values"][2]["value"] = "-5"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/imports/", bundle, format="json")
    job = api.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert job["status"] == "failed"
    assert job["errors"] == [
        {
            "row": "patients[0].labs[1]",
            "field": "values[2].value",
            "code": "implausible_value",
            "message": "Platelets must be at least 0 10^9/L (entered -5).",
        }
    ]
    assert Screening.objects.count() == 0


def test_import_endpoint_forbidden_for_monitor(api_monitor, bundle):
    assert api_monitor.post("/api/v1/imports/", bundle, format="json").status_code == 403
    assert ImportJob.objects.count() == 0


def test_import_job_of_another_user_is_404(api, api_b, bundle, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = api.post("/api/v1/imports/", {"format": "rux-hlh-bundle/1"}, format="json").json()
    assert api_b.get(f"/api/v1/imports/{job['id']}/").status_code == 404


def test_demo_seed_loads_through_import_and_is_idempotent():
    call_command("demo_seed", stdout=StringIO())
    before = counts()
    assert before["Patient"] == 3 and before["Screening"] == 5
    call_command("demo_seed", stdout=StringIO())
    assert counts() == before


def test_null_yes_no_impossible_onset_and_long_source_number_are_errors(api, bundle, clinician, patient):
    bundle["patients"][0]["adverse_events"][0]["serious"] = None
    bundle["patients"][0]["adverse_events"].append({**bundle["patients"][0]["adverse_events"][0], "serious": False})
    bundle["patients"][0]["adverse_events"][1]["onset_date"] = "2026-13-01"
    bundle["screenings"][0]["screening_number"] = "S" * 101
    with pytest.raises(ImportFailed) as failed:
        bundle_import(bundle=bundle, user=clinician)
    errors = failed.value.errors
    assert {
        "row": "patients[0].adverse_events[0]",
        "field": "serious",
        "code": "not_boolean",
        "message": "Serious: true or false.",
    } in errors
    assert any(e["row"] == "patients[0].adverse_events[1]" and e["field"] == "onset_date" for e in errors)
    assert {
        "row": "screenings[0]",
        "field": "screening_number",
        "code": "max_length",
        "message": "The source screening number is at most 100 characters.",
    } in errors
    assert counts()["AdverseEvent"] == 0
    ae = {
        "patient": patient.pk,
        "term_code": "AL101",
        "grade": 1,
        "onset_date": str(patient.first_dose_date),
        "serious": None,
        "relationship": "unlikely",
        "action_taken": "none",
        "outcome": "recovered",
    }
    response = api.post("/api/v1/adverse-events/", ae, format="json")
    assert response.status_code == 400
    assert response.json() == {"serious": ["Serious: true or false."]}
