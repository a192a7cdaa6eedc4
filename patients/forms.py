"""Screening, enrollment, study drug and outcome forms: a paper CRF's sections, with the limits named on error."""

from datetime import datetime
from zoneinfo import ZoneInfo

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout, Submit
from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crf.catalogue import fields_of
from patients.models import Death, DoseAdministration, FollowUp, Patient, Screening, SubsequentTherapy, TreatmentEnd
from patients.rules.treatment import ScheduledDose, administration_time_check, dose_amount_problem
from trial.analytes import ANALYTES, SCD25_U_PER_ML_MAXIMUM
from trial.forms import CRFForm, ReasonForChangeMixin, date_input, radios, row
from trial.models import Site
from trial.rules.age import age_in_years
from trial.visit_names import visit_name
from trial.widgets import YesNoUnknownRadio

# Which catalogue entry (and so which physiological limit) each numeric field obeys.
FIELD_ANALYTE = {
    "weight_kg": "WEIGHT",
    "height_cm": "HEIGHT",
    "max_temperature_c": "TEMP",
    "spleen_cm": "SPLEEN",
    "hemoglobin_g_l": "HGB",
    "wbc_10e9_l": "WBC",
    "anc_10e9_l": "NEUT",
    "platelets_10e9_l": "PLAT",
    "triglycerides_mmol_l": "TRIG",
    "fibrinogen_g_l": "FIBRINO",
    "nk_activity_pct": "NKACT",
    "ferritin_ug_l": "FERRITIN",
    "ifn_gamma_pg_ml": "IFNG",
    "alt_u_l": "ALT",
    "creatinine_umol_l": "CREAT",
    "creatinine_clearance_ml_min": "CRCL",
    "gfr_ml_min": "GFR",
    "bilirubin_umol_l": "BILI",
    "inr": "INR",
    "ebv_dna_whole_blood": "EBVWB",
    "ebv_dna_plasma": "EBVPL",
}

MAX_AGE_YEARS = 18

# Everything a user enters, in CRF order (the form catalogue); the numbers, status and computed
# eligibility are the system's.
SCREENING_FIELDS = list(fields_of("patients.screening"))


