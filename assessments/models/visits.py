"""Visits of each patient, planned from the schedule of assessments at enrollment."""

from django.db import models
from django.db.models import F, Q

from patients.models import Patient
from trial.history import AuditedHistory
from trial.models import VisitDefinition
from trial.versioning import VersionedRecord


class Visit(VersionedRecord):
    """A planned (or unscheduled) visit; the window is fixed when the visit is planned."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="visits")
    definition = models.ForeignKey(
        VisitDefinition, on_delete=models.PROTECT, null=True, blank=True, related_name="visits"
    )
    name = models.CharField(max_length=80)
    planned_day = models.IntegerField(null=True, blank=True)
    planned_date = models.DateField(null=True, blank=True)
    window_start = models.DateField(null=True, blank=True)
    window_end = models.DateField(null=True, blank=True)
    visit_date = models.DateField("Date of visit", null=True, blank=True)
    unscheduled = models.BooleanField(default=False)
    reason = models.CharField("Reason (unscheduled visit)", max_length=200, blank=True)
    # Set from assessments.rules.schedule when the visit date is saved: a flagged deviation.
    out_of_window = models.BooleanField(default=False)
    window_note = models.CharField(max_length=120, blank=True)
    not_done = models.BooleanField("Visit not done", default=False)
    not_done_reason = models.CharField(max_length=200, blank=True)

    history = AuditedHistory(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["patient", F("planned_date").asc(nulls_last=True), "visit_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "definition"],
                condition=Q(definition__isnull=False),
                name="visit_once_per_definition",
            ),
            models.CheckConstraint(
                condition=Q(window_start__isnull=True) | Q(window_end__gte=F("window_start")),
                name="visit_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(unscheduled=True) | Q(planned_date__isnull=False), name="visit_scheduled_has_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} – {self.name}"
