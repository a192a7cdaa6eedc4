"""Writes for data queries. Edit checks call `auto_query_sync` with their verdict: a failing
check opens one query on its record, a passing check closes it ("fixed in the data")."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from crf.transactions import retried
from patients.models import Patient
from queries.models import DataQuery, QueryMessage
from trial.versioning import record_lock_for_update, record_save


def target_of(record) -> str:
    return f"{record._meta.label_lower}:{record.pk}"


def auto_queries_live(*, patient: Patient, check_code: str) -> dict[str, DataQuery]:
    """The patient's open automatic queries of one check, by target (for a batch of syncs)."""
    rows = DataQuery.objects.filter(
        patient_id=patient.pk, check_code=check_code, origin=DataQuery.Origin.AUTOMATIC
    ).exclude(status=DataQuery.Status.CLOSED)
    return {q.target: q for q in rows.order_by()}


_UNKNOWN = object()


def auto_query_sync(
    *,
    patient: Patient,
    record,
    check_code: str,
    failing: bool,
    text: str,
    link: str = "",
    field: str = "",
    live=_UNKNOWN,
) -> DataQuery | None:
    """Open the edit check's query while it fails; close it once the data pass the check.

    `live` may pass the open query already loaded (None when there is none), as a caller
    syncing many records of one patient does with `auto_queries_live`.
    """
    target = target_of(record)
    if live is _UNKNOWN:
        live = (
            DataQuery.objects.select_for_update()
            .filter(target=target, check_code=check_code, origin=DataQuery.Origin.AUTOMATIC)
            .exclude(status=DataQuery.Status.CLOSED)
            .first()
        )
    if (live is None and not failing) or (live is not None and failing and live.text == text):
        return live
    with transaction.atomic():
        if failing and live is None:
            query = DataQuery(
                patient=patient,
                target=target,
                field=field,
                check_code=check_code,
                origin=DataQuery.Origin.AUTOMATIC,
                text=text,
                link=link,
            )
            try:
                with transaction.atomic():
                    record_save(record=query, user=None, reason="Raised by edit check", created=True)
            except IntegrityError:
                return None  # raised concurrently by another worker
            QueryMessage.objects.create(query=query, action=QueryMessage.Action.RAISE, text=text)
            return query
        if failing and live is not None and live.text != text:
            live.text = text
            record_save(record=live, user=None, reason="Edit check still failing; text updated")
            return live
        if not failing and live is not None:
            live.status = DataQuery.Status.CLOSED
            live.closed_at = timezone.now()
            record_save(record=live, user=None, reason="Closed automatically: the data now pass the check")
            QueryMessage.objects.create(
                query=live, action=QueryMessage.Action.CLOSE, text="Closed automatically: the data were corrected."
            )
            return live
        return live


class QueryNotAllowed(Exception):
    """The user's role may not take this step of the query's lifecycle."""


RAISING_ROLES = {"monitor", "data_manager"}
ANSWERING_ROLES = {"clinician", "coordinator"}


STEP_DONE = {
    QueryMessage.Action.ANSWER: "answered",
    QueryMessage.Action.CLOSE: "closed",
    QueryMessage.Action.REOPEN: "re-opened",
}


