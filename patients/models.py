"""Screening and enrolled patients, pseudonymised like a paper CRF (no names, no record numbers)."""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from trial.history import AuditedHistory
from trial.models import Site
from trial.versioning import VersionedRecord

YES_NO_UNKNOWN = [(True, _("Yes")), (False, _("No")), (None, _("Not known"))]


def tri(verbose_name: str, help_text: str = "") -> models.BooleanField:
    return models.BooleanField(verbose_name, null=True, blank=True, choices=YES_NO_UNKNOWN, help_text=help_text)


def measure(verbose_name: str, digits: int = 10, places: int = 2, help_text: str = "") -> models.DecimalField:
    return models.DecimalField(
        verbose_name, max_digits=digits, decimal_places=places, null=True, blank=True, help_text=help_text
    )


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class SCD25Unit(models.TextChoices):
    PG_PER_ML = "pg/mL", "pg/mL"
    U_PER_ML = "U/mL", "U/mL"


class Eligibility(models.TextChoices):
    ELIGIBLE = "eligible", _("Eligible")
    INELIGIBLE = "ineligible", _("Not eligible")
    INCOMPLETE = "incomplete", _("Incomplete: data missing")


class Screening(VersionedRecord):
    """The screening / eligibility CRF (protocol section 3) with the baseline findings behind it."""

    class Status(models.TextChoices):
        SCREENING = "screening", _("Screening")
        SCREEN_FAILURE = "screen_failure", _("Screen failure")
        ENROLLED = "enrolled", _("Enrolled")

    class ConsentRelation(models.TextChoices):
        MOTHER = "mother", _("Mother")
        FATHER = "father", _("Father")
        LEGAL_GUARDIAN = "guardian", _("Legal guardian")
        OTHER = "other", _("Other legal representative")

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="screenings")
    screening_number = models.CharField(max_length=20, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCREENING)

    # Demographics (pseudonymised)
    initials = models.CharField(
        max_length=4,
        validators=[RegexValidator(r"^[A-Z]{2,4}$", "Initials are 2 to 4 capital letters, e.g. ZXY.")],
    )
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices)
    screening_date = models.DateField()
    weight_kg = measure(_("Weight (kg)"), 5, 2)
    height_cm = measure(_("Height (cm)"), 5, 1)

    # Informed consent (signed by parent or guardian)
    consent_date = models.DateField(_("Consent signed on"), null=True, blank=True)
    consent_signer_initials = models.CharField(
        _("Signer's initials"),
        max_length=4,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{2,4}$", "Initials are 2 to 4 capital letters.")],
    )
    consent_relation = models.CharField(
        _("Signer's relation to the child"), max_length=10, choices=ConsentRelation.choices, blank=True
    )

    # Diagnosis history
    new_diagnosis = tri(_("New diagnosis of HLH"))
    prior_hlh_chemotherapy = tri(_("Prior chemotherapy for HLH (e.g. etoposide)"))

    # HLH-2004 findings
    molecular_diagnosis = tri(_("Molecular diagnosis consistent with HLH"))
    max_temperature_c = measure(_("Maximum temperature (°C)"), 4, 1)
    splenomegaly = tri(_("Splenomegaly"))
    spleen_cm = measure(_("Spleen below costal margin (cm)"), 4, 1)
    hemoglobin_g_l = measure(_("Hemoglobin (g/L)"), 5, 1)
    wbc_10e9_l = measure(_("WBC (10^9/L)"), 6, 2)
    anc_10e9_l = measure(_("ANC (10^9/L)"), 6, 2)
    platelets_10e9_l = measure(_("Platelets (10^9/L)"), 6, 1)
    triglycerides_mmol_l = measure(_("Triglycerides, fasting (mmol/L)"), 6, 2)
    fibrinogen_g_l = measure(_("Fibrinogen (g/L)"), 5, 2)
    hemophagocytosis = tri(_("Hemophagocytosis (bone marrow, spleen or lymph nodes), no malignancy"))
    nk_activity_pct = measure(_("NK-cell activity (%)"), 5, 2)
    ferritin_ug_l = measure(_("Ferritin (µg/L)"), 10, 1)
    scd25_value = measure(_("Soluble CD25"), 12, 1)
    scd25_unit = models.CharField(_("sCD25 unit"), max_length=6, choices=SCD25Unit.choices, blank=True)

    # Risk items (protocol section 5)
    cns_involvement = tri(_("CNS involvement"))
    serious_non_lab_manifestation = tri(
        _("Serious non-laboratory manifestation"), "Severe hepatosplenomegaly, active bleeding or icterus."
    )
    ifn_gamma_pg_ml = measure(_("IFN-gamma (pg/mL)"), 10, 1)
    alt_u_l = measure(_("ALT (U/L)"), 8, 1)

    # Exclusion data
    creatinine_umol_l = measure(_("Creatinine (µmol/L)"), 7, 1)
    creatinine_clearance_ml_min = measure(_("Creatinine clearance (mL/min)"), 6, 1)
    gfr_ml_min = measure(_("GFR (mL/min/1.73m²)"), 6, 1)
    cirrhosis = tri(_("Liver cirrhosis"))
    bilirubin_umol_l = measure(_("Total bilirubin (µmol/L)"), 7, 1)
    inr = measure(_("INR"), 5, 2)
    dialysis_twice_past_week = tri(_("Dialysis at least twice in the past week"))
    nyha_class = models.PositiveSmallIntegerField(
        _("Heart function (NYHA class)"),
        null=True,
        blank=True,
        choices=[(1, "I"), (2, "II"), (3, "III"), (4, "IV")],
        validators=[MinValueValidator(1), MaxValueValidator(4)],
    )
    malignancy = tri(_("Malignancy"))
    parasitic_infection = tri(_("Parasitic infection"))
    severe_allergy_history = tri(_("History of severe allergic, anaphylactic or hypersensitivity reactions"))

    # Corticosteroids before screening
    corticosteroids_received = tri(_("Corticosteroids received before screening"))
    corticosteroid_drug = models.CharField(_("Corticosteroid"), max_length=60, blank=True)
    corticosteroid_dose = models.CharField(_("Dose"), max_length=60, blank=True)
    corticosteroid_start_date = models.DateField(_("Started on"), null=True, blank=True)
    corticosteroid_stop_date = models.DateField(_("Stopped on"), null=True, blank=True)

    # Etiology (protocol section 4)
    ebv_dna_whole_blood = measure(_("EBV DNA, whole blood (copies/mL)"), 14, 0)
    ebv_dna_plasma = measure(_("EBV DNA, plasma (copies/mL)"), 14, 0)
    ebna_igg_positive = tri(_("EBNA-IgG positive"))
    vca_igg_positive = tri(_("VCA-IgG positive"))
    vca_igm_positive = tri(_("VCA-IgM positive"))
    caebv_diagnosis = tri(_("Chronic active EBV (clinician's diagnosis)"))
    aid_diagnosis = tri(
        _("Autoinflammatory picture (AID)"),
        "Recurrent fever, rash, IL-6 overproduction; no infection, tumour or specific antibody.",
    )
    wes_done = tri(_("Whole-exome sequencing done"))
    wes_pathogenic_variant = tri(_("Pathogenic primary-HLH variant found"))
    wes_detail = models.CharField(_("WES result"), max_length=200, blank=True)

    # Computed from the above by patients.rules.eligibility; the reasons are kept for display and audit.
    eligibility = models.CharField(max_length=12, choices=Eligibility.choices, default=Eligibility.INCOMPLETE)
    eligibility_detail = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)

    history = AuditedHistory(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-screening_date", "-id"]
        permissions = [("enroll_patient", "Can enroll an eligible child")]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True) | (Q(weight_kg__gt=0) & Q(weight_kg__lte=150)),
                name="screening_weight_plausible",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.screening_number} ({self.initials})"


