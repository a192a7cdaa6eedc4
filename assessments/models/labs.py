"""Lab and vital entry (protocol section 8): one panel per visit, one row per measured value.

Each value is stored as reported, with its unit and sampling time; the reference range
used to flag it is kept beside it so that the flag can always be explained.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from assessments.models.visits import Visit
from patients.models import Patient
from trial.history import AuditedHistory
from trial.rules.criteria import fmt
from trial.versioning import VersionedRecord

RESULT_CHOICES = [("", _("Not done")), ("negative", _("Negative")), ("positive", _("Positive"))]
EXAM_CHOICES = [("", _("Not done")), ("normal", _("Normal")), ("abnormal", _("Abnormal"))]


class MissingCode(models.TextChoices):
    """Why a lab value has no number: the site answered, but there is no value (blank = a value).

    A coded value counts as recorded for the form's completeness and as missing for the
    response rule (protocol section 9: missing markers are never treated as normal).
    """

    # In their own context: "Not done" of a lab value is 未做, not the 未完成 of a visit.
    NOT_DONE = "not_done", pgettext_lazy("missing-data code", "Not done")
    NOT_APPLICABLE = "not_applicable", pgettext_lazy("missing-data code", "Not applicable")
    UNKNOWN = "unknown", pgettext_lazy("missing-data code", "Unknown")
    SAMPLE_LOST = "sample_lost", pgettext_lazy("missing-data code", "Sample lost")


MISSING_REASON_MAX_LENGTH = 300


class LabPanel(VersionedRecord):
    """The lab CRF page of one visit: values, qualitative findings and when they were sampled."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="lab_panels")
    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="lab_panel")
    sampled_at = models.DateTimeField(_("Sampled at"), help_text="Default sampling time of the values below.")

    cns_symptoms = models.BooleanField(_("CNS symptoms"), null=True, blank=True)
    csf_result = models.CharField(_("CSF"), max_length=10, choices=EXAM_CHOICES, blank=True)
    mri_result = models.CharField(_("Brain MRI"), max_length=10, choices=EXAM_CHOICES, blank=True)
    ecg_result = models.CharField(_("ECG"), max_length=10, choices=EXAM_CHOICES, blank=True)
    echo_result = models.CharField(_("Echocardiogram"), max_length=10, choices=EXAM_CHOICES, blank=True)
    cmv = models.CharField(_("CMV"), max_length=10, choices=RESULT_CHOICES, blank=True)
    adenovirus = models.CharField(_("Adenovirus"), max_length=10, choices=RESULT_CHOICES, blank=True)
    tuberculosis = models.CharField(_("Tuberculosis"), max_length=10, choices=RESULT_CHOICES, blank=True)
    herpes_zoster = models.CharField(_("Herpes zoster"), max_length=10, choices=RESULT_CHOICES, blank=True)
    pneumocystis = models.CharField(_("Pneumocystis"), max_length=10, choices=RESULT_CHOICES, blank=True)
    fungal = models.CharField(_("Fungal infection"), max_length=10, choices=RESULT_CHOICES, blank=True)
    notes = models.TextField(_("Notes (CSF, MRI, ECG, echo findings)"), blank=True)

    history = AuditedHistory(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["patient", "sampled_at"]

    def __str__(self) -> str:
        return f"Labs {self.visit}"


class LabResult(models.Model):
    """One measured value: analyte code (trial.analytes), the value as reported and its unit."""

    class Flag(models.TextChoices):
        NORMAL = "N", _("Normal")
        HIGH = "H", _("High")
        LOW = "L", _("Low")
        NO_RANGE = "", _("No reference range")

    panel = models.ForeignKey(LabPanel, on_delete=models.CASCADE, related_name="results")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="lab_results")
    analyte = models.CharField(max_length=12)
    value = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    unit = models.CharField(max_length=20)
    missing = models.CharField(
        _("missing-data code"),
        max_length=16,
        choices=MissingCode.choices,
        blank=True,
        default="",
        help_text=_("Why there is no value; blank when a value is recorded."),
    )
    missing_reason = models.CharField(
        _("reason the value is missing"), max_length=MISSING_REASON_MAX_LENGTH, blank=True, default=""
    )
    sampled_at = models.DateTimeField()
    flag = models.CharField(max_length=1, choices=Flag.choices, blank=True)
    reference_low = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    reference_high = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    reference_source = models.CharField(
        _("source of the reference range"),
        max_length=300,
        blank=True,
        default="",
        help_text=_("The citation of the range the value was flagged against, kept with the value."),
    )

    history = AuditedHistory()

    class Meta:
        ordering = ["panel", "analyte"]
        constraints = [
            models.UniqueConstraint(fields=["panel", "analyte"], name="lab_result_once_per_panel"),
            # A value and no code, or a code with its reason and no value: never both, never neither.
            models.CheckConstraint(
                condition=(Q(value__isnull=False, missing="", missing_reason=""))
                | (Q(value__isnull=True) & ~Q(missing="") & ~Q(missing_reason="")),
                name="lab_result_value_xor_missing_code",
            ),
        ]
        indexes = [models.Index(fields=["patient", "analyte", "sampled_at"], name="lab_result_trend")]

    def __str__(self) -> str:
        # The value as entered (38.2), not as stored with the column's four places (38.2000).
        if self.missing:
            return f"{self.analyte} {self.get_missing_display()}"
        return f"{self.analyte} {fmt(self.value)} {self.unit}"

    @property
    def coded(self) -> bool:
        return bool(self.missing)


class SupportiveCare(VersionedRecord):
    """G-CSF and transfusions: the response rule ignores counts supported in the 4 days before."""

    class Kind(models.TextChoices):
        GCSF = "gcsf", _("G-CSF")
        TRANSFUSION = "transfusion", _("Transfusion")

    class Product(models.TextChoices):
        NONE = "", "—"
        RED_CELLS = "red_cells", _("Red cells")
        PLATELETS = "platelets", _("Platelets")
        PLASMA = "plasma", _("Plasma")
        CRYOPRECIPITATE = "cryo", _("Cryoprecipitate")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="supportive_care")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    product = models.CharField(max_length=10, choices=Product.choices, blank=True)
    given_on = models.DateField()
    detail = models.CharField(_("Dose / volume"), max_length=100, blank=True)

    history = AuditedHistory(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["patient", "given_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="gcsf", product="") | (Q(kind="transfusion") & ~Q(product="")),
                name="supportive_care_product_for_transfusion",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.given_on}"
