"""The study report (protocol section 11): page, JSON with the same figures, its plots, and a
patient's own marker trajectories. Everything is scoped to the user's sites."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from assessments import plots
from assessments.report import (
    TRAJECTORY_MARKERS,
    cached,
    marker_baselines,
    marker_trajectories,
    report_km_png,
    report_marker_png,
    study_report,
)
from assessments.rules.statistics import SIX_MONTHS_DAYS
from assessments.selectors import coded_lab_values
from patients.selectors import patient_get_for_user
from trial.rules.age import age_in_days
from trial.selectors import reference_ranges_for, user_site_ids

MARKERS = {code: (label, unit, log) for code, label, unit, log in TRAJECTORY_MARKERS}


def _png(data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="image/png")
    response["Cache-Control"] = "private, max-age=60"
    return response


@login_required
@require_GET
def study_report_page(request):
    site_ids = user_site_ids(request.user)
    report = study_report(site_ids=site_ids)
    markers = [{"code": code, "label": gettext(label)} for code, (label, _, _) in MARKERS.items()]
    return render(
        request,
        "assessments/report/report.html",
        {"report": report, "markers": markers, "six_months": SIX_MONTHS_DAYS, **_patient_page(request, report)},
    )


# Per-patient columns and rows shown at once; the summaries are over every patient and the
# JSON holds them all.
PATIENTS_PER_PAGE = 50


def _patient_page(request, report: dict) -> dict:
    """One page of the per-patient parts of the report (baseline columns, outcome rows, AE rows)."""
    baseline = report["baseline"]
    page = Paginator(baseline["patients"], PATIENTS_PER_PAGE).get_page(request.GET.get("patients"))
    start, end = page.start_index() - 1 if page.paginator.count else 0, page.end_index()
    subjects = set(baseline["patients"][start:end])
    return {
        "patient_page": page,
        "baseline_patients": baseline["patients"][start:end],
        "baseline_rows": [{**row, "display": row["display"][start:end]} for row in baseline["rows"]],
        "outcome_rows": [o for o in report["outcomes"] if o["subject"] in subjects],
        "ae_patient_rows": [p for p in report["adverse_events"]["patients"] if p["subject"] in subjects],
    }


@login_required
@require_GET
def study_report_plot(request, name: str):
    site_ids = user_site_ids(request.user)
    report = study_report(site_ids=site_ids)
    if name == "km":

        def build():
            return report_km_png(report)

    elif name.startswith("marker-") and name.removeprefix("marker-") in MARKERS:
        code = name.removeprefix("marker-")

        def build():
            return report_marker_png(report, site_ids=site_ids, code=code)

    else:
        raise Http404("No such figure.")
    return _png(cached(site_ids=site_ids, part=f"plot:{name}", build=build))


@login_required
@require_GET
def patient_trajectories(request, pk: int):
    patient = patient_get_for_user(user=request.user, pk=pk)
    coded = coded_lab_values(patient=patient, codes=MARKERS)
    markers = [
        {"code": code, "label": gettext(label), "coded": coded.get(code, [])} for code, (label, _, _) in MARKERS.items()
    ]
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
        baselines = marker_baselines(site_ids={patient.site_id}, code=code, patient_id=patient.pk)
        return plots.trajectory_png(
            label=label,
            unit=unit,
            series=series,
            normal=normal,
            log=log,
            size=(4.4, 2.8),
            show_count=False,
            baselines=baselines,
        )

    return _png(cached(site_ids={patient.site_id}, part=f"patient:{patient.pk}:{code}", build=build))


urlpatterns = [
    path("report/", study_report_page, name="study_report"),
    path("report/plots/<slug:name>.png", study_report_plot, name="study_report_plot"),
    path("patients/<int:pk>/trajectories/", patient_trajectories, name="patient_trajectories"),
    path("patients/<int:pk>/trajectories/<slug:code>.png", patient_trajectory_plot, name="patient_trajectory_plot"),
]
