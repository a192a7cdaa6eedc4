from django.conf import settings
from django.db import models
from django.db.models import Q

from audit.history import AuditedHistory
from patients.models import Patient
from trial.models import Trial


class DataLock(models.Model):
    """Freeze: data cannot change but queries can still be answered. Lock: nothing changes."""

    class Scope(models.TextChoices):
        RECORD = "record", "Form"
        VISIT = "visit", "Visit"
        PATIENT = "patient", "Patient"
        STUDY = "study", "Whole study"

    class Level(models.TextChoices):
        FREEZE = "freeze", "Freeze"
        LOCK = "lock", "Lock"

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="locks")
    scope = models.CharField(max_length=8, choices=Scope.choices)
    level = models.CharField(max_length=6, choices=Level.choices)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="locks")
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

    history = AuditedHistory()

    class Meta:
        ordering = ["-locked_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(released_at__isnull=True) | ~Q(release_reason=""), name="lock_release_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} {self.get_scope_display().lower()} {self.target or self.patient or ''}"


class SourceVerification(models.Model):
    """A monitor verified a form against source at one version; a later change clears it."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="verifications")
    target = models.CharField(max_length=60)
    record_version = models.PositiveIntegerField()
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(auto_now_add=True)

    history = AuditedHistory()

    class Meta:
        ordering = ["-verified_at"]

    def __str__(self) -> str:
        return f"SDV {self.target} v{self.record_version}"


class Signature(models.Model):
    """An investigator's signature of a visit or the whole casebook (21 CFR 11.50)."""

    class Scope(models.TextChoices):
        VISIT = "visit", "Visit"
        CASEBOOK = "casebook", "Casebook"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="signatures")
    visit = models.ForeignKey("assessments.Visit", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    scope = models.CharField(max_length=8, choices=Scope.choices)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=150)
    signed_at = models.DateTimeField(auto_now_add=True)
    meaning = models.CharField(max_length=300)
    digest = models.CharField(max_length=64, help_text="Of every signed record's identity and version.")

    history = AuditedHistory()

    class Meta:
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"{self.signer_name} signed {self.get_scope_display().lower()} {self.signed_at:%Y-%m-%d}"
