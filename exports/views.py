"""Pages of the exports: a patient's documents, generation, status polling, downloads, data exports."""

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseBadRequest, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.language import request_language
from assessments.models import Visit
from exports.casebook import FORMS
from exports.documents import (
    BILINGUAL,
    document_check,
    document_download,
    document_file_exists,
    document_language,
    document_request,
)
from exports.models import DownloadLog, GeneratedDocument
from patients.selectors import patient_get_for_user
from trial.posted import posted_int
from trial.selectors import user_site_ids


def _requested_language(request, kind: str) -> str:
    """The language a document is asked in: the form's or the address's `lang` (en, zh-hans, and
    bilingual for the blank book), else the requester's own (request_language), never the
    language a worker happens to speak. An unknown `lang` raises ValueError naming the choices."""
    chosen = request.POST.get("lang") or request.GET.get("lang")
    return document_language(kind=kind, language=chosen or request_language(request))


def _language_choices(*, bilingual: bool = False) -> list[tuple[str, str]]:
    from django.conf import settings
    from django.utils.translation import gettext

    choices = [(code, name) for code, name in settings.LANGUAGES]
    if bilingual:
        choices.append((BILINGUAL, gettext("Chinese, with the English beside each label")))
    return choices


PATIENT_KINDS = {GeneratedDocument.Kind.CASEBOOK, GeneratedDocument.Kind.VISIT_CRF, GeneratedDocument.Kind.FORM_CRF}


def _document_for_user(user, pk: int) -> GeneratedDocument:
    """A document of a patient at the user's sites (or a study-wide one); anything else is a 404."""
    document = get_object_or_404(GeneratedDocument.objects.select_related("patient"), pk=pk)
    if document.patient_id is not None and document.patient.site_id not in user_site_ids(user):
        raise Http404("No such document at your sites.")
    if document.kind == GeneratedDocument.Kind.STUDY_REPORT and document.requested_by_id != user.pk:
        raise Http404("A study report PDF holds its requester's sites only.")
    return document


def _require_export_role(user) -> None:
    # Study-wide data exports are for the data managers and the monitors (and the admin).
    if not user.has_perm("exports.export_data"):
        raise PermissionDenied("Data exports are for data managers and monitors.")


def _status_json(document: GeneratedDocument) -> dict:
    document = document_check(document)  # a job lost with its worker is queued again, and says so
    ready = document.status == GeneratedDocument.Status.DONE
    return {
        "id": document.pk,
        "status": document.status,
        "status_label": document.get_status_display(),
        "progress": document.progress,
        "download_url": reverse("document_download", args=[document.pk]) if ready else "",
        "sha256": document.sha256,
        "error": document.error,
        "note": document.note,
    }


@login_required
@permission_required("patients.view_patient", raise_exception=True)
def patient_documents(request, pk: int):
    patient = patient_get_for_user(user=request.user, pk=pk)
    documents = GeneratedDocument.objects.filter(patient=patient).select_related("visit", "requested_by")[:50]
    visits = Visit.objects.filter(patient=patient)
    return render(
        request,
        "exports/patient_documents.html",
        {
            "patient": patient,
            "documents": documents,
            "visits": visits,
            "forms": FORMS,
            "active": "exports",
            "languages": _language_choices(),
            "current_language": request_language(request),
        },
    )


@login_required
@permission_required("patients.view_patient", raise_exception=True)
@require_POST
def document_generate(request, pk: int):
    """Generating a PDF changes no clinical data: every role that reads the patient may ask for one."""
    patient = patient_get_for_user(user=request.user, pk=pk)
    kind = request.POST.get("kind", GeneratedDocument.Kind.CASEBOOK)
    if kind not in PATIENT_KINDS:
        raise Http404("Unknown document kind.")
    visit, form = None, ""
    if kind == GeneratedDocument.Kind.VISIT_CRF:
        visit = get_object_or_404(Visit, pk=posted_int(request.POST, "visit", label="Visit"), patient=patient)
    if kind == GeneratedDocument.Kind.FORM_CRF:
        form = request.POST.get("form", "")
        if form not in FORMS:
            raise Http404("Unknown form.")
    try:
        language = _requested_language(request, kind)
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc))
    document = document_request(
        kind=kind, user=request.user, patient=patient, visit=visit, form=form, language=language
    )
    return redirect(f"{reverse('patient_documents', args=[patient.pk])}?document={document.pk}")


