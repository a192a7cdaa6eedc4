"""What every clinical record is: versioned, with its author; the writes are crf.writes'.

Every clinical record carries a version number. A form posts back the version it was
loaded with; the save is refused when the stored version has moved on, so two users
editing the same record never silently overwrite each other.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext as _

# What the history keeps of a reason for change (django-simple-history's change reason column).
REASON_MAX_LENGTH = 100


def history_reason(text: str) -> str:
    """A reason as the history row keeps it: a composed one ("Recorded as pr: <the reason>") is cut to
    the column, the record's own field keeping it whole; a reason typed as such is refused at the door."""
    return text if len(text) <= REASON_MAX_LENGTH else text[: REASON_MAX_LENGTH - 1] + "…"


class ConcurrentEditError(Exception):
    """The record changed since the user loaded it.

    `changes` keeps the stored values as text by field name (the API's structured answer);
    `readable` the same differences as a person reads them ("Ferritin (µg/L): 3200 → 4100"),
    which the message and the pages show."""

    def __init__(
        self,
        *,
        record: models.Model,
        expected_version: int,
        changes: dict[str, tuple[str, str]],
        readable: list | None = None,
    ):
        self.record = record
        self.expected_version = expected_version
        self.changes = changes
        self.readable = list(readable or [])
        who = getattr(record, "updated_by", None)
        if who is not None and who.get_full_name():
            who = f"{who.get_full_name()} ({who.get_username()})"
        self.summary = _(
            "%(record)s was changed by %(who)s after you opened it (version %(expected)s -> %(version)s); "
            "your changes were not saved. Review the current values and enter your changes again."
        ) % {
            "record": str(record._meta.verbose_name).capitalize(),
            "who": who or _("another user"),
            "expected": expected_version,
            "version": record.version,
        }
        message = self.summary
        if self.readable:
            message += " " + _("Changed since you opened it: %(changes)s.") % {
                "changes": "; ".join(str(c) for c in self.readable)
            }
        super().__init__(message)


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
