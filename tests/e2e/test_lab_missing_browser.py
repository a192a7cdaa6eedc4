"""A clinician marks ferritin "not done" from its "⋯" menu in headless Chromium, types the reason,
saves and sees the code shown; the Tab order from temperature on is one Tab per value before and
after (the menu is out of it)."""

import pytest

from assessments.models import LabResult, Visit
from tests.conftest import PASSWORD, enroll_child
from tests.e2e.conftest import sign_in
from tests.e2e.test_lab_entry_browser import FROM_TEMPERATURE, focused_name

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.e2e]

REASON = "Analyser out of order"


def tab_order(page) -> list[str]:
    page.focus('[name="v_TEMP"]')
    names = ["v_TEMP"]
    for _ in FROM_TEMPERATURE[1:]:
        page.keyboard.press("Tab")
        names.append(focused_name(page))
    return names


def test_ferritin_marked_not_done_with_a_reason_is_saved_and_shown_and_tab_order_is_unchanged(
    live_server, page, site_a, clinician
):
    patient = enroll_child(site_a, clinician)
    day7 = Visit.objects.get(patient=patient, definition__code="D7")
    sign_in(page, live_server.url, clinician, PASSWORD)
    page.goto(f"{live_server.url}/visits/{day7.pk}/labs/")
    assert tab_order(page) == FROM_TEMPERATURE

    row = page.locator('tr[data-analyte="FERRITIN"]')
    row.locator('[name="v_FERRITIN"]').fill("2100")
    row.locator("summary.missing-trigger").click()
    assert focused_name(page) == "m_FERRITIN"  # opening the menu moves the focus to its code
    page.select_option('[name="m_FERRITIN"]', "not_done")
    assert row.locator('[name="v_FERRITIN"]').input_value() == ""  # a value XOR a code
    assert focused_name(page) == "mr_FERRITIN"
    page.keyboard.type(REASON)
    # With the menu open, Tab still goes from value to value.
    assert tab_order(page) == FROM_TEMPERATURE
    page.locator('[name="v_NEUT"]').fill("2.1")
    page.click("#save-labs")
    page.wait_for_selector(".alert-success")

    ferritin = LabResult.objects.get(panel__visit=day7, analyte="FERRITIN")
    assert (ferritin.value, ferritin.missing, ferritin.missing_reason) == (None, "not_done", REASON)
    badge = page.locator('tr[data-analyte="FERRITIN"] [data-saved-missing="not_done"] .missing-badge')
    assert badge.inner_text() == "Not done"
    assert REASON in page.locator('tr[data-analyte="FERRITIN"] [data-saved-missing]').inner_text()
    assert tab_order(page) == FROM_TEMPERATURE
