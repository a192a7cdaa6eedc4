"""Freezes and locks of the data, and the one check every write makes (crf.writes.record_save).

A lock holds a form (scope "record", target app.model:id), a visit, a patient or the whole
study; a freeze lets queries still be answered, a lock holds everything. Which records a lock
covers is the form catalogue's (patient, visit and day of each form, crf.catalogue).
"""

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection
from django.db.models import Q
from django.urls import reverse

from crf import catalogue
from crf.models import DataLock, DataQuery
from trial.clock import zone_label

# Records of the review itself, never held by a lock; and the query records a freeze lets change.
REVIEW_LABELS = {"crf.datalock", "review.sourceverification", "review.signature"}
QUERY_LABELS = {"crf.dataquery", "crf.querymessage"}

PAST = {DataLock.Level.FREEZE: "frozen", DataLock.Level.LOCK: "locked"}


class RecordLocked(ValidationError):
    """The data are frozen or locked; the message names the lock and who set it."""

    def __init__(self, message, *, lock: DataLock | None = None):
        super().__init__(message)
        self.lock = lock


def scope_of(record) -> tuple[int | None, int | None, str]:
    """(patient id, visit id, target) of a clinical record, as the form catalogue declares them."""
    return catalogue.patient_id_of(record), catalogue.visit_id_of(record), catalogue.target_of(record)


# Portable SQL (PostgreSQL and the embedded SQLite): the form targets go in as an IN list. A
# record that belongs to no visit but to a day (a G-CSF dose, a study-drug dose, an adverse
# event's onset) is covered by the lock of a visit whose window (or date) holds that day.
_LOCK_SQL = (
    "SELECT id FROM review_datalock WHERE released_at IS NULL AND ("  # DataLock's table
    "scope = %s OR (scope = %s AND patient_id = %s) OR (scope = %s AND visit_id = %s) "
    "OR (scope = %s AND target IN ({targets}))"
    "{day_clause})"
)
_DAY_CLAUSE = (
    " OR (scope = %s AND visit_id IN (SELECT v.id FROM assessments_visit v WHERE v.patient_id = %s"
    " AND COALESCE(v.window_start, v.visit_date) <= %s AND COALESCE(v.window_end, v.visit_date) >= %s))"
)


def _covering_targets(record) -> list[str]:
    """The record's own target and the form it belongs to: a lab value is part of its panel,
    and a query (with its conversation) is about the record it names."""
    targets = catalogue.covering_targets(record)
    label = record._meta.label_lower
    if label == "crf.dataquery" and record.target:
        targets.append(record.target)
    elif label == "crf.querymessage" and getattr(record, "query_id", None):
        targets += [t for t in DataQuery.objects.filter(pk=record.query_id).values_list("target", flat=True) if t]
    return targets


def active_lock(record) -> DataLock | None:
    """The freeze or lock that holds a record now, of whatever scope (None when it may change)."""
    label = record._meta.label_lower
    if label in REVIEW_LABELS:
        return None
    patient_id, visit_id, _ = scope_of(record)
    if label == "crf.querymessage" and patient_id is None:
        patient_id = DataQuery.objects.filter(pk=record.query_id).values_list("patient_id", flat=True).first()
    # Every clinical write passes here, so the common case (no lock applies) is one small
    # statement; the ORM's query building cost more than the query on bulk imports.
    targets = _covering_targets(record) or [""]  # "" is no form's target
    day = catalogue.day_of(record) if patient_id is not None else None
    sql = _LOCK_SQL.format(targets=", ".join(["%s"] * len(targets)), day_clause=_DAY_CLAUSE if day else "")
    sql += (" AND level = %s" if label in QUERY_LABELS else "") + " ORDER BY locked_at, id LIMIT 1"
    params = [DataLock.Scope.STUDY, DataLock.Scope.PATIENT, patient_id, DataLock.Scope.VISIT, visit_id]
    params += [DataLock.Scope.RECORD, *targets]
    if day:
        params += [DataLock.Scope.VISIT, patient_id, day, day]
    if label in QUERY_LABELS:
        params.append(DataLock.Level.LOCK)  # a freeze still lets queries be answered
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return DataLock.objects.select_related("locked_by", "patient__site", "visit").get(pk=row[0])