class Patient(VersionedRecord):
    """An enrolled child: subject number, day 0, etiology, risk group and dose band."""

    class Status(models.TextChoices):
        ON_TREATMENT = "on_treatment", _("On treatment")
        FOLLOW_UP = "follow_up", _("Follow-up")
        OFF_STUDY = "off_study", _("Off study")

    class Etiology(models.TextChoices):
        EBV = "ebv", "EBV-HLH"
        AID = "aid", "AID-HLH"
        UNKNOWN = "unknown", _("Unknown etiology")
        UNDETERMINED = "undetermined", _("Undetermined: data missing")

    class EBVSubtype(models.TextChoices):
        FIRST_INFECTION = "first_infection", _("First infection")
        REACTIVATION = "reactivation", _("Reactivation")
        CAEBV = "caebv", _("Chronic active EBV")
        UNDETERMINED = "undetermined", _("Undetermined")
        NOT_APPLICABLE = "not_applicable", _("Not applicable")

    class RiskGroup(models.TextChoices):
        HIGH = "high", _("High risk")
        LOW = "low", _("Low risk")
        INDETERMINATE = "indeterminate", _("Indeterminate")

    screening = models.OneToOneField(Screening, on_delete=models.PROTECT, related_name="patient")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="patients")
    subject_number = models.CharField(max_length=20, unique=True, editable=False)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.ON_TREATMENT)
    enrollment_date = models.DateField()
    first_dose_date = models.DateField(_("Day 0 (first ruxolitinib dose)"))
    enrollment_weight_kg = models.DecimalField(_("Weight at enrollment (kg)"), max_digits=5, decimal_places=2)
    prescribed_dose_mg = models.DecimalField(_("Prescribed dose (mg, twice daily)"), max_digits=5, decimal_places=2)

    # Computed by the rules and refreshed by the recompute task when baseline data change.
    expected_dose_mg = models.DecimalField(max_digits=5, decimal_places=2)
    dose_band_label = models.CharField(max_length=60)
    dose_deviation = models.BooleanField(default=False)
    etiology = models.CharField(max_length=14, choices=Etiology.choices)
    ebv_subtype = models.CharField(max_length=16, choices=EBVSubtype.choices)
    risk_group = models.CharField(max_length=14, choices=RiskGroup.choices)
    derived_detail = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)

    history = AuditedHistory(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["subject_number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(enrollment_weight_kg__gt=0) & Q(enrollment_weight_kg__lte=150),
                name="patient_weight_plausible",
            ),
            models.CheckConstraint(condition=Q(prescribed_dose_mg__gt=0), name="patient_dose_positive"),
        ]

    def __str__(self) -> str:
        return self.subject_number


