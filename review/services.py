"""Writes for data review: locks and their central check, source data verification, signatures."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.events import auth_event_log
from accounts.lockout import SIGNATURE, password_confirm
from audit.models import AuthEvent
from crf import catalogue
from crf.versions import history_digest
from review.models import DataLock, Signature, SourceVerification
from trial.clock import zone_label
from trial.text_columns import column_check
from trial.versioning import history_reason

REVIEW_LABELS = {"review.datalock", "review.sourceverification", "review.signature"}
QUERY_LABELS = {"queries.dataquery", "queries.querymessage"}


PAST = {DataLock.Level.FREEZE: "frozen", DataLock.Level.LOCK: "locked"}


class RecordLocked(ValidationError):
    """The data are frozen or locked; the message names the lock and who set it."""

    def __init__(self, message, *, lock: DataLock | None = None):
        super().__init__(message)
        self.lock = lock


class ReviewNotAllowed(Exception):
    """The user's role may not take this review step."""


def _scope_of(record) -> tuple[int | None, int | None, str]:
    """(patient id, visit id, target) of a clinical record, as the form catalogue declares them."""
    return catalogue.patient_id_of(record), catalogue.visit_id_of(record), catalogue.target_of(record)


# Portable SQL (PostgreSQL and the embedded SQLite): the form targets go in as an IN list. A
# record that belongs to no visit but to a day (a G-CSF dose, a study-drug dose, an adverse
# event's onset) is covered by the lock of a visit whose window (or date) holds that day.
_LOCK_SQL = (
    "SELECT id FROM review_datalock WHERE released_at IS NULL AND ("
    "scope = %s OR (scope = %s AND patient_id = %s) OR (scope = %s AND visit_id = %s) "
    "OR (scope = %s AND target IN ({targets}))"
    "{day_clause})"
)
_DAY_CLAUSE = (
    " OR (scope = %s AND visit_id IN (SELECT v.id FROM assessments_visit v WHERE v.patient_id = %s"
    " AND COALESCE(v.window_start, v.visit_date) <= %s AND COALESCE(v.window_end, v.visit_date) >= %s))"
)


def record_target(record) -> str:
    """The form a record is, as app.model:id (blank for a record not saved yet)."""
    return catalogue.target_of(record)


def _covering_targets(record) -> list[str]:
    """The record's own target and the form it belongs to: a lab value is part of its panel,
    and a query (with its conversation) is about the record it names."""
    targets = catalogue.covering_targets(record)
    label = record._meta.label_lower
    if label == "queries.dataquery" and record.target:
        targets.append(record.target)
    elif label == "queries.querymessage" and getattr(record, "query_id", None):
        from queries.models import DataQuery

        targets += [t for t in DataQuery.objects.filter(pk=record.query_id).values_list("target", flat=True) if t]
    return targets


def active_lock(record) -> DataLock | None:
    """The freeze or lock that holds a record now, of whatever scope (None when it may change)."""
    label = record._meta.label_lower
    if label in REVIEW_LABELS:
        return None
    patient_id, visit_id, _ = _scope_of(record)
    if label == "queries.querymessage" and patient_id is None:
        from queries.models import DataQuery

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
    """Refuse a change to frozen or locked data (called by every clinical write, trial.versioning)."""
    lock = active_lock(record)
    if lock is not None:
        raise RecordLocked({NON_FIELD_ERRORS: [lock_message(lock)]}, lock=lock)


