"""Every main page fits a phone and a tablet: no horizontal page scroll, the collapsed menu opens
on the user's name and Log out, and the visits table's "Not done" controls are not cut off."""

import pytest
from django.urls import reverse

from assessments.models import Visit
from tests.conftest import PASSWORD
from tests.exports.conftest import build_patient

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.e2e]

WIDTHS = (375, 768)


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def page_overflow(page) -> int:
    """How many CSS pixels the document is wider than the window (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def fully_visible(page, selector: str) -> bool:
    """The element's box lies inside the window and inside every ancestor that clips it."""
    return page.locator(selector).first.evaluate(
        """(el) => {
            const box = el.getBoundingClientRect();
            if (box.width === 0 || box.left < 0 || box.right > window.innerWidth) return false;
            for (let p = el.parentElement; p; p = p.parentElement) {
                const style = getComputedStyle(p);
                if (style.overflowX === 'visible') continue;
                const clip = p.getBoundingClientRect();
                if (box.left < clip.left - 0.5 || box.right > clip.right + 0.5) return false;
            }
            return true;
        }"""
    )


def test_main_pages_fit_phone_and_tablet_for_every_role(
    live_server, browser, site_a, clinician, coordinator, monitor, data_manager
):
    patient = build_patient(site_a, clinician, through_day=7)
    visit = Visit.objects.filter(patient=patient, planned_day=7).first()
    pk = patient.pk
    urls = [
        reverse("subject_list"),
        reverse("patient_overview", args=[pk]),
        reverse("visit_calendar", args=[pk]),
        reverse("lab_panel_edit", args=[visit.pk]),
        reverse("supportive_care", args=[pk]),
        reverse("ae_list", args=[pk]),
        reverse("patient_responses", args=[pk]),
        reverse("query_list"),
        reverse("worklist"),
        reverse("study_report"),
        reverse("screening_log"),
    ]
    base = live_server.url
    too_wide: list[str] = []
    unreachable: list[str] = []
    for user in (clinician, coordinator, monitor, data_manager):
        for width in WIDTHS:
            context = browser.new_context(viewport={"width": width, "height": 800})
            page = context.new_page()
            page.set_default_timeout(20000)
            sign_in(page, base, user.username)
            for url in urls:
                response = page.goto(base + url)
                assert response is not None and response.status == 200, f"{user.username} {url}: {response.status}"
                page.wait_for_load_state("networkidle")
                if (over := page_overflow(page)) > 0:
                    too_wide.append(f"{user.username} {width}px {url}: {over}px too wide")
            # The menu is collapsed behind the toggler; opened, it shows who is signed in and Log out.
            page.goto(base + urls[1])
            logout = page.locator("#logout-button")
            if logout.is_visible():
                unreachable.append(f"{user.username} {width}px: the menu is not collapsed")
            page.click("#nav-toggler")
            logout.wait_for(state="visible")
            if not (fully_visible(page, "#logout-button") and fully_visible(page, "#user-name")):
                unreachable.append(f"{user.username} {width}px: Log out or the user's name is off-screen")
            if user.first_name not in page.inner_text("#user-name"):
                unreachable.append(f"{user.username} {width}px: the user's name is not in the menu")
            context.close()
    assert too_wide == [] and unreachable == [], "\n".join(too_wide + unreachable)


@pytest.mark.parametrize("width", [375, 768, 1366])
def test_visit_not_done_controls_are_fully_visible_and_the_badge_is_coloured(
    live_server, page, screenshot, site_a, clinician, width
):
    patient = build_patient(site_a, clinician, through_day=7, doses=False)
    base = live_server.url
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, base, clinician.username)
    page.goto(base + reverse("visit_calendar", args=[patient.pk]))
    # Day 14 has passed without labs (day 0 lies weeks back): it is missed and may be recorded not done.
    row = '#visit-table tr[data-visit="D14"]'
    assert page_overflow(page) <= 0
    assert fully_visible(page, f"{row} input[name=not_done_reason]")
    assert fully_visible(page, f"{row} .not-done-form button")
    screenshot(f"visits-{width}")
    page.fill(f"{row} input[name=not_done_reason]", "Family travelling")
    page.click(f"{row} .not-done-form button")
    page.wait_for_load_state("networkidle")
    badge = page.locator(f"{row} .badge")
    assert badge.inner_text() == "Not done"
    # A white label needs a background of its own: the status class must paint one.
    assert badge.evaluate("el => getComputedStyle(el).backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")


