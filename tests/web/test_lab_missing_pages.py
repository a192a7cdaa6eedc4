"""Missing-data codes on the lab page: a "⋯" menu per value out of the Tab order, a coded value
saved from the page and shown as a badge with its label in Saved, Previous values, the read-only
panel, the patient's trajectories and the casebook; in Chinese the labels are Chinese (未做)."""

import re
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse

from assessments.models import LabResult, Visit
from tests.conftest import DAY0, PASSWORD
from tests.web.test_lab_entry_pages import SITE_ZONE, payload, tab_stops

pytestmark = pytest.mark.django_db

REASON = "Analyser out of order"


def at_site(day: int):
    return time_machine.travel(datetime.combine(DAY0 + timedelta(days=day), time(12), tzinfo=SITE_ZONE), tick=False)


def lab_url(patient, code):
    return reverse("lab_panel_edit", args=[Visit.objects.get(patient=patient, definition__code=code).pk])


@pytest.fixture(autouse=True)
def _on_day_7():
    # The whole test on the site's day 7: a session opened then is not idle in the real today.
    with at_site(7):
        yield


@pytest.fixture
def logged_in(_on_day_7, client, clinician):
    assert client.login(username=clinician.username, password=PASSWORD)
    return client


def save_coded_ferritin(client, patient, code="D7", day=7):
    data = {**payload(day, NEUT="2.1"), "m_FERRITIN": "not_done", "mr_FERRITIN": REASON}
    response = client.post(lab_url(patient, code), data)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    return LabResult.objects.get(patient=patient, analyte="FERRITIN", panel__visit__definition__code=code)


def test_each_value_has_a_menu_out_of_the_tab_order_and_the_tab_stops_are_unchanged(logged_in, patient):
    page = logged_in.get(lab_url(patient, "D7")).content.decode()
    stops = tab_stops(page)
    assert not [s for s in stops if s.startswith(("m_", "mr_"))]
    values = [s for s in stops if s.startswith("v_")]
    assert len(values) == page.count("data-lab-value")  # one Tab per value, no more
    menus = re.findall(r'<summary class="[^"]*missing-trigger"[^>]*>', page)
    assert len(menus) == len(values)
    assert all('tabindex="-1"' in m for m in menus)
    assert re.search(r'<select name="m_FERRITIN"[^>]*tabindex="-1"', page)
    assert re.search(r'<input type="text" name="mr_FERRITIN"[^>]*tabindex="-1"', page)
    assert "data-missing-menu open" not in page  # folded on a new panel
    for label in ("Not done", "Not applicable", "Unknown", "Sample lost"):
        assert f">{label}</option>" in page


def test_the_page_saves_a_coded_value_and_shows_it_as_a_badge(logged_in, patient):
    result = save_coded_ferritin(logged_in, patient)
    assert (result.value, result.missing, result.missing_reason) == (None, "not_done", REASON)
    page = logged_in.get(lab_url(patient, "D7")).content.decode()
    row = re.search(r'<tr data-analyte="FERRITIN">(.*?)</tr>', page, re.S).group(1)
    assert 'data-saved-missing="not_done"' in row
    assert re.search(r'class="badge[^"]*missing-badge" data-missing="not_done"[^>]*>Not done</span>', row)
    assert REASON in row
    # The menu stays open with the saved code and reason, still out of the Tab order.
    assert "data-missing-menu open" in row
    assert re.search(r'<option value="not_done" selected>', row)
    assert f'value="{REASON}"' in row
    assert not [s for s in tab_stops(page) if s.startswith(("m_", "mr_"))]


def test_previous_values_show_the_code_as_a_badge(logged_in, patient):
    save_coded_ferritin(logged_in, patient)
    page = logged_in.get(lab_url(patient, "D14")).content.decode()
    row = re.search(r'<tr data-analyte="FERRITIN">(.*?)</tr>', page, re.S).group(1)
    trend = re.search(r'<td class="trend"[^>]*>(.*?)</td>', row, re.S).group(1)
    assert re.search(r'data-missing="not_done" title="' + REASON + r'">Not done</span>', trend)


def test_the_read_only_panel_shows_the_badge_and_the_reason(logged_in, client, monitor, patient):
    save_coded_ferritin(logged_in, patient)
    client.logout()
    assert client.login(username=monitor.username, password=PASSWORD)
    page = client.get(lab_url(patient, "D7")).content.decode()
    read_only = re.search(r'<div id="lab-read-only">(.*)', page, re.S).group(1)
    row = re.search(r'<tr data-analyte="FERRITIN">(.*?)</tr>', read_only, re.S).group(1)
    assert "Not done" in row and REASON in row


def test_the_trajectories_list_the_coded_values(logged_in, patient):
    save_coded_ferritin(logged_in, patient)
    page = logged_in.get(reverse("patient_trajectories", args=[patient.pk])).content.decode()
    coded = re.search(r'<ul [^>]*data-coded="FERRITIN">(.*?)</ul>', page, re.S).group(1)
    assert "Day 7" in coded and "Not done" in coded and REASON in coded


def test_in_chinese_the_code_is_named_in_chinese(logged_in, patient):
    save_coded_ferritin(logged_in, patient)
    page = logged_in.get(lab_url(patient, "D7"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    row = re.search(r'<tr data-analyte="FERRITIN">(.*?)</tr>', page, re.S).group(1)
    assert ">未做</span>" in row
    for label in ("未做", "不适用", "不详", "标本丢失"):
        assert f">{label}</option>" in row


def test_a_refused_code_opens_its_menu_with_the_error(logged_in, patient):
    response = logged_in.post(lab_url(patient, "D7"), {**payload(7), "m_FERRITIN": "not_done"})
    assert response.status_code == 200
    page = response.content.decode()
    row = re.search(r'<tr data-analyte="FERRITIN">(.*?)</tr>', page, re.S).group(1)
    assert "data-missing-menu open" in row
    assert "Ferritin: a missing-data code needs its reason." in row
    assert not LabResult.objects.exists()


def test_the_casebook_prints_the_code_with_its_reason(
    logged_in, patient, clinician, django_capture_on_commit_callbacks
):
    from exports.documents import document_html
    from tests.exports.test_documents import generate

    save_coded_ferritin(logged_in, patient)
    for language, label in (("en", "Not done"), ("zh-hans", "未做")):
        document = generate(
            django_capture_on_commit_callbacks, kind="casebook", user=clinician, patient=patient, language=language
        )
        html = document_html(document)
        assert re.search(r'<span class="missing-badge">' + label + r"</span>", html), language
        assert REASON in html


def test_the_history_of_a_coded_value_names_its_code_and_reason(logged_in, patient):
    result = save_coded_ferritin(logged_in, patient)
    page = logged_in.get(reverse("audit_record", args=["assessments.labresult", result.pk])).content.decode()
    assert "Not done" in page and REASON in page