class ScreeningForm(CRFForm):
    field_analytes = FIELD_ANALYTE

    class Meta:
        model = Screening
        fields = SCREENING_FIELDS

    def __init__(self, *args, site: Site | None = None, **kwargs):
        super().__init__(*args, site=site, **kwargs)
        self.fields["initials"].help_text = _("2 to 4 capital letters; no names are stored.")
        for name, label in (
            ("initials", _("Initials")),
            ("date_of_birth", _("Date of birth")),
            ("sex", _("Sex")),
            ("screening_date", _("Screening date")),
        ):
            self.fields[name].label = label
        self.fields["serious_non_lab_manifestation"].help_text = _(
            "Severe hepatosplenomegaly, active bleeding or icterus."
        )
        self.fields["aid_diagnosis"].help_text = _(
            "Recurrent fever, rash, IL-6 overproduction; no infection, tumour or specific antibody."
        )
        self.fields["weight_kg"].required = True
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                _("1. Demographics"),
                row("initials", "date_of_birth", "sex"),
                row("screening_date", "weight_kg", "height_cm"),
            ),
            Fieldset(
                _("2. Informed consent"),
                row("consent_date", "consent_signer_initials", "consent_relation"),
            ),
            Fieldset(_("3. Diagnosis"), radios("new_diagnosis", "prior_hlh_chemotherapy")),
            Fieldset(
                _("4. HLH-2004 diagnostic criteria"),
                radios("molecular_diagnosis", "splenomegaly"),
                row("max_temperature_c", "spleen_cm"),
                HTML(f'<p class="small text-muted mb-1">{_("Blood count")}</p>'),
                row("hemoglobin_g_l", "wbc_10e9_l", "anc_10e9_l", "platelets_10e9_l", width=3),
                row("triglycerides_mmol_l", "fibrinogen_g_l", "ferritin_ug_l"),
                row("scd25_value", "scd25_unit", "nk_activity_pct"),
                radios("hemophagocytosis"),
            ),
            Fieldset(
                _("5. Risk factors"),
                radios("cns_involvement", "serious_non_lab_manifestation"),
                row("ifn_gamma_pg_ml", "alt_u_l"),
            ),
            Fieldset(
                _("6. Kidney and liver"),
                row("creatinine_umol_l", "creatinine_clearance_ml_min", "gfr_ml_min"),
                radios("cirrhosis", "dialysis_twice_past_week"),
                row("bilirubin_umol_l", "inr"),
            ),
            Fieldset(
                _("7. Other exclusion criteria"),
                row("nyha_class"),
                radios("malignancy", "parasitic_infection"),
                radios("severe_allergy_history"),
            ),
            Fieldset(
                _("8. Corticosteroids before screening"),
                radios("corticosteroids_received"),
                row("corticosteroid_drug", "corticosteroid_dose"),
                row("corticosteroid_start_date", "corticosteroid_stop_date"),
            ),
            Fieldset(
                _("9. Etiology"),
                row("ebv_dna_whole_blood", "ebv_dna_plasma"),
                radios("ebna_igg_positive", "vca_igg_positive"),
                radios("vca_igm_positive", "caebv_diagnosis"),
                radios("aid_diagnosis", "wes_done"),
                radios("wes_pathogenic_variant"),
                row("wes_detail", width=12),
            ),
        )

    def clean_initials(self) -> str:
        return (self.cleaned_data.get("initials") or "").strip().upper()

    def clean_consent_signer_initials(self) -> str:
        return (self.cleaned_data.get("consent_signer_initials") or "").strip().upper()

    def clean(self):
        cleaned = super().clean()
        dob, screened = cleaned.get("date_of_birth"), cleaned.get("screening_date")
        if dob and screened:
            if dob > screened:
                self.add_error("date_of_birth", _("Date of birth must be on or before the screening date."))
            elif age_in_years(dob, screened) >= MAX_AGE_YEARS:
                self.add_error(
                    "date_of_birth",
                    _(
                        "Date of birth: the child is %(age)s years old at screening; "
                        "the trial screens children under %(limit)s years."
                    )
                    % {"age": age_in_years(dob, screened), "limit": MAX_AGE_YEARS},
                )
        consent = cleaned.get("consent_date")
        if consent:
            if dob and consent < dob:
                self.add_error("consent_date", _("Consent date cannot be before the date of birth."))
            if not cleaned.get("consent_signer_initials"):
                self.add_error("consent_signer_initials", _("Enter the initials of the person who signed the consent."))
            if not cleaned.get("consent_relation"):
                self.add_error("consent_relation", _("Enter the signer's relation to the child."))
        value, unit = cleaned.get("scd25_value"), cleaned.get("scd25_unit")
        if value is not None:
            if not unit:
                self.add_error("scd25_unit", _("Soluble CD25 unit: choose pg/mL or U/mL as reported by the lab."))
            elif unit == "U/mL" and float(value) > SCD25_U_PER_ML_MAXIMUM:
                self.add_error(
                    "scd25_value",
                    _("Soluble CD25 must be at most %(limit)s U/mL.") % {"limit": f"{SCD25_U_PER_ML_MAXIMUM:g}"},
                )
            elif unit == "pg/mL":
                self.analyte_check("scd25_value", ANALYTES["SCD25"])
        start, stop = cleaned.get("corticosteroid_start_date"), cleaned.get("corticosteroid_stop_date")
        if start and stop and stop < start:
            self.add_error("corticosteroid_stop_date", _("Corticosteroid stop date cannot be before its start date."))
        if cleaned.get("corticosteroids_received") is True and not cleaned.get("corticosteroid_drug"):
            self.add_error("corticosteroid_drug", _("Name the corticosteroid that was given."))
        return cleaned


class ScreeningEditForm(ScreeningForm, ReasonForChangeMixin):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["version"] = self.instance.version
        self.helper.layout.append(Fieldset(_("Reason for change"), row("reason_for_change", width=12), "version"))


