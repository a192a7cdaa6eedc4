"""Lab entry pages: flags shown, limits named, nothing lost, concurrent edits refused, roles."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from assessments.models import LabPanel, LabResult, Visit
from tests.conftest import DAY0, PASSWORD

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def day7(patient):
    return Visit.objects.get(patient=patient, definition__code="D7")


def payload(**values):
    data = {
        "visit_date": (DAY0 + timedelta(days=7)).isoformat(),
        "sampled_at": f"{(DAY0 + timedelta(days=7)).isoformat()}T08:30",
        "u_HGB": "g/L",
        "u_CREAT": "µmol/L",
        "u_BILI": "µmol/L",
        "u_BILIND": "µmol/L",
        "u_BILDIR": "µmol/L",
        "u_SCD25": "pg/mL",
    }
    data.update({f"v_{k}" if k.isupper() else k: v for k, v in values.items()})
    return data


def test_clinician_records_day7_labs_and_sees_flags(client, clinician, patient):
    login(client, clinician)
    url = reverse("lab_panel_edit", args=[day7(patient).pk])
    response = client.post(url, payload(TEMP="38.9", FERRITIN="2400", PLAT="160", ALT="250"))
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "Flagged: Ferritin 2400 µg/L (high), ALT 250 U/L (high)" in page
    assert 'data-flag="H"' in page
    assert LabResult.objects.filter(patient=patient).count() == 4


def test_saved_round_values_are_shown_as_entered(client, clinician, patient):
    """70 is stored as 70.0000; the form shows 70, never 7E+1."""
    login(client, clinician)
    url = reverse("lab_panel_edit", args=[day7(patient).pk])
    assert client.post(url, payload(PLAT="70", FERRITIN="2400", TEMP="37.5")).status_code == 302
    page = client.get(url).content.decode()
    assert 'name="v_PLAT" value="70"' in page and 'name="v_FERRITIN" value="2400"' in page
    assert 'name="v_TEMP" value="37.5"' in page
    assert "E+" not in page


def test_impossible_value_is_named_and_nothing_is_lost(client, clinician, patient):
    login(client, clinician)
    url = reverse("lab_panel_edit", args=[day7(patient).pk])
    response = client.post(url, payload(TEMP="60", FERRITIN="2400"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Maximum temperature must be at most 45 °C (entered 60)" in page
    assert 'value="2400"' in page  # what the user typed is still in the form
    assert not LabPanel.objects.exists()


def test_edit_needs_reason_and_concurrent_edit_is_refused(client, clinician, coordinator, patient):
    login(client, clinician)
    url = reverse("lab_panel_edit", args=[day7(patient).pk])
    client.post(url, payload(FERRITIN="2400"))
    response = client.post(url, payload(FERRITIN="2300", version="1"))
    assert "A reason is required to change saved lab data." in response.content.decode()
    other = client.__class__()
    login(other, coordinator)
    assert other.post(url, payload(FERRITIN="2300", version="1", reason_for_change="Re-read report")).status_code == 302
    response = client.post(url, payload(FERRITIN="2200", version="1", reason_for_change="My correction"))
    assert response.status_code == 409
    assert "your changes were not saved" in response.content.decode()
    assert LabResult.objects.get(analyte="FERRITIN").value == 2300


def test_monitor_can_view_but_not_save_labs(client, monitor, clinician, patient):
    login(client, clinician)
    url = reverse("lab_panel_edit", args=[day7(patient).pk])
    client.post(url, payload(FERRITIN="2400"))
    client.logout()
    login(client, monitor)
    assert client.get(url).status_code == 200
    assert client.post(url, payload(FERRITIN="100", version="1", reason_for_change="x")).status_code == 403
    assert LabResult.objects.get(analyte="FERRITIN").value == 2400


def read_only_section(page: str) -> str:
    start = page.index('id="lab-read-only"')
    return page[start : page.index("Back to visits", start)]


def test_monitor_sees_the_saved_lab_values_as_text_not_inputs(client, monitor, clinician, patient):
    login(client, clinician)
    url = reverse("lab_panel_edit", args=[day7(patient).pk])
    assert client.post(url, payload(FERRITIN="2400", PLAT="70", cns_symptoms="False")).status_code == 302
    client.logout()
    page = login(client, monitor).get(url).content.decode()
    assert 'id="lab-form"' not in page and 'id="save-labs"' not in page
    values = read_only_section(page)
    for control in ("<input", "<select", "<textarea", "<button"):
        assert control not in values, control
    ferritin = re.search(r'<tr data-analyte="FERRITIN">.*?</tr>', values, re.S).group(0)
    assert "2400 µg/L" in ferritin and "▲ high" in ferritin
    assert "70 10^9/L" in values
    assert re.search(r'data-field="cns_symptoms">No<', values)
    assert re.search(r'<tr data-analyte="HGB">.*?not entered', values, re.S)  # beside the platelets
    liver = re.search(r'data-group="Liver">(.*?)</section>', values, re.S).group(1)
    assert "Nothing entered in this group." in liver and "data-analyte" not in liver


def test_monitor_on_a_visit_without_labs_is_told_so_without_a_form(client, monitor, patient):
    page = login(client, monitor).get(reverse("lab_panel_edit", args=[day7(patient).pk])).content.decode()
    assert 'id="lab-none"' in page and 'id="lab-form"' not in page and 'name="v_' not in page


def test_clinician_still_gets_the_form(client, clinician, patient):
    page = login(client, clinician).get(reverse("lab_panel_edit", args=[day7(patient).pk])).content.decode()
    assert 'id="lab-form"' in page and 'name="v_FERRITIN"' in page and 'id="lab-read-only"' not in page


def test_other_site_gets_404_on_visit_labs_and_calendar(client, clinician_b, patient):
    login(client, clinician_b)
    assert client.get(reverse("lab_panel_edit", args=[day7(patient).pk])).status_code == 404
    assert client.get(reverse("visit_calendar", args=[patient.pk])).status_code == 404


def test_calendar_shows_statuses_and_worklist_lists_due_visits(client, clinician, patient):
    today = DAY0 + timedelta(days=7)
    # Noon of that day at the site (Asia/Shanghai): the pages read the site's calendar.
    with time_machine.travel(datetime.combine(today, time(12, 0), tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        login(client, clinician)
        page = client.get(reverse("visit_calendar", args=[patient.pk])).content.decode()
        assert 'class="badge status-missed"' in page  # day 1-5 windows have closed
        assert 'class="badge status-due"' in page  # day 7 window is open
        work = client.get(reverse("worklist")).content.decode()
        assert patient.subject_number in work and "Day 7 (efficacy)" in work
        assert "Ferritin" in work  # what is still missing from it


def test_unscheduled_visit_added_from_the_calendar(client, clinician, patient):
    login(client, clinician)
    response = client.post(
        reverse("visit_unscheduled_add", args=[patient.pk]),
        {"visit_date": (DAY0 + timedelta(days=4)).isoformat(), "reason": "New fever"},
    )
    visit = Visit.objects.get(patient=patient, unscheduled=True)
    assert response["Location"] == reverse("lab_panel_edit", args=[visit.pk])
    response = client.post(
        reverse("visit_unscheduled_add", args=[patient.pk]), {"visit_date": "2020-01-01", "reason": "x"}, follow=True
    )
    assert "cannot be before enrollment" in response.content.decode()


def test_supportive_care_product_error_is_on_the_product_field(client, clinician, patient):
    from assessments.models import SupportiveCare

    login(client, clinician)
    url = reverse("supportive_care", args=[patient.pk])
    page = client.post(url, {"kind": "transfusion", "product": "", "given_on": DAY0.isoformat(), "detail": ""})
    assert page.status_code == 200
    assert page.context["form"].errors == {"product": ["Choose the transfused product."]}
    assert not SupportiveCare.objects.exists()


def test_lab_panel_saves_when_the_data_cutoff_is_before_the_first_dose(
    client, clinician, patient, trial, django_capture_on_commit_callbacks
):
    # An interim cutoff while enrollment goes on (protocol 11: "the data cutoff date (a study
    # setting)"): the patient is outside that analysis, never an error.
    from assessments.models import PatientEndpoints

    trial.data_cutoff_date = DAY0 - timedelta(days=30)
    trial.save()
    login(client, clinician)
    url = reverse("lab_panel_edit", args=[day7(patient).pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, payload(TEMP="38.9", FERRITIN="2400"))
    assert response.status_code == 302
    assert client.get(url).status_code == 200
    endpoints = PatientEndpoints.objects.get(patient=patient)
    assert endpoints.efs_days is None and "outside this analysis" in endpoints.detail["outside_analysis"]


def test_the_lab_page_shows_each_ranges_source_beside_it(client, clinician, patient):
    # The four-year-old's blood count is judged by its age band, whose citation is shown.
    login(client, clinician)
    url = reverse("lab_panel_edit", args=[day7(patient).pk])
    page = client.get(url).content.decode()
    row = re.search(r'<tr data-analyte="HGB">.*?</tr>', page, re.S).group(0)
    assert "≥ 110" not in row and "115–135 g/L" in row
    assert 'class="range-source"' in row and "Dallman PR" in row
    assert client.post(url, payload(HGB="105", TRIG="2.0")).status_code == 302
    page = client.get(url).content.decode()
    trig = re.search(r'<tr data-analyte="TRIG">.*?</tr>', page, re.S).group(0)
    assert "≤ 1.7 mmol/L" in trig and "RUX-HLH protocol section 8 default (all ages)" in trig
    hb = re.search(r'<tr data-analyte="HGB">.*?</tr>', page, re.S).group(0)
    assert 'data-flag="L"' in hb and "Dallman PR" in hb
