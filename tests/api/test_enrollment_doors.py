"""Every door to an enrollment (the page, the API, the JSON and CSV imports) refuses an impossible
one with the same field error from patient_enroll, with the same stable code, and stores nothing
(protocol sections 6-8)."""

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from django.urls import reverse

from api.csv_bundle import csv_bundle_import
from api.importing import FORMAT, ImportFailed, bundle_import
from assessments.models import Visit
from patients.models import Patient, Screening
from patients.services import screening_create
from tests.api.test_resources import json_screening
from tests.conftest import PASSWORD, SCREENING_DAY, eligible_data

pytestmark = pytest.mark.django_db

GOOD = {
    "enrollment_date": SCREENING_DAY.isoformat(),
    "first_dose_date": (SCREENING_DAY + timedelta(days=1)).isoformat(),
    "weight_kg": "15.0",
    "prescribed_dose_mg": "5",
}
CASES = [
    pytest.param(
        {"prescribed_dose_mg": "90"},
        "prescribed_dose_mg",
        "Prescribed dose must be at most 50 mg twice daily (entered 90 mg); a dose other than the weight band's "
        "is allowed and flagged (protocol section 6), an impossible one is not.",
        "dose_above_maximum",
        id="90 mg",
    ),
    pytest.param(
        {"weight_kg": "400"},
        "weight_kg",
        "Weight at enrollment must be at most 150 kg (entered 400 kg).",
        "weight_above_maximum",
        id="400 kg",
    ),
    pytest.param(
        {"first_dose_date": (SCREENING_DAY + timedelta(days=400)).isoformat()},
        "first_dose_date",
        "Day 0 must be within 7 days of screening (2026-03-02), i.e. on or before 2026-03-09; screening is the "
        "day -7 to 0 visit (protocol section 7).",
        "first_dose_after_screening_window",
        id="day 0 400 days after screening",
    ),
]


# GOOD and CASES send the weight by its former name, which the API and the imports still read and
# answer under; the page and the current name are enrollment_weight_kg (test_current_name_...).
FORMER = {"weight_kg": "enrollment_weight_kg"}


def nothing_enrolled() -> bool:
    return not Patient.objects.exists() and not Visit.objects.exists() and not Patient.history.exists()


@pytest.mark.parametrize(("change", "field", "message", "code"), CASES)
def test_the_page_shows_the_services_field_error(client, coordinator, site_a, change, field, message, code):
    screening = screening_create(site=site_a, data=eligible_data(), user=coordinator)
    assert client.login(username=coordinator.username, password=PASSWORD)
    page = {FORMER.get(name, name): value for name, value in {**GOOD, **change}.items()}  # the page's names
    response = client.post(reverse("screening_enroll", args=[screening.pk]), {**page, "confirm": "on"})
    assert response.status_code == 200
    field = FORMER.get(field, field)
    assert response.context["form"].errors == {field: [message]}
    assert [e.code for e in response.context["form"].errors.as_data()[field]] == [code]
    assert message in response.content.decode().replace("&#x27;", "'")
    assert nothing_enrolled()
    assert Screening.objects.get(pk=screening.pk).status == Screening.Status.SCREENING


@pytest.mark.parametrize(("change", "field", "message", "code"), CASES)
def test_the_api_answers_400_with_the_same_field_error(api, site_a, clinician, change, field, message, code):
    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    response = api.post(f"/api/v1/screenings/{screening.pk}/enroll/", {**GOOD, **change}, format="json")
    assert (response.status_code, response.json()) == (400, {field: [message]})
    problem = api.post(
        f"/api/v1/screenings/{screening.pk}/enroll/",
        {**GOOD, **change},
        format="json",
        HTTP_ACCEPT="application/json, application/problem+json",
    )
    assert (problem.status_code, problem["Content-Type"]) == (400, "application/problem+json")
    assert [(e["field"], e["code"], e["message"]) for e in problem.json()["errors"]] == [(field, code, message)]
    assert nothing_enrolled()


@pytest.mark.parametrize(("change", "field", "message", "code"), CASES)
def test_the_json_import_lists_the_same_field_error(clinician, change, field, message, code):
    record = {
        "site": "BCH",
        "screening_number": "SRC-9",
        "screening": json_screening(),
        "enrollment": {**GOOD, **change},
    }
    with pytest.raises(ImportFailed) as failed:
        bundle_import(bundle={"format": FORMAT, "patients": [record]}, user=clinician)
    assert failed.value.errors == [{"row": "patients[0].enrollment", "field": field, "code": code, "message": message}]
    assert nothing_enrolled() and not Screening.objects.exists()


def csv_table(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize(("change", "field", "message", "code"), CASES)
def test_the_csv_import_lists_the_same_field_error(clinician, change, field, message, code):
    key = {"site": "BCH", "screening_number": "SRC-9"}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("screenings.csv", csv_table([{**key, **json_screening()}]))
        archive.writestr("enrollments.csv", csv_table([{**key, **GOOD, **change}]))
    with pytest.raises(ImportFailed) as failed:
        csv_bundle_import(data=buffer.getvalue(), user=clinician)
    assert [(e["field"], e["code"], e["message"]) for e in failed.value.errors] == [(field, code, message)]
    assert "enrollments.csv line 2" in failed.value.errors[0]["row"]
    assert nothing_enrolled() and not Screening.objects.exists()


def test_the_current_name_of_the_weight_is_read_and_answered_under_by_every_door(api, site_a, clinician):
    current = {FORMER.get(name, name): value for name, value in GOOD.items()}
    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    url = f"/api/v1/screenings/{screening.pk}/enroll/"
    refused = api.post(url, {**current, "enrollment_weight_kg": "400"}, format="json")
    assert refused.json() == {"enrollment_weight_kg": ["Weight at enrollment must be at most 150 kg (entered 400 kg)."]}
    both = api.post(url, {**current, "weight_kg": "15.0"}, format="json")
    assert both.json() == {"weight_kg": ["Send enrollment_weight_kg only (weight_kg is its former name)."]}
    assert nothing_enrolled()
    record = {"site": "BCH", "screening_number": "SRC-9", "screening": json_screening(), "enrollment": current}
    with pytest.raises(ImportFailed) as failed:
        bundle_import(
            bundle={"format": FORMAT, "patients": [{**record, "enrollment": {**current, "enrollment_weight_kg": "0"}}]},
            user=clinician,
        )
    assert [(e["field"], e["code"]) for e in failed.value.errors] == [("enrollment_weight_kg", "weight_below_minimum")]
    created = api.post(url, current, format="json")
    assert created.status_code == 201
    assert created.json()["enrollment_weight_kg"] == "15.00"
