"""URLs of the patients pages; each view module lists its own."""

from django.urls import path

from patients.views import screening as views
from patients.views import treatment

urlpatterns = [
    path("", views.home, name="home"),
    path("patients/", views.subject_list, name="subject_list"),
    path("patients/<int:pk>/", views.patient_overview, name="patient_overview"),
    path("screening/new/", views.screening_create, name="screening_create"),
    path("screening/log/", views.screening_log, name="screening_log"),
    path("screening/<int:pk>/", views.screening_detail, name="screening_detail"),
    path("screening/<int:pk>/edit/", views.screening_edit, name="screening_edit"),
    path("screening/<int:pk>/enroll/", views.screening_enroll, name="screening_enroll"),
    *treatment.urlpatterns,
    # PATIENTS-URLS: other view modules add their patterns here
]
