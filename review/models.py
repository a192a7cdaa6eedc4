from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from patients.models import Patient
from trial.history import AuditedHistory


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
        permissions = [("verify_source", "Can mark source data verified")]

    def __str__(self) -> str:
        return f"SDV {self.target} v{self.record_version}"


class Signature(models.Model):
    """An investigator's signature of a visit or the whole casebook (21 CFR 11.50)."""

    class Scope(models.TextChoices):
        VISIT = "visit", _("Visit")
        CASEBOOK = "casebook", _("Casebook")

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
        permissions = [("sign_records", "Can sign visits and casebooks as investigator")]

    def __str__(self) -> str:
        return f"{self.signer_name} signed {self.get_scope_display().lower()} {self.signed_at:%Y-%m-%d}"
