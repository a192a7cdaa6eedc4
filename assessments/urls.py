"""URLs of the assessments pages; each view module lists its own."""

from assessments.views import adverse_events, labs, report, responses, visits

urlpatterns = [
    *visits.urlpatterns,
    *labs.urlpatterns,
    *responses.urlpatterns,
    *adverse_events.urlpatterns,
    *report.urlpatterns,
    # ASSESSMENTS-URLS: other view modules add their patterns here
]
