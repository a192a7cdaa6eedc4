"""Input of the API and the import, validated by the pages' own forms so the errors are the same.

JSON values are turned into what a browser would post (true/false/"" for the yes/no/not-known
radios, numbers as text), the page's form validates them, and its cleaned data go to the service.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError

from api import scalars
from assessments.models.labs import EXAM_CHOICES, RESULT_CHOICES
from assessments.services.adverse_events import AE_FIELDS
from assessments.services.labs import PANEL_FIELDS, Measurement
from crf.catalogue import fields_of
from patients.forms import SCREENING_FIELDS, EnrollmentForm, ScreeningEditForm, ScreeningForm
from patients.models import Screening
from trial.analytes import ANALYTES, plausibility_message, units_for
from trial.models import Site

# The enrollment as the enroll service takes it (the weight is stored as enrollment_weight_kg).
ENROLL_FIELDS = ("enrollment_date", "first_dose_date", "weight_kg", "prescribed_dose_mg")
# One dose in the API, the JSON import and the CSV import (doses.csv), in that order of columns.
DOSE_FIELDS = (*fields_of("patients.doseadministration"), "confirm_short_interval")
# The numbers and dates of the records written without a page's form, read strictly (api.scalars).
AE_VALUES = {"grade": scalars.WHOLE, "onset_date": scalars.DAY, "resolution_date": scalars.DAY}
DOSE_VALUES = {"amount_mg": scalars.NUMBER}
LAB_TOP_FIELDS = {"visit", "visit_date", "sampled_at", "values", "version", "reason_for_change", *PANEL_FIELDS}

# The fields an adverse event is written with, by the API and the import alike.
AE_INPUT = frozenset({"term_code", *AE_FIELDS})


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


def form_errors(form) -> dict[str, list[str]]:
    return {("non_field_errors" if k == "__all__" else k): [str(m) for m in v] for k, v in form.errors.items()}


def unknown_fields(payload, allowed) -> None:
    if not isinstance(payload, dict):
        raise ValidationError({"non_field_errors": ["Send a JSON object."]})
    extra = sorted(set(payload) - set(allowed))
    if extra:
        raise ValidationError({name: [f"Unknown field '{name}'."] for name in extra})


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
        raise ValidationError(form_errors(form))
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
        raise ValidationError(form_errors(form))
    data = {k: v for k, v in form.cleaned_data.items() if k not in {"version", "reason_for_change"}}
    return data, form.cleaned_data["version"], form.cleaned_data["reason_for_change"]


def enrollment_clean(*, screening: Screening, payload: dict) -> dict:
    """Enrollment data, parsed by the enrollment page's form (the confirmation box is the request itself).

    The protocol's limits (window, weight, dose) are patient_enroll's: its field errors are the page's.
    """
    unknown_fields(payload, ENROLL_FIELDS)
    strict_form_values(EnrollmentForm, payload)
    form = EnrollmentForm(data={**form_data(payload), "confirm": "on"})
    if not form.is_valid():
        raise ValidationError(form_errors(form))
    return {name: form.cleaned_data[name] for name in ENROLL_FIELDS}


def parse_moment(value, *, zone: ZoneInfo, field: str) -> datetime:
    """An ISO 8601 date-time in ASCII digits; without an offset it is the site's local time."""
    return scalars.moment(value, zone=zone, field=field)


def parse_day(value, *, field: str) -> date:
    return scalars.day(value, field=field)


def measurement_clean(item, *, zone: ZoneInfo, default_sampled_at: datetime | None) -> tuple[str, Measurement]:
    """One lab value {analyte, value, unit, sampled_at}; errors keyed by the item's field."""
    if not isinstance(item, dict):
        raise ValidationError({"non_field_errors": ["Each value is an object {analyte, value, unit, sampled_at}."]})
    unknown_fields(item, {"analyte", "value", "unit", "sampled_at"})
    code = item.get("analyte")
    if code not in ANALYTES:
        raise ValidationError({"analyte": [f"Unknown analyte {code}; see GET /api/v1/analytes/."]})
    analyte = ANALYTES[code]
    unit = item.get("unit") or analyte.unit
    if unit not in units_for(code):
        raise ValidationError(
            {"unit": [f"{analyte.label}: unit {unit} is not accepted; use {' or '.join(units_for(code))}."]}
        )
    value = scalars.decimal_number(item.get("value"), field="value", label=analyte.label)
    if message := plausibility_message(code, float(value), unit):
        raise ValidationError({"value": [message]})
    if item.get("sampled_at"):
        sampled = parse_moment(item["sampled_at"], zone=zone, field="sampled_at")
    elif default_sampled_at is not None:
        sampled = default_sampled_at
    else:
        raise ValidationError({"sampled_at": ["Enter the sampling time."]})
    return code, Measurement(value=value, unit=unit, sampled_at=sampled)


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
                errors[name] = ["CNS symptoms: true, false or null (not known)."]
        elif name == "notes":
            value = "" if value is None else str(value)
        elif value not in PANEL_CHOICES[name] and value not in ("", None):
            errors[name] = [f"Choose one of {', '.join(sorted(c for c in PANEL_CHOICES[name] if c))}."]
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
        errors.update(exc.message_dict)
    if payload.get("visit_date") is not None:
        try:
            visit_date = parse_day(payload.get("visit_date"), field="visit_date")
        except ValidationError as exc:
            errors.update(exc.message_dict)
    values: dict[str, Measurement] = {}
    items = payload.get("values") or []
    if not isinstance(items, list):
        errors["values"] = ["A list of {analyte, value, unit, sampled_at}."]
        items = []
    for index, item in enumerate(items):
        try:
            code, measurement = measurement_clean(item, zone=zone, default_sampled_at=sampled_at)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[f"{prefix}[{index}].{field}"] = messages
            continue
        if code in values:
            errors[f"{prefix}[{index}].analyte"] = [f"{code} is entered twice in this panel."]
        values[code] = measurement
    try:
        panel_data = panel_data_clean(payload)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        panel_data = {}
    if errors:
        raise ValidationError(errors)
    return {"sampled_at": sampled_at, "visit_date": visit_date, "values": values, "panel_data": panel_data}
