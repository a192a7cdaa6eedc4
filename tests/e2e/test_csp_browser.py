"""The Content-Security-Policy holds in a real browser: no page's script, style or image is refused,
and the scripts that left the templates for static files still work."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from assessments.models import AdverseEvent, Visit
from tests.conftest import PASSWORD, make_user
from tests.exports.conftest import build_patient
from trial.models import Role

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.e2e]

# Every securitypolicyviolation event of the page, collected before any of its own scripts run.
WATCH = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation', function (e) {"
    "  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '')"
    "    + ':' + (e.lineNumber || ''));"
    "});"
)

# Refused on purpose: ReDoc's footer logo from its CDN (a third-party host; the page works without it).
THIRD_PARTY = ("https://cdn.redoc.ly/",)


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def violations_on(page, url: str, console: list[str]) -> list[str]:
    console.clear()
    response = page.goto(url)
    assert response is not None and response.status < 400, f"{url}: {response and response.status}"
    assert "default-src 'self'" in (response.headers.get("content-security-policy") or ""), url
    page.wait_for_load_state("networkidle")
    return [line for line in [*console, *page.evaluate("window.__csp")] if not any(h in line for h in THIRD_PARTY)]


def test_no_page_breaks_the_policy_and_the_moved_scripts_work(live_server, browser, site_a, clinician):
    patient = build_patient(site_a, clinician, through_day=7)
    visit = Visit.objects.filter(patient=patient, planned_day=7).first()
    ae = AdverseEvent.objects.filter(patient=patient).first()
    data_manager = make_user("dm_a", Role.DATA_MANAGER, site_a)
    User.objects.create_superuser("root", "root@example.org", PASSWORD)
    base = live_server.url
    pk = patient.pk
    pages = {
        clinician.username: [
            reverse("home"),
            reverse("worklist"),
            reverse("subject_list"),
            reverse("patient_overview", args=[pk]),
            reverse("screening_create"),
            reverse("screening_detail", args=[patient.screening_id]),
            reverse("screening_edit", args=[patient.screening_id]),
            reverse("screening_log"),
            reverse("visit_calendar", args=[pk]),
            reverse("lab_panel_edit", args=[visit.pk]),
            reverse("supportive_care", args=[pk]),
            reverse("ae_list", args=[pk]),
            reverse("ae_create", args=[pk]),
            reverse("ae_edit", args=[ae.pk]),
            reverse("dose_log", args=[pk]),
            reverse("dose_record", args=[pk, 2, "am"]),
            reverse("treatment_summary", args=[pk]),
            reverse("follow_up_add", args=[pk]),
            reverse("patient_responses", args=[pk]),
            reverse("patient_trajectories", args=[pk]),
            reverse("study_report"),
            reverse("query_list"),
            reverse("study_matrix"),
            reverse("patient_queries", args=[pk]),
            reverse("patient_review", args=[pk]),
            reverse("patient_documents", args=[pk]),
            reverse("notification_list"),
            reverse("audit_patient", args=[pk]),
            reverse("api_docs"),
            reverse("api_redoc"),
            reverse("two_factor"),  # the QR code is inline SVG
        ],
        data_manager.username: [reverse("exports_home"), reverse("audit_study")],
        "root": ["/admin/", "/admin/trial/referencerange/", "/admin/trial/referencerange/add/", "/admin/auth/user/"],
    }
    found: dict[str, list[str]] = {}
    for username, urls in pages.items():
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.add_init_script(WATCH)
        page = context.new_page()
        page.set_default_timeout(20000)
        console: list[str] = []
        page.on("console", lambda m, seen=console: seen.append(m.text) if "Content Security Policy" in m.text else None)
        login = page.goto(f"{base}/login/")
        assert login is not None and "script-src 'self'" in login.headers["content-security-policy"]
        sign_in(page, base, username)
        for url in urls:
            refused = violations_on(page, base + url, console)
            if refused:
                found[url] = refused
        if username == clinician.username:
            _moved_scripts_work(page, base, pk)
        context.close()
    assert found == {}, "\n".join(f"{url}: {line}" for url, lines in found.items() for line in lines)


def _moved_scripts_work(page, base: str, pk: int) -> None:
    page.goto(f"{base}{reverse('dose_record', args=[pk, 2, 'am'])}")
    page.check('input[name="status"][value="missed"]')
    assert page.locator("#given-fields input").first.is_disabled()
    page.goto(f"{base}{reverse('follow_up_add', args=[pk])}")
    assert page.locator("#death-fields").is_hidden()
    page.check('input[name="vital_status"][value="dead"]')
    assert page.locator("#death-fields").is_visible()
    # The API documentation renders the signed-in user's schema under the policy.
    page.goto(f"{base}{reverse('api_docs')}")
    page.wait_for_selector(".opblock-summary-path >> text=/api/v1/patients/")
    page.goto(f"{base}{reverse('api_redoc')}")
    page.wait_for_selector("h1 >> text=RUX-HLH eCRF API")
