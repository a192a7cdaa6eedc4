"""Bad input never crashes the API and never stores anything: each case is sent to each endpoint it
concerns (and to the import) and answered with a JSON error naming the field and the limit.

The cases come from 20,000 fuzzed requests and a review: lone surrogates, JSON nested 50,000 deep,
1e309 and NaN, year 1 and 9999, texts longer than their columns, reasons longer than the history
keeps, bodies over the size limit, unknown filter values, and numbers and dates in other digits
than 0-9. The shared mechanisms: api/parsing.py (JSON), api/scalars.py (numbers and dates),
api/filters.py (query parameters), trial/text_columns.py (every text column, at the write path).
"""

import io
import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import transaction

from assessments.models import ResponseAssessment, Visit
from assessments.services.responses import response_assess_patient
from patients.models import DoseAdministration, Screening
from tests.conftest import DAY0
from trial.versioning import REASON_MAX_LENGTH

pytestmark = pytest.mark.django_db

SURROGATE = "a\ud800b"  # half of a UTF-16 pair: JSON allows "\ud800", UTF-8 and PostgreSQL do not
CLINICAL_APPS = ("patients", "assessments", "queries", "review", "notifications", "trial")


def snapshot() -> dict[str, int]:
    """The number of rows of every model of the clinical apps, history tables included."""
    return {
        model._meta.label: model.objects.count()
        for label in CLINICAL_APPS
        for model in apps.get_app_config(label).get_models()
    }


def day(n: int) -> str:
    return str(DAY0 + timedelta(days=n))


@pytest.fixture
def ctx(api, patient, django_capture_on_commit_callbacks) -> dict:
    """A patient with a lab panel (day 3), a dose, an adverse event and a computed response."""
    visits = {v.definition.code: v for v in Visit.objects.filter(patient=patient, definition__isnull=False)}
    with django_capture_on_commit_callbacks(execute=True):
        panel = api.post(
            "/api/v1/lab-panels/",
            {"visit": visits["D3"].pk, "sampled_at": f"{day(3)}T08:00", "values": [{"analyte": "TEMP", "value": "37"}]},
            format="json",
        ).json()
        dose = api.post(
            "/api/v1/doses/",
            {
                "patient": patient.pk,
                "treatment_day": 1,
                "slot": "am",
                "status": "given",
                "administered_at": f"{DAY0}T08:00",
                "amount_mg": "5",
            },
            format="json",
        ).json()
    response_assess_patient(patient_id=patient.pk, today=DAY0 + timedelta(days=5))
    assessment = ResponseAssessment.objects.filter(patient=patient).first()
    return {
        "patient": patient.pk,
        "screening": patient.screening_id,
        "visit": visits["D2"].pk,
        "free_visit": visits["D5"].pk,
        "panel": panel["id"],
        "dose": dose["id"],
        "assessment": assessment.pk,
        "versions": {
            "screening": Screening.objects.get(pk=patient.screening_id).version,
            "visit": Visit.objects.get(pk=visits["D2"].pk).version,
            "panel": panel["version"],
            "dose": DoseAdministration.objects.get(pk=dose["id"]).version,
            "assessment": assessment.version,
        },
    }


# Valid bodies, each case overriding one field.
def screening(c):
    return {
        "site": "BCH",
        "initials": "AB",
        "sex": "M",
        "date_of_birth": "2022-01-01",
        "screening_date": day(-2),
        "weight_kg": "10",
    }


def visit(c):
    return {"patient": c["patient"], "visit_date": day(2), "reason": "Fever"}


def not_done(c):
    return {"reason": "Discharged", "version": c["versions"]["visit"]}


def lab(c):
    return {"visit": c["free_visit"], "sampled_at": f"{day(4)}T08:00", "values": [{"analyte": "TEMP", "value": "37"}]}


def lab_change(c):
    return {
        "version": c["versions"]["panel"],
        "reason_for_change": "Typo",
        "values": [{"analyte": "TEMP", "value": "38"}],
    }


