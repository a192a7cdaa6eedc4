"""Audit trail pages: a record's history, a patient's trail, and the study-wide log."""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import render
from django.urls import path

from audit import selectors
from patients.selectors import patient_get_for_user
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


@login_required
def audit_record(request, label: str, pk: int):
    model = selectors.model_by_label(label)
    if model is None:
        raise Http404("No such record type.")
    trail = selectors.record_trail(model=model, pk=pk)
    if not trail:
        raise Http404("No history for this record.")
    current = model._default_manager.filter(pk=pk).first()
    # A deleted record's site is read from its last history row: its trail stays at its site.
    subject = current if current is not None else model.history.filter(id=pk).order_by("-history_date").first()
    site_id = _record_patient_site(subject) if subject is not None else None
    if site_id is not None and site_id not in user_site_ids(request.user):
        raise Http404("No such record at your sites.")
    if site_id is None and not (
        request.user.has_perm("audit.view_study_audit")
        and selectors.record_in_study_scope(model=model, pk=pk, site_ids=user_site_ids(request.user))
    ):  # configuration and accounts: those of the reader's trial and sites
        raise Http404("No such record at your sites.")
    return render(
        request,
        "audit/record.html",
        {"trail": trail, "model_name": model._meta.verbose_name, "pk": pk, "current": current},
    )


@login_required
def audit_patient(request, pk: int):
    patient = patient_get_for_user(user=request.user, pk=pk)
    trail = selectors.patient_trail(patient=patient)
    return render(request, "audit/patient.html", {"patient": patient, "trail": trail, "active": "audit"})


@login_required
@permission_required("audit.view_study_audit", raise_exception=True)
def audit_study(request):
    model_label = request.GET.get("model", "")
    username = request.GET.get("user", "").strip()
    trail = selectors.study_trail(
        site_ids=user_site_ids(request.user), model_label=model_label, username=username, limit=200
    )
    security = selectors.security_events(user=request.user, limit=200)
    models = [(m._meta.label_lower, selectors.model_label(m)) for m in selectors.tracked_models()]
    return render(
        request,
        "audit/study.html",
        {"trail": trail, "security": security, "models": models, "model": model_label, "username": username},
    )


urlpatterns = [
    path("audit/", audit_study, name="audit_study"),
    path("audit/<str:label>/<int:pk>/", audit_record, name="audit_record"),
    path("patients/<int:pk>/audit/", audit_patient, name="audit_patient"),
]
