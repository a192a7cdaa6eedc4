"""What the API returns, and what it accepts.

The write serializers (…WriteSerializer, EnrollSerializer) are the forms' input adapters: their
fields are the OpenAPI schema of a request body, and `clean()` / `is_valid()` check a body with
the form's adapter in api/inputs.py (the page's own form where the form has a page). The API,
the JSON import and the CSV import call the same class, so they accept and refuse alike.
"""

from rest_framework import serializers

from api import inputs
from api.inputs import FormInput
from api.models import ImportJob
from assessments.forms.labs import SupportiveCareForm
from assessments.models import AdverseEvent, LabPanel, LabResult, ResponseAssessment, SupportiveCare, Visit
from assessments.models.labs import MISSING_REASON_MAX_LENGTH, MissingCode
from assessments.services.adverse_events import AE_FIELDS
from assessments.services.labs import RESULT_FIELDS
from crf.catalogue import fields_of
from crf.models import DataQuery, QueryMessage
from patients.forms import SCREENING_FIELDS, DeathForm, SubsequentTherapyForm
from patients.models import (
    Death,
    DoseAdministration,
    FollowUp,
    Patient,
    Screening,
    SubsequentTherapy,
    TreatmentEnd,
)
from trial.models import Site

AUDIT = ("version", "created_at", "updated_at")


class RecordSerializer(serializers.ModelSerializer):
    """A record as the API returns it: a read-only field keeps the model field's blank and null.

    DRF drops allow_blank from read-only fields, so the schema listed a blank choice ("" for a
    consent relation or an sCD25 unit not entered, a response not recomputed) as impossible.
    """

    def include_extra_kwargs(self, kwargs, extra_kwargs):
        kept = {name: kwargs[name] for name in ("allow_blank", "allow_null") if name in kwargs}
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        return {**kwargs, **kept} if kwargs.get("read_only") else kwargs


class SiteSerializer(RecordSerializer):
    class Meta:
        model = Site
        fields = ("id", "code", "name", "time_zone")


class ScreeningSerializer(RecordSerializer):
    site = serializers.SlugRelatedField(slug_field="code", read_only=True)
    patient_id = serializers.SerializerMethodField()

    class Meta:
        model = Screening
        fields = (
            "id",
            "site",
            "screening_number",
            "status",
            *SCREENING_FIELDS,
            "eligibility",
            "eligibility_detail",
            "computed_at",
            "patient_id",
            *AUDIT,
        )
        read_only_fields = fields

    def get_patient_id(self, obj) -> int | None:
        patient = getattr(obj, "patient", None) if hasattr(obj, "patient") else None
        return patient.pk if patient is not None else None


class ScreeningWriteSerializer(FormInput, RecordSerializer):
    """Body of POST /screenings/ (site required) and PATCH /screenings/{id}/ (version and reason required).

    clean(payload, site=...) for a new screening; clean(payload, screening=..., version=...) for a
    change, answering {"data", "expected_version", "reason_for_change"}."""

    accepted = frozenset({*SCREENING_FIELDS, "version", "reason_for_change"})
    envelope = frozenset({"site"})

    site = serializers.CharField(required=False, help_text="Site code, e.g. BCH (POST only).")
    version = serializers.IntegerField(required=False, help_text="PATCH: the version you loaded (or If-Match).")
    reason_for_change = serializers.CharField(required=False, help_text="PATCH: kept in the audit trail.")

    class Meta:
        model = Screening
        fields = ("site", *SCREENING_FIELDS, "version", "reason_for_change")
        extra_kwargs = {name: {"required": False} for name in SCREENING_FIELDS}

    def adapt(self, payload):
        if "screening" not in self.context:
            return inputs.screening_clean(site=self.context["site"], payload=payload)
        data, version, reason = inputs.screening_change_clean(
            screening=self.context["screening"], payload=payload, version=self.context.get("version")
        )
        return {"data": data, "expected_version": version, "reason_for_change": reason}


class EnrollSerializer(FormInput, serializers.Serializer):
    """clean(payload, screening=...): the enrollment as patient_enroll takes it."""

    accepted = frozenset({*inputs.ENROLL_FIELDS, *inputs.FORMER_ENROLL_NAMES})

    enrollment_date = serializers.DateField()
    first_dose_date = serializers.DateField(help_text="Day 0: the first ruxolitinib dose.")
    enrollment_weight_kg = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="Weight at enrollment.")
    weight_kg = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, help_text="Former name of enrollment_weight_kg (deprecated)."
    )
    prescribed_dose_mg = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="mg twice daily.")

    def adapt(self, payload):
        return inputs.enrollment_clean(screening=self.context["screening"], payload=payload)


