"""URLs of the assessments pages; each view module lists its own."""

from assessments.views import labs, visits

urlpatterns = [
    *visits.urlpatterns,
    *labs.urlpatterns,
    # ASSESSMENTS-URLS: other view modules add their patterns here
]
