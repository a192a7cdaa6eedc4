from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    class Kind(models.TextChoices):
        SAE = "sae", _("Serious adverse event")
        RESPONSE = "response", _("Response alert")
        DEVIATION = "deviation", _("Protocol deviation")
        QUERY = "query", _("Data query")
        INFO = "info", _("Information")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=200, blank=True)
    # What raised it, so that the same event never notifies the same person twice.
    source_key = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("receive_sae_alert", "Receives the alerts of serious adverse events of the user's sites"),
            ("receive_response_alert", "Receives the response alerts (no response at day 3, progression, relapse)"),
        ]
        constraints = [models.UniqueConstraint(fields=["recipient", "source_key"], name="notification_once_per_source")]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.title}"
