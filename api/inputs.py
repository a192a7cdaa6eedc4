"""Input of the API and the import, validated by the pages' own forms so the errors are the same.

JSON values are turned into what a browser would post (true/false/"" for the yes/no/not-known
radios, numbers as text), the page's form validates them, and its cleaned data go to the service.
"""

from contextlib import contextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from rest_framework import serializers as drf

from api import scalars
from assessments.models import CtcaeTerm
from assessments.models.labs import EXAM_CHOICES, RESULT_CHOICES
from assessments.services.adverse_events import AE_FIELDS
from assessments.services.labs import PANEL_FIELDS, Measurement, missing_code_problem
from crf.catalogue import fields_of
from patients.forms import SCREENING_FIELDS, EnrollmentForm, ScreeningEditForm, ScreeningForm
from patients.models import Screening
from trial.analytes import ANALYTES, plausibility_message, units_for
from trial.models import Site
from trial.text_columns import text_problem

# The enrollment as the enroll service takes it, each named as the patient's column.
ENROLL_FIELDS = ("enrollment_date", "first_dose_date", "enrollment_weight_kg", "prescribed_dose_mg")
# The names of v1 before the weight was named as its column (it is not the screening's weight_kg):
# still read by the API and the imports, and a client that sends one gets its errors under it.
FORMER_ENROLL_NAMES = {"weight_kg": "enrollment_weight_kg"}
# One dose in the API, the JSON import and the CSV import (doses.csv), in that order of columns.
DOSE_FIELDS = (*fields_of("patients.doseadministration"), "confirm_short_interval")
# The numbers and dates of the records written without a page's form, read strictly (api.scalars).
AE_VALUES = {"grade": scalars.WHOLE, "onset_date": scalars.DAY, "resolution_date": scalars.DAY}
DOSE_VALUES = {"amount_mg": scalars.NUMBER}
LAB_TOP_FIELDS = {"visit", "visit_date", "sampled_at", "values", "version", "reason_for_change", *PANEL_FIELDS}

# The fields an adverse event is written with, by the API and the import alike.
AE_INPUT = frozenset({"term_code", *AE_FIELDS})


class FormInput:
    """One form's input as every door takes it: the API, the JSON import and the CSV import.

    Mixed into the form's write serializer: its declared fields describe the input (the OpenAPI
    schema), and `is_valid()` checks it with the form's adapter (`adapt`), so what the schema
    shows and what is accepted are one class. `accepted` names the fields the adapter takes and
    `envelope` those the resource reads before it (patient, version, reason_for_change); a test
    holds the declared fields to them. The errors are the adapter's Django ValidationError, with
    its codes and parameters, whichever door it came through.
    """

    accepted: frozenset[str] = frozenset()
    envelope: frozenset[str] = frozenset()

    def adapt(self, payload: dict):
        raise NotImplementedError

    def run_validation(self, data=drf.empty):  # the adapter is the whole check: no per-field pass first
        try:
            return self.adapt(data)
        except ValidationError as exc:
            self.refusal = exc
            raise drf.ValidationError(drf.as_serializer_error(exc)) from exc

    @classmethod
    def clean(cls, payload, **context):
        """The adapter's typed data for `payload`, or its ValidationError (by field, with codes)."""
        serializer = cls(data=payload, context=context)
        if serializer.is_valid():
            return serializer.validated_data
        refusal = getattr(serializer, "refusal", None)
        if refusal is None:  # refused by DRF itself before the adapter ran (a null body)
            refusal = ValidationError(
                {name: [ValidationError(str(m), code=m.code) for m in ms] for name, ms in serializer.errors.items()}
            )
        raise refusal


class PageFormInput(FormInput):
    """A form whose API and import input is checked by the page's own Django form.

    `record` is the model label (app.model) whose fields give the JSON types, `form_class`
    the page's form; `site_bound` forms are given the patient's site (their date limits).
    """

    record: str = ""
    form_class = None
    site_bound = False
    envelope = frozenset({"patient", "version", "reason_for_change"})

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.record:
            cls.types = json_types(cls.record)
            cls.accepted = frozenset(cls.types)

    def adapt(self, payload):
        typed_values(payload, self.types)
        context = {"site": self.context["site"]} if self.site_bound else {}
        return page_form_clean(self.form_class, payload, **context)


