"""Writes for manual data queries and every query's lifecycle (answer, close, re-open, comment).

Edit checks raise and close their own queries in the write path (crf.edit_checks). Each step is
a permission of the user's role (trial.roles): raise, answer, close (and re-open)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from crf.catalogue import form_of
from crf.models import DataQuery, QueryMessage
from crf.transactions import retried
from crf.writes import record_lock_for_update, record_save
from patients.models import Patient
from queries.notices import query_notify
from queries.selectors import query_assignees, target_fields
from trial import clock
from trial.history import role_names


class QueryNotAllowed(Exception):
    """The user's role may not take this step of the query's lifecycle."""


RAISE, ANSWER, CLOSE = "crf.raise_query", "crf.answer_query", "crf.close_query"


STEP_DONE = {
    QueryMessage.Action.ANSWER: gettext_lazy("answered"),
    QueryMessage.Action.CLOSE: gettext_lazy("closed"),
    QueryMessage.Action.REOPEN: gettext_lazy("re-opened"),
}


def query_can_raise(user) -> bool:
    return user.has_perm(RAISE)


# The permission each step needs, and what a user without it is told.
STEP_PERMISSIONS = {
    "answer": (ANSWER, gettext_lazy("Only the site (clinicians, coordinators) answers.")),
    "close": (CLOSE, gettext_lazy("Only monitors and data managers close queries.")),
    "reopen": (CLOSE, gettext_lazy("Only monitors and data managers re-open queries.")),
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


def _message(query: DataQuery, user, action: str, text: str) -> QueryMessage:
    return QueryMessage.objects.create(query=query, author=user, action=action, text=text.strip())


def query_can_assign(user) -> bool:
    """The raiser's roles (monitor, data manager) say who at the site answers."""
    return user.has_perm(RAISE) or user.has_perm(CLOSE)


def _field_check(target: str, field: str) -> None:
    """A query names a field of its record's form, as the form has it (or none: the whole record)."""
    if not field:
        return
    fields = target_fields(target)
    if field not in fields:
        form = form_of(target.partition(":")[0])
        title = str(form.title) if form is not None else target.partition(":")[0]
        message = _("Field: “%(field)s” is not a field of the %(form)s form; choose one of the form's fields.")
        raise ValidationError({"field": message % {"field": field, "form": title}})


def _assignee(patient: Patient, assignee_id: int | None):
    """The user a query is assigned to: someone of the patient's site who answers queries."""
    if assignee_id is None:
        return None
    assignee = query_assignees(patient=patient).filter(pk=assignee_id).first()
    if assignee is None:
        message = _("Assignee: choose a member of site %(site)s who answers queries.")
        raise ValidationError({"assignee": message % {"site": patient.site.code}})
    return assignee


@retried
def query_raise(
    *,
    patient: Patient,
    target: str,
    field: str,
    text: str,
    user,
    link: str = "",
    assignee_id: int | None = None,
) -> DataQuery:
    """A monitor or data manager asks the site about one record (and optionally one field of its
    form), optionally of one person of the site; the assignee (else the site's staff) is told."""
    if not query_can_raise(user):
        raise QueryNotAllowed(_("Only monitors and data managers raise queries."))
    _field_check(target, field)
    if not text.strip():
        raise ValidationError({"text": _("Write the question for the site.")})
    assignee = _assignee(patient, assignee_id)
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
            assignee=assignee,
        )
        record_save(record=query, user=user, reason=gettext_noop("Query raised"), created=True)
        message = _message(query, user, QueryMessage.Action.RAISE, text)
        query_notify(query=query, message=message, user=user)
    return query


@retried
def query_assign(*, query_id: int, user, assignee_id: int | None, expected_version: int | None = None) -> DataQuery:
    """Give an unresolved query to one person of the patient's site (or to nobody: the site)."""
    with transaction.atomic():
        if not query_can_assign(user):
            raise QueryNotAllowed(_("Only monitors and data managers assign queries."))
        query = record_lock_for_update(model=DataQuery, pk=query_id, expected_version=expected_version)
        if query.status == DataQuery.Status.CLOSED:
            raise ValidationError({"status": _("The query is closed; re-open it to assign it.")})
        assignee = _assignee(query.patient, assignee_id)
        if assignee == query.assignee:
            return query
        query.assignee = assignee
        who = (assignee.get_full_name() or assignee.get_username()) if assignee else _("the site")
        record_save(record=query, user=user, reason=f"Query assigned to {who}")
        message = _message(query, user, QueryMessage.Action.ASSIGN, _("Assigned to %(who)s.") % {"who": who})
        if assignee is not None:
            query_notify(query=query, message=message, user=user)
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
    with transaction.atomic():
        if not user.has_perm(permission):
            raise QueryNotAllowed(why)
        query = record_lock_for_update(model=DataQuery, pk=query_id, expected_version=expected_version)
        if query.status not in allowed_from:
            raise ValidationError(
                {
                    "status": _("The query is %(status)s; it cannot be %(done)s.")
                    % {"status": query.get_status_display().lower(), "done": STEP_DONE[action]}
                }
            )
        if not text.strip():
            raise ValidationError({"text": _("Write a message.")})
        query.status = to
        if to == DataQuery.Status.CLOSED:
            query.closed_at, query.closed_by = clock.now(), user
        else:
            query.closed_at, query.closed_by = None, None
        record_save(record=query, user=user, reason=f"Query {action}")
        message = _message(query, user, action, text)
        query_notify(query=query, message=message, user=user)
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
        why=_("Only the site (clinicians, coordinators) answers."),
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
        why=_("Only monitors and data managers close queries."),
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
        why=_("Only monitors and data managers re-open queries."),
        expected_version=expected_version,
    )


@retried
def query_comment(*, query_id: int, user, text: str) -> DataQuery:
    """A message in the conversation that does not change the query's status (site or raiser's roles).

    A closed query takes no comments: re-open it to continue. Locked data refuse it as any step.
    """
    from crf.locks import lock_check

    with transaction.atomic():
        if not any(user.has_perm(permission) for permission in (RAISE, ANSWER, CLOSE)):
            raise QueryNotAllowed(_("Only the site and monitors or data managers take part in a query."))
        query = DataQuery.objects.select_for_update().get(pk=query_id)
        if query.status == DataQuery.Status.CLOSED:
            raise ValidationError({"status": _("The query is closed; re-open it to continue the conversation.")})
        if not text.strip():
            raise ValidationError({"text": _("Write a message.")})
        lock_check(query)
        _message(query, user, QueryMessage.Action.COMMENT, text)
    return query
