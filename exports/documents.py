"""Services for the generated PDFs: request (reusing an unchanged one), render, download."""

import base64
import hashlib
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Max
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from assessments.models import Visit
from crf.catalogue import CaseReportForm, printed_forms
from crf.jobs import heartbeat, is_stale
from crf.models import DataLock
from crf.outbox import task_enqueue, tasks_pending
from crf.versions import history_digest
from exports.casebook import FORMS, casebook_context, document_zone, header_context, visit_pages
from exports.models import DownloadLog, GeneratedDocument
from patients.models import (
    Patient,
)
from trial import clock

# Bump when the templates change what a document shows, so stored PDFs are not reused.
LAYOUT_VERSION = "5"
DOCUMENT_DIR = "exports"

# Beside the printed forms of the catalogue, the casebook prints the queries and its review
# pages: a new query, signature, verification or lock is a new document.
CASEBOOK_RECORDS = (
    CaseReportForm("crf.dataquery", "Data query"),
    CaseReportForm("review.sourceverification", "Source data verification"),
    CaseReportForm("review.signature", "Signature"),
    CaseReportForm("crf.datalock", "Lock"),
)


def document_locked(*, patient: Patient | None) -> bool:
    """Whether the data a document shows are locked (crf.DataLock, level "lock"): a PDF is a draft until then.

    A freeze still lets queries change, so only a lock of the patient or of the whole study counts.
    """
    from django.db.models import Q

    active = DataLock.objects.filter(released_at__isnull=True, level=DataLock.Level.LOCK)
    if patient is None:
        return active.filter(scope=DataLock.Scope.STUDY).exists()
    return active.filter(Q(scope=DataLock.Scope.STUDY) | Q(scope=DataLock.Scope.PATIENT, patient=patient)).exists()


def patient_data_version(*, patient: Patient) -> str:
    """A digest of the history of everything the casebook prints (crf.versions.history_digest).

    Any save, correction or deletion adds a history row, so the digest moves with the data.
    """
    digest = history_digest(forms=(*printed_forms(), *CASEBOOK_RECORDS), patient_id=patient.pk)
    # Locking turns the draft into the final PDF.
    parts = [LAYOUT_VERSION, digest, f"locked:{document_locked(patient=patient)}"]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def study_report_version(*, user) -> str:
    """The study report PDF is the requester's: their sites, the report's data version and each site's day."""
    from assessments.report import data_version, site_days
    from trial.selectors import user_site_ids

    site_ids = user_site_ids(user)
    days = sorted(site_days(site_ids=site_ids).items())
    scope = f"{LAYOUT_VERSION}|report|{data_version()}|{sorted(site_ids)}|{days}"
    return hashlib.sha256(scope.encode()).hexdigest()


def scope_data_version(*, kind: str, patient: Patient | None, user=None) -> str:
    if kind == GeneratedDocument.Kind.STUDY_REPORT:
        return study_report_version(user=user)
    if patient is None:
        from trial.models import VisitDefinition

        agg = VisitDefinition.objects.aggregate(n=Count("id"), m=Max("id"))
        return hashlib.sha256(f"{LAYOUT_VERSION}|blank|{agg['n']}:{agg['m']}".encode()).hexdigest()
    return patient_data_version(patient=patient)


# The blank book can also be printed in Chinese with the English beside each label, for the
# sites whose monitors read English; the other documents are in one language.
BILINGUAL = "bilingual"


def document_languages(kind: str) -> list[str]:
    """The languages a document of this kind can be printed in (codes of LANGUAGES, and bilingual)."""
    codes = [code for code, _ in settings.LANGUAGES]
    return [*codes, BILINGUAL] if kind == GeneratedDocument.Kind.BLANK_BOOK else codes


