"""Documents in the reader's language: Chinese words and CJK glyphs, a stored PDF reused for its
language only, the language chosen on the request, and the bilingual blank CRF book."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from accounts.language import preference_set
from crf.models import QueuedTask
from exports.documents import document_html, document_render, document_request
from exports.models import GeneratedDocument
from tests.conftest import PASSWORD
from tests.exports.conftest import build_patient
from tests.exports.test_documents import generate, pages_text

pytestmark = pytest.mark.django_db


def pdf_reader(document: GeneratedDocument) -> PdfReader:
    return PdfReader(Path(settings.MEDIA_ROOT) / document.file_path)


def base_fonts(reader: PdfReader) -> set[str]:
    """The /BaseFont of every font the pages use (WeasyPrint embeds subsets: ABCDEF+Name)."""
    names = set()
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            names.add(str(ref.get_object()["/BaseFont"]))
    return names


def test_a_chinese_casebook_has_chinese_words_cjk_glyphs_chinese_dates_and_says_its_language(
    site_a, clinician, django_capture_on_commit_callbacks
):
    patient = build_patient(site_a, clinician, through_day=7, doses=False)
    document = generate(
        django_capture_on_commit_callbacks, kind="casebook", user=clinician, patient=patient, language="zh-hans"
    )
    assert (document.status, document.language) == ("done", "zh-hans")
    reader = pdf_reader(document)
    texts = [page.extract_text() for page in reader.pages]
    everything = "\n".join(texts)
    # The headings of the forms, the margins and the field labels (the models' verbose names).
    for expected in (
        "筛选与入组资格",
        "入组资格标准",
        "不良事件",
        "疗效评估",
        "稽查轨迹",
        "知情同意签署日期",
        "最高体温（°C）",
    ):
        assert expected in everything, expected
    assert f"受试者 {patient.subject_number}" in texts[0]
    assert f"第 1 页，共 {len(texts)} 页" in texts[0]
    assert "草稿——未锁定" in texts[0]
    assert "Screening and eligibility" not in everything and "Adverse events" not in everything
    # The generation time in the Chinese date format (config/formats/zh_Hans), not 12/02/2026.
    assert re.search(r"生成于 \d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d UTC", texts[0]), texts[0][-300:]
    assert not re.search(r"\b\d\d/\d\d/\d{4}\b", everything)
    # The glyphs come from a CJK face, not a Latin one with boxes.
    assert any("CJK" in name for name in base_fonts(reader)), base_fonts(reader)
    # The document says its language: the HTML it is rendered from, and the PDF's catalogue.
    assert '<html lang="zh-Hans">' in document_html(document)
    assert str(reader.trailer["/Root"].get("/Lang", "")) == "zh-Hans"


def test_an_english_casebook_is_never_returned_to_a_chinese_request(
    site_a, clinician, monitor, django_capture_on_commit_callbacks
):
    patient = build_patient(site_a, clinician, through_day=3, doses=False)
    english = generate(django_capture_on_commit_callbacks, kind="casebook", user=monitor, patient=patient)
    chinese = generate(
        django_capture_on_commit_callbacks, kind="casebook", user=clinician, patient=patient, language="zh-hans"
    )
    again = generate(
        django_capture_on_commit_callbacks, kind="casebook", user=monitor, patient=patient, language="zh-Hans"
    )
    assert english.language == "en" and chinese.language == "zh-hans"
    assert chinese.pk != english.pk and chinese.data_version == english.data_version
    assert again.pk == chinese.pk  # the same data in the same language: the stored PDF
    assert "Screening and eligibility" in pages_text(english)[0]
    assert "筛选与入组资格" in pages_text(chinese)[0]
    assert str(pdf_reader(english).trailer["/Root"].get("/Lang", "")) == "en"


def test_the_worker_renders_in_the_language_recorded_with_the_job_not_in_its_own(site_a, clinician):
    patient = build_patient(site_a, clinician, through_day=3, doses=False)
    document = document_request(kind="casebook", user=clinician, patient=patient, language="en")
    # The language travels with the task as an argument.
    queued = QueuedTask.objects.filter(task="exports.render_document").latest("pk")
    assert queued.args == [document.pk, "en"]
    with translation.override("zh-hans"):  # whatever the worker last spoke
        done = document_render(document_id=document.pk, language="en")
    texts = pages_text(done)
    assert "Screening and eligibility" in texts[0] and "筛选与入组资格" not in texts[0]
    assert re.search(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC", texts[0])


def test_an_unknown_language_is_refused_naming_the_choices(site_a, clinician):
    patient = build_patient(site_a, clinician, through_day=1, doses=False)
    with pytest.raises(ValueError, match=r"lang: 'fr' .* en, zh-hans"):
        document_request(kind="casebook", user=clinician, patient=patient, language="fr")
    with pytest.raises(ValueError, match="bilingual"):
        document_request(kind="casebook", user=clinician, patient=patient, language="bilingual")


def test_the_request_prints_in_the_requesters_language_or_the_one_chosen(
    client, site_a, clinician, django_capture_on_commit_callbacks
):
    patient = build_patient(site_a, clinician, through_day=1, doses=False)
    preference_set(user=clinician, language="zh-hans")
    client.login(username=clinician.username, password=PASSWORD)
    url = reverse("document_generate", args=[patient.pk])
    with django_capture_on_commit_callbacks(execute=False):
        client.post(url, {"kind": "casebook"})
        mine = GeneratedDocument.objects.latest("pk")
        client.post(f"{url}?lang=en", {"kind": "casebook"})
        chosen = GeneratedDocument.objects.latest("pk")
        refused = client.post(f"{url}?lang=de", {"kind": "casebook"})
    assert mine.language == "zh-hans"  # the user's own language (accounts.language.request_language)
    assert chosen.language == "en" and chosen.pk != mine.pk
    assert refused.status_code == 400 and "lang: 'de'" in refused.content.decode()
    # The exports page offers the choice, the bilingual book among them.
    page = client.get(reverse("exports_home")).content.decode()
    assert 'name="lang"' in page and 'value="bilingual"' in page


def test_the_bilingual_blank_book_prints_each_label_in_chinese_and_in_english(
    clinician, django_capture_on_commit_callbacks
):
    book = generate(django_capture_on_commit_callbacks, kind="blank_book", user=clinician, language="bilingual")
    assert book.language == "bilingual"
    texts = pages_text(book)
    first = re.sub(r"\s+", " ", texts[0])
    for chinese, english in (
        ("筛选与入组资格", "Screening and eligibility"),
        ("最高体温（°C）", "Maximum temperature (°C)"),
        ("知情同意签署日期", "Consent signed on"),
        ("出生日期", "Date of birth"),
    ):
        assert f"{chinese} {english}" in first, (chinese, english)
    # Each visit still fits on one page (every page of a visit names it in its header).
    from trial.models import VisitDefinition

    assert sum(1 for t in texts if "Visit CRF: " in t) == VisitDefinition.objects.count() == 17
    day1 = re.sub(r"\s+", " ", next(t for t in texts if "Day 1\n" in t or "Day 1 " in t))
    for chinese, english in (("血小板", "Platelets"), ("生命体征", "Vital signs"), ("计划天数", "Planned day")):
        assert chinese in day1 and english in day1, (chinese, english)
    # A Chinese-only book is another document, with no English labels.
    chinese = generate(django_capture_on_commit_callbacks, kind="blank_book", user=clinician, language="zh-hans")
    assert chinese.pk != book.pk
    assert "Maximum temperature" not in "\n".join(pages_text(chinese))


def test_a_figure_is_cached_per_language_and_drawn_with_a_cjk_face(site_a):
    """The report's figures have words drawn into them: the cache keeps one per language."""
    from django.utils.translation import gettext

    from assessments.plots import font_families
    from assessments.report import cached

    with translation.override("en"):
        english = cached(site_ids={site_a.pk}, part="plot:language-test", build=lambda: gettext("Study day"))
    with translation.override("zh-hans"):
        chinese = cached(site_ids={site_a.pk}, part="plot:language-test", build=lambda: gettext("Study day"))
    assert (english, chinese) == ("Study day", "研究日")
    # Debian's fonts-noto-cjk (make system-packages): the Chinese axis names are not boxes.
    assert any("CJK" in family for family in font_families()), font_families()