def _roles(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def lock_set(
    *, trial, scope: str, level: str, user, reason: str, patient=None, visit=None, target: str = ""
) -> DataLock:
    if "data_manager" not in _roles(user):
        raise ReviewNotAllowed("Only data managers lock data.")
    if level not in DataLock.Level.values:
        raise ValidationError({"level": "Choose freeze or lock."})
    if scope not in DataLock.Scope.values:
        raise ValidationError({"scope": "Choose what to lock."})
    with transaction.atomic():
        lock = DataLock(
            trial=trial,
            scope=scope,
            level=level,
            patient=patient,
            visit=visit,
            target=target,
            reason=reason,
            locked_by=user,
        )
        column_check(lock)
        lock._change_reason = history_reason(f"{level} {scope}: {reason}")
        lock.save()
    return lock


def form_lock_set(*, record, level: str, user, reason: str) -> DataLock:
    """Freeze or lock one form (scope "record", target app.model:id) of a patient."""
    patient_id, _, target = _scope_of(record)
    if patient_id is None or not target:
        raise ValidationError({"target": "Only a saved form of an enrolled patient can be locked."})
    from patients.models import Patient

    patient = Patient.objects.select_related("site__trial").get(pk=patient_id)
    if DataLock.objects.filter(scope=DataLock.Scope.RECORD, target=target, released_at__isnull=True).exists():
        raise ValidationError({"target": "This form is already frozen or locked; unlock it first to change the level."})
    return lock_set(
        trial=patient.site.trial,
        scope=DataLock.Scope.RECORD,
        level=level,
        user=user,
        reason=reason.strip(),
        patient=patient,
        target=target,
    )


def lock_release(*, lock_id: int, user, reason: str) -> DataLock:
    """Unlocking needs a reason and stays in the lock's history."""
    if "data_manager" not in _roles(user):
        raise ReviewNotAllowed("Only data managers unlock data.")
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for unlocking."})
    with transaction.atomic():
        lock = DataLock.objects.select_for_update().filter(pk=lock_id, released_at__isnull=True).first()
        if lock is None:
            raise ValidationError({"lock": "This lock is already released."})
        lock.released_at, lock.released_by, lock.release_reason = timezone.now(), user, reason.strip()
        column_check(lock)
        lock._change_reason = history_reason(f"Unlocked: {reason.strip()}")
        lock.save()
    return lock


def sdv_mark(*, record, user) -> SourceVerification:
    """A monitor marks a form verified against source at its current version."""
    if "monitor" not in _roles(user):
        raise ReviewNotAllowed("Only monitors mark source data verified.")
    patient_id, _, target = _scope_of(record)
    verification = SourceVerification(
        patient_id=patient_id, target=target, record_version=record.version, verified_by=user
    )
    verification._change_reason = "Source data verified"
    verification.save()
    return verification


def sdv_status(*, record) -> SourceVerification | None:
    """The verification that still holds: one made at the record's current version, else None."""
    _, _, target = _scope_of(record)
    latest = SourceVerification.objects.filter(target=target).order_by("-verified_at").first()
    if latest is None or latest.record_version != record.version:
        return None
    return latest


def scope_digest(*, patient, visit=None) -> str:
    """The history of every record a signature covers (every signed form of the catalogue, or
    the forms of one visit); any later change, correction or deletion alters it."""
    return history_digest(
        forms=catalogue.signed_forms(), patient_id=patient.pk, visit_id=visit.pk if visit is not None else None
    )


def signature_meaning(*, user, scope: str, patient, visit=None) -> str:
    what = (
        f"visit '{visit.name}' of patient {patient.subject_number}"
        if visit
        else f"the casebook of {patient.subject_number}"
    )
    return (
        f"I, {user.get_full_name() or user.get_username()}, investigator, confirm that I have reviewed {what} "
        "and that the data are accurate and complete."
    )


def signature_sign(*, patient, user, password: str, visit=None, request=None) -> Signature:
    """Sign by re-entering the password (21 CFR 11.200); name, time and meaning are kept (11.50).

    The password gets the sign-in's lockout and every attempt is in the security log
    (accounts/lockout.py); `request` is the one the password came with, for its address.
    """
    if "clinician" not in _roles(user):
        raise ReviewNotAllowed("Only investigators (clinicians) sign.")
    try:
        password_confirm(request=request, user=user, password=password, purpose=SIGNATURE)
    except ValidationError as refused:
        raise ValidationError({"password": f"{' '.join(refused.messages)} Nothing was signed."}) from refused
    scope = Signature.Scope.VISIT if visit else Signature.Scope.CASEBOOK
    signature = Signature(
        patient=patient,
        visit=visit,
        scope=scope,
        signer=user,
        signer_name=user.get_full_name() or user.get_username(),
        meaning=signature_meaning(user=user, scope=scope, patient=patient, visit=visit),
        digest=scope_digest(patient=patient, visit=visit),
    )
    signature._change_reason = "Signed"
    signature.save()
    what = f"visit {visit.name}" if visit else "casebook"
    auth_event_log(
        kind=AuthEvent.Kind.SIGNATURE, user=user, request=request, detail=f"{patient.subject_number}: {what}"
    )
    return signature


def signature_valid(signature: Signature) -> bool:
    """A signature is broken, visibly, when anything it covers changed after signing."""
    return signature.digest == scope_digest(patient=signature.patient, visit=signature.visit)