class PatientSerializer(RecordSerializer):
    site = serializers.SlugRelatedField(slug_field="code", read_only=True)
    screening_number = serializers.CharField(source="screening.screening_number", read_only=True)
    initials = serializers.CharField(source="screening.initials", read_only=True)

    class Meta:
        model = Patient
        fields = (
            "id",
            "site",
            "subject_number",
            "screening",
            "screening_number",
            "initials",
            "status",
            "enrollment_date",
            "first_dose_date",
            "enrollment_weight_kg",
            "prescribed_dose_mg",
            "expected_dose_mg",
            "dose_band_label",
            "dose_deviation",
            "etiology",
            "ebv_subtype",
            "risk_group",
            "derived_detail",
            "computed_at",
            *AUDIT,
        )
        read_only_fields = fields


class VisitSerializer(RecordSerializer):
    code = serializers.CharField(
        source="definition.code", read_only=True, default=None, allow_null=True, help_text="null: unscheduled."
    )
    has_lab_panel = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = (
            "id",
            "patient",
            "code",
            "name",
            "planned_day",
            "planned_date",
            "window_start",
            "window_end",
            "visit_date",
            "unscheduled",
            "reason",
            "out_of_window",
            "window_note",
            "not_done",
            "not_done_reason",
            "has_lab_panel",
            *AUDIT,
        )
        read_only_fields = fields

    def get_has_lab_panel(self, obj) -> bool:
        return hasattr(obj, "lab_panel")


class LabResultSerializer(RecordSerializer):
    class Meta:
        model = LabResult
        fields = ("analyte", *RESULT_FIELDS)
        read_only_fields = fields


class LabPanelSerializer(RecordSerializer):
    results = LabResultSerializer(many=True, read_only=True)

    class Meta:
        model = LabPanel
        fields = (
            "id",
            "patient",
            "visit",
            "sampled_at",
            *fields_of("assessments.labpanel"),
            "results",
            *AUDIT,
        )
        read_only_fields = fields


class LabValueInputSerializer(serializers.Serializer):
    """One value: a number, or (instead of the number) a missing-data code with its reason."""

    analyte = serializers.CharField(help_text="Code from GET /analytes/, e.g. TEMP, NEUT, PLAT, FERRITIN.")
    value = serializers.DecimalField(
        max_digits=16, decimal_places=4, required=False, allow_null=True, help_text="Absent when `missing` is given."
    )
    unit = serializers.CharField(required=False, help_text="Defaults to the analyte's unit.")
    sampled_at = serializers.DateTimeField(required=False, help_text="Defaults to the panel's sampled_at.")
    missing = serializers.ChoiceField(
        choices=MissingCode.choices,
        required=False,
        help_text="Instead of a value: why there is none (not_done, not_applicable, unknown, sample_lost).",
    )
    missing_reason = serializers.CharField(
        required=False, max_length=MISSING_REASON_MAX_LENGTH, help_text="Required with `missing`: free text."
    )


PANEL_FIELDS = fields_of("assessments.labpanel")


class LabPanelWriteSerializer(FormInput, serializers.ModelSerializer):
    """A panel as POST and PATCH take it: the visit, the sampling time, the values, and the
    catalogue's panel fields typed by the model (CNS, CSF, MRI, ECG, echocardiogram, infections).

    clean(payload, zone=..., prefix="values"): {sampled_at, visit_date, values, panel_data}."""

    accepted = frozenset(inputs.LAB_TOP_FIELDS)

    visit = serializers.IntegerField(help_text="Visit id (POST only).")
    visit_date = serializers.DateField(required=False)
    sampled_at = serializers.DateTimeField(help_text="ISO 8601; without an offset it is the site's local time.")
    values = LabValueInputSerializer(many=True, required=False)
    version = serializers.IntegerField(required=False, help_text="Correction: the version you loaded.")
    reason_for_change = serializers.CharField(required=False, help_text="Correction: required.")

    class Meta:
        model = LabPanel
        fields = ("visit", "visit_date", "sampled_at", "values", *PANEL_FIELDS, "version", "reason_for_change")
        extra_kwargs = {name: {"required": False} for name in PANEL_FIELDS}

    def adapt(self, payload):
        return inputs.lab_panel_clean(payload, zone=self.context["zone"], prefix=self.context.get("prefix", "values"))


