"""A monitor opens the study status matrix, filters it by a status and follows a cell to its form."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from assessments.models import Visit
from assessments.services.labs import Measurement, lab_panel_save
from crf.edit_checks import target_of
from queries.services import query_raise
from tests.conftest import DAY0, PASSWORD, enroll_child

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.e2e]

ZONE = ZoneInfo("Asia/Shanghai")


def test_filter_the_matrix_by_query_open_and_open_the_queried_form(
    live_server, page, screenshot, site_a, clinician, monitor
):
    queried = enroll_child(site_a, clinician)
    quiet = enroll_child(site_a, clinician)
    day1 = Visit.objects.get(patient=queried, definition__code="D1")
    when = datetime.combine(DAY0 + timedelta(days=1), time(8), tzinfo=ZONE)
    panel = lab_panel_save(
        visit=day1,
        sampled_at=when,
        values={"HGB": Measurement(Decimal("95"), "g/L", when)},
        panel_data={},
        user=clinician,
        today=DAY0 + timedelta(days=1),
    ).panel
    query_raise(patient=queried, target=target_of(panel), field="HGB", text="Source shows 96 g/L", user=monitor)

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", monitor.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.click("nav >> text=Study status")
    page.wait_for_selector("#matrix")
    assert page.locator("#matrix tbody tr[data-subject]").count() == 2
    assert page.get_attribute(f'tr[data-subject="{queried.subject_number}"] td[data-column="D1"]', "data-status") == (
        "query"
    )

    page.select_option('select[name="status"]', "query")  # sends the filter form by itself
    page.wait_for_url("**status=query**")
    screenshot("status-matrix-query-open")
    assert page.locator("#matrix tbody tr[data-subject]").count() == 1
    assert page.locator(f'tr[data-subject="{quiet.subject_number}"]').count() == 0
    match = page.locator(f'tr[data-subject="{queried.subject_number}"] td.mx-match')
    assert match.count() == 1 and match.get_attribute("data-column") == "D1"
    assert match.inner_text().strip() == "Q"  # the letter beside the colour

    match.locator("a").click()
    page.wait_for_url(f"**/visits/{day1.pk}/labs/")
    # A monitor reads the saved values as text (no inputs): the queried day's hemoglobin.
    assert page.locator('tr[data-analyte="HGB"] .lab-value').inner_text().startswith("95 ")
