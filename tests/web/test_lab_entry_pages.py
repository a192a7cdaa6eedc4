"""Lab entry at the bedside: one sampling time per panel, one Tab per value, save and go to the next
visit, and the baseline (screening) values beside the previous ones and in the trajectory plots."""

import re
from datetime import datetime, time, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from assessments.models import LabResult, Visit
from assessments.report import marker_baselines, marker_trajectories
from tests.conftest import DAY0, PASSWORD, SCREENING_DAY
from trial.analytes import ANALYTES

pytestmark = pytest.mark.django_db

SITE_ZONE = ZoneInfo("Asia/Shanghai")  # site A's zone: the pages read the site's calendar


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def visit_of(patient, code):
    return Visit.objects.get(patient=patient, definition__code=code)


def payload(day: int, **values):
    data = {
        "visit_date": (DAY0 + timedelta(days=day)).isoformat(),
        "sampled_at": f"{(DAY0 + timedelta(days=day)).isoformat()}T08:30",
    }
    data.update({f"v_{k}" if k.isupper() else k: v for k, v in values.items()})
    return data


def at_site(day: int, hour: int = 12):
    return time_machine.travel(datetime.combine(DAY0 + timedelta(days=day), time(hour), tzinfo=SITE_ZONE), tick=False)


class TabStops(HTMLParser):
    """The names of the form's controls a Tab reaches, in page order (the browser's rule for a form
    without positive tabindex: focusable, not tabindex=-1, not hidden, not inside a closed <details>
    other than its <summary>)."""

    FOCUSABLE = {"input", "select", "textarea", "button", "a", "summary"}
    VOID = {"input", "br", "img", "hr", "meta", "link"}

    def __init__(self):
        super().__init__()
        self.stops: list[str] = []
        self.in_form = False
        self.stack: list[tuple[str, bool]] = []  # open elements: (tag, a closed <details>)

    def _closed_above(self) -> int:
        return sum(1 for _, closed in self.stack if closed)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "lab-form":
            self.in_form = True
        hidden = self._closed_above()
        # A closed <details> shows its own <summary> only.
        if tag == "summary" and self.stack and self.stack[-1][1]:
            hidden -= 1
        if tag not in self.VOID:
            self.stack.append((tag, tag == "details" and "open" not in a))
        if hidden or not self.in_form or tag not in self.FOCUSABLE or a.get("tabindex") == "-1":
            return
        if (tag == "input" and a.get("type") == "hidden") or (tag == "a" and "href" not in a):
            return
        self.stops.append(a.get("name") or a.get("id") or f"<{tag}>")

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


def tab_stops(page: str) -> list[str]:
    parser = TabStops()
    parser.feed(page)
    return parser.stops


def test_from_the_first_value_every_tab_stop_is_a_value_until_save(client, clinician, patient):
    page = login(client, clinician).get(reverse("lab_panel_edit", args=[visit_of(patient, "D7").pk])).content.decode()
    stops = tab_stops(page)
    first = stops.index("v_TEMP")
    values = stops[first : stops.index("save-labs")]
    non_values = [s for s in values if not s.startswith("v_")]
    # The rest are the panel's own findings (CNS, CSF, ... the infections) and the notes: values too.
    assert all(re.fullmatch(r"[a-z_]+", s) for s in non_values), non_values
    assert not [s for s in values if s.startswith(("sampled", "u_"))]
    # Temperature to hemoglobin is two Tabs (weight between), not eleven.
    assert values[:3] == ["v_TEMP", "v_WEIGHT", "v_HGB"]
    # Before the values: the visit's date and the panel's one sampling time.
    assert stops[:first][-2:] == ["visit_date", "sampled_at"]


def test_group_times_are_folded_and_unit_choices_are_out_of_the_tab_order(client, clinician, patient):
    page = login(client, clinician).get(reverse("lab_panel_edit", args=[visit_of(patient, "D7").pk])).content.decode()
    folded = re.findall(r"<details class=\"group-time mb-2\" data-group-time( open)?>", page)
    assert folded and not any(folded)  # every group's own time is folded on a new panel
    assert "Different time for this group" in page
    assert re.search(r'<select name="u_HGB"[^>]*tabindex="-1"', page)
    assert re.search(r'<input type="text" name="v_HGB"(?![^>]*tabindex)[^>]*data-lab-value', page)
    assert page.count('name="sampled_at"') == 1