def _roles_of(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def query_can_raise(user) -> bool:
    return bool(_roles_of(user) & RAISING_ROLES)


# Who takes each step of a query, and what a refused role is told.
STEP_ROLES = {
    "answer": (ANSWERING_ROLES, "Only the site (clinicians, coordinators) answers."),
    "close": (RAISING_ROLES, "Only monitors and data managers close queries."),
    "reopen": (RAISING_ROLES, "Only monitors and data managers re-open queries."),
}


def query_step_check(user, step: str) -> None:
    """Refuse a role that may not take this step, before anything the user sent is read."""
    if step in STEP_ROLES:
        roles, why = STEP_ROLES[step]
        if not _roles_of(user) & roles:
            raise QueryNotAllowed(why)


def _role_label(user) -> str:
    roles = _roles_of(user)
    return next((r for r in ("data_manager", "monitor", "coordinator", "clinician") if r in roles), "")


def _message(query: DataQuery, user, action: str, text: str) -> None:
    QueryMessage.objects.create(query=query, author=user, action=action, text=text.strip())


@retried
def query_raise(*, patient: Patient, target: str, field: str, text: str, user, link: str = "") -> DataQuery:
    """A monitor or data manager asks the site about one record (and optionally one field)."""
    from django.core.exceptions import ValidationError

    if not query_can_raise(user):
        raise QueryNotAllowed("Only monitors and data managers raise queries.")
    if not text.strip():
        raise ValidationError({"text": "Write the question for the site."})
    with transaction.atomic():
        query = DataQuery(
            patient=patient,
            target=target,
            field=field,
            origin=DataQuery.Origin.MANUAL,
            text=text.strip(),
            link=link,
            raised_by=user,
            raised_by_role=_role_label(user),
        )
        record_save(record=query, user=user, reason="Query raised", created=True)
        _message(query, user, QueryMessage.Action.RAISE, text)
    return query


def _step(
    *,
    query_id: int,
    user,
    text: str,
    allowed_from: set[str],
    to: str,
    action: str,
    roles: set[str],
    why: str,
    expected_version: int | None = None,
):
    from django.core.exceptions import ValidationError

    with transaction.atomic():
        if not _roles_of(user) & roles:
            raise QueryNotAllowed(why)
        query = record_lock_for_update(model=DataQuery, pk=query_id, expected_version=expected_version)
        if query.status not in allowed_from:
            raise ValidationError(
                {"status": f"The query is {query.get_status_display().lower()}; it cannot be {STEP_DONE[action]}."}
            )
        if not text.strip():
            raise ValidationError({"text": "Write a message."})
        query.status = to
        if to == DataQuery.Status.CLOSED:
            query.closed_at, query.closed_by = timezone.now(), user
        else:
            query.closed_at, query.closed_by = None, None
        record_save(record=query, user=user, reason=f"Query {action}")
        _message(query, user, action, text)
    return query


@retried
def query_answer(*, query_id: int, user, text: str, expected_version: int | None = None) -> DataQuery:
    """The site answers (open or re-opened -> answered)."""
    return _step(
        query_id=query_id,
        user=user,
        text=text,
        allowed_from={DataQuery.Status.OPEN},
        to=DataQuery.Status.ANSWERED,
        action=QueryMessage.Action.ANSWER,
        roles=ANSWERING_ROLES,
        why="Only the site (clinicians, coordinators) answers.",
        expected_version=expected_version,
    )


@retried
def query_close(*, query_id: int, user, text: str, expected_version: int | None = None) -> DataQuery:
    """Only the raiser's roles (monitor, data manager) close a manual query."""
    return _step(
        query_id=query_id,
        user=user,
        text=text,
        allowed_from={DataQuery.Status.OPEN, DataQuery.Status.ANSWERED},
        to=DataQuery.Status.CLOSED,
        action=QueryMessage.Action.CLOSE,
        roles=RAISING_ROLES,
        why="Only monitors and data managers close queries.",
        expected_version=expected_version,
    )


@retried
def query_reopen(*, query_id: int, user, text: str, expected_version: int | None = None) -> DataQuery:
    return _step(
        query_id=query_id,
        user=user,
        text=text,
        allowed_from={DataQuery.Status.ANSWERED, DataQuery.Status.CLOSED},
        to=DataQuery.Status.OPEN,
        action=QueryMessage.Action.REOPEN,
        roles=RAISING_ROLES,
        why="Only monitors and data managers re-open queries.",
        expected_version=expected_version,
    )


@retried
def query_comment(*, query_id: int, user, text: str) -> DataQuery:
    """A message in the conversation that does not change the query's status (site or raiser's roles).

    A closed query takes no comments: re-open it to continue. Locked data refuse it as any step.
    """
    from django.core.exceptions import ValidationError

    from review.services import lock_check

    with transaction.atomic():
        if not _roles_of(user) & (RAISING_ROLES | ANSWERING_ROLES):
            raise QueryNotAllowed("Only the site and monitors or data managers take part in a query.")
        query = DataQuery.objects.select_for_update().get(pk=query_id)
        if query.status == DataQuery.Status.CLOSED:
            raise ValidationError({"status": "The query is closed; re-open it to continue the conversation."})
        if not text.strip():
            raise ValidationError({"text": "Write a message."})
        lock_check(query)
        _message(query, user, QueryMessage.Action.COMMENT, text)
    return query