def document_language(*, kind: str, language: str | None) -> str:
    """The language code a document is printed in: `language` as LANGUAGES spells it (zh-Hans and
    zh-CN name zh-hans), English when none is given. An unknown one is refused, naming the choices."""
    from accounts.language import supported

    if not language:
        return settings.LANGUAGE_CODE
    allowed = document_languages(kind)
    code = BILINGUAL if language.lower() == BILINGUAL else supported(language)
    if code not in allowed:
        raise ValueError(f"lang: {language!r} is not a language of this document; choose one of {', '.join(allowed)}.")
    return code


def document_print_language(language: str) -> str:
    """The language the words of a document are rendered in: a bilingual book is Chinese first."""
    return "zh-hans" if language == BILINGUAL else language


def document_request(
    *,
    kind: str,
    user,
    patient: Patient | None = None,
    visit: Visit | None = None,
    form: str = "",
    language: str | None = None,
) -> GeneratedDocument:
    """The document for this scope at the current data version in `language` (English when none):
    the stored one when the data are unchanged, else a new one queued for rendering (after commit).

    The view passes the requester's language (accounts.language.request_language) or the one they
    chose; a PDF in one language is never returned for another."""
    if visit is not None and patient is None:
        patient = visit.patient
    language = document_language(kind=kind, language=language)
    version = scope_data_version(kind=kind, patient=patient, user=user)
    existing = GeneratedDocument.objects.filter(
        kind=kind, patient=patient, visit=visit, form=form, data_version=version, language=language
    )
    if kind == GeneratedDocument.Kind.STUDY_REPORT:
        existing = existing.filter(requested_by=user)  # it holds the requester's sites only
    existing = existing.exclude(status=GeneratedDocument.Status.FAILED).order_by("-created_at").first()
    if existing is not None and existing.status != GeneratedDocument.Status.DONE:
        return document_check(existing)  # a job lost with its worker is queued again, not returned stuck
    if existing is not None and document_file_exists(existing):
        return existing
    document = GeneratedDocument.objects.create(
        kind=kind, patient=patient, visit=visit, form=form, requested_by=user, data_version=version, language=language
    )
    _queue(document)
    return document


# A lost render is tried again this many times in all before the document is marked failed.
DOCUMENT_ATTEMPTS = 3
WAITING_FOR_QUEUE = "Waiting for the task queue, which cannot be reached now; it is rendered once it is back."


def _queue(document: GeneratedDocument) -> None:
    # The language travels with the task: the worker renders in it, never in its own active language.
    task_enqueue("exports.render_document", document.pk, document.language, key=_document_key(document.pk))


def _document_key(pk: int) -> str:
    return f"document:{pk}"


def document_lost(document: GeneratedDocument, *, now: datetime | None = None) -> bool:
    """Rendering (or taken from the queue) by a worker that stopped giving signs of life."""
    if document.status not in (GeneratedDocument.Status.QUEUED, GeneratedDocument.Status.RENDERING):
        return False
    if document.status == GeneratedDocument.Status.QUEUED and tasks_pending(keys=[_document_key(document.pk)]):
        return False  # still in the outbox: not yet handed to a worker
    last = document.heartbeat_at or document.created_at
    return (
        is_stale(last, now=now)
        if document.status == GeneratedDocument.Status.RENDERING
        else ((now or clock.now()) - last > QUEUE_STALE)
    )


# A document handed to the queue that no worker took within this time is queued again.
QUEUE_STALE = timedelta(minutes=10)