class LabPanelSaveResultSerializer(LabPanelSerializer):
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(LabPanelSerializer.Meta):
        fields = (*LabPanelSerializer.Meta.fields, "warnings")
        read_only_fields = fields


class ResponseAssessmentSerializer(RecordSerializer):
    class Meta:
        model = ResponseAssessment
        fields = (
            "id",
            "patient",
            "visit",
            "study_day",
            "assessment_date",
            "computed_status",
            "computed_detail",
            "computed_at",
            "confirmed_status",
            "confirmation_reason",
            "confirmed_by",
            "confirmed_at",
            "recomputed_status",
            "needs_review",
            *AUDIT,
        )
        read_only_fields = fields


class ResponseConfirmSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["cr", "pr", "improvement", "progression", "relapse", "nr"])
    reason = serializers.CharField(required=False, allow_blank=True, help_text="Required if not the computed one.")
    version = serializers.IntegerField(required=False)


class AdverseEventSerializer(RecordSerializer):
    term_code = serializers.CharField(source="term.code", read_only=True, default=None, allow_null=True)
    term_name = serializers.CharField(source="term.term", read_only=True, default=None, allow_null=True)

    class Meta:
        model = AdverseEvent
        # The adverse event CRF's fields, as the service knows them (AE_FIELDS).
        fields = ("id", "patient", "term_code", "term_name", *AE_FIELDS, "source", *AUDIT)
        read_only_fields = fields


class AdverseEventWriteSerializer(FormInput, RecordSerializer):
    """clean(payload): the adverse event as the AE service takes it (the term found by its code)."""

    accepted = inputs.AE_INPUT
    envelope = frozenset({"patient", "version", "reason_for_change"})
    patient = serializers.IntegerField(required=False, help_text="POST only.")
    term_code = serializers.CharField(required=False, help_text="CTCAE v3.0 code instead of the term id.")
    version = serializers.IntegerField(required=False)
    reason_for_change = serializers.CharField(required=False)

    class Meta:
        model = AdverseEvent
        fields = ("patient", "term_code", *AE_FIELDS, "version", "reason_for_change")
        extra_kwargs = {"grade": {"required": False}, "onset_date": {"required": False}}

    def adapt(self, payload):
        return inputs.ae_input(payload)


class DoseSerializer(RecordSerializer):
    class Meta:
        model = DoseAdministration
        fields = (
            "id",
            "patient",
            "treatment_day",
            "slot",
            "status",
            "administered_at",
            "amount_mg",
            "expected_mg",
            "deviation",
            "deviation_note",
            "short_interval",
            "short_interval_note",
            "reason",
            *AUDIT,
        )
        read_only_fields = fields


class TreatmentEndSerializer(RecordSerializer):
    class Meta:
        model = TreatmentEnd
        fields = ("id", "patient", "outcome", "reason", "reason_detail", "last_dose_date", "study_day", *AUDIT)
        read_only_fields = fields


class FollowUpSerializer(RecordSerializer):
    class Meta:
        model = FollowUp
        fields = ("id", "patient", "visit", "assessed_on", "vital_status", "hlh_relapse", "notes", *AUDIT)
        read_only_fields = fields


class ImportJobSerializer(RecordSerializer):
    class Meta:
        model = ImportJob
        fields = ("id", "status", "total", "done", "errors", "summary", "created_at", "finished_at", "note")
        read_only_fields = fields


class DoseWriteSerializer(FormInput, serializers.Serializer):
    """clean(payload, zone=...): one dose, typed for the dose services (alone, in a batch or imported)."""

    accepted = frozenset(inputs.DOSE_FIELDS)
    envelope = frozenset({"patient", "version", "reason_for_change"})

    def adapt(self, payload):
        return inputs.dose_input(payload, zone=self.context["zone"])

    patient = serializers.IntegerField(required=False, help_text="POST only.")
    treatment_day = serializers.IntegerField(required=False, help_text="1-28; treatment day 1 is day 0.")
    slot = serializers.ChoiceField(choices=["am", "pm"], required=False)
    status = serializers.ChoiceField(choices=["given", "missed", "held"])
    administered_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Given only; site time.")
    amount_mg = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, help_text="Missed / held: required.")
    confirm_short_interval = serializers.BooleanField(
        required=False,
        help_text="Given: record it although it is less than the trial's minimum interval (8 h) from another "
        "given dose; it is then flagged and queried. Without it such a dose is refused (400, administered_at).",
    )
    version = serializers.IntegerField(required=False, help_text="PATCH: the version you loaded.")
    reason_for_change = serializers.CharField(required=False, help_text="PATCH: required.")


