"""A nurse opens the study drug tab, records the current dose with "Given now" and sees the cell turn to given;
the Back button and a stale tab cannot record a second dose."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from patients.models import DoseAdministration
from patients.services import dose_record
from tests.conftest import PASSWORD
from tests.services.test_treatment import at, enroll, give_days
from trial import clock

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.e2e]

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_given_now_turns_the_cell_to_given(live_server, page, screenshot, site_a, clinician):
    today = timezone.localdate(timezone=SHANGHAI)
    patient = enroll(site_a, clinician, screening_day=today - timedelta(days=5), day0=today - timedelta(days=4))
    for day, slot, status, amount, reason in [
        (1, "am", "given", "5", ""),
        (1, "pm", "given", "5", ""),
        (2, "am", "given", "5", ""),
        (2, "pm", "missed", None, "Vomited and refused the syringe"),
        (3, "am", "given", "7.5", ""),
        (3, "pm", "held", None, "Platelets 12, bleeding"),
        (4, "am", "given", "5", ""),
    ]:
        dose_record(
            patient=patient,
            treatment_day=day,
            slot=slot,
            status=status,
            administered_at=at(day, 8 if slot == "am" else 20, day0=patient.first_dose_date) if amount else None,
            amount_mg=Decimal(amount) if amount else None,
            reason=reason,
            user=clinician,
        )

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", clinician.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.click("#patient-tabs >> text=Study drug")
    page.wait_for_selector("#dose-grid")
    assert page.locator("#dose-grid td.dose-cell").count() == 56
    assert page.get_attribute("#day-5", "class") == "dose-today"
    current = page.inner_text("#next-dose")
    assert "treatment day 4, evening" in current or "treatment day 5, morning" in current
    target = "#dose-4-pm" if "day 4, evening" in current else "#dose-5-am"
    assert page.get_attribute(target, "data-status") == "none"

    page.click("#given-now-top")  # the second click of two
    page.wait_for_selector(f'{target}[data-status="given"]')
    assert "was recorded as given at" in page.inner_text(".alert-success")
    assert DoseAdministration.objects.filter(patient=patient, status="given").count() == 6
    screenshot("dose-log")

    page.click("#patient-tabs >> text=Treatment end & follow-up")
    page.wait_for_selector("#treatment-end-card")
    page.click("#treatment-end-card >> text=Record")
    page.wait_for_selector("#treatment-end-form")
    page.check('input[name="outcome"][value="completed"]')
    page.fill('[name="last_dose_date"]', str(patient.first_dose_date + timedelta(days=3)))
    page.click("#save-treatment-end")
    page.wait_for_selector("#form-errors")
    assert "Completed needs the last dose on treatment day 28" in page.inner_text("#form-errors")
    screenshot("treatment-end")

    page.check('input[name="outcome"][value="discontinued"]')
    page.fill('[name="last_dose_date"]', str(timezone.localdate(timezone=SHANGHAI)))
    page.select_option('[name="reason"]', "toxicity")
    page.click("#save-treatment-end")
    page.wait_for_selector("#treatment-outcome")
    assert page.inner_text("#treatment-outcome") == "Discontinued"
    assert "Follow-up" in page.inner_text("h1")
    screenshot("treatment-summary")

    page.click("#patient-tabs >> text=Study drug")
    page.click("#dose-3-am >> text=Edit")
    page.wait_for_selector("#dose-form")
    page.check('input[name="status"][value="held"]')
    assert page.is_disabled('[name="amount_mg"]')
    screenshot("dose-edit")


def test_back_after_given_now_shows_the_dose_recorded_and_a_stale_tab_changes_nothing(
    live_server, page, screenshot, site_a, clinician, monkeypatch
):
    # The reported case: "Given now" for the morning, then Back offered "Given now" for the
    # evening, and one tap recorded it at the same minute.
    patient = enroll(site_a, clinician)  # day 0 is 2026-03-03: treatment day 9 is 2026-03-11
    give_days(patient, clinician, range(1, 9))
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 3, 11, 8, 2, tzinfo=SHANGHAI))

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", clinician.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    dose_log = f"{live_server.url}/patients/{patient.pk}/doses/"
    stale = page.context.new_page()  # a second tab, opened before the dose is given
    stale.goto(dose_log)
    page.goto(dose_log)
    assert "treatment day 9, morning" in page.inner_text("#next-dose")

    page.click("#given-now-top")
    page.wait_for_selector('#dose-9-am[data-status="given"]')
    assert page.locator("#given-now-top").count() == 0
    assert "Next dose: treatment day 9, evening" in page.inner_text("#next-dose")
    assert "opens Wed 2026-03-11 16:02" in page.inner_text("#next-dose")

    page.go_back()
    page.wait_for_selector("#dose-grid")
    assert page.get_attribute("#dose-9-am", "data-status") == "given"
    assert page.locator("#given-now-top").count() == 0
    assert page.locator('button[name="given_now"]').count() == 0
    screenshot("dose-log-after-back")

    assert "treatment day 9, morning" in stale.inner_text("#next-dose")
    stale.click("#given-now-top")
    stale.wait_for_selector(".alert-warning")
    assert "already recorded as given at 08:02; nothing changed" in stale.inner_text(".alert-warning")
    assert DoseAdministration.objects.filter(patient=patient, treatment_day=9).count() == 1
    assert DoseAdministration.objects.filter(patient=patient, status="given").count() == 17
