"""A monitor opens "PDF & exports", watches a casebook's progress bar fill and downloads it."""

import pytest

from exports.documents import document_render, patient_data_version
from exports.models import GeneratedDocument
from tests.conftest import PASSWORD, enroll_child

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.e2e]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_progress_bar_turns_into_a_download_link(live_server, page, screenshot, site_a, clinician, monitor):
    patient = enroll_child(site_a, clinician)
    # Queued but not yet rendered, as when the worker has not picked it up.
    document = GeneratedDocument.objects.create(
        kind="casebook", patient=patient, requested_by=monitor, data_version=patient_data_version(patient=patient)
    )
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", monitor.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.click("text=PDF & exports")
    page.wait_for_selector("#generate-casebook")
    row = page.locator(f"tr[data-document='{document.pk}']")
    assert "Queued" in row.inner_text()
    screenshot("exports-page-queued")
    document_render(document_id=document.pk)
    row.locator("a:has-text('Download PDF')").wait_for()
    assert row.locator(".progress-bar").inner_text().strip() == "100 %"
    page.wait_for_timeout(800)  # let the bar's width transition finish before the screenshot
    screenshot("exports-page")
    with page.expect_download() as download:
        row.locator("a:has-text('Download PDF')").click()
    assert download.value.suggested_filename.endswith(".pdf")


def test_background_render_shows_its_progress_then_the_download(
    live_server, page, screenshot, site_a, clinician, monitor, settings, monkeypatch
):
    """The embedded default's runner (crf.background): the click answers at once, the bar stands
    at an intermediate value while the render is held, then fills and offers the download."""
    from tests.exports.gate import RenderGate

    settings.TASKS_IN_BACKGROUND = True
    gate = RenderGate(monkeypatch)
    try:
        patient = enroll_child(site_a, clinician)
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", monitor.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{live_server.url}/patients/{patient.pk}/documents/")
        page.click("#generate-casebook")
        page.wait_for_url(f"**/patients/{patient.pk}/documents/?document=*")
        document = GeneratedDocument.objects.get(patient=patient, kind="casebook")
        row = page.locator(f"tr[data-document='{document.pk}']")
        gate.wait_started()
        # The poll brings the held render's 40 %: neither the empty bar nor the full one.
        page.wait_for_function(
            "id => document.querySelector(`tr[data-document='${id}'] .progress-bar`).textContent.trim() === '40 %'",
            arg=document.pk,
        )
        assert "Rendering" in row.locator(".status-label").inner_text()
        assert row.locator("a:has-text('Download PDF')").count() == 0
        screenshot("exports-page-background-rendering")
        gate.release.set()
        row.locator("a:has-text('Download PDF')").wait_for()
        assert row.locator(".progress-bar").inner_text().strip() == "100 %"
        with page.expect_download() as download:
            row.locator("a:has-text('Download PDF')").click()
        assert download.value.suggested_filename.endswith(".pdf")
    finally:
        gate.close()
