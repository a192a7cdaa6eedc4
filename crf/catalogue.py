"""The catalogue of case report forms: each form of the trial declared once.

Signatures, source data verification, locks, the casebook's data version and the tests that
walk every form read this tuple; nothing keeps its own list of forms. A form is named by its
model label (app.model) so the catalogue imports no feature app: models are resolved lazily.

Each entry says how a record of the form belongs to a patient and a visit:
- `patient_field`: the model's column holding the patient id (None: the form is the patient's
  screening, found through the patient row);
- `visit_field`: the column holding the visit id, when a record belongs to one visit;
- `day`: how to place a record without a visit on the patient's calendar (a G-CSF dose on a
  day, a study-drug dose, an adverse event's onset), so a lock of the visit whose window holds
  that day covers it;
- `part_of`: (form, column) for a record that is part of another form (a lab value of its panel).

And what a user enters on it: `sections`, (title, field names) in the paper CRF's order. The
page's form, the API's serializers, the JSON and CSV import, the casebook and the exports all
take a form's fields from here (`fields`); a lab panel's analytes are trial.analytes'.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from django.apps import apps
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import get_language, gettext_noop, pgettext_lazy

from crf.field_names import field_name
from trial.analytes import ANALYTES


@dataclass(frozen=True)
class CaseReportForm:
    label: str  # the model label, app.model
    title: str  # as a reader names the form (translated where it is shown)
    patient_field: str | None = "patient_id"
    visit_field: str | None = None
    day: Callable[[models.Model], date | None] | None = None
    day_sql: str | None = None  # the same day as SQL over the form's table (alias "r"), for bulk reads
    part_of: tuple[str, str] | None = None
    page: Callable[[models.Model], str] | None = None  # the page that shows a record of the form
    printed: bool = True  # in the casebook
    signed: bool = True  # covered by the investigator's casebook signature
    lockable: bool = True  # a data manager can freeze or lock it on its own
    verified: bool = True  # source data verification applies (it has a version)
    queryable: bool = True  # a monitor or data manager can raise a query on it
    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()  # what a user enters, by section

    @property
    def fields(self) -> tuple[str, ...]:
        """The form's entered fields in CRF order (the system's computed columns are not among them)."""
        return tuple(name for _, names in self.sections for name in names)

    # Fields of the form that are rows of another model (a panel's lab values): (name, label).
    part_fields: Callable[[], tuple[tuple[str, str], ...]] | None = None

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.label)

    @property
    def labelled_fields(self) -> tuple[tuple[str, str], ...]:
        """Every field a query can name, as (name, label as on the form): the model's entered
        columns, named by their verbose_name, then the values held in rows of their own (`part_fields`)."""
        own = tuple(
            (field.name, str(field.verbose_name)[:1].upper() + str(field.verbose_name)[1:])
            for field in self.model._meta.concrete_fields
            if _entered(field)
        )
        return own + (self.part_fields() if self.part_fields is not None else ())

    def field_label(self, name: str) -> str:
        """A field's label as on the form (the name itself for a field the form does not have)."""
        return field_labels(self.label).get(name, name)

    @property
    def history_model(self) -> type[models.Model]:
        return self.model.history.model


# Columns that say whose record it is or who saved it when, not what was entered.
_OWNER_COLUMNS = frozenset({"patient", "visit", "site", "screening", "panel"})


def _entered(field) -> bool:
    if field.primary_key or not field.editable or field.name in _OWNER_COLUMNS:
        return False
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return False
    if isinstance(field, models.JSONField):
        return False
    related = field.related_model if field.is_relation else None
    return related is None or related._meta.label != settings.AUTH_USER_MODEL


def _lab_values() -> tuple[tuple[str, str], ...]:
    return tuple((analyte.code, analyte.label) for analyte in ANALYTES.values())


def _dose_day(record) -> date | None:
    patient = record.patient
    if patient.first_dose_date is None or record.treatment_day is None:
        return None
    return patient.first_dose_date + timedelta(days=record.treatment_day - 1)


def _page(name: str, arg: str = "patient_id", anchor: str = ""):
    def url(record) -> str:
        return reverse(name, args=[getattr(record, arg)]) + (anchor.format(record=record) if anchor else "")

    return url