@pytest.mark.parametrize("width", [1200, 1366])
def test_expanded_menu_keeps_log_out_on_screen_with_a_long_name(live_server, page, data_manager, width):
    data_manager.first_name, data_manager.last_name = "Maria-Fernanda Alexandrina", "Wolfeschlegelsteinhausen"
    data_manager.save()
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, live_server.url, data_manager.username)
    page.goto(live_server.url + reverse("subject_list"))
    # Wide enough for the expanded bar: no menu button, every link and Log out in view.
    assert page.locator("#nav-toggler").is_hidden()
    assert page_overflow(page) <= 0
    assert fully_visible(page, "#logout-button")
    assert page.locator("#user-name").get_attribute("title").startswith("Maria-Fernanda Alexandrina")


@pytest.mark.parametrize("width", [375, 768])
def test_the_lab_grid_shows_every_column_of_a_value_without_scrolling_sideways(
    live_server, page, screenshot, site_a, clinician, width
):
    patient = build_patient(site_a, clinician, through_day=7, doses=False)
    day7 = Visit.objects.filter(patient=patient, planned_day=7).first()
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server.url, clinician.username)
    page.goto(live_server.url + reverse("lab_panel_edit", args=[day7.pk]))
    assert page_overflow(page) <= 0
    row = 'tr[data-analyte="FERRITIN"]'
    # The value, its unit, reference, saved value and previous values are all on screen, none
    # hidden behind the table's own horizontal scroll.
    for part in ("td.lab-input input", "td.lab-unit", "td.lab-reference", "td.lab-saved", "td.trend"):
        assert fully_visible(page, f"{row} {part}"), f"{width}px: {part} is cut off"
    # The previous values are named where the column heading is not above them.
    assert page.locator(f"{row} td.trend").evaluate("el => getComputedStyle(el, '::before').content").strip('"')
    # An opened missing-data menu stays inside the page.
    page.locator(f"{row} .missing-trigger").click()
    assert fully_visible(page, f"{row} .missing-fields select")
    assert page_overflow(page) <= 0
    screenshot(f"lab-grid-{width}")


@pytest.mark.parametrize("width", [375, 768])
def test_the_audit_trail_and_security_log_show_every_cell_without_scrolling_sideways(
    live_server, page, screenshot, site_a, clinician, monitor, width
):
    patient = build_patient(site_a, clinician, through_day=7, doses=False)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server.url, monitor.username)
    for name, url, table in (
        ("patient-trail", reverse("audit_patient", args=[patient.pk]), "table.audit-trail"),
        ("study-trail", reverse("audit_study"), "table.audit-trail"),
        ("security-log", reverse("audit_security"), "#security-log"),
    ):
        page.goto(live_server.url + url)
        assert page_overflow(page) <= 0, f"{width}px {name}: the page scrolls sideways"
        # Every cell of the first entry is on screen, none behind the table's own sideways scroll:
        # at a phone's width each entry is a block of labelled lines.
        cells = page.locator(f"{table} tbody tr").first.locator("td")
        for i in range(cells.count()):
            cell = cells.nth(i)
            if cell.evaluate("el => el.textContent.trim() === ''"):
                continue
            box = cell.evaluate(
                """(el) => { const b = el.getBoundingClientRect();
                   const clip = el.closest('.table-responsive').getBoundingClientRect();
                   return b.width > 0 && b.left >= clip.left - 0.5 && b.right <= clip.right + 0.5; }"""
            )
            assert box, f"{width}px {name}: cell {i + 1} of the first entry is cut off"
        if width == 375:
            label = cells.nth(1).evaluate("el => getComputedStyle(el, '::before').content")
            assert label.strip('"').endswith(": "), f"{name}: a stacked cell is not named"
        screenshot(f"{name}-{width}")
