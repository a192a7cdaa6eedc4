"""URL map of the eCRF."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from api.resources.report import study_report_json

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("patients.urls")),
    path("", include("assessments.urls")),
    path("", include("notifications.urls")),
    path("", include("exports.urls")),
    path("api/v1/", include("api.urls")),
    # The report's figures for a browser's session or an API token (the report page links here).
    path("report.json", study_report_json, name="study_report_json"),
    path("", include("audit.urls")),
    path("", include("queries.urls")),
    path("", include("review.urls")),
    path("", include("accounts.urls")),
    # PROJECT-URLS: other apps add their include here
]

# 403, 404 and 500 are Django's views with templates/; the 400 page names the field at fault.
handler400 = "config.error_pages.bad_request"
