from django.conf import settings
from django.db import models
from django.db.models import Q

from audit.history import AuditedHistory
from patients.models import Patient
from trial.versioning import VersionedRecord


class DataQuery(VersionedRecord):
    """A question about one record (and optionally one field) of a patient's data."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ANSWERED = "answered", "Answered"
        CLOSED = "closed", "Closed"

    class Origin(models.TextChoices):
        AUTOMATIC = "auto", "Edit check"
        MANUAL = "manual", "Raised by a user"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="queries")
    target = models.CharField(max_length=60, help_text="The record queried, as app.model:id.")
    field = models.CharField(max_length=60, blank=True)
    check_code = models.CharField(max_length=60, blank=True, help_text="The edit check behind an automatic query.")
    origin = models.CharField(max_length=6, choices=Origin.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    text = models.TextField()
    link = models.CharField(max_length=200, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    raised_by_role = models.CharField(max_length=20, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    history = AuditedHistory(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open automatic query per check and record: a re-run never duplicates it.
            models.UniqueConstraint(
                fields=["target", "check_code"],
                condition=Q(origin="auto") & ~Q(status="closed"),
                name="one_live_auto_query_per_check",
            )
        ]
        indexes = [models.Index(fields=["patient", "status"], name="query_patient_status")]

    def __str__(self) -> str:
        return f"{self.patient} {self.target} [{self.get_status_display()}]"


class QueryMessage(models.Model):
    """One turn of a query's conversation."""

    class Action(models.TextChoices):
        RAISE = "raise", "Raised"
        ANSWER = "answer", "Answered"
        CLOSE = "close", "Closed"
        REOPEN = "reopen", "Re-opened"
        COMMENT = "comment", "Comment"

    query = models.ForeignKey(DataQuery, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    action = models.CharField(max_length=8, choices=Action.choices)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.text[:40]}"
