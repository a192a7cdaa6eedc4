"""A monitor raises a query on one lab value from the lab page and sees it beside that field."""

import pytest

from crf.models import DataQuery
from tests.conftest import PASSWORD, enroll_child
from tests.review.test_review import save_day7

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.e2e]


def test_a_query_raised_from_the_lab_page_shows_beside_its_field(
    live_server, page, screenshot, site_a, clinician, monitor
):
    patient = enroll_child(site_a, clinician)
    panel = save_day7(patient, clinician).panel
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", monitor.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/visits/{panel.visit_id}/labs/")
    assert page.locator('tr[data-analyte="FERRITIN"] [data-query-status]').count() == 0

    page.click("#raise-query-link")
    # The record is chosen; the field select offers that form's fields by their labels only.
    assert page.input_value("#q-target") == f"assessments.labpanel:{panel.pk}"
    assert page.locator('#q-field optgroup[data-form="patients.screening"]').get_attribute("hidden") is not None
    page.select_option("#q-field", label="Ferritin")
    page.fill("#q-text", "Ferritin 2400: the lab sheet says 2040?")
    screenshot("query-raise-ferritin")
    page.click("#raise-query-submit")

    page.wait_for_selector('tr[data-analyte="FERRITIN"] [data-query-status="open"]')
    screenshot("lab-page-ferritin-query")
    assert page.locator("[data-query-status]").count() == 1
    query = DataQuery.objects.get(origin="manual")
    assert (query.target, query.field) == (f"assessments.labpanel:{panel.pk}", "FERRITIN")

    page.click('tr[data-analyte="FERRITIN"] [data-query-status="open"]')
    assert page.inner_text("#query-field") == "Ferritin"
    page.click("#query-record-link")
    assert page.url.endswith(f"/visits/{panel.visit_id}/labs/#q-FERRITIN")
