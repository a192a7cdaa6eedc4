from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("screenings", views.ScreeningViewSet, basename="screening")
router.register("patients", views.PatientViewSet, basename="patient")
router.register("visits", views.VisitViewSet, basename="visit")
router.register("lab-panels", views.LabPanelViewSet, basename="labpanel")
router.register("response-assessments", views.ResponseAssessmentViewSet, basename="responseassessment")
router.register("adverse-events", views.AdverseEventViewSet, basename="adverseevent")
router.register("doses", views.DoseViewSet, basename="dose")
router.register("treatment-ends", views.TreatmentEndViewSet, basename="treatmentend")
router.register("follow-ups", views.FollowUpViewSet, basename="followup")
router.register("supportive-care", views.SupportiveCareViewSet, basename="supportivecare")
router.register("subsequent-therapies", views.SubsequentTherapyViewSet, basename="subsequenttherapy")
router.register("deaths", views.DeathViewSet, basename="death")
router.register("queries", views.DataQueryViewSet, basename="dataquery")
router.register("imports", views.ImportViewSet, basename="import")

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api_token"),
    path("sites/", views.SiteListView.as_view(), name="api_sites"),
    path("analytes/", views.AnalyteListView.as_view(), name="api_analytes"),
    path("report/", views.StudyReportView.as_view(), name="api_report"),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api_schema"), name="api_redoc"),
    *router.urls,
]