def test_a_group_with_its_own_time_keeps_it_and_the_others_take_the_panel_time(client, clinician, patient):
    login(client, clinician)
    url = reverse("lab_panel_edit", args=[visit_of(patient, "D7").pk])
    data = payload(7, TEMP="38.1", HGB="95", FERRITIN="2400")
    data["sampled_bloodcount"] = f"{(DAY0 + timedelta(days=7)).isoformat()}T06:15"
    assert client.post(url, data).status_code == 302
    results = {r.analyte: r.sampled_at.astimezone(SITE_ZONE) for r in LabResult.objects.filter(patient=patient)}
    assert (results["HGB"].hour, results["HGB"].minute) == (6, 15)
    assert (results["TEMP"].hour, results["TEMP"].minute) == (8, 30) == (results["FERRITIN"].hour, 30)
    page = client.get(url).content.decode()
    blood = re.search(r'data-group="Blood count">(.*?)</fieldset>', page, re.S).group(1)
    assert "data-group-time open" in blood and 'value="2026-03-10 06:15"' in blood
    liver = re.search(r'data-group="Liver">(.*?)</fieldset>', page, re.S).group(1)
    assert "data-group-time open" not in liver


def test_save_and_next_goes_to_the_next_due_visit_and_says_so(client, clinician, patient):
    with at_site(6):  # day 6: Day 6 is due, and Day 7 (window day 6 to 8) too
        login(client, clinician)
        url = reverse("lab_panel_edit", args=[visit_of(patient, "D6").pk])
        response = client.post(url, {**payload(6, TEMP="38.0", PLAT="90"), "then": "next"})
        assert response.status_code == 302
        assert response["Location"] == reverse("lab_panel_edit", args=[visit_of(patient, "D7").pk])
        page = client.get(response["Location"]).content.decode()
    assert "Labs of Day 6 saved." in page
    assert "You are now on the labs of Day 7 (efficacy) (due)." in page


def test_save_and_next_without_a_due_visit_goes_to_the_next_planned_one(client, clinician, patient):
    with at_site(8):  # day 8: Day 7 is overdue (its window ends today), nothing else is open
        login(client, clinician)
        url = reverse("lab_panel_edit", args=[visit_of(patient, "D7").pk])
        response = client.post(url, {**payload(8, TEMP="37.2"), "then": "next"})
        assert response["Location"] == reverse("lab_panel_edit", args=[visit_of(patient, "D14").pk])
        page = client.get(response["Location"]).content.decode()
    planned = (DAY0 + timedelta(days=14)).isoformat()
    said = f"No other visit is due: you are now on the labs of the next visit, Day 14 (week 2) (planned {planned})."
    assert said in page


def test_plain_save_stays_on_the_panel(client, clinician, patient):
    with at_site(7):
        login(client, clinician)
        url = reverse("lab_panel_edit", args=[visit_of(patient, "D7").pk])
        assert client.post(url, payload(7, TEMP="37.2"))["Location"] == url


def test_save_shows_it_is_working_and_enter_moves_on_through_the_page_script(client, clinician, patient):
    page = login(client, clinician).get(reverse("lab_panel_edit", args=[visit_of(patient, "D7").pk])).content.decode()
    assert 'data-working-label="Saving…"' in page and "spinner-border" in page
    assert re.search(r'<script src="/static/js/lab_form\.js[^"]*" defer>', page)
    assert 'name="then" value="next" id="save-labs-next"' in page