def _form_value(value):
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def form_data(payload: dict) -> dict:
    return {key: _form_value(value) for key, value in payload.items()}


def form_error(form) -> ValidationError:
    """A page form's errors by field, each keeping its code and parameters (required, max_value ...)."""
    return ValidationError({("non_field_errors" if k == "__all__" else k): v for k, v in form.errors.as_data().items()})


def unknown_fields(payload, allowed) -> None:
    if not isinstance(payload, dict):
        raise scalars.refusal("non_field_errors", "Send a JSON object.", "not_an_object")
    extra = sorted(set(payload) - set(allowed))
    if extra:
        errors: dict = {}
        for name in extra:
            scalars.merge(
                errors,
                scalars.refusal(
                    name, gettext("Unknown field '%(field)s'.") % {"field": name}, "unknown_field", {"field": name}
                ),
            )
        raise ValidationError(errors)


def strict_form_values(form_class, payload: dict) -> None:
    """Numbers and dates sent for a form's fields are ASCII numbers and ISO dates (api.scalars)."""
    if errors := scalars.form_value_errors(form_class, payload):
        raise ValidationError(errors)


def screening_clean(*, site: Site, payload: dict) -> dict:
    """A new screening's data, cleaned by the screening page's form."""
    unknown_fields(payload, SCREENING_FIELDS)
    strict_form_values(ScreeningForm, payload)
    form = ScreeningForm(data=form_data(payload), site=site)
    if not form.is_valid():
        raise form_error(form)
    return form.cleaned_data


def screening_values(screening: Screening) -> dict:
    return {name: getattr(screening, name) for name in SCREENING_FIELDS}


def screening_change_clean(*, screening: Screening, payload: dict, version: int | None) -> tuple[dict, int, str]:
    """A change to a saved screening: the fields sent over the stored ones, with version and reason."""
    unknown_fields(payload, [*SCREENING_FIELDS, "version", "reason_for_change"])
    strict_form_values(ScreeningEditForm, payload)
    merged = {**screening_values(screening), **payload}
    merged["version"] = payload.get("version", version)
    form = ScreeningEditForm(
        data=form_data(merged), instance=Screening.objects.get(pk=screening.pk), site=screening.site
    )
    if not form.is_valid():
        raise form_error(form)
    data = {k: v for k, v in form.cleaned_data.items() if k not in {"version", "reason_for_change"}}
    return data, form.cleaned_data["version"], form.cleaned_data["reason_for_change"]


def current_names(payload: dict, former: dict[str, str]) -> dict:
    """The payload with each former field name replaced by the current one; both at once is refused."""
    out = dict(payload)
    for old, new in former.items():
        if old in out:
            if new in out:
                raise scalars.refusal(
                    old,
                    gettext("Send %(new)s only (%(old)s is its former name).") % {"new": new, "old": old},
                    "duplicate_field",
                )
            out[new] = out.pop(old)
    return out


@contextmanager
def errors_as_sent(payload: dict, former: dict[str, str]):
    """Errors of a field under the name the client sent it by (a former name: FORMER_ENROLL_NAMES)."""
    sent = {new: old for old, new in former.items() if old in payload and new not in payload}
    try:
        yield
    except ValidationError as exc:
        if not (sent and hasattr(exc, "error_dict") and set(exc.error_dict) & set(sent)):
            raise
        raise ValidationError({sent.get(name, name): errors for name, errors in exc.error_dict.items()}) from exc


def enrollment_clean(*, screening: Screening, payload: dict) -> dict:
    """Enrollment data, parsed by the enrollment page's form (the confirmation box is the request itself).

    The protocol's limits (window, weight, dose) are patient_enroll's: its field errors are the page's.
    """
    unknown_fields(payload, (*ENROLL_FIELDS, *FORMER_ENROLL_NAMES))
    payload = current_names(payload, FORMER_ENROLL_NAMES)
    strict_form_values(EnrollmentForm, payload)
    form = EnrollmentForm(data={**form_data(payload), "confirm": "on"})
    if not form.is_valid():
        raise form_error(form)
    return {name: form.cleaned_data[name] for name in ENROLL_FIELDS}


