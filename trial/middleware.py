"""Pages show and read times in the site's time zone (stored times stay UTC)."""

from zoneinfo import ZoneInfo

from django.utils import timezone

from trial.models import Site


class SiteTimeZoneMiddleware:
    """Activate the time zone shared by the user's sites; with sites in several zones, the default."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zones = set()
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            zones = set(Site.objects.filter(memberships__user=user).values_list("time_zone", flat=True))
        if len(zones) == 1:
            with timezone.override(ZoneInfo(zones.pop())):
                return self.get_response(request)
        return self.get_response(request)
