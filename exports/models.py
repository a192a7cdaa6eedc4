"""Generated PDF documents (CRFs, casebooks) and the log of every download."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class GeneratedDocument(models.Model):
    """One rendered PDF for a scope (a patient, one of its visits or forms, the blank book, the study
    report) at one data version."""

    class Kind(models.TextChoices):
        VISIT_CRF = "visit_crf", _("Visit CRF")
        CASEBOOK = "casebook", _("Patient casebook")
        BLANK_BOOK = "blank_book", _("Blank CRF book")
        STUDY_REPORT = "study_report", _("Study report")
        FORM_CRF = "form_crf", _("Form CRF")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RENDERING = "rendering", _("Rendering")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=12, choices=Kind.choices)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    visit = models.ForeignKey("assessments.Visit", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    form = models.CharField(max_length=20, blank=True, help_text="The form of a form CRF (exports.casebook.FORMS).")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    file_path = models.CharField(max_length=300, blank=True, help_text="Relative to MEDIA_ROOT.")
    sha256 = models.CharField(max_length=64, blank=True)
    data_version = models.CharField(max_length=64)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Signs of life of the worker rendering it (crf.jobs), and what happened to it on the way.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    note = models.CharField(max_length=300, blank=True)
    # The language it is printed in (a code of LANGUAGES, or "bilingual" for the blank book in
    # Chinese with the English beside each label); a stored PDF is reused for its language only.
    language = models.CharField(max_length=10, default="en")

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("export_data", "Can export the study's datasets (CSV, ODM)")]
        indexes = [models.Index(fields=["kind", "patient", "visit", "data_version"], name="document_scope_version")]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="document_progress_0_100"),
            models.CheckConstraint(
                condition=~Q(status="done") | (~Q(file_path="") & ~Q(sha256="")), name="document_done_has_file"
            ),
        ]

    def __str__(self) -> str:
        scope = self.visit or self.patient or "study"
        if self.form:
            scope = f"{scope} {self.form}"
        return f"{self.get_kind_display()} {scope} ({self.get_status_display()})"

    @property
    def form_label(self) -> str:
        """The printed form of a form CRF as the casebook names it (exports.casebook.FORMS)."""
        from exports.casebook import FORMS

        return str(FORMS.get(self.form, self.form))

    @property
    def language_label(self) -> str:
        """The language it is printed in, as the exports pages name it."""
        if self.language == "bilingual":
            return _("Chinese, with the English beside each label")
        return dict(settings.LANGUAGES).get(self.language, self.language)


class DownloadLog(models.Model):
    """Who downloaded which document (or export) and when."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    document = models.ForeignKey(
        GeneratedDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="downloads"
    )
    export = models.CharField(max_length=20, blank=True, help_text="csv_zip or odm when not a stored document.")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.user} {self.document or self.export} {self.at:%Y-%m-%d %H:%M}"
