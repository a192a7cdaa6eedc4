"""Adverse events graded with NCI CTCAE v3.0 (protocol section 10)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from assessments.models.labs import LabResult
from patients.models import Patient
from trial.history import AuditedHistory
from trial.versioning import VersionedRecord


class CtcaeTerm(models.Model):
    """One of the 1,059 CTCAE v3.0 terms, loaded from data (assessments/data/ctcae_v3_terms.csv)."""

    code = models.CharField(max_length=8, unique=True)
    term = models.CharField(max_length=120)
    category = models.CharField(max_length=60)

    class Meta:
        ordering = ["category", "term"]

    def __str__(self) -> str:
        return f"{self.term} ({self.code})"

    @property
    def is_other(self) -> bool:
        """The '-other' terms of each category need the event specified in text."""
        return self.code.endswith("999")


class AdverseEvent(VersionedRecord):
    class Grade(models.IntegerChoices):
        MILD = 1, _("1 – Mild")
        MODERATE = 2, _("2 – Moderate")
        SEVERE = 3, _("3 – Severe")
        LIFE_THREATENING = 4, _("4 – Life-threatening or disabling")
        DEATH = 5, _("5 – Death")

    class Relationship(models.TextChoices):
        UNRELATED = "unrelated", _("Unrelated")
        UNLIKELY = "unlikely", _("Unlikely")
        POSSIBLE = "possible", _("Possible")
        PROBABLE = "probable", _("Probable")
        DEFINITE = "definite", _("Definite")

    class Action(models.TextChoices):
        NONE = "none", _("None")
        DOSE_REDUCED = "reduced", _("Dose reduced")
        INTERRUPTED = "interrupted", _("Interrupted")
        DISCONTINUED = "discontinued", _("Discontinued")

    class Outcome(models.TextChoices):
        RECOVERED = "recovered", _("Recovered / resolved")
        RECOVERING = "recovering", _("Recovering / resolving")
        NOT_RECOVERED = "not_recovered", _("Not recovered / not resolved")
        SEQUELAE = "sequelae", _("Recovered with sequelae")
        FATAL = "fatal", _("Fatal")
        UNKNOWN = "unknown", _("Unknown")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered")
        LAB = "lab", _("Accepted lab-based suggestion")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="adverse_events")
    term = models.ForeignKey(CtcaeTerm, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    other_specify = models.CharField(_("Other, specify"), max_length=200, blank=True)
    grade = models.PositiveSmallIntegerField(choices=Grade.choices)
    onset_date = models.DateField()
    resolution_date = models.DateField(null=True, blank=True)
    serious = models.BooleanField(default=False)
    sae_death = models.BooleanField(_("Results in death"), default=False)
    sae_life_threatening = models.BooleanField(_("Life-threatening"), default=False)
    sae_hospitalisation = models.BooleanField(_("Hospitalisation (initial or prolonged)"), default=False)
    sae_disability = models.BooleanField(_("Disability / incapacity"), default=False)
    sae_congenital_anomaly = models.BooleanField(_("Congenital anomaly"), default=False)
    sae_other_important = models.BooleanField(_("Other important medical event"), default=False)
    relationship = models.CharField(_("Relationship to ruxolitinib"), max_length=10, choices=Relationship.choices)
    action_taken = models.CharField(max_length=12, choices=Action.choices)
    outcome = models.CharField(max_length=14, choices=Outcome.choices)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=6, choices=Source.choices, default=Source.MANUAL)

    history = AuditedHistory(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["patient", "onset_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(grade__gte=1, grade__lte=5), name="ae_grade_1_to_5"),
            models.CheckConstraint(
                condition=Q(resolution_date__isnull=True) | Q(resolution_date__gte=F("onset_date")),
                name="ae_resolution_after_onset",
            ),
            models.CheckConstraint(
                condition=Q(term__isnull=False) | ~Q(other_specify=""), name="ae_term_or_other_specified"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term_label} grade {self.grade}"

    @property
    def term_label(self) -> str:
        if self.term_id and self.other_specify:
            return f"{self.term.term}: {self.other_specify}"
        return self.term.term if self.term_id else f"Other: {self.other_specify}"


class LabAESuggestion(models.Model):
    """A CTCAE grade reached by a saved lab value, offered to the clinician to accept or dismiss."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DISMISSED = "dismissed", "Dismissed"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="ae_suggestions")
    lab_result = models.ForeignKey(LabResult, on_delete=models.CASCADE, related_name="ae_suggestions")
    term = models.ForeignKey(CtcaeTerm, on_delete=models.PROTECT, related_name="+")
    grade = models.PositiveSmallIntegerField()
    explanation = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    dismissed_reason = models.CharField(max_length=200, blank=True)
    adverse_event = models.ForeignKey(
        AdverseEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="suggestions"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = AuditedHistory()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["lab_result"], name="one_suggestion_per_lab_result"),
            models.CheckConstraint(condition=Q(grade__gte=1, grade__lte=4), name="suggestion_grade_1_to_4"),
        ]

    def __str__(self) -> str:
        return f"{self.term.term} grade {self.grade} ({self.get_status_display()})"