def test_previous_values_end_with_the_baseline_from_the_screening_form(client, clinician, monitor, patient):
    login(client, clinician)
    d3, d7 = visit_of(patient, "D3"), visit_of(patient, "D7")
    saved = client.post(reverse("lab_panel_edit", args=[d3.pk]), payload(3, HGB="85", FERRITIN="2800"))
    assert saved.status_code == 302
    page = client.get(reverse("lab_panel_edit", args=[d7.pk])).content.decode()
    label = f"Baseline (screening, {SCREENING_DAY.isoformat()})"
    hgb = re.search(r'<tr data-analyte="HGB">.*?</tr>', page, re.S).group(0)
    trend = re.search(r'<td class="trend"[^>]*>(.*?)</td>', hgb, re.S).group(1)
    # Day 3's value first, then the screening value (hemoglobin 80 g/L on the screening form).
    assert re.search(r">85</span> ← <span class=\"baseline[^>]*data-baseline=\"HGB\"", trend)
    assert label in trend and re.search(r"</span> 80</span>", trend)
    # A value with no screening field (IL-6) has no baseline.
    il6 = re.search(r'<tr data-analyte="IL6">.*?</tr>', page, re.S).group(0)
    assert "data-baseline" not in il6
    # The read-only page of a monitor shows it too.
    assert client.post(reverse("lab_panel_edit", args=[d7.pk]), payload(7, HGB="100")).status_code == 302
    client.logout()
    login(client, monitor)
    read_only = client.get(reverse("lab_panel_edit", args=[d7.pk])).content.decode()
    assert 'data-baseline="HGB"' in read_only and label in read_only


def test_previous_values_of_a_panel_without_earlier_values_show_the_baseline_alone(client, clinician, patient):
    page = login(client, clinician).get(reverse("lab_panel_edit", args=[visit_of(patient, "D1").pk])).content.decode()
    ferritin = re.search(r'<tr data-analyte="FERRITIN">.*?</tr>', page, re.S).group(0)
    trend = re.search(r'<td class="trend"[^>]*>(.*?)</td>', ferritin, re.S).group(1)
    assert trend.startswith('<span class="baseline') and "3200" in trend and "←" not in trend


def test_trajectory_data_start_at_the_baseline_on_the_screening_day(client, clinician, patient):
    login(client, clinician)
    for code, day, value in (("D3", 3, "2800"), ("D7", 7, "900")):
        saved = client.post(reverse("lab_panel_edit", args=[visit_of(patient, code).pk]), payload(day, FERRITIN=value))
        assert saved.status_code == 302
    screening_day = (SCREENING_DAY - DAY0).days  # -1: screened the day before the first dose
    lines = marker_trajectories(site_ids={patient.site_id}, codes=("FERRITIN", "IL6"), patient_id=patient.pk)
    assert lines["FERRITIN"] == [[(screening_day, 3200.0), (3, 2800.0), (7, 900.0)]]
    assert lines["IL6"] == []  # no screening field, no values
    assert marker_baselines(site_ids={patient.site_id}, code="FERRITIN", patient_id=patient.pk) == [
        (screening_day, 3200.0, SCREENING_DAY)
    ]
    # The study report's data (every patient of the site) hold it too.
    study = marker_trajectories(site_ids={patient.site_id}, codes=("PLAT",))
    assert study["PLAT"] == [[(screening_day, float(patient.screening.platelets_10e9_l))]]
    plot = client.get(reverse("patient_trajectory_plot", args=[patient.pk, "FERRITIN"]))
    assert plot.status_code == 200 and plot["Content-Type"] == "image/png"


def test_every_screening_field_of_the_baseline_names_a_catalogued_analyte():
    from patients.models import Screening
    from trial.analytes import SCREENING_FIELDS

    fields = {f.name for f in Screening._meta.get_fields()}
    assert set(SCREENING_FIELDS) <= set(ANALYTES)
    assert set(SCREENING_FIELDS.values()) <= fields


def test_save_and_next_goes_to_the_suggested_adverse_events_first(client, clinician, patient):
    """Section 10: a lab value reaching a CTCAE grade is offered as an adverse event; the next form
    after saving it is that review, before the next visit."""
    from assessments.models import LabAESuggestion

    with at_site(7):
        login(client, clinician)
        url = reverse("lab_panel_edit", args=[visit_of(patient, "D7").pk])
        # Platelets 20 x 10^9/L: CTCAE v3.0 grade 4 (< 25), far below any child's range.
        response = client.post(url, {**payload(7, TEMP="37.2", PLAT="20"), "then": "next"})
        assert response.status_code == 302
        suggested = LabAESuggestion.objects.filter(patient=patient, status="pending").count()
        assert suggested >= 1
        assert response["Location"] == reverse("ae_list", args=[patient.pk]) + "#suggestions"
        page = client.get(response["Location"]).content.decode()
    assert "The values saved suggest" in page and "then go on to the next visit" in page
    assert "Suggested adverse event:" in page
