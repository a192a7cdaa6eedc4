"""Visit calendar, unscheduled visits, visits not done and the clinician's worklist."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from assessments import selectors
from assessments.display import visit_name
from assessments.models import Visit
from assessments.services.visits import visit_not_done_record, visit_unscheduled_add
from crf.pages import step_run
from patients.selectors import patient_get_for_user
from trial import clock
from trial.clock import site_today
from trial.posted import VERSION_MAX, posted_int
from trial.selectors import user_site_ids


def visit_get_for_user(*, user, pk: int) -> Visit:
    return get_object_or_404(
        Visit.objects.select_related("patient__site", "patient__screening", "definition"),
        pk=pk,
        patient__site_id__in=user_site_ids(user),
    )


@login_required
@permission_required("assessments.view_visit", raise_exception=True)
def visit_calendar(request, pk: int):
    patient = patient_get_for_user(user=request.user, pk=pk)
    rows = selectors.visit_rows(patient=patient, today=site_today(patient.site))
    return render(
        request,
        "assessments/visit_calendar.html",
        {"patient": patient, "rows": rows, "active": "visits", "errors": {}},
    )


@login_required
@permission_required("assessments.add_visit", raise_exception=True)
@require_POST
def visit_unscheduled_create(request, pk: int):
    patient = patient_get_for_user(user=request.user, pk=pk)
    try:
        from datetime import date

        visit_date = date.fromisoformat(request.POST.get("visit_date", ""))
    except ValueError:
        messages.error(request, gettext("Date of the unscheduled visit: enter a date (YYYY-MM-DD)."))
        return redirect("visit_calendar", pk=patient.pk)
    try:
        visit = visit_unscheduled_add(
            patient=patient,
            visit_date=visit_date,
            reason=request.POST.get("reason", ""),
            user=request.user,
            today=site_today(patient.site),
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            label = {"visit_date": gettext("Visit date"), "reason": gettext("Reason")}.get(field, field)
            messages.error(request, f"{label}: {' '.join(errors)}")
        return redirect("visit_calendar", pk=patient.pk)
    messages.success(
        request, gettext("%(visit)s added on %(date)s.") % {"visit": visit_name(visit), "date": visit.visit_date}
    )
    return redirect("lab_panel_edit", pk=visit.pk)


@login_required
@permission_required("assessments.change_visit", raise_exception=True)
@require_POST
def visit_not_done(request, pk: int):
    visit = visit_get_for_user(user=request.user, pk=pk)
    step_run(
        request,
        lambda: visit_not_done_record(
            visit_id=visit.pk,
            reason=request.POST.get("not_done_reason", ""),
            expected_version=posted_int(request.POST, "version", label="Version", maximum=VERSION_MAX),
            user=request.user,
        ),
        success=gettext("%(visit)s recorded as not done.") % {"visit": visit_name(visit)},
    )
    return redirect("visit_calendar", pk=visit.patient_id)


@login_required
def worklist(request):
    now = clock.now()
    rows = selectors.worklist(user=request.user, now=now)
    days = sorted(set(selectors.site_dates(user=request.user, now=now).values()))
    return render(request, "assessments/worklist.html", {"rows": rows, "site_days": days})


urlpatterns = [
    path("patients/<int:pk>/visits/", visit_calendar, name="visit_calendar"),
    path("patients/<int:pk>/visits/unscheduled/", visit_unscheduled_create, name="visit_unscheduled_add"),
    path("visits/<int:pk>/not-done/", visit_not_done, name="visit_not_done"),
    path("worklist/", worklist, name="worklist"),
]
