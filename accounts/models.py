from django.conf import settings
from django.db import models


class TokenUse(models.Model):
    """When an API token was last used, to the minute: the one write its use costs.

    A row per token, written on the token's first request, then at most once a minute; the
    security log (audit.AuthEvent) gets the first use of each UTC day.
    """

    token = models.OneToOneField("authtoken.Token", on_delete=models.CASCADE, primary_key=True, related_name="use")
    last_used_at = models.DateTimeField()

    class Meta:
        verbose_name = "API token use"

    def __str__(self) -> str:
        return f"{self.token.user} last used {self.last_used_at:%Y-%m-%d %H:%M}"


class Preference(models.Model):
    """A user's own settings of the pages: the language (blank: follow the browser)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    language = models.CharField(
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text="Blank: the browser's language, else the site's default language.",
    )

    class Meta:
        verbose_name = "user preference"

    def __str__(self) -> str:
        return f"{self.user}: {self.language or 'browser language'}"
