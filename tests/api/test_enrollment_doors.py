"""Every door to an enrollment (the page, the API, the JSON and CSV imports) refuses an impossible
one with the same field error from patient_enroll, and stores nothing (protocol sections 6-8)."""

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
        id="90 mg",
    ),
    pytest.param(
        {"weight_kg": "400"},
        "weight_kg",
        "Weight at enrollment must be at most 150 kg (entered 400 kg).",
        id="400 kg",
    ),
    pytest.param(
        {"first_dose_date": (SCREENING_DAY + timedelta(days=400)).isoformat()},
        "first_dose_date",
        "Day 0 must be within 7 days of screening (2026-03-02), i.e. on or before 2026-03-09; screening is the "
        "day -7 to 0 visit (protocol section 7).",
        id="day 0 400 days after screening",
    ),
]


def nothing_enrolled() -> bool:
    return not Patient.objects.exists() and not Visit.objects.exists() and not Patient.history.exists()


@pytest.mark.parametrize(("change", "field", "message"), CASES)
def test_the_page_shows_the_services_field_error(client, coordinator, site_a, change, field, message):
    screening = screening_create(site=site_a, data=eligible_data(), user=coordinator)
    assert client.login(username=coordinator.username, password=PASSWORD)
    response = client.post(reverse("screening_enroll", args=[screening.pk]), {**GOOD, **change, "confirm": "on"})
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert message in response.content.decode().replace("&#x27;", "'")
    assert nothing_enrolled()
    assert Screening.objects.get(pk=screening.pk).status == Screening.Status.SCREENING


@pytest.mark.parametrize(("change", "field", "message"), CASES)
def test_the_api_answers_400_with_the_same_field_error(api, site_a, clinician, change, field, message):
    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    response = api.post(f"/api/v1/screenings/{screening.pk}/enroll/", {**GOOD, **change}, format="json")
    assert (response.status_code, response.json()) == (400, {field: [message]})
    assert nothing_enrolled()


@pytest.mark.parametrize(("change", "field", "message"), CASES)
def test_the_json_import_lists_the_same_field_error(clinician, change, field, message):
    record = {
        "site": "BCH",
        "screening_number": "SRC-9",
        "screening": json_screening(),
        "enrollment": {**GOOD, **change},
    }
    with pytest.raises(ImportFailed) as failed:
        bundle_import(bundle={"format": FORMAT, "patients": [record]}, user=clinician)
    assert failed.value.errors == [{"row": "patients[0].enrollment", "field": field, "message": message}]
    assert nothing_enrolled() and not Screening.objects.exists()


def csv_table(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize(("change", "field", "message"), CASES)
def test_the_csv_import_lists_the_same_field_error(clinician, change, field, message):
    key = {"site": "BCH", "screening_number": "SRC-9"}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("screenings.csv", csv_table([{**key, **json_screening()}]))
        archive.writestr("enrollments.csv", csv_table([{**key, **GOOD, **change}]))
    with pytest.raises(ImportFailed) as failed:
        csv_bundle_import(data=buffer.getvalue(), user=clinician)
    assert [(e["field"], e["message"]) for e in failed.value.errors] == [(field, message)]
    assert "enrollments.csv line 2" in failed.value.errors[0]["row"]
    assert nothing_enrolled() and not Screening.objects.exists()