TEXT, BOOL, NULL_BOOL, DATE = "text", "bool", "null_bool", "date"


def json_types(label: str) -> dict[str, str]:
    """The JSON type of each entered field of a catalogued form, read off its model's columns."""
    from django.apps import apps
    from django.db import models

    model = apps.get_model(label)
    types = {}
    for name in fields_of(label):
        field = model._meta.get_field(name)
        if isinstance(field, models.BooleanField):
            types[name] = NULL_BOOL if field.null else BOOL
        elif isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
            types[name] = DATE
        elif isinstance(field, (models.CharField, models.TextField)):
            types[name] = TEXT
        else:
            raise TypeError(f"{label}.{name}: no JSON type for {type(field).__name__}")
    return types


def typed_values(payload: dict, spec: dict[str, str]) -> None:
    """Refuse unknown fields and values of the wrong JSON type, each error under its field with its code."""
    unknown_fields(payload, spec)
    errors: dict[str, list[ValidationError]] = {}
    for name, value in payload.items():
        kind = spec[name]
        problem = None
        if kind == TEXT and value is not None and not isinstance(value, str):
            problem = scalars.refusal(name, "Enter text.", "not_text")
        elif kind == TEXT and isinstance(value, str) and (message := text_problem(value)):
            problem = scalars.refusal(name, message, "invalid_text")
        elif kind == BOOL and not isinstance(value, bool):
            problem = scalars.refusal(name, "true or false.", "not_boolean")
        elif kind == NULL_BOOL and value is not None and not isinstance(value, bool):
            problem = scalars.refusal(name, "true, false or null (not known).", "not_boolean")
        elif kind == DATE and value is not None:
            try:
                scalars.day(value, field=name, impossible=scalars.DATE_MESSAGE)
            except ValidationError as exc:
                problem = exc
        if problem is not None:
            scalars.merge(errors, problem)
    if errors:
        raise ValidationError(errors)


def page_form_clean(form_class, values: dict, **kwargs) -> dict:
    """The values as the page's form cleans them (its errors by field with their codes, as on the page)."""
    strict_form_values(form_class, values)
    form = form_class(data=form_data(values), **kwargs)
    if not form.is_valid():
        raise form_error(form)
    return form.cleaned_data


def parse_moment(value, *, zone: ZoneInfo, field: str) -> datetime:
    """An ISO 8601 date-time in ASCII digits; without an offset it is the site's local time."""
    return scalars.moment(value, zone=zone, field=field)


# The fields of one lab value: a number (value), or a missing-data code with its reason.
MEASUREMENT_FIELDS = ("analyte", "value", "unit", "sampled_at", "missing", "missing_reason")


