"""The study report (protocol section 11): page, JSON with the same figures, its plots, and a
patient's own marker trajectories. Everything is scoped to the user's sites."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from assessments import plots
from assessments.report import TRAJECTORY_MARKERS, cached, marker_trajectories, study_report
from assessments.rules.statistics import SIX_MONTHS_DAYS
from patients.models import Patient
from patients.selectors import patient_get_for_user
from trial.rules.age import age_in_days
from trial.selectors import reference_ranges_for, user_site_ids

MARKERS = {code: (label, unit, log) for code, label, unit, log in TRAJECTORY_MARKERS}


def _png(data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="image/png")
    response["Cache-Control"] = "private, max-age=60"
    return response


def _normal(ranges: dict, code: str) -> tuple[float | None, float | None] | None:
    found = ranges.get(code)
    return (found["lower"], found["upper"]) if found else None


@login_required
@require_GET
def study_report_page(request):
    site_ids = user_site_ids(request.user)
    report = study_report(site_ids=site_ids)
    markers = [{"code": code, "label": label} for code, (label, _, _) in MARKERS.items()]
    return render(
        request,
        "assessments/report/report.html",
        {"report": report, "markers": markers, "six_months": SIX_MONTHS_DAYS},
    )


@login_required
@require_GET
def study_report_json(request):
    report = study_report(site_ids=user_site_ids(request.user))
    return JsonResponse(report, json_dumps_params={"ensure_ascii": False})


@login_required
@require_GET
def study_report_plot(request, name: str):
    site_ids = user_site_ids(request.user)
    report = study_report(site_ids=site_ids)
    if name == "km":

        def build():
            observed = [o for o in report["outcomes"] if o["efs_days"] is not None]
            groups = [("All patients", [o["efs_days"] for o in observed], [bool(o["efs_event"]) for o in observed])]
            for value, label in Patient.RiskGroup.choices:
                members = [o for o in observed if o["risk_group"] == value]
                if members:
                    groups.append((label, [o["efs_days"] for o in members], [bool(o["efs_event"]) for o in members]))
            return plots.km_png(groups, mark_day=SIX_MONTHS_DAYS)

    elif name.startswith("marker-") and name.removeprefix("marker-") in MARKERS:
        code = name.removeprefix("marker-")
        label, unit, log = MARKERS[code]

        def build():
            series = marker_trajectories(site_ids=site_ids, codes=(code,))[code]
            normal = _normal(report["normal_ranges"], code)
            return plots.trajectory_png(label=label, unit=unit, series=series, normal=normal, log=log)

    else:
        raise Http404("No such figure.")
    return _png(cached(site_ids=site_ids, part=f"plot:{name}", build=build))


@login_required
@require_GET
def patient_trajectories(request, pk: int):
    patient = patient_get_for_user(user=request.user, pk=pk)
    markers = [{"code": code, "label": label} for code, (label, _, _) in MARKERS.items()]
    return render(
        request,
        "assessments/report/patient_trajectories.html",
        {"patient": patient, "markers": markers, "active": "trajectories"},
    )


@login_required
@require_GET
def patient_trajectory_plot(request, pk: int, code: str):
    patient = patient_get_for_user(user=request.user, pk=pk)
    if code not in MARKERS:
        raise Http404("No such marker.")
    label, unit, log = MARKERS[code]

    def build():
        series = marker_trajectories(site_ids={patient.site_id}, codes=(code,), patient_id=patient.pk)[code]
        age = age_in_days(patient.screening.date_of_birth, patient.first_dose_date)
        found = reference_ranges_for(site=patient.site, age_days=age).get(code)
        from assessments.report import protocol_normal_range

        normal = (found.lower, found.upper) if found else protocol_normal_range(code)
        return plots.trajectory_png(
            label=label, unit=unit, series=series, normal=normal, log=log, size=(4.4, 2.8), show_count=False
        )

    return _png(cached(site_ids={patient.site_id}, part=f"patient:{patient.pk}:{code}", build=build))


urlpatterns = [
    path("report/", study_report_page, name="study_report"),
    path("report.json", study_report_json, name="study_report_json"),
    path("report/plots/<slug:name>.png", study_report_plot, name="study_report_plot"),
    path("patients/<int:pk>/trajectories/", patient_trajectories, name="patient_trajectories"),
    path("patients/<int:pk>/trajectories/<slug:code>.png", patient_trajectory_plot, name="patient_trajectory_plot"),
]
