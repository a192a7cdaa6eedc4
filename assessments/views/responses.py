"""The response timeline of a patient and the investigator's confirmation."""

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from assessments import display
from assessments.models import PatientEndpoints, ResponseAssessment
from assessments.models.responses import RESPONSE_CHOICES
from assessments.services.responses import response_confirm, response_recompute_pending
from crf.pages import step_run
from patients.selectors import patient_get_for_user
from trial.posted import VERSION_MAX, posted_int
from trial.selectors import user_site_ids

CONFIRMABLE = [(value, label) for value, label in RESPONSE_CHOICES if value != "not_assessable"]


@login_required
@permission_required("assessments.view_responseassessment", raise_exception=True)
def patient_responses(request, pk: int):
    patient = patient_get_for_user(user=request.user, pk=pk)
    assessments = list(
        ResponseAssessment.objects.filter(patient=patient).select_related("visit__definition", "confirmed_by")
    )
    for a in assessments:
        # What was decided and why, in the reader's language (the stored detail stays English).
        a.shown = display.response_detail(a.computed_detail)
        a.shown_recomputed = display.response_detail(a.recomputed_detail) if a.needs_review else None
    endpoints = PatientEndpoints.objects.filter(patient=patient).select_related("patient__site__trial").first()
    if endpoints is not None:
        endpoints.efs_shown = display.efs_explanation(endpoints)
    return render(
        request,
        "assessments/responses.html",
        {
            "patient": patient,
            "assessments": assessments,
            "endpoints": endpoints,
            "choices": CONFIRMABLE,
            "active": "responses",
            "can_confirm": request.user.has_perm("assessments.change_responseassessment"),
            "recompute_pending": response_recompute_pending(patient_id=patient.pk),
        },
    )


@login_required
@permission_required("assessments.change_responseassessment", raise_exception=True)
@require_POST
def response_confirm_view(request, pk: int):
    assessment = get_object_or_404(
        ResponseAssessment.objects.select_related("patient"), pk=pk, patient__site_id__in=user_site_ids(request.user)
    )
    step_run(
        request,
        lambda: response_confirm(
            assessment_id=assessment.pk,
            status=request.POST.get("status", ""),
            reason=request.POST.get("reason", ""),
            expected_version=posted_int(request.POST, "version", label="Version", maximum=VERSION_MAX),
            user=request.user,
        ),
        success=gettext("Day %(day)s response confirmed.") % {"day": assessment.study_day},
    )
    return redirect("patient_responses", pk=assessment.patient_id)


urlpatterns = [
    path("patients/<int:pk>/responses/", patient_responses, name="patient_responses"),
    path("responses/<int:pk>/confirm/", response_confirm_view, name="response_confirm"),
]
