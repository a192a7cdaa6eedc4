"""Audit trail pages: a record's history, a patient's trail, and the study-wide log."""

from dataclasses import replace
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import render
from django.urls import path

from audit import selectors
from audit.forms import TrailFilterForm
from patients.selectors import patient_get_for_user
from trial.clock import zone_of
from trial.models import Site
from trial.selectors import user_site_ids


def _record_patient_site(record) -> int | None:
    """The site of a record or of one of its history rows (directly, or through its patient)."""
    if hasattr(record, "site_id"):
        return record.site_id
    patient_id = getattr(record, "patient_id", None)
    if patient_id is None:
        return None
    from patients.models import Patient

    return Patient.objects.filter(pk=patient_id).values_list("site_id", flat=True).first()


def _page_zone(request) -> ZoneInfo:
    return ZoneInfo(getattr(request, "page_time_zone", None) or settings.TIME_ZONE)


def _cursors(request, cursor=selectors.Cursor) -> dict:
    """The page asked for: older than `before` or newer than `after`; a cursor that cannot be read
    is no cursor (the newest page)."""
    before = cursor.parse(request.GET.get("before"))
    after = cursor.parse(request.GET.get("after")) if before is None else None
    return {"before": before, "after": after}


def _links(request, page) -> dict:
    """The older and newer links keep the filters and carry the cursor."""
    kept = request.GET.copy()
    for name in ("before", "after"):
        kept.pop(name, None)
    links = {}
    for name, param, cursor in (("older_url", "before", page.older), ("newer_url", "after", page.newer)):
        if cursor:
            query = kept.copy()
            query[param] = cursor
            links[name] = "?" + query.urlencode()
    return links


@login_required
def audit_record(request, label: str, pk: int):
    model = selectors.model_by_label(label)
    if model is None:
        raise Http404("No such record type.")
    current = model._default_manager.filter(pk=pk).first()
    # A deleted record's site is read from its last history row: its trail stays at its site.
    subject = current if current is not None else model.history.filter(id=pk).order_by("-history_date").first()
    if subject is None:
        raise Http404("No history for this record.")
    site_id = _record_patient_site(subject)
    if site_id is not None and site_id not in user_site_ids(request.user):
        raise Http404("No such record at your sites.")
    if site_id is None and not (
        request.user.has_perm("audit.view_study_audit")
        and selectors.record_in_study_scope(model=model, pk=pk, site_ids=user_site_ids(request.user))
    ):  # configuration and accounts: those of the reader's trial and sites
        raise Http404("No such record at your sites.")
    site = Site.objects.filter(pk=site_id).first() if site_id is not None else None
    zone = zone_of(site) if site is not None else _page_zone(request)
    trail = selectors.record_trail(model=model, pk=pk, zone=zone)
    if not trail:
        raise Http404("No history for this record.")
    return render(
        request,
        "audit/record.html",
        {
            "trail": trail,
            "model_name": selectors.model_label(model),
            "record_name": trail[0].record,
            "pk": pk,
            "current": current,
            "page_time_zone": str(zone),
        },
    )


@login_required
def audit_patient(request, pk: int):
    patient = patient_get_for_user(user=request.user, pk=pk)
    zone = zone_of(patient.site)
    form = TrailFilterForm(request.GET or None, with_patient=False)
    page = selectors.patient_trail_page(
        patient=patient, trail_filter=form.trail_filter(zone=zone), zone=zone, **_cursors(request)
    )
    return render(
        request,
        "audit/patient.html",
        {
            "patient": patient,
            "page": page,
            "trail": page.entries,
            "form": form,
            "active": "audit",
            **_links(request, page),
        },
    )


@login_required
@permission_required("audit.view_study_audit", raise_exception=True)
def audit_study(request):
    zone = _page_zone(request)
    site_ids = user_site_ids(request.user)
    form = TrailFilterForm(request.GET or None)
    trail_filter = form.trail_filter(zone=zone)
    patient_text = (form.cleaned_data.get("patient") or "").strip() if hasattr(form, "cleaned_data") else ""
    unknown_patient = ""
    if patient_text:
        patient = selectors.study_patient_find(site_ids=site_ids, text=patient_text)
        if patient is None:
            unknown_patient = patient_text
        else:
            trail_filter = replace(trail_filter, patient_id=patient.pk)
    if unknown_patient:
        page = selectors.TrailPage(entries=[])
    else:
        page = selectors.study_trail_page(site_ids=site_ids, trail_filter=trail_filter, zone=zone, **_cursors(request))
    return render(
        request,
        "audit/study.html",
        {
            "page": page,
            "trail": page.entries,
            "form": form,
            "unknown_patient": unknown_patient,
            **_links(request, page),
        },
    )


@login_required
@permission_required("audit.view_study_audit", raise_exception=True)
def audit_security(request):
    """The security log on its own page, paginated like the trail: sign-ins, failures, lockouts and
    role changes of the reader's sites' staff."""
    page = selectors.security_page(user=request.user, **_cursors(request, selectors.SecurityCursor))
    return render(request, "audit/security.html", {"page": page, "security": page.events, **_links(request, page)})


urlpatterns = [
    path("audit/", audit_study, name="audit_study"),
    path("audit/security/", audit_security, name="audit_security"),
    path("audit/<str:label>/<int:pk>/", audit_record, name="audit_record"),
    path("patients/<int:pk>/audit/", audit_patient, name="audit_patient"),
]
