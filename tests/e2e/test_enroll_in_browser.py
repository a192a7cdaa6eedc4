"""A coordinator logs in, screens and enrolls an eligible child, and sees risk group and dose band."""

from datetime import timedelta

import pytest

from patients.models import Patient
from tests.conftest import PASSWORD, SCREENING_DAY, eligible_data, form_payload

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.e2e]


def fill_screening(page, data: dict) -> None:
    for name, value in form_payload(data).items():
        selector = f'[name="{name}"]'
        kind = page.get_attribute(selector, "type") if page.locator(selector).count() == 1 else "radio"
        tag = page.eval_on_selector(selector, "e => e.tagName")
        if kind == "radio":
            page.check(f'{selector}[value="{value or "unknown"}"]')
        elif tag == "SELECT":
            page.select_option(selector, value)
        else:
            page.fill(selector, value)


def test_coordinator_screens_enrolls_and_sees_risk_and_dose(live_server, page, screenshot, coordinator):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", coordinator.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.click("text=New screening")
    screenshot("screening-form")

    fill_screening(page, eligible_data(weight_kg="21.5"))
    page.click("#save-screening")
    page.wait_for_selector("#eligibility-status")
    assert page.inner_text("#eligibility-status") == "Eligible"
    screenshot("screening-detail")

    page.click("#enroll-link")
    assert "10 mg twice daily" in page.inner_text("#expected-dose")
    page.fill('[name="first_dose_date"]', str(SCREENING_DAY + timedelta(days=1)))
    page.check('[name="confirm"]')
    page.click("input[name=enroll]")
    page.wait_for_selector("#risk-group")
    screenshot("patient-overview")

    patient = Patient.objects.get()
    assert page.inner_text("#risk-group") == "High risk"
    assert page.inner_text("#dose-band").startswith("10 mg BID")
    assert patient.subject_number in page.inner_text("h1")
    assert page.locator("#visit-calendar tbody tr").count() == 17