def dose(c):
    return {"patient": c["patient"], "treatment_day": 1, "slot": "pm", "status": "missed", "reason": "Vomited"}


def dose_change(c):
    return {"version": c["versions"]["dose"], "reason_for_change": "Chart", "amount_mg": "4"}


def ae(c):
    return {
        "patient": c["patient"],
        "term_code": "AL101",
        "grade": 1,
        "onset_date": day(1),
        "relationship": "unlikely",
        "action_taken": "none",
        "outcome": "recovered",
    }


def follow_up(c):
    return {"patient": c["patient"], "assessed_on": day(3), "vital_status": "alive"}


def care(c):
    return {"patient": c["patient"], "kind": "gcsf", "given_on": day(1)}


def death(c):
    return {"patient": c["patient"], "date_of_death": day(3), "cause": "Sepsis"}


def end(c):
    return {"patient": c["patient"], "outcome": "discontinued", "reason": "progression", "last_dose_date": day(3)}


def confirm(c):
    return {"status": "improvement", "reason": "Judged clinically", "version": c["versions"]["assessment"]}


def screening_change(c):
    return {"ferritin_ug_l": "5000", "version": c["versions"]["screening"], "reason_for_change": "Lab report"}


def query(c):
    return {"patient": c["patient"], "target": f"patients.patient:{c['patient']}", "text": "Why?"}


ENDPOINTS = {
    "screenings": ("post", lambda c: "/api/v1/screenings/", screening),
    "screening-change": ("patch", lambda c: f"/api/v1/screenings/{c['screening']}/", screening_change),
    "visits": ("post", lambda c: "/api/v1/visits/", visit),
    "not-done": ("post", lambda c: f"/api/v1/visits/{c['visit']}/not-done/", not_done),
    "lab-panels": ("post", lambda c: "/api/v1/lab-panels/", lab),
    "lab-change": ("patch", lambda c: f"/api/v1/lab-panels/{c['panel']}/", lab_change),
    "doses": ("post", lambda c: "/api/v1/doses/", dose),
    "dose-change": ("patch", lambda c: f"/api/v1/doses/{c['dose']}/", dose_change),
    "adverse-events": ("post", lambda c: "/api/v1/adverse-events/", ae),
    "follow-ups": ("post", lambda c: "/api/v1/follow-ups/", follow_up),
    "supportive-care": ("post", lambda c: "/api/v1/supportive-care/", care),
    "deaths": ("post", lambda c: "/api/v1/deaths/", death),
    "treatment-ends": ("post", lambda c: "/api/v1/treatment-ends/", end),
    "confirm": ("post", lambda c: f"/api/v1/response-assessments/{c['assessment']}/confirm/", confirm),
    "queries": ("post", lambda c: "/api/v1/queries/", query),
}


def case(endpoint: str, field: str, value, *, expect: str | None = None, raw: str | None = None):
    """The endpoint's valid body with `field` ("values/0/unit") set to `value`, or the raw JSON text;
    `expect`: the field the error names (by default `field`, as "values[0].unit")."""
    named = expect or ".".join(f"[{p}]" if p.isdigit() else p for p in field.split("/")).replace(".[", "[")
    return pytest.param(endpoint, field, value, named, raw, id=f"{endpoint}-{field}-{value!r:.30}")


def _set(body: dict, path: str, value) -> dict:
    """path "values/0/value" sets body["values"][0]["value"]."""
    *parents, last = path.split("/")
    target = body
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value
    return body


