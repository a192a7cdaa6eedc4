"""The patient's review page: locks, source data verification and signatures."""

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path

from assessments.models import AdverseEvent, LabPanel, Visit
from patients.selectors import patient_get_for_user
from review import services
from review.models import DataLock, Signature


def _forms(patient) -> list:
    """The forms a monitor verifies: screening, enrollment, each lab panel, each adverse event."""
    records = [patient.screening, patient]
    records += list(LabPanel.objects.filter(patient=patient).select_related("visit"))
    records += list(AdverseEvent.objects.filter(patient=patient).select_related("term"))
    rows = []
    for record in records:
        rows.append(
            {
                "record": record,
                "label": _label(record),
                "target": services._scope_of(record)[2],
                "sdv": services.sdv_status(record=record),
            }
        )
    return rows


def _label(record) -> str:
    name = record._meta.verbose_name.capitalize()
    if isinstance(record, LabPanel):
        return f"Labs — {record.visit.name}"
    return f"{name} {record}"


@login_required
def patient_review(request, pk: int):
    patient = patient_get_for_user(user=request.user, pk=pk)
    if request.method == "POST":
        try:
            _act(request, patient)
        except services.ReviewNotAllowed as exc:
            return render(request, "403.html", {"exception": str(exc)}, status=403)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("patient_review", pk=patient.pk)
    signatures = [(s, services.signature_valid(s)) for s in Signature.objects.filter(patient=patient)]
    roles = set(request.user.groups.values_list("name", flat=True))
    return render(
        request,
        "review/patient.html",
        {
            "patient": patient,
            "active": "review",
            "forms": _forms(patient),
            "locks": DataLock.objects.filter(patient=patient) | DataLock.objects.filter(scope="study"),
            "signatures": signatures,
            "visits": Visit.objects.filter(patient=patient, visit_date__isnull=False),
            "meaning": services.signature_meaning(user=request.user, scope="casebook", patient=patient),
            "can_sdv": "monitor" in roles,
            "can_lock": "data_manager" in roles,
            "can_sign": "clinician" in roles,
        },
    )


def _act(request, patient) -> None:
    action = request.POST.get("action")
    user = request.user
    if action == "sdv":
        label, _, pk = request.POST.get("target", "").partition(":")
        record = apps.get_model(label).objects.get(pk=int(pk))
        if services._scope_of(record)[0] != patient.pk:
            raise ValidationError({"target": "That form is not this patient's."})
        services.sdv_mark(record=record, user=user)
        messages.success(request, f"{_label(record)} marked source-verified.")
    elif action == "lock":
        visit = Visit.objects.filter(patient=patient, pk=request.POST.get("visit") or 0).first()
        scope = DataLock.Scope.VISIT if visit else DataLock.Scope.PATIENT
        services.lock_set(
            trial=patient.site.trial,
            scope=scope,
            level=request.POST.get("level", "lock"),
            user=user,
            reason=request.POST.get("reason", ""),
            patient=patient,
            visit=visit,
        )
        messages.success(request, f"{scope.capitalize()} {request.POST.get('level', 'lock')}d.")
    elif action == "unlock":
        lock = DataLock.objects.get(pk=int(request.POST.get("lock", 0)), patient=patient)
        services.lock_release(lock_id=lock.pk, user=user, reason=request.POST.get("reason", ""))
        messages.success(request, "Unlocked; the reason is kept in the lock's history.")
    elif action == "sign":
        visit = Visit.objects.filter(patient=patient, pk=request.POST.get("visit") or 0).first()
        services.signature_sign(patient=patient, user=user, password=request.POST.get("password", ""), visit=visit)
        messages.success(request, "Signed.")


urlpatterns = [path("patients/<int:pk>/review/", patient_review, name="patient_review")]
