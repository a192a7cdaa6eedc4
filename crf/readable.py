"""Stored values as a person reads them: the audit trail and the 409 of a concurrent edit.

A choice by its label, a yes/no as Yes/No, a decimal without its column's trailing zeros
(38.2, not 38.2000), an instant in the zone the caller names to the second (never its
microseconds), a JSON document as "Key: value" sentences. Related records are named by the
caller (`names`), which reads them in bulk: nothing here queries the database.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crf.field_names import field_name

EMPTY = "—"
# JSON keys a reader needs no more than the key itself: a code beside its label, the reader's own ids.
JSON_QUIET_KEYS = {"status", "marker", "code"}


@dataclass(frozen=True)
class ReadableChange:
    label: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.label}: {self.old} → {self.new}"


def sentence_case(text) -> str:
    """'upper limit (H above)' -> 'Upper limit (H above)': the first letter only (not str.capitalize)."""
    text = str(text)
    return text[:1].upper() + text[1:]


def key_label(key: str) -> str:
    """A JSON key as words: 'decided_by' -> 'Decided by'."""
    return sentence_case(str(key).replace("_", " "))


def decimal_text(value: Decimal) -> str:
    """38.2000 -> '38.2', 3200.0 -> '3200' (never an exponent)."""
    if not value.is_finite():
        return str(value)
    return format(value.normalize(), "f")


def instant_text(value: datetime, zone: tzinfo | None) -> str:
    if zone is not None and value.tzinfo is not None:
        value = value.astimezone(zone)
    return value.strftime("%Y-%m-%d %H:%M:%S" if value.second else "%Y-%m-%d %H:%M")


def scalar_text(value, zone: tzinfo | None = None) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, float):
        return decimal_text(Decimal(str(value)))
    if isinstance(value, datetime):
        return instant_text(value, zone)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def json_text(value) -> str:
    """A JSON value as a sentence: a dict as 'Key: value; Key: value', a list joined by commas,
    a dict that names itself (a 'label') as 'Label (key value, key value)'."""
    if isinstance(value, dict):
        if not value:
            return EMPTY
        label = value.get("label")
        parts = [
            f"{key_label(k)}: {json_text(v)}"
            for k, v in value.items()
            if k != "label" and not (label is not None and k in JSON_QUIET_KEYS) and v not in (None, "", [], {})
        ]
        if label is not None and isinstance(label, str):
            return f"{label} ({', '.join(parts)})" if parts else label
        return "; ".join(parts) if parts else EMPTY
    if isinstance(value, list | tuple):
        return ", ".join(json_text(v) for v in value) if value else EMPTY
    return scalar_text(value)


def json_items(value) -> list[tuple[str, str]]:
    """A JSON document's top-level entries as (label, text); anything else as one unnamed entry."""
    if isinstance(value, dict):
        named = "label" in value
        return [(key_label(k), json_text(v)) for k, v in value.items() if not (named and k in JSON_QUIET_KEYS)]
    return [("", json_text(value))]


def _named(value) -> bool:
    return isinstance(value, dict) and isinstance(value.get("label"), str)


def json_leaves(value, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], str]:
    """A JSON document as its leaves by path, for telling what changed inside it: a dict's keys as
    words, a list of named dicts by their labels (any other list is one leaf)."""
    if isinstance(value, dict):
        named = "label" in value
        out: dict[tuple[str, ...], str] = {}
        for k, v in value.items():
            if named and k in JSON_QUIET_KEYS:
                continue
            out.update(json_leaves(v, (*path, key_label(k))))
        return out
    if isinstance(value, list) and value and all(_named(v) for v in value):
        labels = [v["label"] for v in value]
        if len(set(labels)) == len(labels):
            out = {}
            for v in value:
                out.update(json_leaves({k: x for k, x in v.items() if k != "label"}, (*path, v["label"])))
            return out
    return {path: json_text(value)}


def field_text(f: models.Field, value, *, zone: tzinfo | None = None, names: Callable | None = None) -> str:
    """One stored value of a model field as shown; a related record's id through `names`."""
    if value is None or value == "":
        return EMPTY
    if f.choices:
        return field_name(dict(f.flatchoices).get(value, value))
    related = getattr(f, "related_model", None)
    if related is not None and f.is_relation:
        return names(related, value) if names is not None else f"#{value}"
    if isinstance(f, models.JSONField):
        return json_text(value)
    return scalar_text(value, zone)


# A field's label per language, looked up once a process: a trail page names hundreds of changes.
_FIELD_LABELS: dict[tuple[models.Field, str | None], str] = {}


def field_label(f: models.Field) -> str:
    key = (f, get_language())
    label = _FIELD_LABELS.get(key)
    if label is None:
        label = _FIELD_LABELS[key] = field_name(sentence_case(f.verbose_name))
    return label


def person_name(user) -> str:
    """A user as colleagues name them, with the username that tells two namesakes apart:
    'Li Wei (clinician)', or the username alone."""
    full, username = user.get_full_name(), user.get_username()
    return f"{full} ({username})" if full and full != username else username


def readable_changes(
    model: type[models.Model],
    changes: dict[str, tuple[object, object]],
    *,
    zone: tzinfo | None = None,
    names: Callable | None = None,
) -> list[ReadableChange]:
    """Field-by-field differences ({field name: (old, new)} of raw values) with the fields' labels
    and values as shown; a related record through `names(model, pk)`."""
    out = []
    for name, (old, new) in changes.items():
        try:
            f = model._meta.get_field(name)
        except FieldDoesNotExist:  # a name the model no longer has: shown as it came
            out.append(ReadableChange(key_label(name), scalar_text(old), scalar_text(new)))
            continue
        if isinstance(f, models.JSONField):
            # A computed document (an eligibility's reasons): what it changed inside, leaf by leaf.
            before, after = json_leaves(old or {}), json_leaves(new or {})
            for path in list(before) + [p for p in after if p not in before]:
                if before.get(path, EMPTY) != after.get(path, EMPTY):
                    label = " · ".join((field_label(f), *path))
                    out.append(ReadableChange(label, before.get(path, EMPTY), after.get(path, EMPTY)))
            continue
        shown = [field_text(f, v, zone=zone, names=names) for v in (old, new)]
        out.append(ReadableChange(field_label(f), *shown))
    return out