class TreatmentEndWriteSerializer(FormInput, serializers.Serializer):
    """clean(payload): the end of ruxolitinib as the treatment-end service takes it."""

    accepted = frozenset(inputs.TREATMENT_END_FIELDS)
    envelope = frozenset({"patient", "version", "reason_for_change"})

    patient = serializers.IntegerField(required=False, help_text="POST only.")
    outcome = serializers.ChoiceField(choices=TreatmentEnd.Outcome.choices)
    reason = serializers.ChoiceField(choices=TreatmentEnd.Reason.choices, required=False)
    reason_detail = serializers.CharField(required=False, allow_blank=True)
    last_dose_date = serializers.DateField()
    version = serializers.IntegerField(required=False, help_text="PATCH: the version you loaded (or If-Match).")
    reason_for_change = serializers.CharField(required=False, help_text="PATCH: why the saved data change.")

    def adapt(self, payload):
        return inputs.treatment_end_input(payload)


class FollowUpWriteSerializer(FormInput, serializers.Serializer):
    """clean(payload): a follow-up contact, and the death it reports."""

    accepted = frozenset({*inputs.FOLLOW_UP_FIELDS, *inputs.DEATH_AT_FOLLOW_UP})
    envelope = frozenset({"patient", "version", "reason_for_change"})

    patient = serializers.IntegerField(required=False, help_text="POST only.")
    assessed_on = serializers.DateField()
    vital_status = serializers.ChoiceField(choices=FollowUp.VitalStatus.choices)
    hlh_relapse = serializers.BooleanField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    date_of_death = serializers.DateField(required=False, allow_null=True)
    death_cause = serializers.CharField(required=False, allow_blank=True)
    death_hlh_related = serializers.BooleanField(required=False, allow_null=True)
    version = serializers.IntegerField(required=False, help_text="PATCH: the version you loaded (or If-Match).")
    reason_for_change = serializers.CharField(required=False, help_text="PATCH: why the saved data change.")

    def adapt(self, payload):
        return inputs.follow_up_input(payload)


class UnscheduledVisitSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    visit_date = serializers.DateField()
    reason = serializers.CharField(help_text="Why the unscheduled visit took place.")


class VisitNotDoneSerializer(serializers.Serializer):
    reason = serializers.CharField()
    version = serializers.IntegerField(required=False)


class SupportiveCareSerializer(RecordSerializer):
    class Meta:
        model = SupportiveCare
        fields = ("id", "patient", "kind", "product", "given_on", "detail", *AUDIT)
        read_only_fields = fields


class SupportiveCareWriteSerializer(inputs.PageFormInput, serializers.Serializer):
    """clean(payload): G-CSF or a transfusion, checked by the page's form."""

    record = "assessments.supportivecare"
    form_class = SupportiveCareForm

    patient = serializers.IntegerField(required=False, help_text="POST only.")
    kind = serializers.ChoiceField(choices=SupportiveCare.Kind.choices)
    product = serializers.ChoiceField(
        choices=SupportiveCare.Product.choices, required=False, help_text="Transfusions only (required for them)."
    )
    given_on = serializers.DateField(help_text="Not in the future, not before screening.")
    detail = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="Dose / volume.")
    version = serializers.IntegerField(required=False, help_text="PATCH: the version you loaded (or If-Match).")
    reason_for_change = serializers.CharField(required=False, help_text="PATCH: required; kept in the history.")


class SubsequentTherapySerializer(RecordSerializer):
    class Meta:
        model = SubsequentTherapy
        fields = (
            "id",
            "patient",
            "regimen",
            "etoposide",
            "dexamethasone",
            "cyclosporine",
            "other_drugs",
            "start_date",
            "response",
            "outcome",
            *AUDIT,
        )
        read_only_fields = fields


