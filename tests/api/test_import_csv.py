"""The CSV bundle: a ZIP of CSV files imported as the JSON bundle, every error by file, line and column."""

import csv
import io
import json
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import models, transaction

from api.csv_bundle import FILES, bundle_to_csv_files, bundle_to_csv_zip, csv_bundle_import, read_csv_bundle
from api.importing import ImportFailed, bundle_import
from api.models import ImportJob
from assessments.models import AdverseEvent, LabPanel, LabResult, Visit
from patients.models import DoseAdministration, FollowUp, Patient, Screening, TreatmentEnd

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "api" / "fixtures"
MODELS = (Screening, Patient, Visit, LabPanel, LabResult, DoseAdministration, AdverseEvent, TreatmentEnd, FollowUp)


@pytest.fixture
def bundle() -> dict:
    return json.loads((FIXTURES / "demo_bundle.json").read_text(encoding="utf-8"))


@pytest.fixture
def files(bundle) -> dict[str, str]:
    return bundle_to_csv_files(bundle)


def zip_of(files: dict[str, str | bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text if isinstance(text, bytes) else text.encode("utf-8"))
    return out.getvalue()


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def line_of(files: dict, name: str, **cells) -> int:
    """The line of the first row of `name` with these cells."""
    rows = rows_of(files[name])
    for number, row in enumerate(rows[1:], start=2):
        if all(row[rows[0].index(column)] == value for column, value in cells.items()):
            return number
    raise AssertionError(f"no row {cells} in {name}")


def edit(files: dict, name: str, line: int, column: str, value: str) -> None:
    rows = rows_of(files[name])
    rows[line - 1][rows[0].index(column)] = value
    out = StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    files[name] = out.getvalue()


def counts() -> dict:
    return {m.__name__: m.objects.count() for m in MODELS}


def records() -> dict:
    """Every imported record's own values (not ids, links or timestamps), to compare two imports."""
    out = {}
    for model in MODELS:
        names = [
            f.attname
            for f in model._meta.concrete_fields
            if f.name in {"sampled_at", "administered_at"}
            or not (f.primary_key or f.is_relation or isinstance(f, models.DateTimeField | models.JSONField))
        ]
        out[model.__name__] = sorted(map(repr, model.objects.values_list(*names)))
    return out


def check(data: bytes, user) -> list[dict]:
    with pytest.raises(ImportFailed) as failed:
        csv_bundle_import(data=data, user=user)
    return failed.value.errors


# The demo data as CSV


def test_demo_csv_imports_the_same_records_as_the_json_bundle(bundle, clinician):
    with transaction.atomic():
        bundle_import(bundle=bundle, user=clinician)
        from_json = records()
        transaction.set_rollback(True)
    assert counts()["Screening"] == 0
    result = csv_bundle_import(data=bundle_to_csv_zip(bundle), user=clinician)
    assert counts() == {
        "Screening": 5,
        "Patient": 3,
        "Visit": counts()["Visit"],
        "LabPanel": 6,
        "LabResult": counts()["LabResult"],
        "DoseAdministration": 56,
        "AdverseEvent": 1,
        "TreatmentEnd": 1,
        "FollowUp": 1,
    }
    assert records() == from_json
    assert result.subject_numbers["BCH/SRC-001"] == "BCH-001"
    assert result.created["lab_panels"] == 6


def test_csv_import_twice_creates_nothing(bundle, clinician):
    data = bundle_to_csv_zip(bundle)
    csv_bundle_import(data=data, user=clinician)
    before = records()
    result = csv_bundle_import(data=data, user=clinician)
    assert records() == before
    assert result.created == {}
    assert result.skipped["screenings"] == 5 and result.skipped["doses"] == 56


def test_json_to_csv_and_back_is_the_same_bundle(bundle):
    def given(value):  # empty and null mean "not given" in both formats
        if isinstance(value, dict):
            return {k: given(v) for k, v in value.items() if v not in (None, "") and k != "description"}
        if isinstance(value, list):
            return [given(v) for v in value]
        return value

    back, locations = read_csv_bundle(bundle_to_csv_zip(bundle))
    assert given(back) == given(bundle)
    assert locations["patients[0].enrollment"] == ["enrollments.csv", 2, {}]
    assert locations["screenings[1]"] == ["screenings.csv", 3, {}]


def test_fixture_folder_is_the_demo_bundle(files):
    folder = FIXTURES / "demo_bundle_csv"
    assert {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.csv")} == files


# Errors by file, line and column; nothing written


def test_doses_csv_takes_confirm_short_interval(files, clinician):
    # doses.csv line 4 is day 2's morning (08:00), line 5 its evening: moved to 08:10.
    assert rows_of(files["doses.csv"])[4][2:6] == ["2", "pm", "given", "2026-09-04T20:00:00"]
    edit(files, "doses.csv", 5, "administered_at", "2026-09-04T08:10")
    errors = check(zip_of(files), clinician)
    assert [(e["row"], e["field"]) for e in errors] == [("doses.csv line 5", "administered_at")]
    assert "Only 10 min after the previous dose" in errors[0]["message"]
    edit(files, "doses.csv", 5, "confirm_short_interval", "maybe")
    errors = check(zip_of(files), clinician)
    assert errors[0] == {
        "row": "doses.csv line 5",
        "field": "confirm_short_interval",
        "code": "not_boolean",
        "message": "Enter true, false or leave empty (not known); entered 'maybe'.",
    }
    assert [(e["row"], e["field"]) for e in errors[1:]] == [("doses.csv line 5", "administered_at")]
    edit(files, "doses.csv", 5, "confirm_short_interval", "true")
    csv_bundle_import(data=zip_of(files), user=clinician)
    assert DoseAdministration.objects.get(treatment_day=2, slot="pm").short_interval is True


def test_bad_lab_value_bad_dose_date_and_unknown_column_are_all_reported(files, clinician):
    temp = line_of(files, "labs.csv", screening_number="SRC-002", visit="D3", analyte="TEMP")
    edit(files, "labs.csv", temp, "value", "60")
    edit(files, "doses.csv", 7, "administered_at", "2026-02-30T08:00")
    files["follow_ups.csv"] = files["follow_ups.csv"].replace("death_hlh_related", "death_hlh_related,comment", 1)
    errors = check(zip_of(files), clinician)
    assert errors == [  # by file (as in docs/import.md) and line
        {
            "row": f"labs.csv line {temp}",
            "field": "value",
            "code": "implausible_value",
            "message": "Maximum temperature must be at most 45 °C (entered 60).",
        },
        {
            "row": "doses.csv line 7",
            "field": "administered_at",
            "code": "impossible_datetime",
            "message": "2026-02-30T08:00 is not a real date and time.",
        },
        {"row": "follow_ups.csv line 1", "field": "comment", "code": "unknown_column", "message": errors[2]["message"]},
    ]
    assert "Unknown column 'comment'" in errors[2]["message"]
    assert all(n == 0 for n in counts().values())


def test_errors_of_every_form_name_file_line_and_column(files, clinician):
    edit(
        files, "screenings.csv", line_of(files, "screenings.csv", screening_number="SRC-002"), "max_temperature_c", "61"
    )
    edit(files, "enrollments.csv", 2, "enrollment_weight_kg", "200")
    edit(files, "adverse_events.csv", 2, "term_code", "XX999")
    edit(files, "treatment_ends.csv", 2, "last_dose_date", "2026-13-01")
    d3 = line_of(files, "labs.csv", screening_number="SRC-003", visit="D3")
    for line in range(d3, d3 + 8):
        edit(files, "labs.csv", line, "sampled_at", "2026-02-30T08:00" if line == d3 else "")
    errors = check(zip_of(files), clinician)
    assert {
        "row": "screenings.csv line 5",
        "field": "max_temperature_c",
        "code": "implausible_value",
        "message": "Maximum temperature must be at most 45 °C (entered 61).",
    } in errors
    assert {
        "row": "enrollments.csv line 2",
        "field": "enrollment_weight_kg",
        "code": "weight_above_maximum",
        "message": "Weight at enrollment must be at most 150 kg (entered 200 kg).",
    } in errors
    assert {
        "row": f"labs.csv line {d3}",
        "field": "sampled_at",
        "code": "impossible_datetime",
        "message": "2026-02-30T08:00 is not a real date and time.",
    } in errors
    # SRC-001's enrollment failed: its adverse event and treatment end wait for the correction.
    assert not any(e["row"].startswith(("adverse_events.csv", "treatment_ends.csv")) for e in errors)
    assert counts()["Screening"] == 0

    files = bundle_to_csv_files(json.loads((FIXTURES / "demo_bundle.json").read_text(encoding="utf-8")))
    edit(files, "adverse_events.csv", 2, "term_code", "XX999")
    edit(files, "adverse_events.csv", 2, "grade", "7")
    edit(files, "treatment_ends.csv", 2, "last_dose_date", "2026-13-01")
    errors = check(zip_of(files), clinician)
    assert errors == [
        {
            "row": "adverse_events.csv line 2",
            "field": "term_code",
            "code": "unknown_term",
            "message": "Unknown CTCAE v3.0 code 'XX999'.",
        },
        {
            "row": "treatment_ends.csv line 2",
            "field": "last_dose_date",
            "code": "impossible_date",
            "message": "2026-13-01 is not a real date.",
        },
    ]


def test_errors_of_the_csv_files_themselves_are_all_listed(files, clinician):
    files["labs.csv"] += "BCH,SRC-999,D3,,2026-09-06T08:00:00,TEMP,37.0,°C,,,,,,,,,,,,\n"
    files["labs.csv"] += "BCH,SRC-004,D3,,2026-09-06T08:00:00,TEMP,37.0,°C,,,,,,,,,,,,\n"
    lines = len(rows_of(files["labs.csv"]))
    edit(files, "screenings.csv", 2, "splenomegaly", "yes")
    edit(files, "follow_ups.csv", 2, "hlh_relapse", "no")
    files["doses.csv"] = files["doses.csv"].replace("site,screening_number,", "site,", 1)
    files["notes.txt"] = "hello"
    files["screenings.csv"] += files["screenings.csv"].splitlines()[3] + "\n"
    errors = check(zip_of(files), clinician)
    assert errors == [
        {"row": "notes.txt", "field": None, "code": "unknown_file", "message": errors[0]["message"]},
        {
            "row": "screenings.csv line 2",
            "field": "splenomegaly",
            "code": "not_boolean",
            "message": "Enter true, false or leave empty (not known); entered 'yes'.",
        },
        {
            "row": "screenings.csv line 7",
            "field": "screening_number",
            "code": "duplicate_row",
            "message": "SRC-001 at site BCH is already on line 4 of screenings.csv.",
        },
        {
            "row": f"labs.csv line {lines - 1}",
            "field": "screening_number",
            "code": "unknown_child",
            "message": "No child SRC-999 at site BCH in screenings.csv.",
        },
        {
            "row": f"labs.csv line {lines}",
            "field": "screening_number",
            "code": "not_enrolled",
            "message": "SRC-004 at site BCH has no row in enrollments.csv; only an enrolled child has labs.csv.",
        },
        {
            "row": "doses.csv line 1",
            "field": "screening_number",
            "code": "missing_column",
            "message": "Missing column 'screening_number'.",
        },
        {
            "row": "follow_ups.csv line 2",
            "field": "hlh_relapse",
            "code": "not_boolean",
            "message": "Enter true, false or leave empty (not known); entered 'no'.",
        },
    ]
    assert errors[0]["message"].startswith("Unknown file; the files are screenings.csv, enrollments.csv")
    assert all(n == 0 for n in counts().values())


def test_unreadable_zip_and_files(files, clinician):
    assert check(b"not a zip", clinician) == [
        {"row": "", "field": None, "code": "not_a_zip", "message": "The bundle is not a ZIP file of CSV files."}
    ]
    assert check(zip_of({"labs.csv": files["labs.csv"]}), clinician) == [
        {
            "row": "screenings.csv",
            "field": None,
            "code": "missing_file",
            "message": "The ZIP has no screenings.csv (one row per screened child).",
        }
    ]
    latin = {**files, "screenings.csv": files["screenings.csv"].encode("utf-8") + b"BCH,SRC-9,\xe9\n"}  # Latin-1 é
    errors = check(zip_of(latin), clinician)
    assert errors == [
        {
            "row": "screenings.csv line 7",
            "field": None,
            "code": "unreadable_text",
            "message": "Not UTF-8 text (byte 0xe9); save the file as CSV UTF-8.",
        }
    ]


def test_semicolons_are_named(files, clinician):
    files["doses.csv"] = files["doses.csv"].replace(",", ";")
    assert check(zip_of(files), clinician) == [
        {
            "row": "doses.csv line 1",
            "field": None,
            "code": "not_comma_separated",
            "message": "The columns are separated by semicolons; save the file as CSV UTF-8 (commas).",
        }
    ]
    assert counts()["Screening"] == 0


def test_excel_csv_a_folder_and_a_byte_order_mark_are_read(files, clinician):
    folder = {f"export/{name}": "\ufeff" + text.replace("\n", "\r\n") for name, text in files.items()}
    folder["__MACOSX/export/._labs.csv"] = b"\x00\x05"
    csv_bundle_import(data=zip_of(folder), user=clinician)
    assert counts()["Patient"] == 3 and counts()["DoseAdministration"] == 56


def test_lab_rows_of_a_visit_make_one_panel(clinician):
    key = "BCH,SRC-001"
    files = {
        "screenings.csv": "site,screening_number,initials\nBCH,SRC-001,AB\n",
        "enrollments.csv": "site,screening_number,weight_kg\nBCH,SRC-001,14\n",
        "labs.csv": (
            "site,screening_number,visit,sampled_at,analyte,value,unit,cns_symptoms,notes\n"
            f"{key},D3,2026-09-06T08:00,TEMP,37.9,,,\n"
            f"{key},D7,2026-09-10T08:00,,,,false,\n"  # the visit's own fields only
            f"{key},D3,2026-09-06T10:30,FERRITIN,2100,µg/L,,\n"
            f"{key},D3,,PLAT,70,,TRUE,seen at noon\n"
            f"{key},D3,2026-09-06T08:00,NEUT,0.9,,true,\n"
        ),
    }
    bundle, locations = read_csv_bundle(zip_of(files))
    labs = bundle["patients"][0]["labs"]
    assert labs == [
        {
            "visit": "D3",
            "sampled_at": "2026-09-06T08:00",
            "cns_symptoms": True,
            "notes": "seen at noon",
            "values": [
                {"analyte": "TEMP", "value": "37.9"},
                {"analyte": "FERRITIN", "value": "2100", "unit": "µg/L", "sampled_at": "2026-09-06T10:30"},
                {"analyte": "PLAT", "value": "70"},
                {"analyte": "NEUT", "value": "0.9"},
            ],
        },
        {"visit": "D7", "sampled_at": "2026-09-10T08:00", "cns_symptoms": False, "values": []},
    ]
    assert locations["patients[0].labs[0]"] == [
        "labs.csv",
        2,
        {
            "sampled_at": 2,
            "values[0]": 2,
            "values[1]": 4,
            "cns_symptoms": 5,
            "notes": 5,
            "values[2]": 5,
            "values[3]": 6,
        },
    ]
    files["labs.csv"] += f"{key},D3,,,,,false,\n"
    with pytest.raises(ImportFailed) as failed:
        read_csv_bundle(zip_of(files))
    assert failed.value.errors == [
        {
            "row": "labs.csv line 7",
            "field": "cns_symptoms",
            "code": "conflicting_value",
            "message": "Visit D3 has cns_symptoms 'false' here but another value on line 5.",
        }
    ]


def test_every_file_has_its_columns_in_the_template(files):
    assert set(files) == set(FILES)
    for name, text in files.items():
        assert rows_of(text)[0] == list(FILES[name])


# The command and the API


def test_command_imports_a_zip_with_progress_and_errors(bundle, files, clinician, tmp_path):
    edit(files, "enrollments.csv", 3, "enrollment_weight_kg", "200")
    bad = tmp_path / "bad"  # found by its content, whatever the name
    bad.write_bytes(zip_of(files))
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_trial", str(bad), user="clin_a", stdout=StringIO(), stderr=err, quiet=True)
    message = "Weight at enrollment must be at most 150 kg (entered 200 kg)."
    assert f"enrollments.csv line 3 enrollment_weight_kg: {message}" in err.getvalue()
    assert Screening.objects.count() == 0

    path = tmp_path / "trial.zip"
    path.write_bytes(bundle_to_csv_zip(bundle))
    out, err = StringIO(), StringIO()
    call_command("import_trial", str(path), user="clin_a", stdout=out, stderr=err)
    assert "Imported: 5 screenings, 3 enrollments" in out.getvalue()
    assert "#" in err.getvalue()


def test_bundle_to_csv_command_writes_the_zip_and_the_folder(bundle, files, tmp_path):
    call_command("bundle_to_csv", str(FIXTURES / "demo_bundle.json"), str(tmp_path / "demo.zip"), stdout=StringIO())
    assert read_csv_bundle((tmp_path / "demo.zip").read_bytes())[0]["patients"][0]["screening_number"] == "SRC-001"
    call_command("bundle_to_csv", str(FIXTURES / "demo_bundle.json"), str(tmp_path / "demo"), stdout=StringIO())
    assert (tmp_path / "demo" / "labs.csv").read_text(encoding="utf-8") == files["labs.csv"]


def test_endpoint_imports_a_zip_upload(api, bundle, django_capture_on_commit_callbacks):
    upload = io.BytesIO(bundle_to_csv_zip(bundle))
    upload.name = "trial.zip"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/imports/", {"bundle": upload}, format="multipart")
    assert response.status_code == 202, response.json()
    job = api.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert job["status"] == "succeeded", job["errors"][:3]
    assert job["done"] == job["total"] > 0
    assert job["summary"]["created"]["doses"] == 56


def test_endpoint_reports_a_zip_body_errors_by_file_and_line(api, files, django_capture_on_commit_callbacks):
    plat = line_of(files, "labs.csv", screening_number="SRC-001", visit="D7", analyte="PLAT")
    edit(files, "labs.csv", plat, "value", "-5")
    edit(files, "doses.csv", 4, "slot", "noon")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/imports/", zip_of(files), content_type="application/zip")
    assert response.status_code == 202
    job = api.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert job["status"] == "failed"
    assert job["errors"] == [
        {
            "row": f"labs.csv line {plat}",
            "field": "value",
            "code": "implausible_value",
            "message": "Platelets must be at least 0 10^9/L (entered -5).",
        },
        {
            "row": "doses.csv line 4",
            "field": "slot",
            "code": "invalid_choice",
            "message": "Slot must be one of am, pm.",
        },
    ]
    assert Screening.objects.count() == 0


def test_endpoint_lists_csv_and_import_errors_together(api, files, django_capture_on_commit_callbacks):
    edit(files, "enrollments.csv", 2, "enrollment_weight_kg", "200")
    edit(files, "screenings.csv", 2, "cirrhosis", "maybe")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post("/api/v1/imports/", zip_of(files), content_type="application/zip")
    assert len(callbacks) == 1  # the task checks the rest of the bundle
    job = api.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert job["status"] == "failed"
    assert [(e["row"], e["field"]) for e in job["errors"]] == [
        ("screenings.csv line 2", "cirrhosis"),
        ("enrollments.csv line 2", "enrollment_weight_kg"),
    ]
    assert Screening.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post("/api/v1/imports/", zip_of({"labs.csv": files["labs.csv"]}), content_type="application/zip")
    assert callbacks == [] and response.json()["status"] == "failed"
    assert response.json()["errors"][0]["row"] == "screenings.csv"


def test_endpoint_takes_a_json_file_and_refuses_other_uploads(api, bundle, django_capture_on_commit_callbacks):
    upload = io.BytesIO(json.dumps(bundle).encode("utf-8"))
    upload.name = "bundle.json"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/imports/", {"bundle": upload}, format="multipart")
    assert api.get(f"/api/v1/imports/{response.json()['id']}/").json()["status"] == "succeeded"
    text = io.BytesIO(b"site,screening_number\n")
    text.name = "screenings.csv"
    assert api.post("/api/v1/imports/", {"bundle": text}, format="multipart").json() == {
        "bundle": ["Neither a ZIP of CSV files nor a JSON bundle."]
    }
    assert api.post("/api/v1/imports/", {"other": "x"}, format="multipart").status_code == 400
    assert api.post("/api/v1/imports/", b"PK", content_type="application/zip").status_code == 400


def test_endpoint_refuses_a_monitor_zip_upload(api_monitor, bundle):
    data = bundle_to_csv_zip(bundle)
    assert api_monitor.post("/api/v1/imports/", data, content_type="application/zip").status_code == 403
    upload = io.BytesIO(data)
    upload.name = "trial.zip"
    assert api_monitor.post("/api/v1/imports/", {"bundle": upload}, format="multipart").status_code == 403
    assert ImportJob.objects.count() == 0