CASES = [
    # Lone surrogates in every kind of text, and in a key
    *(
        case(endpoint, field, SURROGATE)
        for endpoint, field in (
            ("screenings", "wes_detail"),
            ("screenings", "initials"),
            ("screening-change", "reason_for_change"),
            ("visits", "reason"),
            ("not-done", "reason"),
            ("lab-panels", "notes"),
            ("lab-panels", "values/0/unit"),
            ("lab-change", "reason_for_change"),
            ("doses", "reason"),
            ("adverse-events", "description"),
            ("adverse-events", "term_code"),
            ("follow-ups", "notes"),
            ("supportive-care", "detail"),
            ("deaths", "cause"),
            ("treatment-ends", "reason_detail"),
            ("confirm", "reason"),
            ("queries", "text"),
        )
    ),
    case("visits", "\ud800", 1, expect="\\ud800"),
    # JSON nested 50,000 deep, NaN, Infinity and 1e309
    case("visits", "reason", None, expect="non_field_errors", raw="[" * 50_000 + "]" * 50_000),
    case("lab-change", "version", None, raw='{"version": 1e309, "reason_for_change": "x"}'),
    case("not-done", "version", None, raw='{"version": NaN, "reason": "x"}'),
    case("dose-change", "version", None, raw='{"version": Infinity, "reason_for_change": "x"}'),
    case("confirm", "version", None, raw='{"version": -Infinity, "status": "pr", "reason": "x"}'),
    case("screening-change", "version", None, raw='{"version": 1e309, "reason_for_change": "x"}'),
    case("lab-panels", "values[0].value", None, raw='{"visit": 1, "values": [{"analyte": "TEMP", "value": 1e999}]}'),
    case("doses", "amount_mg", None, raw='{"patient": 1, "amount_mg": NaN}'),
    case("visits", "patient", None, raw='{"patient": 1' + "0" * 40 + "}"),
    # Dates of year 1 and 9999 (a time zone cannot even be applied there)
    case("lab-panels", "sampled_at", "0001-01-01T00:00+14:00"),
    case("lab-panels", "sampled_at", "9999-12-31T23:59-12:00"),
    case("lab-panels", "sampled_at", "0001-01-01T00:00"),
    case("lab-panels", "visit_date", "0001-01-01"),
    case("lab-panels", "values/0/sampled_at", "0001-01-01T00:00", expect="values[0].sampled_at"),
    case("doses", "administered_at", "0001-01-01T00:00"),
    case("screenings", "date_of_birth", "0001-01-01"),
    case("screenings", "screening_date", "0001-01-02"),
    case("adverse-events", "onset_date", "0001-01-01"),
    case("follow-ups", "assessed_on", "9999-12-31"),
    case("supportive-care", "given_on", "0001-01-01"),
    # Texts longer than their columns, each named with its limit
    case("visits", "reason", "x" * 201),
    case("not-done", "reason", "x" * 201, expect="not_done_reason"),
    case("doses", "reason", "x" * 201),
    case("follow-ups", "notes", "x" * 301),
    case("treatment-ends", "reason_detail", "x" * 301),
    case("adverse-events", "other_specify", "x" * 201),
    case("confirm", "reason", "x" * 301),
    case("supportive-care", "detail", "x" * 101),
    case("deaths", "cause", "x" * 301),
    case("screenings", "wes_detail", "x" * 201),
    case("queries", "field", "x" * 61),
    # A reason for change longer than the history keeps, everywhere
    case("lab-change", "reason_for_change", "r" * (REASON_MAX_LENGTH + 1)),
    case("dose-change", "reason_for_change", "r" * (REASON_MAX_LENGTH + 1)),
    case("screening-change", "reason_for_change", "r" * (REASON_MAX_LENGTH + 1)),
    # Numbers and dates in other digits than 0-9, or with Python's underscores
    *(
        case(endpoint, field, value)
        for endpoint, field, values in (
            ("screenings", "weight_kg", ("１０", "١٠", "1_0")),
            ("screenings", "date_of_birth", ("٢٠٢٢-٠١-٠١", "２０２２-０１-０１")),
            ("lab-panels", "values/0/value", ("３７", "٣٧", "3_7")),
            ("lab-panels", "sampled_at", ("٢٠٢٦-٠٣-٠٧T08:00",)),
            ("follow-ups", "assessed_on", ("٢٠٢٦-٠٣-٠٦", "２０２６-０３-０６")),
            ("dose-change", "amount_mg", ("５", "4_0")),
            ("adverse-events", "grade", ("１", "1_0")),
            ("adverse-events", "onset_date", ("٢٠٢٦-٠٣-٠٤",)),
            ("not-done", "version", ("１", "1_0", "١")),
            ("lab-change", "version", ("１",)),
            ("supportive-care", "given_on", ("٢٠٢٦-٠٣-٠٤",)),
            ("treatment-ends", "last_dose_date", ("２０２６-０３-０６",)),
        )
        for value in values
    ),
]