class EnrollmentForm(forms.Form):
    """The enrollment's values as typed. Their limits (window, weight, dose) are checked by
    patient_enroll for every door (patients.rules.enrollment); this page shows its field errors."""

    enrollment_date = forms.DateField(label=gettext_lazy("Enrollment date"), widget=date_input())
    first_dose_date = forms.DateField(label=gettext_lazy("Day 0: first ruxolitinib dose"), widget=date_input())
    enrollment_weight_kg = forms.DecimalField(
        label=gettext_lazy("Weight at enrollment (kg)"), max_digits=5, decimal_places=2
    )
    prescribed_dose_mg = forms.DecimalField(
        label=gettext_lazy("Prescribed dose (mg, twice daily)"),
        max_digits=5,
        decimal_places=2,
        help_text=gettext_lazy("A dose other than the weight band's is saved and flagged as a protocol deviation."),
    )
    confirm = forms.BooleanField(label=gettext_lazy("I confirm the child is eligible and consent is on file."))

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and "weight_kg" in data and "enrollment_weight_kg" not in data:
            data = data.copy()  # a page or script posting the weight by its former name is read the same
            data["enrollment_weight_kg"] = data["weight_kg"]
        super().__init__(data, *args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            row("enrollment_date", "first_dose_date"),
            row("enrollment_weight_kg", "prescribed_dose_mg"),
            "confirm",
            Submit("enroll", _("Enroll"), css_class="btn-success"),
        )


# Study drug, end of treatment, subsequent therapy, follow-up and death (protocol sections 6 and 11).
# The forms check what a user can correct on the spot; the services check everything again
# and their ValidationError is shown on the same form.


def _status_word(status: str) -> str:
    """A dose status as a word of a sentence: "missed", "held"."""
    return str(DoseAdministration.Status(status).label).lower()