def measurement_clean(item, *, zone: ZoneInfo, default_sampled_at: datetime | None) -> tuple[str, Measurement]:
    """One lab value {analyte, value, unit, sampled_at} or {analyte, missing, missing_reason, ...};
    errors keyed by the item's field."""
    if not isinstance(item, dict):
        raise scalars.refusal(
            "non_field_errors", "Each value is an object {analyte, value, unit, sampled_at}.", "not_an_object"
        )
    unknown_fields(item, set(MEASUREMENT_FIELDS))
    code = item.get("analyte")
    if code not in ANALYTES:
        raise scalars.refusal(
            "analyte",
            gettext("Unknown analyte %(code)s; see GET /api/v1/analytes/.") % {"code": code},
            "unknown_analyte",
        )
    analyte = ANALYTES[code]
    unit = item.get("unit") or analyte.unit
    if unit not in units_for(code):
        message = gettext("%(label)s: unit %(unit)s is not accepted; use %(units)s.") % {
            "label": analyte.label,
            "unit": unit,
            "units": gettext(" or ").join(units_for(code)),
        }
        raise scalars.refusal("unit", message, "unit_not_accepted")
    missing, reason = item.get("missing"), item.get("missing_reason")
    for name, given in (("missing", missing), ("missing_reason", reason)):
        if given is not None and not isinstance(given, str):
            raise scalars.refusal(name, "Enter text.", "not_text")
    missing, reason = missing or "", reason or ""
    has_value = item.get("value") not in (None, "")
    if problem := missing_code_problem(
        label=gettext(analyte.label), has_value=has_value, missing=missing, missing_reason=reason
    ):
        raise ValidationError({problem[0]: [problem[1]]})
    value = None
    if has_value:
        value = scalars.decimal_number(item.get("value"), field="value", label=analyte.label)
        if message := plausibility_message(code, float(value), unit):
            raise scalars.refusal("value", message, "implausible_value")
    if item.get("sampled_at"):
        sampled = parse_moment(item["sampled_at"], zone=zone, field="sampled_at")
    elif default_sampled_at is not None:
        sampled = default_sampled_at
    else:
        raise scalars.refusal("sampled_at", "Enter the sampling time.", "required")
    return code, Measurement(value=value, unit=unit, sampled_at=sampled, missing=missing, missing_reason=reason.strip())


PANEL_CHOICES = {
    **{name: {c[0] for c in EXAM_CHOICES} for name in ("csf_result", "mri_result", "ecg_result", "echo_result")},
    **{
        name: {c[0] for c in RESULT_CHOICES}
        for name in ("cmv", "adenovirus", "tuberculosis", "herpes_zoster", "pneumocystis", "fungal")
    },
}


def panel_data_clean(payload: dict) -> dict:
    errors, out = {}, {}
    for name in PANEL_FIELDS:
        if name not in payload:
            continue
        value = payload[name]
        if name == "cns_symptoms":
            if value not in (True, False, None):
                errors[name] = [ValidationError("CNS symptoms: true, false or null (not known).", code="not_boolean")]
        elif name == "notes":
            value = "" if value is None else str(value)
        elif value not in PANEL_CHOICES[name] and value not in ("", None):
            choices = ", ".join(sorted(c for c in PANEL_CHOICES[name] if c))
            errors[name] = [
                ValidationError(gettext("Choose one of %(choices)s.") % {"choices": choices}, code="invalid_choice")
            ]
        else:
            value = value or ""
        out[name] = value
    if errors:
        raise ValidationError(errors)
    return out


def lab_panel_clean(payload: dict, *, zone: ZoneInfo, prefix: str = "values") -> dict:
    """A lab panel: visit date, default sampling time, values (each checked against its limits)."""
    unknown_fields(payload, LAB_TOP_FIELDS)
    errors: dict[str, list[str]] = {}
    sampled_at = visit_date = None
    try:
        sampled_at = parse_moment(payload.get("sampled_at"), zone=zone, field="sampled_at")
    except ValidationError as exc:
        scalars.merge(errors, exc)
    if payload.get("visit_date") is not None:
        try:
            visit_date = day(payload.get("visit_date"), field="visit_date")
        except ValidationError as exc:
            scalars.merge(errors, exc)
    values: dict[str, Measurement] = {}
    items = payload.get("values") or []
    if not isinstance(items, list):
        errors["values"] = [ValidationError("A list of {analyte, value, unit, sampled_at}.", code="not_a_list")]
        items = []
    for index, item in enumerate(items):
        try:
            code, measurement = measurement_clean(item, zone=zone, default_sampled_at=sampled_at)
        except ValidationError as exc:
            for field, messages in exc.error_dict.items():
                errors[f"{prefix}[{index}].{field}"] = messages
            continue
        if code in values:
            errors[f"{prefix}[{index}].analyte"] = [
                ValidationError(
                    gettext("%(code)s is entered twice in this panel.") % {"code": code}, code="duplicate_analyte"
                )
            ]
        values[code] = measurement
    try:
        panel_data = panel_data_clean(payload)
    except ValidationError as exc:
        scalars.merge(errors, exc)
        panel_data = {}
    if errors:
        raise ValidationError(errors)
    return {"sampled_at": sampled_at, "visit_date": visit_date, "values": values, "panel_data": panel_data}


