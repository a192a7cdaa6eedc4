"""Response assessments (protocol section 9) and each patient's derived endpoints (section 11)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from assessments.models.visits import Visit
from patients.models import Patient
from trial.history import AuditedHistory
from trial.versioning import VersionedRecord

# The English labels are the data's (the report, its JSON, the exports); pages show the translation.
RESPONSE_LABELS_EN = {
    "cr": gettext_noop("Complete response"),
    "pr": gettext_noop("Partial response"),
    "improvement": gettext_noop("HLH improvement"),
    "progression": gettext_noop("Progressive disease"),
    "relapse": gettext_noop("Relapse"),
    "nr": gettext_noop("No response"),
    "not_assessable": gettext_noop("Not assessable"),
}
RESPONSE_CHOICES = [(value, _(label)) for value, label in RESPONSE_LABELS_EN.items()]


class ResponseAssessment(VersionedRecord):
    """The computed response at one assessment visit, and the investigator's confirmation.

    A confirmed result is never overwritten: when the data change after confirmation, the
    new computation is stored beside it (`recomputed_*`) and flagged for review.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="response_assessments")
    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="response_assessment")
    study_day = models.IntegerField()
    assessment_date = models.DateField()

    computed_status = models.CharField(max_length=16, choices=RESPONSE_CHOICES)
    computed_detail = models.JSONField(default=dict)
    inputs_digest = models.CharField(max_length=64)
    computed_at = models.DateTimeField()

    confirmed_status = models.CharField(max_length=16, choices=RESPONSE_CHOICES, blank=True)
    confirmation_reason = models.CharField(max_length=300, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    recomputed_status = models.CharField(max_length=16, choices=RESPONSE_CHOICES, blank=True)
    recomputed_detail = models.JSONField(default=dict, blank=True)
    recomputed_at = models.DateTimeField(null=True, blank=True)
    needs_review = models.BooleanField(default=False)

    history = AuditedHistory(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["patient", "study_day"]
        constraints = [
            models.CheckConstraint(
                condition=Q(confirmed_status="") | Q(confirmed_at__isnull=False), name="response_confirmation_dated"
            ),
        ]
        indexes = [models.Index(fields=["needs_review"], name="response_needs_review")]

    def __str__(self) -> str:
        return f"{self.patient} day {self.study_day}: {self.status_label}"

    @property
    def status(self) -> str:
        """The status that counts: the investigator's when confirmed, else the computed one."""
        return self.confirmed_status or self.computed_status

    @property
    def status_label(self) -> str:
        return dict(RESPONSE_CHOICES).get(self.status, self.status)


class PatientEndpoints(models.Model):
    """Best response during ruxolitinib up to day 28, durability and event-free survival (section 11).

    Derived from the assessments and outcome records; recomputed whenever they change.
    """

    class Event(models.TextChoices):
        NONE = "", _("No event (censored)")
        PROGRESSION = "progression", _("Progression")
        RELAPSE = "relapse", _("Relapse")
        DEATH = "death", _("Death")
        NO_RESPONSE = "no_response", _("No response, therapy changed")

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="endpoints")
    best_response = models.CharField(max_length=16, choices=RESPONSE_CHOICES, blank=True)
    best_response_day = models.IntegerField(null=True, blank=True)
    overall_response = models.BooleanField(default=False, help_text="CR, PR or HLH improvement up to day 28.")
    efs_event = models.CharField(max_length=12, choices=Event.choices, blank=True)
    efs_event_date = models.DateField(null=True, blank=True)
    efs_days = models.PositiveIntegerField(null=True, blank=True)
    efs_censored_on = models.DateField(null=True, blank=True)
    cr_first_day = models.IntegerField(null=True, blank=True)
    cr_duration_days = models.PositiveIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(help_text="When the endpoints last changed.")
    assessed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the patient's assessments were last run, changed or not."
    )

    def __str__(self) -> str:
        return f"{self.patient}: best {self.best_response or 'none'}"