class DoseForm(forms.Form):
    """One scheduled dose: given (time and amount), missed or held (reason)."""

    status = forms.ChoiceField(
        label=gettext_lazy("Status"), choices=DoseAdministration.Status.choices, widget=forms.RadioSelect
    )
    administered_date = forms.DateField(label=gettext_lazy("Date given"), required=False, widget=date_input())
    administered_time = forms.TimeField(
        label=gettext_lazy("Time given (site time)"),
        required=False,
        # Typed as 24-hour HH:MM in every language (the browser's time control shows 08:00 AM in
        # an American browser).
        widget=forms.TimeInput(
            attrs={"placeholder": "HH:MM", "inputmode": "numeric", "autocomplete": "off", "maxlength": 5},
            format="%H:%M",
        ),
    )
    amount_mg = forms.DecimalField(label=gettext_lazy("Amount (mg)"), max_digits=5, decimal_places=2, required=False)
    reason = forms.CharField(
        label=gettext_lazy("Reason (missed, held or a different dose)"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Required for a missed or held dose."),
    )
    # What the user saw of the slot: "empty" on a new dose's form; a stale submit changes nothing.
    seen = forms.CharField(widget=forms.HiddenInput, required=False, initial="empty")
    # Shown with the short-interval refusal only (patients.services.treatment.DOSE_INTERVAL_SHORT).
    confirm_short_interval = forms.BooleanField(required=False)

    def __init__(self, *args, patient: Patient, scheduled: ScheduledDose, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        self.scheduled = scheduled
        self.fields["amount_mg"].widget.attrs.update({"inputmode": "decimal", "step": "any"})
        self.fields["amount_mg"].help_text = _(
            "The weight band's dose is %(dose)s mg; any other amount is saved and flagged as a protocol deviation."
        ) % {"dose": f"{patient.expected_dose_mg.normalize():f}"}
        hours = patient.site.trial.min_dose_interval_hours
        self.fields["confirm_short_interval"].label = _(
            "Confirm the short interval: this dose was given less than %(hours)s h from another dose "
            "(it is saved, flagged and queried)"
        ) % {"hours": hours}
        self.asks_interval_confirmation = bool(self.data.get("confirm_short_interval"))
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Div(InlineRadios("status"), css_class="mb-2"),
            Div(row("administered_date", "administered_time", "amount_mg"), css_id="given-fields"),
            row("reason", width=12),
            "seen",
        )

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("status")
        zone = ZoneInfo(self.patient.site.time_zone)
        day, at, amount = cleaned.get("administered_date"), cleaned.get("administered_time"), cleaned.get("amount_mg")
        cleaned["administered_at"] = None
        if status == DoseAdministration.Status.GIVEN:
            if day is None:
                self.add_error("administered_date", _("Enter the date the dose was given."))
            if at is None:
                self.add_error("administered_time", _("Enter the time the dose was given."))
            problem = dose_amount_problem(None if amount is None else float(amount))
            if problem and "amount_mg" not in self.errors:
                self.add_error("amount_mg", problem)
            if day is not None and at is not None:
                local = datetime.combine(day, at)
                timing = administration_time_check(scheduled=self.scheduled, administered_local=local)
                if not timing.on_schedule:
                    self.add_error("administered_time", timing.explanation)
                else:
                    cleaned["administered_at"] = local.replace(tzinfo=zone)
        elif status:
            if not (cleaned.get("reason") or "").strip():
                self.add_error("reason", _("A %(status)s dose needs its reason.") % {"status": _status_word(status)})
            for name in ("administered_time", "amount_mg"):
                if cleaned.get(name) is not None:
                    self.add_error(
                        name,
                        _("A %(status)s dose has no %(field)s; leave it empty.")
                        % {"status": _status_word(status), "field": str(self.fields[name].label).lower()},
                    )
        return cleaned


class DoseEditForm(DoseForm, ReasonForChangeMixin):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seen"].initial = self.initial.get("version")
        self.helper.layout.append(Fieldset(_("Reason for change"), row("reason_for_change", width=12), "version"))


class TreatmentEndForm(CRFForm):
    class Meta:
        model = TreatmentEnd
        fields = ["outcome", "last_dose_date", "reason", "reason_detail"]
        widgets = {"outcome": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = TreatmentEnd.Outcome.choices  # no blank radio
        self.fields["outcome"].label = _("Outcome")
        self.fields["last_dose_date"].label = _("Last dose date")
        self.fields["reason"].label = _("Reason for discontinuation")
        self.fields["reason"].help_text = _("Protocol section 6; only for a discontinuation.")
        self.fields["reason_detail"].label = _("Detail")
        self.fields["reason_detail"].help_text = _("Required when the reason is 'Other'.")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Div(InlineRadios("outcome"), css_class="mb-2"),
            row("last_dose_date", "reason", "reason_detail"),
        )

    def clean(self):
        cleaned = super().clean()
        outcome, reason = cleaned.get("outcome"), cleaned.get("reason")
        if outcome == TreatmentEnd.Outcome.COMPLETED and reason:
            self.add_error("reason", _("A completed course has no discontinuation reason; leave it empty."))
        if outcome == TreatmentEnd.Outcome.DISCONTINUED and not reason:
            self.add_error("reason", _("A discontinuation needs its reason (protocol section 6)."))
        return cleaned


class TreatmentEndEditForm(TreatmentEndForm, ReasonForChangeMixin):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["version"] = self.instance.version
        self.helper.layout.append(Fieldset(_("Reason for change"), row("reason_for_change", width=12), "version"))


class SubsequentTherapyForm(CRFForm):
    class Meta:
        model = SubsequentTherapy
        fields = [
            "regimen",
            "start_date",
            "etoposide",
            "dexamethasone",
            "cyclosporine",
            "other_drugs",
            "response",
            "outcome",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["regimen"].help_text = _("HLH-1994: etoposide + dexamethasone (+/- cyclosporine A).")
        for name, label in (
            ("regimen", _("Regimen")),
            ("start_date", _("Start date")),
            ("etoposide", _("Etoposide")),
            ("dexamethasone", _("Dexamethasone")),
            ("other_drugs", _("Other drugs")),
            ("response", _("Response")),
            ("outcome", _("Outcome")),
        ):
            self.fields[name].label = label
        self.fields["outcome"].widget = forms.Textarea(attrs={"rows": 2})
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            row("regimen", "start_date"),
            Div(
                Div("etoposide", css_class="col-md-3"),
                Div("dexamethasone", css_class="col-md-3"),
                Div("cyclosporine", css_class="col-md-3"),
                css_class="row",
            ),
            row("other_drugs", width=12),
            row("response", width=6),
            row("outcome", width=12),
        )


class SubsequentTherapyEditForm(SubsequentTherapyForm, ReasonForChangeMixin):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["version"] = self.instance.version
        self.helper.layout.append(Fieldset(_("Reason for change"), row("reason_for_change", width=12), "version"))


class FollowUpForm(CRFForm):
    """A follow-up contact; for a death not yet recorded, its date and cause are entered here."""

    date_of_death = forms.DateField(label=gettext_lazy("Date of death"), required=False, widget=date_input())
    death_cause = forms.CharField(label=gettext_lazy("Cause of death"), max_length=300, required=False)
    death_hlh_related = forms.NullBooleanField(
        label=gettext_lazy("Death related to HLH"), required=False, widget=YesNoUnknownRadio
    )

    class Meta:
        model = FollowUp
        fields = ["assessed_on", "vital_status", "visit", "hlh_relapse", "notes"]
        widgets = {"vital_status": forms.RadioSelect}

    def __init__(self, *args, patient: Patient, **kwargs):
        super().__init__(*args, site=patient.site, **kwargs)
        self.patient = patient
        self.death_known = hasattr(patient, "death")
        self.fields["assessed_on"].label = _("Date of contact")
        self.fields["visit"].label = _("Visit")
        self.fields["vital_status"].label = _("Vital status")
        self.fields["notes"].label = _("Notes")
        self.fields["vital_status"].choices = FollowUp.VitalStatus.choices  # no blank radio
        self.fields["visit"].queryset = patient.visits.filter(follow_up__isnull=True)
        self.fields["visit"].required = False
        self.fields["visit"].label_from_instance = lambda visit: f"{visit.patient} – {visit_name(visit.name)}"
        self.fields["visit"].help_text = _("The scheduled follow-up visit this contact belongs to, if any.")
        death_fields = (
            HTML(
                '<p class="small text-muted mb-1">{}</p>'.format(
                    _("Death already recorded on %(date)s.") % {"date": patient.death.date_of_death}
                )
            )
            if self.death_known
            else Div(
                row("date_of_death", "death_cause"),
                Div(InlineRadios("death_hlh_related"), css_class="mb-2"),
            )
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            row("assessed_on", "visit"),
            Div(InlineRadios("vital_status"), css_class="mb-2"),
            Fieldset(_("If dead"), death_fields, css_id="death-fields"),
            radios("hlh_relapse"),
            row("notes", width=12),
        )

    def clean(self):
        cleaned = super().clean()
        dead = cleaned.get("vital_status") == FollowUp.VitalStatus.DEAD
        if dead and not self.death_known:
            if cleaned.get("date_of_death") is None and "date_of_death" not in self.errors:
                self.add_error("date_of_death", _("Enter the date of death."))
            if not (cleaned.get("death_cause") or "").strip():
                self.add_error("death_cause", _("Enter the cause of death."))
        if not dead and (cleaned.get("date_of_death") or (cleaned.get("death_cause") or "").strip()):
            self.add_error("date_of_death", _("Date and cause of death go with the vital status 'Dead'."))
        return cleaned


class DeathForm(CRFForm):
    class Meta:
        model = Death
        fields = ["date_of_death", "cause", "hlh_related"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date_of_death"].label = _("Date of death")
        self.fields["cause"].label = _("Cause")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(row("date_of_death", "cause", width=6), radios("hlh_related"))


class DeathEditForm(DeathForm, ReasonForChangeMixin):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["version"] = self.instance.version
        self.helper.layout.append(Fieldset(_("Reason for change"), row("reason_for_change", width=12), "version"))
