"""System checks of this app's settings: a typo must not switch a protection off silently."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security)
def credentials_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    from trial.models import Role

    errors = []
    unknown = sorted(set(settings.TWO_FACTOR_ROLES) - set(Role.values))
    if unknown:
        errors.append(
            checks.Error(
                f"TWO_FACTOR_ROLES names unknown roles: {', '.join(unknown)}.",
                hint=f"Use the role names {', '.join(Role.values)}, comma-separated.",
                id="accounts.E001",
            )
        )
    if float(settings.API_TOKEN_HOURS) <= 0:
        errors.append(
            checks.Error(
                f"API_TOKEN_HOURS is {settings.API_TOKEN_HOURS}; an API token must last more than 0 hours.",
                hint="Leave it unset for 24 hours.",
                id="accounts.E002",
            )
        )
    return errors
