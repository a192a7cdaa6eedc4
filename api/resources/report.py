"""The study report's figures."""

import math

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api import filters
from assessments.report import study_report
from trial.selectors import user_site_ids, user_sites


def _finite(value):
    """NaN and infinity are not JSON: a figure that cannot be computed is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


REPORT_SCHEMA = inline_serializer(
    "StudyReport",
    fields={
        "generated_at": serializers.CharField(help_text="When the figures were computed (ISO 8601)."),
        "today": serializers.DateField(
            help_text="The day the report was computed for: the latest of the sites' dates (each site's own zone)."
        ),
        "site_dates": serializers.DictField(
            child=serializers.DateField(), help_text="Each site's date (its own time zone) when computed: {code: date}."
        ),
        "data_version": serializers.CharField(help_text="Changes with any write to the data the report reads."),
        "sites": serializers.ListField(child=serializers.CharField(), help_text="Site codes the figures cover."),
        "enrollment": inline_serializer(
            "StudyReportEnrollment",
            fields={
                "screened": serializers.IntegerField(),
                "screen_failures": serializers.IntegerField(),
                "screen_failures_by_criterion": serializers.ListField(
                    child=serializers.DictField(), help_text="[{criterion, count}]"
                ),
                "enrolled": serializers.IntegerField(),
                "on_treatment": serializers.IntegerField(),
                "completed_28_days": serializers.IntegerField(),
                "discontinued": serializers.IntegerField(),
                "discontinued_by_reason": serializers.ListField(
                    child=serializers.DictField(), help_text="[{reason, count}]"
                ),
                "in_follow_up": serializers.IntegerField(),
                "deaths": serializers.IntegerField(),
            },
        ),
        "baseline": serializers.DictField(
            help_text="Baseline characteristics: {patients: [subject], rows: [{label, unit, values, display, "
            "summary: {n, median, minimum, maximum}, summary_display, footnote}], footnotes: [text]}."
        ),
        "outcomes": serializers.ListField(
            child=serializers.DictField(),
            help_text="Per patient: subject, etiology, risk_group, treatment_days, stop_reason, best_response "
            "(and day), response_duration_days, subsequent_therapy, survival, alive, efs_days, efs_event, "
            "outside_analysis (why the patient is outside the data-cutoff analysis, else empty).",
        ),
        "analysis": serializers.DictField(
            help_text="The data-cutoff analysis that response rates, EFS, follow-up and week-1 figures count: "
            "{data_cutoffs: [date], patients, outside_cutoff: [{subject, reason}]} (first dose after the cutoff)."
        ),
        "response_rates": serializers.ListField(
            child=serializers.DictField(),
            help_text="Best overall response to day 28 by group: {group, label, n, cr, pr, improvement, or}, each "
            "{count, total, percent, ci_low, ci_high} with the exact 95 % interval.",
        ),
        "efs": serializers.DictField(
            help_text="Kaplan-Meier event-free survival at day 183: overall, by_risk, logrank_high_vs_low, "
            "without_follow_up (patients without an EFS time yet)."
        ),
        "follow_up": serializers.DictField(
            help_text="Follow-up from the first dose to death or last contact, capped at the data cutoff (not the "
            "EFS times): {n, days: {n, median, minimum, maximum}, months: (the same), days_per_month (30.4375), "
            "without_follow_up}. Per patient in outcomes: last_contact, follow_up_days, follow_up_ended_by."
        ),
        "week1": serializers.ListField(
            child=serializers.DictField(),
            help_text="Baseline vs day 7 per marker in CR and non-CR patients: {code, label, unit, cr, non_cr}, "
            "each {n, baseline_median, day7_median, p_value} (paired Wilcoxon).",
        ),
        "adverse_events": serializers.DictField(
            help_text="{patients: [{subject, dose_mg, treatment_days, events, discontinued}], summary: [{term, "
            "patients, by_max_grade}], total_events, serious}."
        ),
        "normal_ranges": serializers.DictField(help_text="{analyte: {lower, upper, unit, label}} used in footnotes."),
    },
)


class StudyReportView(APIView):
    """The study report's figures (section 11) for your sites: the same as the report page and /report.json."""

    @extend_schema(
        parameters=[OpenApiParameter("site", str, description="One of your sites' codes: its patients only.")],
        responses={
            200: OpenApiResponse(
                REPORT_SCHEMA,
                description="Enrollment, baseline, outcomes, response rates, EFS, week-1 markers and adverse "
                "events of the enrolled patients at your sites (or the one site asked for); cached until the "
                "data change or the day does. A figure that cannot be computed is null.",
            )
        },
    )
    def get(self, request):
        site_ids = user_site_ids(request.user)
        if code := filters.site_code(request, "site", user_sites(request.user)):
            site_ids = set(user_sites(request.user).filter(code=code).values_list("pk", flat=True))
        response = Response(_finite(study_report(site_ids=site_ids)))
        response["Cache-Control"] = "private, max-age=60"
        return response


class StudyReportJsonView(StudyReportView):
    """/report.json: always JSON, whatever the browser accepts."""

    renderer_classes = [JSONRenderer]


def study_report_json(request):
    """The report's figures at /report.json, to a signed-in browser or an API token alike; a browser
    that is not signed in is sent to the sign-in page as by every page."""
    if not request.headers.get("Authorization") and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return StudyReportJsonView.as_view()(request)
