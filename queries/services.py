"""Writes for manual data queries and every query's lifecycle (answer, close, re-open, comment).

Edit checks raise and close their own queries in the write path (crf.edit_checks). Each step is
a permission of the user's role (trial.roles): raise, answer, close (and re-open)."""

from django.db import transaction

from crf.models import DataQuery, QueryMessage
from crf.transactions import retried
from crf.writes import record_lock_for_update, record_save
from patients.models import Patient
from trial import clock
from trial.history import role_names


class QueryNotAllowed(Exception):
    """The user's role may not take this step of the query's lifecycle."""


RAISE, ANSWER, CLOSE = "crf.raise_query", "crf.answer_query", "crf.close_query"


STEP_DONE = {
    QueryMessage.Action.ANSWER: "answered",
    QueryMessage.Action.CLOSE: "closed",
    QueryMessage.Action.REOPEN: "re-opened",
}


def query_can_raise(user) -> bool:
    return user.has_perm(RAISE)


# The permission each step needs, and what a user without it is told.
STEP_PERMISSIONS = {
    "answer": (ANSWER, "Only the site (clinicians, coordinators) answers."),
    "close": (CLOSE, "Only monitors and data managers close queries."),
    "reopen": (CLOSE, "Only monitors and data managers re-open queries."),
}


def query_step_check(user, step: str) -> None:
    """Refuse a user who may not take this step, before anything the user sent is read."""
    if step in STEP_PERMISSIONS:
        permission, why = STEP_PERMISSIONS[step]
        if not user.has_perm(permission):
            raise QueryNotAllowed(why)


def _role_label(user) -> str:
    """The raiser's role, kept on the query as it was when raised."""
    return next(iter(role_names(user)), "")


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
    permission: str,
    why: str,
    expected_version: int | None = None,
):
    from django.core.exceptions import ValidationError

    with transaction.atomic():
        if not user.has_perm(permission):
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
            query.closed_at, query.closed_by = clock.now(), user
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
        permission=ANSWER,
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
        permission=CLOSE,
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
        permission=CLOSE,
        why="Only monitors and data managers re-open queries.",
        expected_version=expected_version,
    )


@retried
def query_comment(*, query_id: int, user, text: str) -> DataQuery:
    """A message in the conversation that does not change the query's status (site or raiser's roles).

    A closed query takes no comments: re-open it to continue. Locked data refuse it as any step.
    """
    from django.core.exceptions import ValidationError

    from crf.locks import lock_check

    with transaction.atomic():
        if not any(user.has_perm(permission) for permission in (RAISE, ANSWER, CLOSE)):
            raise QueryNotAllowed("Only the site and monitors or data managers take part in a query.")
        query = DataQuery.objects.select_for_update().get(pk=query_id)
        if query.status == DataQuery.Status.CLOSED:
            raise ValidationError({"status": "The query is closed; re-open it to continue the conversation."})
        if not text.strip():
            raise ValidationError({"text": "Write a message."})
        lock_check(query)
        _message(query, user, QueryMessage.Action.COMMENT, text)
    return query
