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
