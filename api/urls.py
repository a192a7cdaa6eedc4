from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts.api import TokenObtainView
from api.resources import (
    adverse_events,
    deaths,
    doses,
    follow_ups,
    imports,
    labs,
    patients,
    queries,
    reference,
    report,
    responses,
    screenings,
    subsequent_therapies,
    supportive_care,
    treatment_ends,
    visits,
)

REDOC_POLICY = {"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]}

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("screenings", screenings.ScreeningViewSet, basename="screening")
router.register("patients", patients.PatientViewSet, basename="patient")
router.register("visits", visits.VisitViewSet, basename="visit")
router.register("lab-panels", labs.LabPanelViewSet, basename="labpanel")
router.register("response-assessments", responses.ResponseAssessmentViewSet, basename="responseassessment")
router.register("adverse-events", adverse_events.AdverseEventViewSet, basename="adverseevent")
router.register("doses", doses.DoseViewSet, basename="dose")
router.register("treatment-ends", treatment_ends.TreatmentEndViewSet, basename="treatmentend")
router.register("follow-ups", follow_ups.FollowUpViewSet, basename="followup")
router.register("supportive-care", supportive_care.SupportiveCareViewSet, basename="supportivecare")
router.register("subsequent-therapies", subsequent_therapies.SubsequentTherapyViewSet, basename="subsequenttherapy")
router.register("deaths", deaths.DeathViewSet, basename="death")
router.register("queries", queries.DataQueryViewSet, basename="dataquery")
router.register("imports", imports.ImportViewSet, basename="import")

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="api_token"),
    path("sites/", reference.SiteListView.as_view(), name="api_sites"),
    path("analytes/", reference.AnalyteListView.as_view(), name="api_analytes"),
    path("ctcae-terms/", reference.CtcaeTermListView.as_view(), name="api_ctcae_terms"),
    path("report/", report.StudyReportView.as_view(), name="api_report"),
    # Signed-in users only (SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"]); the two pages send a
    # browser to the sign-in page. The Swagger page loads its start-up script from ?script, not
    # inline, as the Content-Security-Policy asks. ReDoc's bundle writes its styles into <style>
    # elements and starts its search worker from a blob: at run time, so that page alone allows
    # inline styles and blob: workers (never an inline script).
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="api_schema")), name="api_docs"),
    path(
        "redoc/",
        login_required(csp_update(REDOC_POLICY)(SpectacularRedocView.as_view(url_name="api_schema"))),
        name="api_redoc",
    ),
    *router.urls,
]