def document_check(document: GeneratedDocument) -> GeneratedDocument:
    """The document as it stands; one lost with its worker is queued again (or failed after
    DOCUMENT_ATTEMPTS), with a note saying what happened."""
    if tasks_pending(keys=[_document_key(document.pk)]) and document.status == GeneratedDocument.Status.QUEUED:
        if document.note != WAITING_FOR_QUEUE and document.created_at < clock.now() - timedelta(seconds=30):
            GeneratedDocument.objects.filter(pk=document.pk).update(note=WAITING_FOR_QUEUE)
            document.note = WAITING_FOR_QUEUE
        return document
    if not document_lost(document):
        return document
    with transaction.atomic():
        current = GeneratedDocument.objects.select_for_update().get(pk=document.pk)
        if not document_lost(current):
            return current
        seen = (current.heartbeat_at or current.created_at).astimezone(UTC)
        if current.attempts >= DOCUMENT_ATTEMPTS:
            current.status = GeneratedDocument.Status.FAILED
            current.error = f"The worker stopped {current.attempts} times while rendering; not tried again."
            current.finished_at = clock.now()
        else:
            current.note = (
                f"The worker rendering it stopped (no sign of life since {seen:%H:%M:%S} UTC, at "
                f"{current.progress} %); rendering again (attempt {current.attempts + 1} of {DOCUMENT_ATTEMPTS})."
            )
            current.status, current.progress, current.heartbeat_at = GeneratedDocument.Status.QUEUED, 0, None
            _queue(current)
        current.save(update_fields=["status", "progress", "note", "error", "finished_at", "heartbeat_at"])
    return current


def documents_recover(*, now: datetime | None = None) -> int:
    """Queue again every document lost with its worker (the periodic task); returns how many."""
    unfinished = GeneratedDocument.objects.filter(
        status__in=[GeneratedDocument.Status.QUEUED, GeneratedDocument.Status.RENDERING]
    )
    recovered = 0
    for document in unfinished:
        if document_lost(document, now=now):
            document_check(document)
            recovered += 1
    return recovered


def document_file_exists(document: GeneratedDocument) -> bool:
    return bool(document.file_path) and (Path(settings.MEDIA_ROOT) / document.file_path).is_file()


def _progress(document: GeneratedDocument, value: int, status: str | None = None) -> None:
    document.progress = value
    fields = ["progress"]
    if status:
        document.status = status
        fields.append("status")
    GeneratedDocument.objects.filter(pk=document.pk).update(
        heartbeat_at=clock.now(), **{f: getattr(document, f) for f in fields}
    )


def _beat(document_id: int):
    def beat(now: datetime) -> None:
        GeneratedDocument.objects.filter(pk=document_id, status=GeneratedDocument.Status.RENDERING).update(
            heartbeat_at=now
        )

    return beat


def document_html(document: GeneratedDocument, *, now: datetime | None = None, language: str | None = None) -> str:
    """The HTML of a document, the input of WeasyPrint, in `language` (default: the document's)."""
    now = now or timezone.now()
    patient = document.patient
    language = language or document.language
    printed = document_print_language(language)
    # Every time in the document is printed in one zone, named in the header (zone_label), and
    # in the document's language whatever the process last spoke (its words, and its dates as
    # config/formats writes them).
    with timezone.override(document_zone(patient)), translation.override(printed):
        context = header_context(
            patient=patient, user=document.requested_by, now=now, locked=document_locked(patient=patient)
        )
        context.update(
            document=document,
            bilingual=language == BILINGUAL,
            html_lang=translation.to_locale(printed).replace("_", "-"),
        )
        return render_to_string(*_document_template(document, patient, context))


def _document_template(document: GeneratedDocument, patient: Patient | None, context: dict) -> tuple[str, dict]:
    if document.kind == GeneratedDocument.Kind.CASEBOOK:
        context.update(casebook_context(patient))
        template = "exports/casebook.html"
    elif document.kind == GeneratedDocument.Kind.VISIT_CRF:
        context["patient"] = patient
        context["visit_pages"] = visit_pages(patient, visit_id=document.visit_id)
        template = "exports/visit_crf.html"
    elif document.kind == GeneratedDocument.Kind.BLANK_BOOK:
        from exports.blank_book import blank_book_context

        context.update(blank_book_context())
        template = "exports/blank_book.html"
    elif document.kind == GeneratedDocument.Kind.FORM_CRF:
        context.update(casebook_context(patient))
        context.update(
            form_name=document.form,
            form_label=FORMS[document.form],
            form_template=f"exports/forms/{document.form}.html",
        )
        template = "exports/form_crf.html"
    elif document.kind == GeneratedDocument.Kind.STUDY_REPORT:
        context.update(study_report_context(document.requested_by))
        template = "exports/study_report.html"
    else:
        raise ValueError(f"Cannot render {document.kind} here.")
    return template, context


