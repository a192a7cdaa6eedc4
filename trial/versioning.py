"""Optimistic locking and history for clinical records.

Every clinical record carries a version number. A form posts back the version it was
loaded with; the save is refused when the stored version has moved on, so two users
editing the same record never silently overwrite each other.
"""

from django.conf import settings
from django.db import models

from trial.text_columns import column_check

# What the history keeps of a reason for change (django-simple-history's change reason column).
REASON_MAX_LENGTH = 100


def history_reason(text: str) -> str:
    """A reason as the history row keeps it: a composed one ("Recorded as pr: <the reason>") is cut to
    the column, the record's own field keeping it whole; a reason typed as such is refused at the door."""
    return text if len(text) <= REASON_MAX_LENGTH else text[: REASON_MAX_LENGTH - 1] + "…"


class ConcurrentEditError(Exception):
    """The record changed since the user loaded it."""

    def __init__(self, *, record: models.Model, expected_version: int, changes: dict[str, tuple[str, str]]):
        self.record = record
        self.expected_version = expected_version
        self.changes = changes
        who = getattr(record, "updated_by", None)
        super().__init__(
            f"{record._meta.verbose_name.capitalize()} was changed by {who or 'another user'} "
            f"after you opened it (version {expected_version} -> {record.version}); "
            "your changes were not saved. Review the current values and enter your changes again."
        )


class VersionedRecord(models.Model):
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )

    class Meta:
        abstract = True


def changes_since(record: models.Model, expected_version: int) -> dict[str, tuple[str, str]]:
    """Field-by-field differences between the version a user loaded and the stored one."""
    history = getattr(record, "history", None)
    if history is None:
        return {}
    then = history.filter(version=expected_version).order_by("-history_date").first()
    now = history.order_by("-history_date").first()
    if then is None or now is None:
        return {}
    delta = now.diff_against(then)
    return {
        change.field: (str(change.old), str(change.new))
        for change in delta.changes
        if change.field not in {"version", "updated_at", "updated_by"}
    }


def record_lock_for_update(*, model: type[models.Model], pk: int, expected_version: int | None) -> models.Model:
    """Load a record under a row lock and refuse when it moved past the user's version."""
    record = model.objects.select_for_update(no_key=True).get(pk=pk)
    if expected_version is not None and record.version != expected_version:
        raise ConcurrentEditError(
            record=record, expected_version=expected_version, changes=changes_since(record, expected_version)
        )
    return record


def record_save(*, record: VersionedRecord, user, reason: str | None, created: bool = False) -> None:
    """Save with the next version, the user and the reason recorded in the record's history.

    Frozen or locked data are refused here, so no service, page, API or import can change them.
    """
    from review.services import lock_check

    lock_check(record)
    column_check(record)  # a text too long for its column, or one PostgreSQL cannot store, names its field
    if not created:
        record.version += 1
    else:
        record.created_by = user if getattr(user, "is_authenticated", False) else None
    record.updated_by = user if getattr(user, "is_authenticated", False) else None
    if getattr(user, "is_authenticated", False):
        record._history_user = user
    record._change_reason = history_reason(reason or ("Created" if created else ""))
    record.save()
