"""Writes for data review: locks and their central check, source data verification, signatures."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from accounts.events import auth_event_log
from accounts.lockout import SIGNATURE, password_confirm
from audit.models import AuthEvent
from crf import catalogue
from crf.locks import scope_of
from crf.models import DataLock
from crf.versions import history_digest
from crf.writes import record_write
from queries.selectors import queries_unresolved_covered
from review.models import Signature, SourceVerification
from trial.visit_names import visit_name


class ReviewNotAllowed(Exception):
    """The user's role may not take this review step."""


CONFIRM_FIELD = "confirm_open_queries"
LISTED = 10  # open queries named in the refusal; the rest are counted


def lock_open_queries(*, trial, scope: str, level: str, patient=None, visit=None, target: str = "") -> list:
    """The unresolved queries a lock would hold (none for a freeze: queries are still answered)."""
    if level != DataLock.Level.LOCK:
        return []
    if scope == DataLock.Scope.STUDY:
        return queries_unresolved_covered(trial=trial)
    if scope == DataLock.Scope.RECORD:
        return queries_unresolved_covered(target=target)
    return queries_unresolved_covered(patient=patient, visit=visit if scope == DataLock.Scope.VISIT else None)


def open_queries_check(*, queries: list, confirmed: bool, step: str) -> None:
    """A person locking, signing or verifying data with unresolved (open or answered) queries on
    them confirms it explicitly; without the confirmation nothing is done and the message names
    the queries. The review page calls it before the step (before the signature's password)."""
    if not queries or confirmed:
        return
    named = []
    for query in queries[:LISTED]:
        what = query.target_label + (f" · {query.field_label}" if query.field else "")
        named.append(f"#{query.pk} {what} ({query.get_status_display().lower()})")
    more = _(" and %(n)d more") % {"n": len(queries) - LISTED} if len(queries) > LISTED else ""
    count = ngettext("%(n)d unresolved query", "%(n)d unresolved queries", len(queries)) % {"n": len(queries)}
    message = _(
        "Not %(step)s: %(count)s on these data: %(named)s%(more)s. Tick “Go ahead with the open queries” to confirm."
    )
    raise ValidationError(
        {CONFIRM_FIELD: message % {"step": step, "count": count, "named": "; ".join(named), "more": more}},
        code="open_queries",
    )


def lock_reason_check(reason: str) -> None:
    """A freeze or lock says why (it is in the lock's history and on every page it holds)."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for the freeze or lock.")})


def lock_set(
    *, trial, scope: str, level: str, user, reason: str, patient=None, visit=None, target: str = ""
) -> DataLock:
    if not user.has_perm("crf.lock_data"):
        raise ReviewNotAllowed(_("Only data managers lock data."))
    if level not in DataLock.Level.values:
        raise ValidationError({"level": _("Choose freeze or lock.")})
    if scope not in DataLock.Scope.values:
        raise ValidationError({"scope": _("Choose what to lock.")})
    lock_reason_check(reason)
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
        record_write(record=lock, user=user, reason=f"{level} {scope}: {reason}", check_lock=False)
    return lock


def form_lock_set(*, record, level: str, user, reason: str) -> DataLock:
    """Freeze or lock one form (scope "record", target app.model:id) of a patient."""
    patient_id, _visit, target = scope_of(record)
    if patient_id is None or not target:
        raise ValidationError({"target": _("Only a saved form of an enrolled patient can be locked.")})
    from patients.models import Patient

    patient = Patient.objects.select_related("site__trial").get(pk=patient_id)
    if DataLock.objects.filter(scope=DataLock.Scope.RECORD, target=target, released_at__isnull=True).exists():
        raise ValidationError(
            {"target": _("This form is already frozen or locked; unlock it first to change the level.")}
        )
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
    if not user.has_perm("crf.lock_data"):
        raise ReviewNotAllowed(_("Only data managers unlock data."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for unlocking.")})
    with transaction.atomic():
        lock = DataLock.objects.select_for_update().filter(pk=lock_id, released_at__isnull=True).first()
        if lock is None:
            raise ValidationError({"lock": _("This lock is already released.")})
        lock.released_at, lock.released_by, lock.release_reason = timezone.now(), user, reason.strip()
        record_write(record=lock, user=user, reason=f"Unlocked: {reason.strip()}", check_lock=False)
    return lock


def sdv_mark(*, record, user) -> SourceVerification:
    """A monitor marks a form verified against source at its current version."""
    if not user.has_perm("review.verify_source"):
        raise ReviewNotAllowed(_("Only monitors mark source data verified."))
    patient_id, _visit, target = scope_of(record)
    verification = SourceVerification(
        patient_id=patient_id, target=target, record_version=record.version, verified_by=user
    )
    record_write(record=verification, user=user, reason=gettext_noop("Source data verified"), check_lock=False)
    return verification


def sdv_status(*, record) -> SourceVerification | None:
    """The verification that still holds: one made at the record's current version, else None."""
    _, _, target = scope_of(record)
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
    """What the signer confirms, in the language of the page they sign on (kept with the signature
    as they read it)."""
    name = user.get_full_name() or user.get_username()
    if visit:
        text = _(
            "I, %(name)s, investigator, confirm that I have reviewed visit '%(visit)s' of patient %(subject)s "
            "and that the data are accurate and complete."
        )
        return text % {"name": name, "visit": visit_name(visit.name), "subject": patient.subject_number}
    text = _(
        "I, %(name)s, investigator, confirm that I have reviewed the casebook of %(subject)s "
        "and that the data are accurate and complete."
    )
    return text % {"name": name, "subject": patient.subject_number}


def signature_sign(*, patient, user, password: str, visit=None, request=None) -> Signature:
    """Sign by re-entering the password (21 CFR 11.200); name, time and meaning are kept (11.50).

    The password gets the sign-in's lockout and every attempt is in the security log
    (accounts/lockout.py); `request` is the one the password came with, for its address.
    """
    if not user.has_perm("review.sign_records"):
        raise ReviewNotAllowed(_("Only investigators (clinicians) sign."))
    try:
        password_confirm(request=request, user=user, password=password, purpose=SIGNATURE)
    except ValidationError as refused:
        nothing = _("%(why)s Nothing was signed.") % {"why": " ".join(refused.messages)}
        raise ValidationError({"password": nothing}) from refused
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
    record_write(record=signature, user=user, reason=gettext_noop("Signed"), check_lock=False)
    what = f"visit {visit.name}" if visit else "casebook"
    auth_event_log(
        kind=AuthEvent.Kind.SIGNATURE, user=user, request=request, detail=f"{patient.subject_number}: {what}"
    )
    return signature


def signature_valid(signature: Signature) -> bool:
    """A signature is broken, visibly, when anything it covers changed after signing."""
    return signature.digest == scope_digest(patient=signature.patient, visit=signature.visit)
