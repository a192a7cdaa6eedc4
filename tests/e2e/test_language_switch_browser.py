"""The language switch in the header reloads the same page in the other language and keeps
what was typed in its form (static/js/language_switch.js)."""

import pytest

from accounts.models import Preference
from assessments.models import LabPanel, Visit
from tests.conftest import PASSWORD, enroll_child

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.e2e]


def test_switching_language_keeps_the_page_and_the_typed_values(live_server, page, screenshot, site_a, clinician):
    patient = enroll_child(site_a, clinician)
    day7 = Visit.objects.get(patient=patient, definition__code="D7")
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", clinician.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    lab_page = f"{live_server.url}/visits/{day7.pk}/labs/"
    page.goto(lab_page)
    assert page.get_attribute("html", "lang") == "en"
    assert "Patients" in page.inner_text("#nav")
    page.fill('[name="v_FERRITIN"]', "2400")
    page.fill('[name="v_ALT"]', "250")
    page.fill('[name="notes"]', "脾肋下 3 cm")

    page.click("#language-zh-hans")
    page.wait_for_selector('html[lang="zh-hans"]')
    screenshot("language-switch-zh")
    assert page.url == lab_page
    assert "患者" in page.inner_text("#nav") and "退出登录" in page.inner_text("#user-menu")
    assert "保存实验室检查" in page.inner_text("#save-labs")
    assert page.input_value('[name="v_FERRITIN"]') == "2400"
    assert page.input_value('[name="v_ALT"]') == "250"
    assert page.input_value('[name="notes"]') == "脾肋下 3 cm"
    assert Preference.objects.get(user=clinician).language == "zh-hans"
    assert not LabPanel.objects.exists()  # switching saved nothing

    page.click("#language-en")
    page.wait_for_selector('html[lang="en"]')
    assert page.url == lab_page
    assert "Save labs" in page.inner_text("#save-labs")
    assert page.input_value('[name="v_FERRITIN"]') == "2400"
    assert page.input_value('[name="notes"]') == "脾肋下 3 cm"

    # The kept values are put back once: a plain reload shows the page as saved (empty).
    page.reload()
    assert page.input_value('[name="v_FERRITIN"]') == ""
