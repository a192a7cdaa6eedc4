"""A clinician enters a day's labs on a tablet (768 px): one Tab per value, Enter moves on, and
Save shows that it is working before the page answers."""

import json

import pytest

from assessments.models import LabResult, Visit
from tests.conftest import PASSWORD, enroll_child

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.e2e]

# The paper form's order from temperature on (protocol section 8): vital signs, blood count, HLH markers.
FROM_TEMPERATURE = [
    "v_TEMP",
    "v_WEIGHT",
    "v_HGB",
    "v_WBC",
    "v_NEUT",
    "v_PLAT",
    "v_TRIG",
    "v_FIBRINO",
    "v_FERRITIN",
    "v_SCD25",
    "v_NKACT",
    "v_CD107A",
    "v_IFNG",
]


@pytest.fixture
def tablet(browser):
    context = browser.new_context(viewport={"width": 768, "height": 1024})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def focused_name(page) -> str:
    return page.evaluate("document.activeElement && (document.activeElement.name || document.activeElement.id)")


def test_tab_goes_value_to_value_enter_moves_on_and_save_shows_it_is_working(live_server, tablet, site_a, clinician):
    page = tablet
    patient = enroll_child(site_a, clinician)
    day7 = Visit.objects.get(patient=patient, definition__code="D7")
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", clinician.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/visits/{day7.pk}/labs/")

    page.focus('[name="v_TEMP"]')
    for expected in FROM_TEMPERATURE[1:]:
        page.keyboard.press("Tab")
        assert focused_name(page) == expected

    # Enter in a value goes to the next value; nothing is sent.
    page.focus('[name="v_PLAT"]')
    page.keyboard.type("150")
    page.keyboard.press("Enter")
    assert focused_name(page) == "v_TRIG"
    page.keyboard.type("2.1")
    page.keyboard.press("Enter")
    assert focused_name(page) == "v_FIBRINO"
    assert not LabResult.objects.exists() and page.locator(".alert-success").count() == 0

    # What the buttons show once Save is pressed, read in the page at that moment (before any answer:
    # the listener runs on the submit event, after the page's own), kept over the navigation.
    page.evaluate(
        """() => window.addEventListener('submit', (event) => {
            if (window.seen) return;
            window.seen = true;
            const next = document.getElementById('save-labs-next');
            const again = new Event('submit', {cancelable: true});  // a double tap
            event.target.dispatchEvent(again);
            sessionStorage.setItem('labSave', JSON.stringify({
                disabled: [next.disabled, document.getElementById('save-labs').disabled],
                text: next.textContent.trim(),
                spinner: getComputedStyle(next.querySelector('.spinner-border')).display !== 'none',
                second_refused: again.defaultPrevented,
            }));
        })"""
    )
    posts = []
    page.on("request", lambda request: posts.append(request.post_data) if request.method == "POST" else None)
    page.click("#save-labs-next")

    # No visit of this patient is due or planned any more (the schedule lies in the past).
    page.wait_for_url(f"**/patients/{patient.pk}/visits/")
    state = json.loads(page.evaluate("sessionStorage.getItem('labSave')"))
    assert state == {"disabled": [True, True], "text": "Saving…", "spinner": True, "second_refused": True}
    assert len(posts) == 1 and "then=next" in posts[0]  # sent once, with the button's choice
    assert "No other visit is due or planned" in page.inner_text(".alert-info")
    saved = dict(LabResult.objects.filter(panel__visit=day7).values_list("analyte", "value"))
    assert {code: float(v) for code, v in saved.items()} == {"PLAT": 150.0, "TRIG": 2.1}