SCREENING_SECTIONS = (
    (gettext_noop("Demographics"), ("initials", "date_of_birth", "sex", "screening_date", "weight_kg", "height_cm")),
    (gettext_noop("Informed consent"), ("consent_date", "consent_signer_initials", "consent_relation")),
    (gettext_noop("Diagnosis"), ("new_diagnosis", "prior_hlh_chemotherapy", "molecular_diagnosis")),
    (
        gettext_noop("HLH-2004 findings"),
        (
            "max_temperature_c",
            "splenomegaly",
            "spleen_cm",
            "hemoglobin_g_l",
            "wbc_10e9_l",
            "anc_10e9_l",
            "platelets_10e9_l",
            "triglycerides_mmol_l",
            "fibrinogen_g_l",
            "hemophagocytosis",
            "nk_activity_pct",
            "ferritin_ug_l",
            "scd25_value",
            "scd25_unit",
        ),
    ),
    (gettext_noop("Risk items"), ("cns_involvement", "serious_non_lab_manifestation", "ifn_gamma_pg_ml", "alt_u_l")),
    (
        gettext_noop("Kidney, liver and other exclusions"),
        (
            "creatinine_umol_l",
            "creatinine_clearance_ml_min",
            "gfr_ml_min",
            "cirrhosis",
            "bilirubin_umol_l",
            "inr",
            "dialysis_twice_past_week",
            "nyha_class",
            "malignancy",
            "parasitic_infection",
            "severe_allergy_history",
        ),
    ),
    (
        gettext_noop("Corticosteroids"),
        (
            "corticosteroids_received",
            "corticosteroid_drug",
            "corticosteroid_dose",
            "corticosteroid_start_date",
            "corticosteroid_stop_date",
        ),
    ),
    (
        gettext_noop("Etiology"),
        (
            "ebv_dna_whole_blood",
            "ebv_dna_plasma",
            "ebna_igg_positive",
            "vca_igg_positive",
            "vca_igm_positive",
            "caebv_diagnosis",
            "aid_diagnosis",
            "wes_done",
            "wes_pathogenic_variant",
            "wes_detail",
        ),
    ),
)
# Besides the analytes of protocol section 8 (trial.analytes), a panel records these; a section
# named as an analyte group is shown with that group's values.
LAB_PANEL_SECTIONS = (
    (gettext_noop("Spleen and CNS"), ("cns_symptoms", "csf_result", "mri_result")),
    (gettext_noop("Heart"), ("ecg_result", "echo_result")),
    (gettext_noop("Infection / EBV"), ("cmv", "adenovirus", "tuberculosis", "herpes_zoster", "pneumocystis", "fungal")),
    (gettext_noop("Notes"), ("notes",)),
)
ADVERSE_EVENT_SECTIONS = (
    (gettext_noop("Event"), ("term", "other_specify", "grade", "onset_date", "resolution_date")),
    (
        gettext_noop("Seriousness"),
        (
            "serious",
            "sae_death",
            "sae_life_threatening",
            "sae_hospitalisation",
            "sae_disability",
            "sae_congenital_anomaly",
            "sae_other_important",
        ),
    ),
    (gettext_noop("Attribution and outcome"), ("relationship", "action_taken", "outcome", "description")),
)

# The casebook's order. Every clinical form is here once.
FORMS: tuple[CaseReportForm, ...] = (
    CaseReportForm(
        "patients.screening",
        pgettext_lazy("form title", "Screening"),
        patient_field=None,
        page=_page("screening_detail", "pk"),
        sections=SCREENING_SECTIONS,
    ),
    CaseReportForm(
        "patients.patient",
        pgettext_lazy("form title", "Enrollment"),
        patient_field="id",
        page=_page("patient_overview", "pk"),
        sections=(
            ("Enrollment", ("enrollment_date", "first_dose_date", "enrollment_weight_kg", "prescribed_dose_mg")),
        ),
    ),
    CaseReportForm(
        "assessments.visit",
        pgettext_lazy("form title", "Visit"),
        visit_field="id",
        page=_page("visit_calendar"),
        sections=(("Visit", ("visit_date", "reason", "not_done", "not_done_reason")),),
    ),
    CaseReportForm(
        "assessments.labpanel",
        pgettext_lazy("form title", "Lab panel"),
        visit_field="visit_id",
        page=_page("lab_panel_edit", "visit_id"),
        sections=LAB_PANEL_SECTIONS,
        part_fields=_lab_values,
    ),
    CaseReportForm(
        "assessments.labresult",
        pgettext_lazy("form title", "Lab value"),
        part_of=("assessments.labpanel", "panel_id"),
        page=lambda r: reverse("lab_panel_edit", args=[r.panel.visit_id]),
        lockable=False,
        verified=False,
        queryable=False,  # a query names the panel and the field
    ),
    CaseReportForm(
        "assessments.supportivecare",
        pgettext_lazy("form title", "G-CSF or transfusion"),
        day=lambda r: r.given_on,
        day_sql="r.given_on",
        page=_page("supportive_care"),
        sections=(("G-CSF or transfusion", ("kind", "product", "given_on", "detail")),),
    ),
    CaseReportForm(
        "patients.doseadministration",
        pgettext_lazy("form title", "Study drug dose"),
        day=_dose_day,
        day_sql="(SELECT p.first_dose_date FROM patients_patient p WHERE p.id = r.patient_id) + (r.treatment_day - 1)",
        page=_page("dose_log", anchor="#day-{record.treatment_day}"),
        sections=(("Dose", ("treatment_day", "slot", "status", "administered_at", "amount_mg", "reason")),),
    ),
    CaseReportForm(
        "assessments.adverseevent",
        pgettext_lazy("form title", "Adverse event"),
        day=lambda r: r.onset_date,
        day_sql="r.onset_date",
        page=_page("ae_list", anchor="#ae-{record.pk}"),
        sections=ADVERSE_EVENT_SECTIONS,
    ),
    CaseReportForm(
        "assessments.labaesuggestion",
        pgettext_lazy("form title", "Lab-based adverse event suggestion"),
        page=_page("ae_list"),
        printed=False,
        signed=False,
        verified=False,
        queryable=False,
    ),
    CaseReportForm(
        "assessments.responseassessment",
        pgettext_lazy("form title", "Response assessment"),
        visit_field="visit_id",
        page=_page("patient_responses", anchor="#assessment-day-{record.study_day}"),
        # Computed by the response engine; the investigator enters only the confirmation.
        sections=(("Investigator's confirmation", ("confirmed_status", "confirmation_reason")),),
    ),
    CaseReportForm(
        "patients.treatmentend",
        pgettext_lazy("form title", "End of treatment"),
        page=_page("treatment_summary"),
        sections=(("End of treatment", ("outcome", "reason", "reason_detail", "last_dose_date")),),
    ),
    CaseReportForm(
        "patients.subsequenttherapy",
        pgettext_lazy("form title", "Subsequent therapy"),
        page=_page("treatment_summary"),
        sections=(
            (
                "Subsequent therapy",
                (
                    "regimen",
                    "start_date",
                    "etoposide",
                    "dexamethasone",
                    "cyclosporine",
                    "other_drugs",
                    "response",
                    "outcome",
                ),
            ),
        ),
    ),
    CaseReportForm(
        "patients.followup",
        pgettext_lazy("form title", "Follow-up"),
        visit_field="visit_id",
        page=_page("treatment_summary"),
        sections=(("Follow-up", ("assessed_on", "vital_status", "hlh_relapse", "notes")),),
    ),
    CaseReportForm(
        "patients.death",
        pgettext_lazy("form title", "Death"),
        page=_page("treatment_summary"),
        sections=(("Death", ("date_of_death", "cause", "hlh_related")),),
    ),
)

