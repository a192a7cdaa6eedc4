"""Pages show and read times in the site's time zone (stored times stay UTC).

Only display depends on this: services derive every date from the record's site (trial.clock),
never from the active zone. The API speaks UTC whatever the authentication, so a token request
and a browser session get the same representation of the same instant.
"""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from trial.models import Site


def user_time_zone(user) -> str:
    """The zone shared by the user's sites; with sites in several zones (or none), the default."""
    if user is not None and user.is_authenticated:
        zones = set(Site.objects.filter(memberships__user=user).values_list("time_zone", flat=True))
        if len(zones) == 1:
            return zones.pop()
    return settings.TIME_ZONE


class SiteTimeZoneMiddleware:
    """Activate the time zone of the user's sites for the page (never for the API)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            zone = "UTC"
        else:
            zone = user_time_zone(getattr(request, "user", None))
        request.page_time_zone = zone
        with timezone.override(ZoneInfo(zone)):
            return self.get_response(request)