def _png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def study_report_context(user) -> dict:
    """The report of the user's sites as the page shows it, per-patient tables in full, and its
    figures embedded as images."""
    from assessments.report import MARKER_INFO, cached, report_km_png, report_marker_png, study_report
    from assessments.rules.statistics import SIX_MONTHS_DAYS
    from trial.models import Site
    from trial.selectors import user_site_ids

    site_ids = user_site_ids(user)
    report = study_report(site_ids=site_ids)
    baseline = report["baseline"]
    columns = list(zip(*(row["display"] for row in baseline["rows"]), strict=True)) if baseline["rows"] else []
    sites = Site.objects.filter(id__in=site_ids).order_by("code")

    # The same cache entries as the page's figures: drawn once per data version, page or PDF.
    def figure(name: str, build) -> str:
        return _png_uri(cached(site_ids=site_ids, part=f"plot:{name}", build=build))

    markers = [
        (label, figure(f"marker-{code}", lambda code=code: report_marker_png(report, site_ids=site_ids, code=code)))
        for code, (label, _, _) in MARKER_INFO.items()
    ]
    return {
        "report": report,
        "six_months": SIX_MONTHS_DAYS,
        "baseline_by_patient": list(zip(baseline["patients"], columns, strict=False)),
        "km_png": figure("km", lambda: report_km_png(report)),
        "marker_rows": [markers[i : i + 3] for i in range(0, len(markers), 3)],
        "site_label": ", ".join(f"{s.code} {s.name}" for s in sites) or gettext("no site"),
        "subject": gettext("all patients"),
    }


def document_render(*, document_id: int, language: str | None = None) -> GeneratedDocument:
    """Render a queued document to its PDF. Safe to run twice: a done document with its file is left as it is.

    The PDF is written to a temporary file beside its destination and renamed into place, so a
    worker that dies mid-render leaves no partial file and the task can simply run again.
    """
    from weasyprint import HTML

    document = GeneratedDocument.objects.select_related("patient__site", "patient__screening", "visit").get(
        pk=document_id
    )
    if document.status == GeneratedDocument.Status.DONE and document_file_exists(document):
        return document
    if document.status == GeneratedDocument.Status.RENDERING and not is_stale(document.heartbeat_at):
        return document  # another worker is rendering it (a message delivered twice)
    GeneratedDocument.objects.filter(pk=document.pk).update(attempts=F("attempts") + 1)
    with heartbeat(_beat(document.pk)):
        return _render(document, HTML, language=language or document.language)


def _render(document: GeneratedDocument, HTML, *, language: str) -> GeneratedDocument:
    _progress(document, 5, GeneratedDocument.Status.RENDERING)
    try:
        html = document_html(document, language=language)
        _progress(document, 40)
        relative = Path(DOCUMENT_DIR) / f"{document.kind}-{document.pk}-{document.data_version[:12]}.pdf"
        target = Path(settings.MEDIA_ROOT) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        pdf = HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
        _progress(document, 90)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".render-", suffix=".pdf", delete=False) as tmp:
            tmp.write(pdf)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, target)
    except Exception as exc:
        GeneratedDocument.objects.filter(pk=document.pk).update(
            status=GeneratedDocument.Status.FAILED, error=str(exc)[:300], finished_at=timezone.now()
        )
        raise
    document.file_path = str(relative)
    document.sha256 = hashlib.sha256(pdf).hexdigest()
    document.status = GeneratedDocument.Status.DONE
    document.progress = 100
    document.finished_at = timezone.now()
    document.save(update_fields=["file_path", "sha256", "status", "progress", "finished_at"])
    return document


def document_download(*, document: GeneratedDocument, user) -> Path:
    """The stored file of a done document; the download is logged."""
    DownloadLog.objects.create(user=user, document=document)
    return Path(settings.MEDIA_ROOT) / document.file_path
