"""Dates are typed and shown as ISO 8601 whatever the browser's locale (issue 15: "never
mm/dd/yyyy"): an American browser and a Chinese one see 2026-… in the lab page's date fields,
and the calendar beside a field writes the day it is given, in that form, keeping a typed time."""

import re
from datetime import timedelta

import pytest

from assessments.models import LabPanel, Visit
from tests.conftest import DAY0, PASSWORD, enroll_child
from trial.clock import zone_of

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.e2e]

AMERICAN = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b")


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_date_fields_are_iso_in_every_browser_locale_and_the_calendar_writes_iso(
    live_server, browser, site_a, clinician, locale
):
    patient = enroll_child(site_a, clinician)
    day7 = Visit.objects.get(patient=patient, definition__code="D7")
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", clinician.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/visits/{day7.pk}/labs/")

    for name in ("visit_date", "sampled_at"):
        field = page.locator(f'[name="{name}"]')
        # A text field, not the browser's date control (which formats by the browser's locale).
        assert field.get_attribute("type") == "text"
        assert field.get_attribute("placeholder").startswith("YYYY-MM-DD")
    assert not AMERICAN.search(page.inner_text("main"))

    # The calendar beside the visit date: the 9th of the month shown is written as ISO.
    visit_date = page.locator('[name="visit_date"]')
    visit_date.fill("2026-03-01")
    page.locator('[name="visit_date"] ~ .iso-calendar-button').click()
    page.locator('.iso-calendar [data-date="2026-03-09"]').click()
    assert visit_date.input_value() == "2026-03-09"
    assert page.locator(".iso-calendar").count() == 0  # closed on choosing

    # The sampling time keeps its typed time when the calendar changes the day; the month
    # buttons move the calendar without closing it.
    sampled = page.locator('[name="sampled_at"]')
    sampled.fill("2026-03-01 07:45")
    page.locator('[name="sampled_at"] ~ .iso-calendar-button').click()
    page.locator(".iso-calendar-head button").last.click()  # next month: April 2026
    assert page.locator('.iso-calendar [data-date="2026-04-02"]').count() == 1
    page.locator('.iso-calendar [data-date="2026-04-02"]').click()
    assert sampled.input_value() == "2026-04-02 07:45"

    # The calendar takes no Tab stop: from the visit date, Tab goes to the sampling time.
    visit_date.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "sampled_at"

    # Typed ISO dates are what the server stores.
    when = DAY0 + timedelta(days=7)
    visit_date.fill(when.isoformat())
    sampled.fill(f"{when.isoformat()} 08:30")
    page.fill('[name="v_FERRITIN"]', "2400")
    page.click("#save-labs")
    page.wait_for_load_state("networkidle")
    panel = LabPanel.objects.get(visit=day7)
    assert panel.sampled_at.astimezone(zone_of(site_a)).strftime("%Y-%m-%d %H:%M") == f"{when.isoformat()} 08:30"
    context.close()