@pytest.mark.parametrize("endpoint,field,value,expect,raw", CASES)
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(
    ctx, api, api_monitor, endpoint, field, value, expect, raw
):
    method, url, body = ENDPOINTS[endpoint]
    client = api_monitor if endpoint == "queries" else api
    client.raise_request_exception = False
    text = raw if raw is not None else json.dumps(_set(body(ctx), field, value))
    before = snapshot()
    response = getattr(client, method)(url(ctx), text, content_type="application/json")
    assert response.status_code == 400, (response.status_code, response.content[:300])
    errors = response.json()
    assert expect in errors, errors
    assert all(isinstance(m, str) and m for m in errors[expect]), errors
    assert snapshot() == before


def test_the_valid_bodies_of_the_table_are_accepted(ctx, api, api_monitor):
    """Each endpoint's body without a bad value is written: the cases above refuse only the value."""
    for name, (method, url, body) in ENDPOINTS.items():
        client = api_monitor if name == "queries" else api
        with transaction.atomic():
            response = getattr(client, method)(url(ctx), body(ctx), format="json")
            assert response.status_code in (200, 201), (name, response.json())
            transaction.set_rollback(True)


def test_a_confirmation_reason_that_fills_the_history_row_is_kept_whole_on_the_record(ctx, api):
    """ "Recorded as improvement: " + 85 characters is more than the history's 100: cut there, not a 500."""
    response = api.post(
        f"/api/v1/response-assessments/{ctx['assessment']}/confirm/",
        {"status": "improvement", "reason": "r" * 85, "version": 1},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assessment = ResponseAssessment.objects.get(pk=ctx["assessment"])
    assert assessment.confirmation_reason == "r" * 85
    kept = assessment.history.order_by("-history_date").first().history_change_reason
    assert len(kept) == REASON_MAX_LENGTH and kept.startswith("Recorded as improvement: rrr") and kept.endswith("…")


def test_a_body_over_the_size_limit_is_a_413_json(api, ctx):
    big = json.dumps({"patient": ctx["patient"], "visit_date": day(2), "reason": "x" * 3_000_000})
    before = snapshot()
    response = api.post("/api/v1/visits/", big, content_type="application/json")
    assert response.status_code == 413 and response["Content-Type"] == "application/json"
    assert response.json() == {"non_field_errors": ["The request body is larger than 2.5 MB."]}
    response = api.post("/api/v1/imports/", big, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {
        "bundle": [
            "The request body is larger than 2.5 MB. Send a larger bundle as a ZIP of CSV files (docs/import.md)."
        ]
    }
    assert snapshot() == before


FILTERS = [
    ("/api/v1/screenings/?status=AAA", "status"),
    ("/api/v1/screenings/?eligibility=AAA", "eligibility"),
    ("/api/v1/patients/?status=AAA", "status"),
    ("/api/v1/patients/?risk_group=AAA", "risk_group"),
    ("/api/v1/patients/?etiology=AAA", "etiology"),
    ("/api/v1/queries/?origin=AAA", "origin"),
    ("/api/v1/supportive-care/?kind=AAA", "kind"),
    ("/api/v1/visits/?patient=99999", "patient"),
    ("/api/v1/visits/?patient=%EF%BC%91", "patient"),  # fullwidth 1
    ("/api/v1/doses/?patient=abc", "patient"),
    ("/api/v1/lab-panels/?visit=99999", "visit"),
    ("/api/v1/adverse-events/?site=ZZZ", "site"),
    ("/api/v1/visits/?date_from=%D9%A2%D9%A0%D9%A2%D9%A6-%D9%A0%D9%A3-%D9%A0%D9%A5", "date_from"),  # Arabic-Indic
    ("/api/v1/visits/?date_from=0001-01-01", "date_from"),
    ("/api/v1/deaths/?date_to=2026-02-30", "date_to"),
    ("/api/v1/visits/?page=%EF%BC%91", "page"),
    ("/api/v1/visits/?page_size=%EF%BC%91", "page_size"),
    ("/api/v1/visits/?page_size=0", "page_size"),
]


@pytest.mark.parametrize("url,name", FILTERS, ids=[f[0].split("/")[3] + "-" + f[1] for f in FILTERS])
def test_unknown_filter_values_are_a_400_naming_the_parameter(api, patient, url, name):
    response = api.get(url)
    assert response.status_code == 400, response.content[:300]
    assert list(response.json()) == [name]


def test_another_sites_patient_is_not_a_filter_value(api, api_b, patient):
    assert api_b.get(f"/api/v1/visits/?patient={patient.pk}").json() == {
        "patient": [f"No patient {patient.pk} at your sites."]
    }
    assert api.get(f"/api/v1/visits/?patient={patient.pk}").json()["count"] > 0


# The import: the JSON bundle as the body, as a file, and the CSV bundle


def _bundle(**screening) -> dict:
    data = {"initials": "AB", "sex": "M", "date_of_birth": "2022-01-01", "screening_date": "2026-03-01"}
    data["weight_kg"] = "10"
    return {
        "format": "rux-hlh-bundle/1",
        "screenings": [{"site": "BCH", "screening_number": "SRC-1", "screening": {**data, **screening}}],
    }


IMPORT_CASES = [
    pytest.param(json.dumps(_bundle(initials=SURROGATE)), "screenings[0].screening.initials", id="surrogate"),
    pytest.param('{"format": "x", "a": ' + "[" * 50_000 + "]" * 50_000 + "}", "non_field_errors", id="deep"),
    pytest.param('{"format": NaN}', "format", id="nan"),
    pytest.param(json.dumps(_bundle()).replace('"10"', "1e309"), "screenings[0].screening.weight_kg", id="1e309"),
    pytest.param(json.dumps(_bundle(weight_kg="１０")), "weight_kg", id="fullwidth-weight"),
    pytest.param(json.dumps(_bundle(date_of_birth="0001-01-01")), "date_of_birth", id="year-1"),
    pytest.param(json.dumps(_bundle(wes_detail="x" * 201)), "wes_detail", id="long-text"),
]


@pytest.mark.parametrize("body,field", IMPORT_CASES)
def test_bad_input_to_the_import_names_the_field_and_imports_nothing(
    api, clinician, body, field, django_capture_on_commit_callbacks
):
    api.raise_request_exception = False
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/imports/", body, content_type="application/json")
    assert response.status_code in (400, 202), response.content[:300]
    if response.status_code == 400:
        assert field in response.json(), response.json()
    else:
        job = api.get(f"/api/v1/imports/{response.json()['id']}/").json()
        assert job["status"] == "failed"
        assert field in {error["field"] for error in job["errors"]}, job["errors"]
    assert snapshot() == before


def test_a_json_bundle_file_is_read_as_strictly(api, clinician):
    upload = io.BytesIO(json.dumps(_bundle(initials=SURROGATE)).encode())
    upload.name = "bundle.json"
    before = snapshot()
    response = api.post("/api/v1/imports/", {"bundle": upload}, format="multipart")
    assert response.status_code == 400
    assert "screenings[0].screening.initials" in response.json()
    assert snapshot() == before


def test_every_history_table_keeps_reasons_of_the_same_length():
    lengths = {
        model._meta.label: model._meta.get_field("history_change_reason").max_length
        for model in apps.get_models()
        if model._meta.label.split(".")[1].startswith("Historical")
    }
    assert lengths and set(lengths.values()) == {REASON_MAX_LENGTH}, lengths


def test_the_lab_page_refuses_a_reason_longer_than_the_history_keeps():
    from assessments.forms.labs import LabPanelForm

    assert LabPanelForm.base_fields["reason_for_change"].max_length == REASON_MAX_LENGTH