BY_LABEL: dict[str, CaseReportForm] = {form.label: form for form in FORMS}


def field_labels(label: str) -> dict[str, str]:
    """The fields a query can name on a catalogued form, with their labels (none for another label)."""
    return _field_labels(label, get_language())


@cache
def _field_labels(label: str, language: str | None) -> dict[str, str]:
    """field_labels in one language: the labels are read once per form and language."""
    form = BY_LABEL.get(label)
    return {name: field_name(text) for name, text in form.labelled_fields} if form is not None else {}


def form_of(record_or_label) -> CaseReportForm | None:
    label = record_or_label if isinstance(record_or_label, str) else record_or_label._meta.label_lower
    return BY_LABEL.get(label)


def fields_of(label: str) -> tuple[str, ...]:
    """The entered fields of a catalogued form, in CRF order."""
    return BY_LABEL[label].fields


def sections_of(label: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return BY_LABEL[label].sections


def signed_forms() -> tuple[CaseReportForm, ...]:
    return tuple(form for form in FORMS if form.signed)


def printed_forms() -> tuple[CaseReportForm, ...]:
    return tuple(form for form in FORMS if form.printed)


def lockable_labels() -> frozenset[str]:
    return frozenset(form.label for form in FORMS if form.lockable)


def queryable_labels() -> frozenset[str]:
    return frozenset(form.label for form in FORMS if form.queryable)


def page_of(record) -> str:
    """The page showing a record of a catalogued form (its patient's overview for anything else)."""
    form = form_of(record)
    if form is not None and form.page is not None:
        return form.page(record)
    patient_id = patient_id_of(record)
    return reverse("patient_overview", args=[patient_id]) if patient_id else reverse("subject_list")


def target_of(record) -> str:
    """The form a record is, as app.model:id (blank for a record not saved yet)."""
    return f"{record._meta.label_lower}:{record.pk}" if record.pk else ""


def patient_id_of(record) -> int | None:
    """The patient a record of any catalogued form belongs to (None for a screening not enrolled)."""
    form = form_of(record)
    if form is None:
        return getattr(record, "patient_id", None)
    if form.patient_field is None:  # the screening: its patient row points to it
        if record.pk is None:
            return None
        Patient = apps.get_model("patients.patient")
        return Patient.objects.filter(screening_id=record.pk).values_list("id", flat=True).first()
    if form.patient_field == "id":
        return record.pk
    return getattr(record, form.patient_field, None)


def visit_id_of(record) -> int | None:
    form = form_of(record)
    if form is None or form.visit_field is None:
        return getattr(record, "visit_id", None)
    return record.pk if form.visit_field == "id" else getattr(record, form.visit_field, None)


def day_of(record) -> date | None:
    """The calendar day of a record that belongs to no visit (None when it has none)."""
    form = form_of(record)
    if form is None or form.day is None:
        return None
    return form.day(record)


def covering_targets(record) -> list[str]:
    """The record's own target and those of the forms it is part of (a lab value: its panel)."""
    targets = [t for t in [target_of(record)] if t]
    form = form_of(record)
    if form is not None and form.part_of is not None:
        parent_label, column = form.part_of
        parent_id = getattr(record, column, None)
        if parent_id:
            targets.append(f"{parent_label}:{parent_id}")
    return targets
