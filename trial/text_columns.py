"""What a text column can store: at most its model field's max_length, and text PostgreSQL keeps.

PostgreSQL refuses a NUL character in any text, and a lone surrogate (half of a UTF-16 pair,
e.g. "\\ud800" in JSON) cannot be encoded as UTF-8 at all; a value longer than its column is
refused too. Each would surface as a server error at the save. The write path
(trial.versioning.record_save, the bulk saves and the locks) checks every text column of a
record here first, so that a page, the API, the import or a task gets a message naming the
field and the limit instead, and nothing is stored.
"""

from django.core.exceptions import ValidationError
from django.db import models


def text_problem(value: str) -> str | None:
    """Why a text cannot be stored (a NUL or an unpaired surrogate character), or None."""
    if "\x00" in value:
        return "Text cannot contain a NUL character (\\u0000)."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"Text cannot contain an unpaired surrogate character (\\u{ord(value[exc.start]):04x}); send UTF-8 text."
    return None


def _label(field: models.Field) -> str:
    return str(field.verbose_name)[:1].upper() + str(field.verbose_name)[1:]


def length_message(label: str, limit: int, length: int) -> str:
    return f"{label} must be at most {limit} characters (it has {length})."


def column_errors(record: models.Model) -> dict[str, list[str]]:
    """Each text column whose value the table would refuse, with the message naming the limit."""
    errors: dict[str, list[str]] = {}
    for field in record._meta.concrete_fields:
        if not isinstance(field, models.CharField | models.TextField):
            continue
        value = getattr(record, field.attname)
        if not isinstance(value, str):
            continue
        if problem := text_problem(value):
            errors[field.name] = [problem]
        elif field.max_length and len(value) > field.max_length:
            errors[field.name] = [length_message(_label(field), field.max_length, len(value))]
    return errors


def column_check(record: models.Model) -> None:
    """Raise ValidationError naming each text column the table would refuse."""
    if errors := column_errors(record):
        raise ValidationError(errors)
