"""The trial as data: what a second site or protocol version changes without code edits."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from trial.history import AuditedHistory

# Configuration that changes clinical meaning (thresholds, doses, the schedule, who sees which
# site) keeps its history like the clinical records: who, when, old, new and the reason.


class Trial(models.Model):
    registry_id = models.CharField(max_length=40, unique=True)
    short_name = models.CharField(max_length=40)
    title = models.CharField(max_length=300)
    protocol_version = models.CharField(max_length=20)
    treatment_days = models.PositiveSmallIntegerField(default=28)
    doses_per_day = models.PositiveSmallIntegerField(default=2)
    # Twice daily is ~12 h apart; below 8 h a given dose needs an explicit confirmation and is
    # flagged and queried (decision in patients/rules/treatment.py). 0 turns the check off.
    min_dose_interval_hours = models.PositiveSmallIntegerField(
        default=8,
        validators=[MaxValueValidator(24)],
        help_text="Least time between two given doses; a shorter interval needs a confirmation. 0 = no check.",
    )
    data_cutoff_date = models.DateField(null=True, blank=True)
    max_weight_kg = models.DecimalField(
        max_digits=5, decimal_places=2, default=150, help_text="Heaviest plausible weight at entry."
    )

    history = AuditedHistory()

    class Meta:
        ordering = ["registry_id"]
        constraints = [
            models.CheckConstraint(condition=Q(min_dose_interval_hours__lte=24), name="trial_dose_interval_at_most_24h")
        ]

    def __str__(self) -> str:
        return f"{self.short_name} ({self.registry_id}) v{self.protocol_version}"


class Site(models.Model):
    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="sites")
    code = models.CharField(max_length=10, help_text="Prefix of subject numbers, e.g. BCH.")
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=60, default="UTC")
    # The pages' language for its users who chose none and whose browser asks for neither language.
    default_language = models.CharField(
        max_length=10,
        choices=settings.LANGUAGES,
        default="en",
        help_text="Language of the pages for this site's users who chose none and whose browser asks for neither.",
    )
    # Subject numbers are never reused: the counter only moves forward.
    last_subject_sequence = models.PositiveIntegerField(default=0)
    last_screening_sequence = models.PositiveIntegerField(default=0)

    # The counters move with every screening and enrollment; the patients' own history has those.
    history = AuditedHistory(excluded_fields=["last_subject_sequence", "last_screening_sequence"])

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["trial", "code"], name="site_code_unique_in_trial")]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class DoseBand(models.Model):
    """Weight band to ruxolitinib dose (protocol section 6); the upper bound is inclusive."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="dose_bands")
    max_weight_kg = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, help_text="Inclusive; blank = no upper bound."
    )
    dose_mg = models.DecimalField(max_digits=5, decimal_places=2)
    label = models.CharField(max_length=60)

    history = AuditedHistory()

    class Meta:
        ordering = [F("max_weight_kg").asc(nulls_last=True)]
        constraints = [
            models.CheckConstraint(condition=Q(dose_mg__gt=0), name="dose_band_dose_positive"),
            models.UniqueConstraint(fields=["trial", "max_weight_kg"], name="dose_band_unique_bound"),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.dose_mg} mg BID"


class ReferenceRange(models.Model):
    """Normal range of one analyte; a site's own range (optionally by age) wins over the trial default."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="reference_ranges")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, null=True, blank=True, related_name="reference_ranges")
    analyte = models.CharField(max_length=30)
    unit = models.CharField(max_length=20)
    lower = models.DecimalField("lower limit (L below)", max_digits=12, decimal_places=3, null=True, blank=True)
    upper = models.DecimalField("upper limit (H above)", max_digits=12, decimal_places=3, null=True, blank=True)
    age_min_days = models.PositiveIntegerField("from age (days)", null=True, blank=True)
    age_max_days = models.PositiveIntegerField("to age (days)", null=True, blank=True, help_text="Exclusive.")
    source = models.CharField(
        _("source"),
        max_length=300,
        blank=True,
        default="",
        help_text=_("The citation of the range: the published table, the protocol section or the site's laboratory."),
    )

    history = AuditedHistory()

    class Meta:
        ordering = ["analyte", "site_id", "age_min_days"]
        constraints = [
            models.CheckConstraint(
                condition=Q(lower__isnull=True) | Q(upper__isnull=True) | Q(lower__lte=F("upper")),
                name="reference_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(lower__isnull=False) | Q(upper__isnull=False), name="reference_range_has_a_bound"
            ),
        ]

    def __str__(self) -> str:
        where = self.site.code if self.site_id else "default"
        return f"{self.analyte} {self.lower}–{self.upper} {self.unit} ({where})"


class VisitDefinition(models.Model):
    """One row of the schedule of assessments (protocol section 7); day 0 is the first dose."""

    class Kind(models.TextChoices):
        BASELINE = "baseline", _("Screening / baseline")
        DAILY = "daily", _("Daily (week 1)")
        EFFICACY = "efficacy", _("Efficacy assessment")
        WEEKLY = "weekly", _("Weekly")
        END_OF_TREATMENT = "eot", _("End of treatment")
        FOLLOW_UP = "follow_up", pgettext_lazy("visit kind", "Follow-up")

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="visit_definitions")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    day = models.IntegerField("study day")
    window_before = models.PositiveSmallIntegerField("window, days before", default=0)
    window_after = models.PositiveSmallIntegerField("window, days after", default=0)
    response_assessment = models.BooleanField(default=False)
    full_hlh_panel = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=0)

    history = AuditedHistory()

    class Meta:
        ordering = ["trial", "order", "day"]
        verbose_name = "visit of the schedule"
        verbose_name_plural = "visits of the schedule"
        constraints = [models.UniqueConstraint(fields=["trial", "code"], name="visit_code_unique_in_trial")]

    def __str__(self) -> str:
        return f"{self.name} (day {self.day})"

    @property
    def window_label(self) -> str:
        if self.window_before == self.window_after == 0:
            return f"day {self.day}"
        if self.window_before == self.window_after:
            return f"day {self.day} ±{self.window_before}"
        return f"day {self.day - self.window_before} to {self.day + self.window_after}"


class Role(models.TextChoices):
    """The four roles of protocol section 2, each a Django group of the same name."""

    CLINICIAN = "clinician", _("Clinician / investigator")
    COORDINATOR = "coordinator", _("Study coordinator")
    MONITOR = "monitor", _("Monitor")
    DATA_MANAGER = "data_manager", _("Data manager")


class SiteMembership(models.Model):
    """A user sees the patients of the sites they belong to, and only those."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="site_memberships")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="memberships")

    history = AuditedHistory()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "site"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.site.code}"
