"""A clinician records day-7 labs, sees the abnormal values flagged and a suggested ALT adverse event."""

from datetime import timedelta

import pytest

from assessments.models import LabAESuggestion, Visit
from tests.conftest import DAY0, PASSWORD, enroll_child

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.e2e]


def test_day7_labs_flag_abnormal_values_and_suggest_an_alt_adverse_event(
    live_server, page, screenshot, site_a, clinician
):
    # Baseline ALT 90 U/L (grade 1 against ULN 40); day 7 ALT 250 U/L is > 5 x ULN: grade 3, worse than baseline.
    patient = enroll_child(site_a, clinician)
    day7 = Visit.objects.get(patient=patient, definition__code="D7")
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", clinician.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/patients/{patient.pk}/visits/")
    page.click('tr[data-visit="D7"] >> text=Enter labs')
    page.fill('[name="visit_date"]', str(DAY0 + timedelta(days=7)))
    page.fill('[name="sampled_at"]', f"{DAY0 + timedelta(days=7)}T08:30")
    for code, value in {"TEMP": "38.9", "NEUT": "1.4", "PLAT": "160", "FERRITIN": "2400", "ALT": "250"}.items():
        page.fill(f'[name="v_{code}"]', value)
    page.click("#save-labs")
    page.wait_for_selector(".alert-success")
    screenshot("day7-labs-saved")

    flash = page.inner_text(".alert-success")
    assert "Ferritin 2400 µg/L (high)" in flash and "ALT 250 U/L (high)" in flash
    assert "Suggested adverse event: ALT, SGPT grade 3" in page.inner_text(".alert-warning")
    assert page.get_attribute('tr[data-analyte="ALT"] [data-flag]', "data-flag") == "H"
    assert page.get_attribute('tr[data-analyte="PLAT"] [data-flag]', "data-flag") == "N"

    page.click("#patient-tabs >> text=Adverse events")
    screenshot("day7-ae-suggestion")
    assert "ALT, SGPT" in page.inner_text("body")
    suggestion = LabAESuggestion.objects.get(patient=patient)
    assert (suggestion.grade, suggestion.status, suggestion.lab_result.analyte) == (3, "pending", "ALT")
    assert day7.pk == suggestion.lab_result.panel.visit_id
