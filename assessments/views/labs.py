"""Lab panel entry for a visit, and G-CSF / transfusion records."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from assessments import selectors
from assessments.display import visit_name
from assessments.forms.labs import LabPanelForm, SupportiveCareForm, default_sampled_at
from assessments.models import LabPanel, SupportiveCare
from assessments.rules.schedule import VisitStatus
from assessments.services.labs import lab_panel_save, supportive_care_record
from assessments.views.visits import visit_get_for_user
from crf.locks import form_lock
from patients.selectors import patient_get_for_user
from trial.analytes import ANALYTES
from trial.clock import site_today
from trial.rules.age import age_in_days
from trial.selectors import reference_ranges_for
from trial.versioning import ConcurrentEditError


def _apply_service_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        target = f"v_{field}" if f"v_{field}" in form.fields else field
        form.add_error(target if target in form.fields else None, errors)


def _redirect_to_next(request, *, visit, suggested: int = 0):
    """After "save and next": the adverse events the saved values suggest, to accept or dismiss
    (section 10), when there are any; else the next due visit's labs, else the next scheduled
    visit's, else the calendar. A message says where the user now is."""
    patient = visit.patient
    if suggested:
        text = ngettext(
            "The values saved suggest %(count)s adverse event: accept or dismiss it here, then go on to the next "
            "visit.",
            "The values saved suggest %(count)s adverse events: accept or dismiss them here, then go on to the next "
            "visit.",
            suggested,
        )
        messages.info(request, text % {"count": suggested})
        return redirect(f"{reverse('ae_list', args=[patient.pk])}#suggestions")
    row = selectors.next_visit_to_enter(patient=patient, after=visit, today=site_today(patient.site))
    if row is None:
        messages.info(request, _("No other visit is due or planned: you are on the visit calendar."))
        return redirect("visit_calendar", pk=patient.pk)
    names = {"visit": visit_name(row.visit), "status": _status_label(row.status)}
    if row.status in (VisitStatus.DUE, VisitStatus.OVERDUE):
        messages.info(request, _("You are now on the labs of %(visit)s (%(status)s).") % names)
    else:
        names["date"] = row.visit.planned_date.isoformat() if row.visit.planned_date else "—"
        text = _("No other visit is due: you are now on the labs of the next visit, %(visit)s (planned %(date)s).")
        messages.info(request, text % names)
    return redirect("lab_panel_edit", pk=row.visit.pk)


def _status_label(status: VisitStatus) -> str:
    return {VisitStatus.DUE: _("due"), VisitStatus.OVERDUE: _("overdue")}.get(status, status.value)


@login_required
@require_http_methods(["GET", "POST"])
def lab_panel_edit(request, pk: int):
    visit = visit_get_for_user(user=request.user, pk=pk)
    patient = visit.patient
    panel = LabPanel.objects.filter(visit=visit).prefetch_related("results").first()
    needed = "assessments.change_labpanel" if panel else "assessments.add_labpanel"
    if request.method == "POST" and not request.user.has_perm(needed):
        raise PermissionDenied
    if not request.user.has_perm("assessments.view_labpanel"):
        raise PermissionDenied
    expected = selectors.visit_expected_groups(visit)
    initial = (
        {}
        if panel
        else {
            "visit_date": visit.visit_date
            or min(visit.planned_date or site_today(patient.site), site_today(patient.site)),
            "sampled_at": default_sampled_at(visit),
        }
    )
    form = LabPanelForm(request.POST or None, visit=visit, panel=panel, expected=expected, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            outcome = lab_panel_save(
                visit=visit,
                sampled_at=form.cleaned_data["sampled_at"],
                values=form.measurements(),
                panel_data=form.panel_data(),
                visit_date=form.cleaned_data["visit_date"],
                user=request.user,
                expected_version=form.cleaned_data.get("version") if panel else None,
                reason_for_change=form.cleaned_data.get("reason_for_change") or None,
                today=site_today(patient.site),
            )
        except ConcurrentEditError as exc:
            conflict = exc
        except ValidationError as exc:
            _apply_service_errors(form, exc)
        else:
            flagged = ", ".join(
                f"{_(ANALYTES[r.analyte].label)} {r.value.normalize():f} {r.unit} ({r.get_flag_display().lower()})"
                for r in outcome.flagged
            )
            text = _("Labs of %(visit)s saved.") % {"visit": visit_name(visit)}
            messages.success(request, text + (_(" Flagged: %(values)s.") % {"values": flagged} if flagged else ""))
            for warning in outcome.warnings:
                messages.warning(request, warning)
            if request.POST.get("then") == "next":
                return _redirect_to_next(request, visit=visit, suggested=outcome.suggested)
            return redirect("lab_panel_edit", pk=visit.pk)
    sampled = panel.sampled_at if panel else None
    trends = selectors.lab_trends(patient=patient, before=sampled, exclude_panel=panel)
    baseline = selectors.baseline_values(patient=patient)
    current = {r.analyte: r for r in panel.results.all()} if panel else {}
    age = age_in_days(patient.screening.date_of_birth, visit.visit_date or site_today(patient.site))
    ranges = reference_ranges_for(site=patient.site, age_days=age)
    lock = form_lock(panel or LabPanel(patient=patient, visit=visit), user=request.user)
    return render(
        request,
        "assessments/lab_panel_form.html",
        {
            "patient": patient,
            "visit": visit,
            "form": form,
            "panel": panel,
            "trends": trends,
            "baseline": baseline,
            "current": current,
            "ranges": ranges,
            "expected": expected,
            "conflict": conflict,
            "active": "visits",
            "can_edit": request.user.has_perm(needed) and not lock.locked,
            "form_lock": lock,
        },
        status=409 if conflict else 200,
    )


@login_required
@permission_required("assessments.view_supportivecare", raise_exception=True)
@require_http_methods(["GET", "POST"])
def supportive_care(request, pk: int):
    patient = patient_get_for_user(user=request.user, pk=pk)
    form = SupportiveCareForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("assessments.add_supportivecare"):
            raise PermissionDenied
        if form.is_valid():
            try:
                supportive_care_record(
                    patient=patient, **form.cleaned_data, user=request.user, today=site_today(patient.site)
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Supportive care recorded."))
                return redirect("supportive_care", pk=patient.pk)
    records = SupportiveCare.objects.filter(patient=patient)
    return render(
        request,
        "assessments/supportive_care.html",
        {"patient": patient, "form": form, "records": records, "active": "support"},
    )


urlpatterns = [
    path("visits/<int:pk>/labs/", lab_panel_edit, name="lab_panel_edit"),
    path("patients/<int:pk>/supportive-care/", supportive_care, name="supportive_care"),
]
