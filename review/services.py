"""Writes for data review: locks and their central check, source data verification, signatures."""

import hashlib

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from review.models import DataLock, Signature, SourceVerification

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
    """(patient id, visit id, target) of a clinical record."""
    label = record._meta.label_lower
    target = f"{label}:{record.pk}" if record.pk else ""
    if label == "patients.patient":
        return record.pk, None, target
    if label == "patients.screening":
        from patients.models import Patient

        return Patient.objects.filter(screening_id=record.pk).values_list("id", flat=True).first(), None, target
    if label == "assessments.visit":
        return record.patient_id, record.pk, target
    return getattr(record, "patient_id", None), getattr(record, "visit_id", None), target


# Portable SQL (PostgreSQL and the embedded SQLite): the form targets go in as an IN list.
_LOCK_SQL = (
    "SELECT id FROM review_datalock WHERE released_at IS NULL AND ("
    "scope = %s OR (scope = %s AND patient_id = %s) OR (scope = %s AND visit_id = %s) "
    "OR (scope = %s AND target IN ({targets})))"
)


def record_target(record) -> str:
    """The form a record is, as app.model:id (blank for a record not saved yet)."""
    return _scope_of(record)[2]


def _covering_targets(record, target: str) -> list[str]:
    """The record's own target and the form it belongs to: a lab value is part of its panel,
    and a query (with its conversation) is about the record it names."""
    targets = [target] if target else []
    label = record._meta.label_lower
    if label == "assessments.labresult" and getattr(record, "panel_id", None):
        targets.append(f"assessments.labpanel:{record.panel_id}")
    elif label == "queries.dataquery" and record.target:
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
    patient_id, visit_id, target = _scope_of(record)
    if label == "queries.querymessage" and patient_id is None:
        from queries.models import DataQuery

        patient_id = DataQuery.objects.filter(pk=record.query_id).values_list("patient_id", flat=True).first()
    # Every clinical write passes here, so the common case (no lock applies) is one small
    # statement; the ORM's query building cost more than the query on bulk imports.
    targets = _covering_targets(record, target) or [""]  # "" is no form's target
    sql = _LOCK_SQL.format(targets=", ".join(["%s"] * len(targets)))
    sql += (" AND level = %s" if label in QUERY_LABELS else "") + " ORDER BY locked_at, id LIMIT 1"
    params = [DataLock.Scope.STUDY, DataLock.Scope.PATIENT, patient_id, DataLock.Scope.VISIT, visit_id]
    params += [DataLock.Scope.RECORD, *targets]
    if label in QUERY_LABELS:
        params.append(DataLock.Level.LOCK)  # a freeze still lets queries be answered
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return DataLock.objects.select_related("locked_by").get(pk=row[0]) if row is not None else None


def lock_description(lock: DataLock) -> str:
    """'the form is locked by dm since 2026-03-02 10:00 UTC (Database lock)'."""
    return (
        f"the {lock.get_scope_display().lower()} is {PAST[lock.level]} "
        f"by {lock.locked_by} since {lock.locked_at:%Y-%m-%d %H:%M} UTC ({lock.reason or 'no reason'})"
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
        lock._change_reason = f"{level} {scope}: {reason}"
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
        lock._change_reason = f"Unlocked: {reason.strip()}"
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
    """Identity and version of every record a signature covers; any later change alters it."""
    from assessments.models import AdverseEvent, LabPanel, ResponseAssessment, Visit
    from patients.models import DoseAdministration, Screening

    parts: list[str] = []
    if visit is not None:
        parts += [f"visit:{v.pk}:{v.version}" for v in Visit.objects.filter(pk=visit.pk)]
        parts += [f"panel:{p.pk}:{p.version}" for p in LabPanel.objects.filter(visit=visit)]
        parts += [f"response:{r.pk}:{r.version}" for r in ResponseAssessment.objects.filter(visit=visit)]
    else:
        parts += [f"screening:{s.pk}:{s.version}" for s in Screening.objects.filter(pk=patient.screening_id)]
        parts.append(f"patient:{patient.pk}:{patient.version}")
        for model in (Visit, LabPanel, AdverseEvent, DoseAdministration, ResponseAssessment):
            parts += [
                f"{model._meta.model_name}:{pk}:{v}"
                for pk, v in model.objects.filter(patient=patient).values_list("pk", "version")
            ]
    return hashlib.sha256("|".join(sorted(parts)).encode()).hexdigest()


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


def signature_sign(*, patient, user, password: str, visit=None) -> Signature:
    """Sign by re-entering the password (21 CFR 11.200); name, time and meaning are kept (11.50)."""
    if "clinician" not in _roles(user):
        raise ReviewNotAllowed("Only investigators (clinicians) sign.")
    if not user.check_password(password):
        raise ValidationError({"password": "The password is not correct; nothing was signed."})
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
    return signature


def signature_valid(signature: Signature) -> bool:
    """A signature is broken, visibly, when anything it covers changed after signing."""
    return signature.digest == scope_digest(patient=signature.patient, visit=signature.visit)