class SubsequentTherapyWriteSerializer(inputs.PageFormInput, serializers.Serializer):
    """clean(payload, site=...): therapy after ruxolitinib, checked by the page's form."""

    record = "patients.subsequenttherapy"
    form_class = SubsequentTherapyForm
    site_bound = True

    patient = serializers.IntegerField(required=False, help_text="POST only.")
    regimen = serializers.ChoiceField(
        choices=SubsequentTherapy.Regimen.choices, help_text="hlh1994: etoposide + dexamethasone (+/- cyclosporine A)."
    )
    start_date = serializers.DateField(help_text="Not before the last ruxolitinib dose, not after death.")
    etoposide = serializers.BooleanField(required=False)
    dexamethasone = serializers.BooleanField(required=False)
    cyclosporine = serializers.BooleanField(required=False)
    other_drugs = serializers.CharField(required=False, allow_blank=True, max_length=200)
    response = serializers.ChoiceField(choices=SubsequentTherapy.Response.choices, required=False)
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=300)
    version = serializers.IntegerField(required=False, help_text="PATCH: the version you loaded (or If-Match).")
    reason_for_change = serializers.CharField(required=False, help_text="PATCH: required; kept in the history.")


class DeathSerializer(RecordSerializer):
    class Meta:
        model = Death
        fields = ("id", "patient", "date_of_death", "cause", "hlh_related", *AUDIT)
        read_only_fields = fields


class DeathWriteSerializer(inputs.PageFormInput, serializers.Serializer):
    """clean(payload, site=...): the death, checked by the page's form."""

    record = "patients.death"
    form_class = DeathForm
    site_bound = True

    patient = serializers.IntegerField(required=False, help_text="POST only.")
    date_of_death = serializers.DateField(help_text="Not before enrollment, a dose or a follow-up alive.")
    cause = serializers.CharField(max_length=300)
    hlh_related = serializers.BooleanField(required=False, allow_null=True, help_text="null: not known.")
    version = serializers.IntegerField(required=False, help_text="PATCH: the version you loaded (or If-Match).")
    reason_for_change = serializers.CharField(required=False, help_text="PATCH: required; kept in the history.")


class QueryMessageSerializer(RecordSerializer):
    author = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="null: the edit check."
    )

    class Meta:
        model = QueryMessage
        fields = ("id", "action", "text", "author", "created_at")
        read_only_fields = fields


class DataQuerySerializer(RecordSerializer):
    site = serializers.CharField(source="patient.site.code", read_only=True)
    subject_number = serializers.CharField(source="patient.subject_number", read_only=True)
    form = serializers.SerializerMethodField(
        help_text="The queried record's form (app.model), e.g. patients.screening."
    )
    record_id = serializers.SerializerMethodField(help_text="The queried record's id in that form.")
    raised_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="null: raised by an edit check."
    )
    closed_by = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="null while not closed, or closed by its check.",
    )

    class Meta:
        model = DataQuery
        fields = (
            "id",
            "patient",
            "subject_number",
            "site",
            "target",
            "form",
            "record_id",
            "field",
            "origin",
            "check_code",
            "status",
            "text",
            "link",
            "raised_by",
            "raised_by_role",
            "closed_at",
            "closed_by",
            *AUDIT,
        )
        read_only_fields = fields

    def get_form(self, obj) -> str:
        return obj.target.split(":", 1)[0]

    def get_record_id(self, obj) -> int | None:
        raw = obj.target.split(":", 1)[-1]
        return int(raw) if raw.isdigit() else None


class DataQueryDetailSerializer(DataQuerySerializer):
    messages = QueryMessageSerializer(many=True, read_only=True, help_text="The conversation, oldest first.")

    class Meta(DataQuerySerializer.Meta):
        fields = (*DataQuerySerializer.Meta.fields, "messages")
        read_only_fields = fields


class QueryRaiseSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    target = serializers.CharField(
        help_text="The record queried, as app.model:id: patients.screening:<id>, patients.patient:<id>, "
        "assessments.labpanel:<id> or assessments.adverseevent:<id> of this patient."
    )
    field = serializers.CharField(required=False, allow_blank=True, max_length=60, help_text="Optional field name.")
    text = serializers.CharField(help_text="The question for the site.")


class QueryStepSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="The message that goes with the step.")
    version = serializers.IntegerField(
        required=False, help_text="Optional: the version you loaded (or If-Match); 409 if it moved on."
    )
