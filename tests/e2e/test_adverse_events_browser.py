"""A clinician reviews a lab-based suggestion, then records a serious adverse event by searching
the CTCAE term list, and sees it in the patient's list; coordinators are notified."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from assessments.models import AdverseEvent, LabPanel, LabResult
from assessments.services.adverse_events import lab_ae_suggestions_create
from notifications.models import Notification
from patients.services import patient_enroll, screening_create
from tests.conftest import PASSWORD, SCREENING_DAY, eligible_data

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.e2e]


def enrolled_patient_with_a_low_platelet_count(site, user):
    screening = screening_create(site=site, data=eligible_data(), user=user)
    patient = patient_enroll(
        screening_id=screening.pk,
        enrollment_date=SCREENING_DAY,
        first_dose_date=SCREENING_DAY + timedelta(days=1),
        enrollment_weight_kg=Decimal("15.0"),
        prescribed_dose_mg=Decimal("5"),
        user=user,
    )
    moment = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    panel = LabPanel.objects.create(patient=patient, visit=patient.visits.get(planned_day=7), sampled_at=moment)
    LabResult.objects.create(
        panel=panel,
        patient=patient,
        analyte="PLAT",
        value=Decimal("20"),
        unit="10^9/L",
        sampled_at=moment,
        reference_low=Decimal("100"),
        reference_high=Decimal("300"),
    )
    lab_ae_suggestions_create(panel=panel)
    return patient


def test_clinician_records_a_serious_event_with_the_term_search(
    live_server, page, screenshot, site_a, clinician, coordinator
):
    patient = enrolled_patient_with_a_low_platelet_count(site_a, clinician)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", clinician.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.click("#patient-tabs >> text=Adverse events")
    page.wait_for_url(f"**/patients/{patient.pk}/adverse-events/")
    expect(page.locator("#suggestion-table tbody tr")).to_have_count(1)  # waits for the page to load
    assert "Platelets 20 10^9/L is < 25 10^9/L" in page.inner_text("#suggestion-table")

    page.click("#ae-new")
    page.fill("#id_onset_date", "2026-03-01")
    page.click("#save-ae")
    errors = page.inner_text("#form-errors")
    assert "Onset date cannot be before enrollment (2026-03-02)." in errors
    assert "CTCAE v3.0 term: Choose a CTCAE v3.0 term" in errors
    screenshot("ae-form-errors")
    assert not AdverseEvent.objects.exists()
    page.fill("#id_term_search", "neutro")
    page.wait_for_selector(".ctcae-results li[role=option]")
    screenshot("ae-form-term-search")
    page.click(".ctcae-results li[role=option] >> text=Febrile neutropenia")
    assert page.input_value("#id_term_search") == "Febrile neutropenia (IN102)"
    assert page.inner_text("#term-category") == "INFECTION"
    assert page.is_hidden("#sae-criteria")
    page.check('input[name="grade"][value="3"]')
    page.fill("#id_onset_date", "2026-03-09")
    page.check('input[name="serious"][value="true"]')
    assert page.is_visible("#sae-criteria")
    page.check("#id_sae_hospitalisation")
    page.check('input[name="relationship"][value="possible"]')
    page.check('input[name="action_taken"][value="interrupted"]')
    page.select_option("#id_outcome", "recovering")
    page.fill("#id_description", "Fever 39.4 °C with ANC 0.3; admitted to the ward.")
    screenshot("ae-form")
    page.click("#save-ae")

    page.wait_for_selector("#ae-table")
    ae = AdverseEvent.objects.get()
    row = page.inner_text(f"#ae-{ae.pk}")
    assert "Febrile neutropenia" in row and "SAE" in row and "3 – Severe" in row and "2026-03-09" in row
    assert "notified" in page.inner_text(".alert-success")
    screenshot("ae-list")
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {coordinator.username}

    page.click("#suggestion-table >> text=Accept…")
    assert page.input_value("#id_term_search") == "Platelets (BL111)"
    assert page.is_disabled("#id_term_search") and page.is_disabled('input[name="grade"][value="4"]')
    assert "10:00" in page.inner_text("#suggestion-explanation")  # 02:00 UTC where the site is
    screenshot("ae-accept-form")
