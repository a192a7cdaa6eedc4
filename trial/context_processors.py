"""What every page shows in its header: the trial, the user's roles and the page's time zone."""

from django.conf import settings

from trial.selectors import trial_current, user_roles


def study(request) -> dict:
    user = getattr(request, "user", None)
    return {
        "study_trial": trial_current(),
        "user_role_labels": user_roles(user) if user is not None and user.is_authenticated else [],
        # A patient's page shows times in the patient's site's zone (base.html); others in this one.
        "page_time_zone": getattr(request, "page_time_zone", settings.TIME_ZONE),
    }