class DoseAdministration(VersionedRecord):
    """One scheduled ruxolitinib dose (protocol section 6): twice daily on treatment days 1-28.

    Treatment day 1 is day 0 of the schedule (the first dose).
    """

    class Slot(models.TextChoices):
        MORNING = "am", _("Morning")
        EVENING = "pm", _("Evening")

    class Status(models.TextChoices):
        GIVEN = "given", _("Given")
        MISSED = "missed", _("Missed")
        HELD = "held", _("Held")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="doses")
    treatment_day = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(60)])
    slot = models.CharField(max_length=2, choices=Slot.choices)
    status = models.CharField(max_length=6, choices=Status.choices)
    administered_at = models.DateTimeField(null=True, blank=True)
    amount_mg = models.DecimalField(_("Amount (mg)"), max_digits=5, decimal_places=2, null=True, blank=True)
    expected_mg = models.DecimalField(max_digits=5, decimal_places=2)
    deviation = models.BooleanField(default=False)
    # The rule's explanation (patients.rules.treatment.dose_check), kept for pages and audit.
    deviation_note = models.CharField(max_length=200, blank=True)
    reason = models.CharField(_("Reason (missed, held or different dose)"), max_length=200, blank=True)
    # Given less than the trial's minimum interval from another given dose, confirmed by the
    # person recording it (patients.rules.treatment.dose_interval_problem's explanation).
    short_interval = models.BooleanField(default=False)
    short_interval_note = models.CharField(max_length=300, blank=True)

    history = AuditedHistory(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["patient", "treatment_day", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "treatment_day", "slot"], name="dose_once_per_slot"),
            models.CheckConstraint(
                condition=~Q(status="given") | (Q(administered_at__isnull=False) & Q(amount_mg__gt=0)),
                name="dose_given_has_time_and_amount",
            ),
            models.CheckConstraint(
                condition=Q(status="given") | (~Q(reason="") & Q(amount_mg__isnull=True)),
                name="dose_not_given_has_reason_no_amount",
            ),
            models.CheckConstraint(condition=Q(treatment_day__gte=1), name="dose_treatment_day_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.patient} day {self.treatment_day} {self.slot}: {self.status}"


class TreatmentEnd(VersionedRecord):
    """End of ruxolitinib: completed 28 days, or discontinued with its reason (section 6)."""

    class Outcome(models.TextChoices):
        COMPLETED = "completed", _("Completed 28 days")
        DISCONTINUED = "discontinued", _("Discontinued")

    class Reason(models.TextChoices):
        NONE = "", "—"
        NO_RESPONSE_DAY3 = "no_response_day3", _("No response by day 3")
        PROGRESSION = "progression", _("Progression")
        RELAPSE = "relapse", _("Relapse")
        TOXICITY = "toxicity", _("Toxicity requiring discontinuation")
        CRITICALLY_ILL = "critically_ill", _("Critically ill (clinician's judgement)")
        CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")
        DEATH = "death", _("Death")
        OTHER = "other", _("Other")

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="treatment_end")
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    reason_detail = models.CharField(max_length=300, blank=True)
    last_dose_date = models.DateField()
    study_day = models.PositiveSmallIntegerField(help_text="Day of the last dose, day 0 being the first.")

    history = AuditedHistory(excluded_fields=["updated_at"])

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="completed", reason="") | (Q(outcome="discontinued") & ~Q(reason="")),
                name="treatment_end_reason_when_discontinued",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient}: {self.get_outcome_display()}"


