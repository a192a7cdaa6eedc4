"""PDF CRFs and casebooks: content on every page, reuse on unchanged data, an idempotent task."""

import re
import subprocess
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from pypdf import PdfReader

from assessments.models import LabPanel
from assessments.services.labs import Measurement, lab_panel_save
from exports.documents import document_render, document_request, patient_data_version
from exports.models import GeneratedDocument
from exports.tasks import render_document
from tests.conftest import DAY0
from tests.exports.conftest import SHANGHAI, build_patient
from tests.services.test_report import cohort  # noqa: F401 - the fixture
from trial.analytes import ANALYTES
from trial.models import VisitDefinition

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def generate(django_capture_on_commit_callbacks, **kwargs) -> GeneratedDocument:
    with django_capture_on_commit_callbacks(execute=True):
        document = document_request(**kwargs)
    document.refresh_from_db()
    return document


def pages_text(document: GeneratedDocument) -> list[str]:
    reader = PdfReader(Path(settings.MEDIA_ROOT) / document.file_path)
    return [page.extract_text() for page in reader.pages]


def assert_headers(texts: list[str], subject: str) -> None:
    total = len(texts)
    for number, text in enumerate(texts, start=1):
        assert "ChiCTR2000029977 v1.0" in text, f"page {number}"
        assert f"Subject {subject}" in text, f"page {number}"
        assert f"Page {number} of {total}" in text, f"page {number}"
        assert "DRAFT - not locked" in text, f"page {number}"
        assert "Site BCH Beijing Children's Hospital" in text
        assert re.search(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC / .* site time by Clin_A", text), f"page {number}"


def test_casebook_of_a_60_day_patient_carries_every_form_and_the_header_on_every_page(
    site_a, clinician, monitor, django_capture_on_commit_callbacks
):
    patient = build_patient(site_a, clinician, through_day=60)
    document = generate(django_capture_on_commit_callbacks, kind="casebook", user=clinician, patient=patient)
    assert (document.status, document.progress) == ("done", 100)
    assert len(document.sha256) == 64 and document.data_version == patient_data_version(patient=patient)
    texts = pages_text(document)
    assert len(texts) >= 10
    assert_headers(texts, patient.subject_number)
    everything = "\n".join(texts)
    for expected in (
        "Screening and eligibility",
        patient.screening.screening_number,
        "Consent signed on",
        "Eligibility criteria",
        "Visit CRF: Day 14 (week 2)",
        "FERRITIN",
        "µg/L",
        "Study drug: dose log",
        "Febrile neutropenia",
        "(IN102)",
        "Response assessments",
        "Complete response",
        "Completed 28 days",
        "Follow-up",
        "Data queries",
        "发热",
    ):
        assert expected in everything, expected
    # Every visit with labs has its values with unit and flag.
    day7 = next(t for t in texts if "Visit CRF: Day 7 (efficacy)" in t)
    assert re.search(r"PLAT\s*Platelets\s*210\s*10\^9/L\s*N", day7)
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(  # noqa: S603
        [
            "/usr/bin/pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            str(Path(settings.MEDIA_ROOT) / document.file_path),
            str(ARTIFACTS / "casebook-page1"),
        ],
        check=True,
    )


def test_visit_crf_has_its_values_and_header(site_a, clinician, django_capture_on_commit_callbacks):
    patient = build_patient(site_a, clinician, through_day=7, doses=False)
    visit = patient.visits.get(definition__code="D7")
    document = generate(django_capture_on_commit_callbacks, kind="visit_crf", user=clinician, visit=visit)
    texts = pages_text(document)
    assert_headers(texts, patient.subject_number)
    assert "Visit CRF: Day 7 (efficacy)" in texts[0] and "FERRITIN" in texts[0] and "320" in texts[0]
    assert "Day 14" not in "".join(texts)


def test_same_request_on_unchanged_data_returns_the_stored_document(
    site_a, clinician, monitor, django_capture_on_commit_callbacks
):
    patient = build_patient(site_a, clinician, through_day=3, doses=False)
    first = generate(django_capture_on_commit_callbacks, kind="casebook", user=clinician, patient=patient)
    again = generate(django_capture_on_commit_callbacks, kind="casebook", user=monitor, patient=patient)
    assert again.pk == first.pk and again.sha256 == first.sha256
    # A change to the data makes a new version.
    from tests.exports.conftest import record_labs

    record_labs(patient, patient.visits.get(definition__code="D7"), clinician)
    changed = generate(django_capture_on_commit_callbacks, kind="casebook", user=monitor, patient=patient)
    assert changed.pk != first.pk and changed.data_version != first.data_version and changed.status == "done"


def test_task_is_idempotent_and_leaves_no_partial_file(site_a, clinician):
    patient = build_patient(site_a, clinician, through_day=3, doses=False)
    document = document_request(kind="casebook", user=clinician, patient=patient)  # on_commit not run
    assert document.status == "queued"
    assert render_document.apply(args=[document.pk]).get() == "done"
    document.refresh_from_db()
    path, checksum, finished = document.file_path, document.sha256, document.finished_at
    assert render_document.apply(args=[document.pk]).get() == "done"
    document.refresh_from_db()
    assert (document.file_path, document.sha256, document.finished_at) == (path, checksum, finished)
    folder = Path(settings.MEDIA_ROOT) / "exports"
    assert [p.name for p in folder.iterdir()] == [Path(path).name]


def test_a_crash_mid_render_leaves_no_file_and_the_task_runs_again(site_a, clinician, monkeypatch):
    patient = build_patient(site_a, clinician, through_day=3, doses=False)
    document = document_request(kind="casebook", user=clinician, patient=patient)

    def boom(self, *args, **kwargs):
        raise RuntimeError("worker died")

    monkeypatch.setattr("weasyprint.HTML.write_pdf", boom)
    with pytest.raises(RuntimeError):
        document_render(document_id=document.pk)
    folder = Path(settings.MEDIA_ROOT) / "exports"
    assert not folder.exists() or not any(folder.iterdir())
    monkeypatch.undo()
    assert document_render(document_id=document.pk).status == "done"


def test_blank_book_lists_every_visit(clinician, django_capture_on_commit_callbacks):
    document = generate(django_capture_on_commit_callbacks, kind="blank_book", user=clinician)
    texts = pages_text(document)
    assert all("DRAFT - not locked" in t and f"of {len(texts)}" in t for t in texts)
    assert "Visit CRF: Follow-up day 182" in "".join(texts)
    # One page per visit of the schedule, each with every section 8 variable in two columns.
    visit_pages = {t.split("Visit CRF: ", 1)[1].split("\n", 1)[0].strip(): t for t in texts if "Visit CRF: " in t}
    assert len(visit_pages) == VisitDefinition.objects.count() == 17
    assert len(texts) == len(visit_pages) + sum(1 for t in texts if "Visit CRF: " not in t)
    for text in visit_pages.values():
        assert all(code in text for code in ANALYTES), text
    # The groups each visit expects are marked: day 1 the vital signs and blood count (section 8
    # daily labs), day 3 also the HLH markers the response assessment reads (section 9).
    day1, day3 = visit_pages["Day 1"], visit_pages["Day 3 (efficacy)"]
    assert "● Vital signs" in day1 and "● Blood count" in day1 and "● HLH markers" not in day1
    assert "● HLH markers" in day3 and "● Cytokines" not in day3


def test_locking_the_patient_makes_a_new_pdf_without_the_draft_mark(
    site_a, clinician, django_capture_on_commit_callbacks
):
    from review.services import lock_set
    from tests.conftest import make_user
    from trial.models import Role

    patient = build_patient(site_a, clinician, through_day=7, doses=False)
    visit = patient.visits.get(definition__code="D7")
    draft = generate(django_capture_on_commit_callbacks, kind="visit_crf", user=clinician, visit=visit)
    assert all("DRAFT - not locked" in text for text in pages_text(draft))
    manager = make_user("dm_lock", Role.DATA_MANAGER, site_a)
    lock_set(trial=site_a.trial, scope="patient", level="lock", user=manager, reason="Database lock", patient=patient)
    final = generate(django_capture_on_commit_callbacks, kind="visit_crf", user=clinician, visit=visit)
    assert final.pk != draft.pk
    assert not any("DRAFT" in text for text in pages_text(final))


def test_casebook_prints_signatures_verifications_and_the_audit_trail(
    site_a, clinician, monitor, django_capture_on_commit_callbacks
):
    from review.services import sdv_mark, signature_sign
    from tests.conftest import PASSWORD

    patient = build_patient(site_a, clinician, through_day=7, doses=False)
    panel = LabPanel.objects.get(visit__patient=patient, visit__definition__code="D7")
    sdv_mark(record=panel, user=monitor)
    signature_sign(patient=patient, user=clinician, password=PASSWORD)
    signed = generate(django_capture_on_commit_callbacks, kind="casebook", user=clinician, patient=patient)
    text = "\n".join(pages_text(signed))
    assert "Review: signatures, source data verification, locks" in text
    assert "Valid" in text and "BROKEN" not in text
    assert "Cleared: changed after verification" not in text
    assert re.search(r"Labs? ?panel.*Day 7", text.replace("\n", " "), re.IGNORECASE)
    assert "Audit trail" in text and "Lab value entered" in text

    # A correction with a reason clears the verification, breaks the signature and joins the trail.
    when = datetime.combine(DAY0 + timedelta(days=7), time(8), tzinfo=SHANGHAI)
    lab_panel_save(
        visit=panel.visit,
        sampled_at=when,
        values={"PLAT": Measurement(Decimal("190"), "10^9/L", when)},
        panel_data={},
        user=clinician,
        expected_version=panel.version,
        reason_for_change="Transcription error on the lab sheet",
    )
    changed = generate(django_capture_on_commit_callbacks, kind="casebook", user=clinician, patient=patient)
    assert changed.pk != signed.pk
    text = "\n".join(pages_text(changed)).replace("\n", " ")
    assert "BROKEN: data changed after signing" in text
    assert "Cleared: changed after verification" in text
    assert "Transcription error on the lab sheet" in text
    assert re.search(r"210(\.0+)? → 190", text)


def test_study_report_pdf_has_the_report_tables_and_figures(
    client,
    clinician,
    clinician_b,
    cohort,  # noqa: F811 - the fixture
    django_capture_on_commit_callbacks,
):
    from django.urls import reverse

    from tests.conftest import PASSWORD

    assert client.login(username=clinician.username, password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("study_report_generate"))
    document = GeneratedDocument.objects.get(kind="study_report")
    assert response.status_code == 302 and response["Location"].endswith(f"?document={document.pk}")
    document.refresh_from_db()
    assert document.status == "done"
    reader = PdfReader(Path(settings.MEDIA_ROOT) / document.file_path)
    texts = [page.extract_text() for page in reader.pages]
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text and "DRAFT - not locked" in text
        assert "Subject all patients" in text
    everything = "\n".join(texts)
    for expected in (
        "Study report (protocol section 11)",
        "Table 1. Baseline characteristics",
        "Table 2. Response outcomes",
        "Table 3. Best overall response",
        "1 (50.0 %; 1.3–98.7)",  # CR 1 of 2 with its exact interval, as on the page
        "Figure 1. Event-free survival",
        "Table 4. Week-1 change",
        "Table 5. Adverse events",
        "Figure 2. HLH markers",
        *(p.subject_number for p in cohort),
    ):
        assert expected in everything, expected
    # The Kaplan-Meier curve and nine marker plots, real raster images (the pages share them).
    images = {image.name: image for page in reader.pages for image in page.images}
    assert len(images) == 10
    assert all(image.image.size[0] >= 400 for image in images.values())
    # The same request on unchanged data returns the stored file; another user's is not theirs.
    assert client.post(reverse("study_report_generate"))["Location"].endswith(f"?document={document.pk}")
    client.logout()
    assert client.login(username=clinician_b.username, password=PASSWORD)
    assert client.get(reverse("document_download", args=[document.pk])).status_code == 404


@pytest.mark.parametrize(
    ("form", "present", "absent"),
    [
        ("doses", ["Study drug: dose log", "G-CSF and transfusions"], ["Adverse events", "Visit CRF", "Audit trail"]),
        ("adverse_events", ["Adverse events", "Febrile neutropenia"], ["Study drug: dose log", "Eligibility criteria"]),
        ("eligibility", ["Eligibility criteria", "HLH-2004"], ["Visit CRF", "Adverse events"]),
    ],
)
def test_one_form_prints_alone_with_the_header(
    client, site_a, clinician, django_capture_on_commit_callbacks, form, present, absent
):
    from django.urls import reverse

    from tests.conftest import PASSWORD

    patient = build_patient(site_a, clinician, through_day=7)
    assert client.login(username=clinician.username, password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("document_generate", args=[patient.pk]), {"kind": "form_crf", "form": form})
    assert response.status_code == 302
    document = GeneratedDocument.objects.get(kind="form_crf", form=form)
    document.refresh_from_db()
    texts = pages_text(document)
    assert_headers(texts, patient.subject_number)
    everything = "\n".join(texts)
    assert all(text in everything for text in present), present
    assert not any(text in everything for text in absent), absent
    assert "Investigator signature" in everything


def test_an_unknown_form_is_a_404(client, site_a, clinician):
    from django.urls import reverse

    from tests.conftest import PASSWORD, enroll_child

    patient = enroll_child(site_a, clinician)
    assert client.login(username=clinician.username, password=PASSWORD)
    response = client.post(reverse("document_generate", args=[patient.pk]), {"kind": "form_crf", "form": "nothing"})
    assert response.status_code == 404
    assert not GeneratedDocument.objects.exists()


def test_casebook_prints_every_time_in_the_sites_zone_and_names_it(
    site_a, clinician, monitor, data_manager, django_capture_on_commit_callbacks
):
    """One zone per document, named unambiguously; UTC beside the audit and signature times."""
    import time_machine

    from review.services import lock_set, sdv_mark, signature_sign
    from tests.conftest import PASSWORD

    patient = build_patient(site_a, clinician, through_day=3, doses=False)
    panel = LabPanel.objects.get(visit__patient=patient, visit__definition__code="D3")
    # 23:30 UTC is 07:30 the next morning in Beijing.
    with time_machine.travel(datetime(2026, 3, 20, 23, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        sdv_mark(record=panel, user=monitor)
        signature_sign(patient=patient, user=clinician, password=PASSWORD)
        lock_set(
            trial=patient.site.trial,
            scope="visit",
            level="freeze",
            user=data_manager,
            reason="Interim",
            patient=patient,
            visit=panel.visit,
        )
        document = generate(django_capture_on_commit_callbacks, kind="casebook", user=clinician, patient=patient)
    text = "\n".join(pages_text(document)).replace("\n", " ")
    assert "Asia/Shanghai, UTC+08:00" in text
    assert "CST" not in text
    assert "(UTC)" not in text  # no site-local time is labelled UTC
    # The signature, the verification and the lock at 07:30 site time; the signature's UTC beside it.
    assert "Signed (Asia/Shanghai, UTC+08:00; UTC)" in text
    assert "2026-03-21 07:30" in text and "2026-03-20 23:30 UTC" in text
    assert "Verified (Asia/Shanghai, UTC+08:00)" in text
    assert "Set by, when (Asia/Shanghai, UTC+08:00)" in text and "dm_a, 2026-03-21 07:30" in text
    assert "Generated 2026-03-20 23:30 UTC / 2026-03-21 07:30 Asia/Shanghai, UTC+08:00 site time" in text


def test_the_casebooks_lab_section_prints_each_ranges_source(patient, clinician):
    from django.template.loader import render_to_string

    from assessments.models import Visit
    from exports.casebook import visit_pages

    visit = Visit.objects.get(patient=patient, definition__code="D7")
    when = datetime.combine(DAY0 + timedelta(days=7), time(8), tzinfo=SHANGHAI)
    lab_panel_save(
        visit=visit,
        sampled_at=when,
        values={"HGB": Measurement(Decimal("105"), "g/L", when), "TRIG": Measurement(Decimal("2.0"), "mmol/L", when)},
        panel_data={},
        user=clinician,
        today=DAY0 + timedelta(days=40),
    )
    (page,) = visit_pages(patient, visit_id=visit.pk)
    sources = {row.code: row.reference_source for row in page.labs}
    assert "Dallman PR" in sources["HGB"]
    assert sources["TRIG"] == "RUX-HLH protocol section 8 default (all ages)"
    html = render_to_string("exports/_visit.html", {"page": page})
    assert "115–135" in html and "Dallman PR" in html and "RUX-HLH protocol section 8 default" in html
