"""Bulk imports: the job a client polls, and the natural keys already imported (idempotence)."""

from django.conf import settings
from django.db import models


class ImportJob(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    bundle = models.JSONField()
    # A CSV bundle's records: their path in the JSON bundle -> [file, line, {field: line}] (errors by line).
    locations = models.JSONField(default=dict, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Signs of life of the worker running it (crf.jobs), and what happened to it on the way.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.pk}: {self.status}"


class ImportKey(models.Model):
    """A record created by an import, under the natural key of the bundle it came from.

    The services assign screening and subject numbers themselves; this maps the source's
    numbers to the records so that importing the same bundle again creates nothing.
    """

    kind = models.CharField(max_length=20)
    key = models.CharField(max_length=200)
    object_id = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="import_key_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} -> {self.object_id}"
