"""URLs of the assessments pages; each view module lists its own."""

from assessments.views import adverse_events, labs, responses, visits

urlpatterns = [
    *visits.urlpatterns,
    *labs.urlpatterns,
    *responses.urlpatterns,
    *adverse_events.urlpatterns,
    # ASSESSMENTS-URLS: other view modules add their patterns here
]
