"""The one write path of the clinical records: every service saves through these functions.

Each write is checked against the locks (crf.locks) and the text columns, stamped with the
author, and kept in the record's history with the reason for change; a change names the version
it was loaded with (optimistic locking). Nothing else sets django-simple-history's internals
(`_change_reason`, `_history_user`).
"""

from django.db import models
from django.utils.translation import gettext_noop
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from crf.locks import lock_check
from crf.readable import person_name, readable_changes
from trial.clock import zone_of
from trial.text_columns import column_check
from trial.versioning import ConcurrentEditError, VersionedRecord, history_reason


def _author(user):
    return user if getattr(user, "is_authenticated", False) else None


def _stamp(record: models.Model, *, user, reason: str) -> None:
    author = _author(user)
    if author is not None:
        record._history_user = author
    record._change_reason = history_reason(reason)


def _changed_values(record: models.Model, expected_version: int) -> dict[str, tuple[object, object]]:
    """Field-by-field differences (stored values) between the version a user loaded and the stored one."""
    history = getattr(record, "history", None)
    if history is None:
        return {}
    then = history.filter(version=expected_version).order_by("-history_date").first()
    now = history.order_by("-history_date").first()
    if then is None or now is None:
        return {}
    delta = now.diff_against(then)
    return {
        change.field: (change.old, change.new)
        for change in delta.changes
        if change.field not in {"version", "updated_at", "updated_by"}
    }


def _zone_of(record: models.Model):
    """The zone of the record's site (its own or its patient's), in which its times are shown."""
    site = getattr(record, "site", None)
    if site is None:
        site = getattr(getattr(record, "patient", None), "site", None)
    return zone_of(site) if site is not None else None


def _record_name(model: type[models.Model], pk) -> str:
    """A related record named in a 409 (a handful of fields, read one by one): a user by name."""
    found = model._default_manager.filter(pk=pk).first()
    if found is None:
        return f"#{pk}"
    return person_name(found) if hasattr(found, "get_full_name") else str(found)


def record_lock_for_update(*, model: type[models.Model], pk: int, expected_version: int | None) -> models.Model:
    """Load a record under a row lock and refuse when it moved past the user's version."""
    record = model.objects.select_for_update(no_key=True).get(pk=pk)
    if expected_version is not None and record.version != expected_version:
        changed = _changed_values(record, expected_version)
        raise ConcurrentEditError(
            record=record,
            expected_version=expected_version,
            changes={name: (str(old), str(new)) for name, (old, new) in changed.items()},
            readable=readable_changes(model, changed, zone=_zone_of(record), names=_record_name),
        )
    return record


def record_save(*, record: VersionedRecord, user, reason: str | None, created: bool = False) -> None:
    """Save with the next version, the user and the reason recorded in the record's history.

    Frozen or locked data are refused here, so no service, page, API or import can change them.
    """
    lock_check(record)
    column_check(record)  # a text too long for its column, or one PostgreSQL cannot store, names its field
    if not created:
        record.version += 1
    else:
        record.created_by = _author(user)
    record.updated_by = _author(user)
    _stamp(record, user=user, reason=reason or (gettext_noop("Created") if created else ""))
    record.save()


def record_write(*, record: models.Model, user, reason: str, check_lock: bool = True) -> None:
    """Save a record that has no version of its own (a lab value of a panel, an AE suggestion) with
    its history's author and reason. `check_lock=False` only for a part of a form whose own write
    was just checked (the panel's values after the panel)."""
    if check_lock:
        lock_check(record)
    column_check(record)
    _stamp(record, user=user, reason=reason)
    record.save()


def record_delete(*, record: models.Model, user, reason: str, check_lock: bool = True) -> None:
    """Delete a record; its history keeps the deletion with the author and the reason."""
    if check_lock:
        lock_check(record)
    _stamp(record, user=user, reason=reason)
    record.delete()


def records_create(*, records: list, model: type[models.Model], user, reason: str, check_lock: bool = True) -> list:
    """Create many records of one form in one statement, with one history row each (a bulk import,
    a visit calendar, a panel's values). The first record's locks stand for all: callers pass
    records of one patient and one form."""
    if not records:
        return []
    if check_lock:
        lock_check(records[0])
    for record in records:
        column_check(record)
    author = _author(user)
    if any(f.name == "created_by" for f in model._meta.fields):
        for record in records:
            record.created_by = record.updated_by = author
    return bulk_create_with_history(records, model, default_user=author, default_change_reason=history_reason(reason))


def records_update(
    *, records: list, model: type[models.Model], fields: list[str], user, reason: str, check_lock: bool = True
) -> int:
    """Change many records of one form in one statement, with one history row each (a panel's
    corrected values). Records without a version of their own only: a versioned record is saved
    alone (record_save), naming the version it was loaded with. As records_create, the first
    record's locks stand for all."""
    if not records:
        return 0
    if issubclass(model, VersionedRecord):
        raise TypeError(f"{model.__name__} has a version: save it with record_save.")
    if check_lock:
        lock_check(records[0])
    for record in records:
        column_check(record)
    return bulk_update_with_history(
        records, model, fields, default_user=_author(user), default_change_reason=history_reason(reason)
    )