class SubsequentTherapy(VersionedRecord):
    """Therapy after ruxolitinib stops, usually HLH-1994 (etoposide + dexamethasone +/- CsA)."""

    class Regimen(models.TextChoices):
        HLH_1994 = "hlh1994", "HLH-1994"
        OTHER = "other", _("Other")

    class Response(models.TextChoices):
        NONE = "", _("Not yet assessed")
        CR = "cr", _("Complete response")
        PR = "pr", _("Partial response")
        IMPROVEMENT = "improvement", _("HLH improvement")
        NR = "nr", _("No response")
        NOT_EVALUABLE = "not_evaluable", _("Not evaluable")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="subsequent_therapies")
    regimen = models.CharField(max_length=8, choices=Regimen.choices)
    etoposide = models.BooleanField(default=False)
    dexamethasone = models.BooleanField(default=False)
    cyclosporine = models.BooleanField(_("Cyclosporine A"), default=False)
    other_drugs = models.CharField(max_length=200, blank=True)
    start_date = models.DateField()
    response = models.CharField(max_length=14, choices=Response.choices, blank=True)
    outcome = models.CharField(max_length=300, blank=True)

    history = AuditedHistory(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["patient", "start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "regimen", "start_date"], name="subsequent_therapy_once_per_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient}: {self.get_regimen_display()} from {self.start_date}"


class FollowUp(VersionedRecord):
    """Status at a follow-up contact: alive, dead or lost, and whether HLH relapsed."""

    class VitalStatus(models.TextChoices):
        ALIVE = "alive", _("Alive")
        DEAD = "dead", _("Dead")
        LOST = "lost", _("Lost to follow-up")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="follow_ups")
    visit = models.OneToOneField(
        "assessments.Visit", on_delete=models.PROTECT, null=True, blank=True, related_name="follow_up"
    )
    assessed_on = models.DateField()
    vital_status = models.CharField(max_length=6, choices=VitalStatus.choices)
    hlh_relapse = models.BooleanField(_("HLH relapse"), null=True, blank=True)
    notes = models.CharField(max_length=300, blank=True)

    history = AuditedHistory(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["patient", "assessed_on"]
        constraints = [models.UniqueConstraint(fields=["patient", "assessed_on"], name="follow_up_once_per_day")]

    def __str__(self) -> str:
        return f"{self.patient} {self.assessed_on}: {self.get_vital_status_display()}"


class Death(VersionedRecord):
    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="death")
    date_of_death = models.DateField()
    cause = models.CharField(max_length=300)
    hlh_related = models.BooleanField(_("Related to HLH"), null=True, blank=True)

    history = AuditedHistory(excluded_fields=["updated_at"])

    def __str__(self) -> str:
        return f"{self.patient} died {self.date_of_death}"