# One adapter per form for the records written without a page's form: the API, the JSON import
# and the CSV import (read into the same JSON) call the same function and get the same errors.


def text(payload: dict, name: str) -> str:
    value = payload.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise scalars.refusal(name, "Enter text.", "not_text")
    return value


def optional_bool(payload: dict, name: str) -> bool | None:
    value = payload.get(name)
    if value not in (True, False, None):
        raise scalars.refusal(name, "true, false or null (not known).", "not_boolean")
    return value


def day(value, *, field: str) -> date:
    """An ISO date; a well-formed one that does not exist is named (2026-02-30 is not a real date)."""
    return scalars.day(value, field=field)


AE_TEXT = ("relationship", "action_taken", "outcome", "other_specify", "description")


def ae_input(payload: dict) -> dict:
    """An adverse event: its CTCAE v3.0 term by code, whole grade, ISO dates, text as text."""
    unknown_fields(payload, AE_INPUT)
    data = dict(payload)
    if "term_code" in data:
        code = data.pop("term_code")
        term = CtcaeTerm.objects.filter(code=code).first() if isinstance(code, str) else None
        if term is None:
            raise scalars.refusal(
                "term_code",
                gettext("Unknown CTCAE v3.0 code %(code)s.") % {"code": repr(code)},
                "unknown_term",
                {"code": code},
            )
        data["term"] = term
    data.update(scalars.strict_values(data, AE_VALUES))
    for name in ("term", *AE_TEXT):
        if data.get(name) is not None and not isinstance(data[name], (str, int, CtcaeTerm)):
            raise scalars.refusal(name, "Enter text.", "not_text")
    return data


def dose_input(payload: dict, *, zone: ZoneInfo) -> dict:
    """One dose, typed for the dose services (alone, in a batch or in an import)."""
    unknown_fields(payload, DOSE_FIELDS)
    at = payload.get("administered_at")
    amount = payload.get("amount_mg")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, (int, float, str))):
        raise scalars.refusal("amount_mg", "Enter a number.", "not_a_number")
    return {
        "treatment_day": payload.get("treatment_day"),
        "slot": payload.get("slot"),
        "status": payload.get("status"),
        "administered_at": parse_moment(at, zone=zone, field="administered_at") if at else None,
        "amount_mg": scalars.strict_values(payload, DOSE_VALUES).get("amount_mg"),
        "reason": text(payload, "reason"),
        "confirm_short_interval": payload.get("confirm_short_interval", False),
    }


TREATMENT_END_FIELDS = fields_of("patients.treatmentend")


def treatment_end_input(payload: dict) -> dict:
    """The end of ruxolitinib: outcome, reason and its detail, the last dose date."""
    unknown_fields(payload, TREATMENT_END_FIELDS)
    return {
        "outcome": text(payload, "outcome"),
        "reason": text(payload, "reason"),
        "reason_detail": text(payload, "reason_detail"),
        "last_dose_date": day(payload.get("last_dose_date"), field="last_dose_date"),
    }


FOLLOW_UP_FIELDS = fields_of("patients.followup")
# A follow-up that reports a death carries the death's own fields under these names.
DEATH_AT_FOLLOW_UP = ("date_of_death", "death_cause", "death_hlh_related")


def follow_up_input(payload: dict) -> dict:
    """A follow-up contact: date, vital status, HLH relapse, notes, and the death it reports."""
    unknown_fields(payload, {*FOLLOW_UP_FIELDS, *DEATH_AT_FOLLOW_UP})
    death = payload.get("date_of_death")
    return {
        "assessed_on": day(payload.get("assessed_on"), field="assessed_on"),
        "vital_status": text(payload, "vital_status"),
        "hlh_relapse": optional_bool(payload, "hlh_relapse"),
        "notes": text(payload, "notes"),
        "date_of_death": day(death, field="date_of_death") if death else None,
        "death_cause": text(payload, "death_cause"),
        "death_hlh_related": optional_bool(payload, "death_hlh_related"),
    }