@dataclass(frozen=True)
class PatientLocks:
    """Every freeze or lock that holds some of one patient's data now, read in one query: what a
    long computation over the patient (the response engine) must leave as it was locked."""

    locks: tuple[DataLock, ...]

    @classmethod
    def load(cls, patient_id: int) -> "PatientLocks":
        rows = DataLock.objects.filter(released_at__isnull=True).filter(
            Q(scope=DataLock.Scope.STUDY) | Q(patient_id=patient_id) | Q(visit__patient_id=patient_id)
        )
        return cls(tuple(rows.order_by("locked_at", "id")))

    @property
    def whole(self) -> DataLock | None:
        """A lock of the study or of the patient: nothing of the patient changes."""
        return next((lock for lock in self.locks if lock.scope in (DataLock.Scope.STUDY, DataLock.Scope.PATIENT)), None)

    def holds(self, *, visit_id: int | None = None, targets: tuple[str, ...] = ()) -> bool:
        """Whether a record of this visit, or with one of these targets, is frozen or locked."""
        return self.whole is not None or any(
            (lock.scope == DataLock.Scope.VISIT and visit_id is not None and lock.visit_id == visit_id)
            or (lock.scope == DataLock.Scope.RECORD and lock.target in targets)
            for lock in self.locks
        )


def lock_description(lock: DataLock) -> str:
    """'the form is locked by dm since 2026-03-02 18:00 (Asia/Shanghai, UTC+08:00) (Database lock)'.

    The time is the patient's site's (UTC for a lock of the whole study)."""
    zone = lock.patient.site.time_zone if lock.patient_id else "UTC"
    when = lock.locked_at.astimezone(ZoneInfo(zone))
    what = lock.get_scope_display().lower()
    if lock.scope == DataLock.Scope.VISIT and lock.visit_id:
        what = f"visit {lock.visit.name}"
    return (
        f"the {what} is {PAST[lock.level]} by {lock.locked_by} since {when:%Y-%m-%d %H:%M} "
        f"({zone_label(zone, at=lock.locked_at)}) ({lock.reason or 'no reason'})"
    )


def lock_message(lock: DataLock) -> str:
    return f"Not saved: {lock_description(lock)}. A data manager must unlock it first."


def lock_check(record) -> None:
    """Refuse a change to frozen or locked data (called by every clinical write, crf.writes)."""
    lock = active_lock(record)
    if lock is not None:
        raise RecordLocked({NON_FIELD_ERRORS: [lock_message(lock)]}, lock=lock)


def lockable_model(label: str):
    """The model of a form a data manager can freeze or lock on its own (None for any other label)."""
    form = catalogue.form_of(label)
    return form.model if form is not None and form.lockable else None


@dataclass(frozen=True)
class FormLock:
    """What a form's page shows of the locks: the lock that holds the form (any scope), and for
    a data manager the form's own freeze/lock and unlock controls."""

    record: object | None
    lock: DataLock | None
    can_lock: bool

    @property
    def locked(self) -> bool:
        return self.lock is not None

    @property
    def own(self) -> bool:
        """The form itself is locked (not its visit, patient or the study): unlocked here."""
        return self.lock is not None and self.lock.scope == DataLock.Scope.RECORD

    @property
    def action_url(self) -> str:
        if self.record is None or self.record.pk is None:
            return ""
        return reverse("record_lock", args=[self.record._meta.label_lower, self.record.pk])

    @property
    def open_queries(self) -> int:
        """The form's unresolved queries, which a lock of it must confirm (review.services)."""
        if not self.can_lock or self.locked:
            return 0
        return (
            DataQuery.objects.filter(target=catalogue.target_of(self.record))
            .exclude(status=DataQuery.Status.CLOSED)
            .count()
        )

    @property
    def next_url(self) -> str:
        return catalogue.page_of(self.record) if self.record is not None and self.record.pk else ""


def form_lock(record, *, user) -> FormLock:
    """The lock state of a form for the page showing it (an unsaved record: the locks it would meet)."""
    can_lock = (
        record is not None
        and record.pk is not None
        and lockable_model(record._meta.label_lower) is not None
        and user.has_perm("crf.lock_data")
    )
    return FormLock(record=record, lock=active_lock(record) if record is not None else None, can_lock=can_lock)
