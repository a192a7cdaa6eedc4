from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from trial.history import AuditedHistory
from trial.versioning import VersionedRecord


class QueuedTask(models.Model):
    """Work that a save queued (a transactional outbox): written in the transaction of the data,
    delivered to the task queue after commit, and kept until the queue has taken it.

    A broker that is down when the data are saved loses nothing: the row stays pending and is
    delivered by the next delivery (after the next save, or the periodic flush) once it is back.
    """

    task = models.CharField(max_length=100)
    args = models.JSONField(default=list)
    # What the work is about (e.g. response:12): one row per key and transaction, and what a
    # page asks when it shows that a recomputation is pending.
    key = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["sent_at", "id"], name="queued_task_pending"),
            models.Index(fields=["key", "sent_at"], name="queued_task_key"),
        ]

    def __str__(self) -> str:
        state = "sent" if self.sent_at else "pending"
        return f"{self.task}{tuple(self.args)} [{state}]"


class DataLock(models.Model):
    """Freeze: data cannot change but queries can still be answered. Lock: nothing changes."""

    class Scope(models.TextChoices):
        RECORD = "record", _("Form")
        VISIT = "visit", _("Visit")
        PATIENT = "patient", _("Patient")
        STUDY = "study", _("Whole study")

    class Level(models.TextChoices):
        FREEZE = "freeze", _("Freeze")
        LOCK = "lock", _("Lock")

    trial = models.ForeignKey("trial.Trial", on_delete=models.PROTECT, related_name="locks")
    scope = models.CharField(max_length=8, choices=Scope.choices)
    level = models.CharField(max_length=6, choices=Level.choices)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, null=True, blank=True, related_name="locks"
    )
    visit = models.ForeignKey("assessments.Visit", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    target = models.CharField(max_length=60, blank=True, help_text="The form locked, as app.model:id.")
    reason = models.CharField(max_length=300, blank=True)
    locked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    locked_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    release_reason = models.CharField(max_length=300, blank=True)

    history = AuditedHistory(table_name="review_historicaldatalock")

    class Meta:
        db_table = "review_datalock"  # the table it had when it was review's
        ordering = ["-locked_at"]
        permissions = [("lock_data", "Can freeze, lock and unlock data")]
        constraints = [
            models.CheckConstraint(
                condition=Q(released_at__isnull=True) | ~Q(release_reason=""), name="lock_release_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} {self.get_scope_display().lower()} {self.target or self.patient or ''}"


class DataQuery(VersionedRecord):
    """A question about one record (and optionally one field) of a patient's data."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    class Origin(models.TextChoices):
        AUTOMATIC = "auto", _("Edit check")
        MANUAL = "manual", _("Raised by a user")

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="queries")
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
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The person of the patient's site asked to answer it.",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    history = AuditedHistory(excluded_fields=["updated_at"], table_name="queries_historicaldataquery")

    class Meta:
        db_table = "queries_dataquery"  # the table it had when it was queries'
        ordering = ["-created_at"]
        permissions = [
            ("raise_query", "Can raise data queries"),
            ("answer_query", "Can answer data queries"),
            ("close_query", "Can close and re-open data queries"),
        ]
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
        RAISE = "raise", _("Raised")
        ANSWER = "answer", _("Answered")
        CLOSE = "close", _("Closed")
        REOPEN = "reopen", _("Re-opened")
        COMMENT = "comment", _("Comment")
        ASSIGN = "assign", _("Assigned")

    query = models.ForeignKey(DataQuery, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    action = models.CharField(max_length=8, choices=Action.choices)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "queries_querymessage"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.text[:40]}"