@login_required
def document_status(request, pk: int):
    return JsonResponse(_status_json(_document_for_user(request.user, pk)))


@login_required
def document_download_view(request, pk: int):
    document = _document_for_user(request.user, pk)
    if document.status != GeneratedDocument.Status.DONE or not document_file_exists(document):
        raise Http404("The document is not ready.")
    path_ = document_download(document=document, user=request.user)
    name = f"{document.kind}-{document.patient.subject_number if document.patient else 'study'}-{document.pk}.pdf"
    return FileResponse(path_.open("rb"), as_attachment=True, filename=name, content_type="application/pdf")


@login_required
@permission_required("patients.view_patient", raise_exception=True)
@require_POST
def blank_book_generate(request):
    try:
        language = _requested_language(request, GeneratedDocument.Kind.BLANK_BOOK)
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc))
    document = document_request(kind=GeneratedDocument.Kind.BLANK_BOOK, user=request.user, language=language)
    return redirect(f"{reverse('exports_home')}?document={document.pk}")


@login_required
@permission_required("patients.view_patient", raise_exception=True)
@require_POST
def study_report_generate(request):
    """The study report of the user's sites as a PDF with its figures (rendered by Celery)."""
    try:
        language = _requested_language(request, GeneratedDocument.Kind.STUDY_REPORT)
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc))
    document = document_request(kind=GeneratedDocument.Kind.STUDY_REPORT, user=request.user, language=language)
    return redirect(f"{reverse('exports_home')}?document={document.pk}")


@login_required
@permission_required("patients.view_patient", raise_exception=True)
def exports_home(request):
    blank_books = GeneratedDocument.objects.filter(kind=GeneratedDocument.Kind.BLANK_BOOK)[:10]
    reports = GeneratedDocument.objects.filter(kind=GeneratedDocument.Kind.STUDY_REPORT, requested_by=request.user)
    documents = sorted([*blank_books, *reports[:10]], key=lambda d: d.created_at, reverse=True)
    return render(
        request,
        "exports/exports_home.html",
        {
            "documents": documents,
            "languages": _language_choices(),
            "book_languages": _language_choices(bilingual=True),
            "current_language": request_language(request),
        },
    )


@login_required
@permission_required("patients.view_patient", raise_exception=True)
def csv_zip_download(request):
    from exports.tabular import csv_zip_stream

    _require_export_role(request.user)
    site_ids = user_site_ids(request.user)
    DownloadLog.objects.create(user=request.user, export="csv_zip")
    stamp = timezone.now().strftime("%Y%m%dT%H%MZ")
    # ?excel=1: each CSV starts with UTF-8's byte-order mark, for Excel (docs/exports.md).
    excel = request.GET.get("excel") == "1"
    response = StreamingHttpResponse(csv_zip_stream(site_ids=site_ids, excel=excel), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="rux-hlh-export-{stamp}.zip"'
    return response


@login_required
@permission_required("patients.view_patient", raise_exception=True)
def odm_download(request):
    from exports.odm import odm_document

    _require_export_role(request.user)
    DownloadLog.objects.create(user=request.user, export="odm")
    stamp = timezone.now().strftime("%Y%m%dT%H%MZ")
    response = StreamingHttpResponse(
        [odm_document(site_ids=user_site_ids(request.user))], content_type="application/xml"
    )
    response["Content-Disposition"] = f'attachment; filename="rux-hlh-odm-{stamp}.xml"'
    return response


urlpatterns = [
    path("patients/<int:pk>/documents/", patient_documents, name="patient_documents"),
    path("patients/<int:pk>/documents/generate/", document_generate, name="document_generate"),
    path("documents/<int:pk>/status/", document_status, name="document_status"),
    path("documents/<int:pk>/download/", document_download_view, name="document_download"),
    path("exports/", exports_home, name="exports_home"),
    path("exports/blank-book/", blank_book_generate, name="blank_book_generate"),
    path("exports/study-report/", study_report_generate, name="study_report_generate"),
    path("exports/csv.zip", csv_zip_download, name="csv_zip_download"),
    path("exports/odm.xml", odm_download, name="odm_download"),
]
