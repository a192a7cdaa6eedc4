"""Numbers, dates and times of the API and the import, read strictly: ASCII digits in ISO forms only.

Python reads far more than a bedside form should: int("１０") and Decimal("١٠") are 10,
int("1_0") is 10, and Django's date parser takes any Unicode digit. A value typed in another
script is refused here with the field named, never silently read as another number. The
pages' forms get the API's and the import's values as text (api.inputs); numeric and date
fields of those forms are checked here first (form_value_errors), so every door of the API
refuses what one refuses.

Dates are between MIN_DATE and MAX_DATE: year 1 or 9999 is a typing slip, and beyond them a
date-time cannot even be moved between time zones (Python's datetime ends at year 9999).
"""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2199, 12, 31)

_INTEGER = re.compile(r"[+-]?[0-9]{1,18}(?:\.0*)?")  # "2.0" is a whole number, as on the forms
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MOMENT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,6})?)?"  # date, time
    r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"  # offset
)

DIGITS_MESSAGE = gettext_lazy("use the digits 0-9")


def refusal(field: str, message, code: str, params: dict | None = None) -> ValidationError:
    """One field's error with its stable code (docs/api.md, "Error codes") and its parameters.

    The message is already in the request's language with its values in it; with parameters,
    Django formats it once more (message % params), so a literal % is doubled here.
    """
    text = str(message).replace("%", "%%") if params else str(message)
    return ValidationError({field: [ValidationError(text, code=code, params=params)]})


def merge(errors: dict, exc: ValidationError) -> None:
    """Add a ValidationError's field errors to `errors`, keeping each error's code and parameters."""
    if hasattr(exc, "error_dict"):
        for name, items in exc.error_dict.items():
            errors.setdefault(name, []).extend(items)
    else:
        errors.setdefault("non_field_errors", []).extend(exc.error_list)


def _text(value) -> str | None:
    return value.strip() if isinstance(value, str) else None


def whole_number(value, *, field: str, message: str | None = None) -> int:
    """A JSON integer, or text of ASCII digits ("12"); not 1.5, true, "１２" or "1_2"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = _text(value)
    if text is None or not _INTEGER.fullmatch(text):
        message = str(message or gettext("Enter a whole number."))
        raise refusal(field, f"{message[:-1]} ({DIGITS_MESSAGE}).", "not_whole_number")
    return int(text.split(".")[0])


def decimal_number(value, *, field: str, label: str = "Enter a number") -> Decimal:
    """A JSON number, or text such as "14.5" (ASCII digits, a dot, an optional exponent)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
    else:
        text = _text(value)
        if text is None or not _DECIMAL.fullmatch(text):
            raise refusal(
                field,
                gettext("%(label)s: enter a number (use the digits 0-9, a dot for decimals).") % {"label": label},
                "not_a_number",
            )
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise refusal(field, gettext("%(label)s: enter a number.") % {"label": label}, "not_a_number") from None
    if not number.is_finite():
        raise refusal(field, gettext("%(label)s: enter a finite number.") % {"label": label}, "not_finite")
    return number


def _in_range(day: date, *, field: str) -> None:
    if not MIN_DATE <= day <= MAX_DATE:
        params = {"first": MIN_DATE.isoformat(), "last": MAX_DATE.isoformat(), "entered": day.isoformat()}
        raise refusal(
            field,
            gettext("Enter a date from %(first)s to %(last)s (entered %(entered)s).") % params,
            "date_out_of_range",
            params,
        )


DATE_MESSAGE = gettext_lazy("Enter a date as YYYY-MM-DD.")


def day(value, *, field: str, impossible: str | None = None) -> date:
    """A date YYYY-MM-DD in ASCII digits, a real day between MIN_DATE and MAX_DATE.

    `impossible`: the message for a well-formed date that does not exist (2026-02-30).
    """
    text = _text(value)
    if text is None or not _DATE.fullmatch(text):
        raise refusal(field, DATE_MESSAGE, "date_format")
    try:
        parsed = date.fromisoformat(text)
    except ValueError:  # well formed but no such day, e.g. 2026-02-30
        message = impossible or gettext("%(text)s is not a real date.") % {"text": text}
        raise refusal(field, message, "impossible_date", {"text": text}) from None
    _in_range(parsed, field=field)
    return parsed


def moment(value, *, zone: ZoneInfo, field: str) -> datetime:
    """An ISO 8601 date-time in ASCII digits; without an offset it is the site's local time."""
    text = _text(value)
    if text is None or not _MOMENT.fullmatch(text):
        raise refusal(field, gettext("Enter a date and time as YYYY-MM-DDTHH:MM (ISO 8601)."), "datetime_format")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:  # well formed but impossible, e.g. 2026-02-30T08:00 or 25:00
        message = gettext("%(text)s is not a real date and time.") % {"text": text}
        raise refusal(field, message, "impossible_datetime", {"text": text}) from None
    _in_range(parsed.date(), field=field)
    return parsed.replace(tzinfo=zone) if timezone.is_naive(parsed) else parsed


# The form fields whose text the page's form would read leniently.
_KINDS = (  # subclasses first: Django's DecimalField and FloatField are IntegerFields
    (forms.DateTimeField, "moment"),
    (forms.DateField, "day"),
    (forms.DecimalField, "number"),
    (forms.FloatField, "number"),
    (forms.IntegerField, "whole"),
)


def form_value_errors(form_class_or_form, values: dict) -> dict[str, list[ValidationError]]:
    """The values sent for a form's number and date fields that are not ASCII numbers and ISO dates.

    Empty values are the form's to judge (required or not); booleans are left to its own fields.
    """
    form = form_class_or_form
    fields = form.base_fields if isinstance(form, type) else form.fields
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        field = fields.get(name)
        if field is None or value in (None, "") or isinstance(value, bool):
            continue
        kind = next((k for cls, k in _KINDS if isinstance(field, cls)), None)
        if kind is None:
            continue
        try:
            if kind == "moment":
                moment(value, zone=ZoneInfo("UTC"), field=name)
            elif kind == "day":
                day(value, field=name)
            elif kind == "whole":
                whole_number(value, field=name)
            else:
                decimal_number(value, field=name, label=str(field.label or name))
        except ValidationError as exc:
            merge(errors, exc)
    return errors


WHOLE, NUMBER, DAY, MOMENT = "whole", "number", "day", "moment"


def strict_values(payload: dict, spec: dict[str, str], *, zone: ZoneInfo | None = None) -> dict:
    """The payload with each field of `spec` read strictly (WHOLE, NUMBER, DAY, MOMENT); errors by field.

    An absent, null or empty value is left as it is: whether it is required is the service's to say.
    """
    out, errors = dict(payload), {}
    for name, kind in spec.items():
        value = payload.get(name)
        if value is None or value == "":
            continue
        try:
            if kind == WHOLE:
                out[name] = whole_number(value, field=name)
            elif kind == NUMBER:
                out[name] = decimal_number(value, field=name, label=name.replace("_", " ").capitalize())
            elif kind == DAY:
                out[name] = day(value, field=name)
            else:
                out[name] = moment(value, zone=zone or ZoneInfo("UTC"), field=name)
        except ValidationError as exc:
            merge(errors, exc)
    if errors:
        raise ValidationError(errors)
    return out
