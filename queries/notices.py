"""Who is told of a step of a query, in the bell and by e-mail (notifications app).

Raised: its assignee, or the site's staff (the users of the patient's site who answer queries)
when nobody is assigned. Answered: the user who raised it. Re-opened: the site's staff and the
assignee. Assigned: the new assignee. The person taking the step is never told of it; each step
(one message of the conversation) notifies each person once.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crf.models import DataQuery, QueryMessage
from notifications.models import Notification
from notifications.services import notifications_send
from queries.selectors import field_label, form_name, query_assignees

TITLES = {
    QueryMessage.Action.RAISE: _("Query raised"),
    QueryMessage.Action.ANSWER: _("Query answered"),
    QueryMessage.Action.REOPEN: _("Query re-opened"),
    QueryMessage.Action.ASSIGN: _("Query assigned to you"),
}


def query_recipients(*, query: DataQuery, action: str) -> list:
    if action == QueryMessage.Action.RAISE:
        return [query.assignee] if query.assignee_id else list(query_assignees(patient=query.patient))
    if action == QueryMessage.Action.ANSWER:
        return [query.raised_by] if query.raised_by_id and query.raised_by.is_active else []
    if action == QueryMessage.Action.REOPEN:
        staff = list(query_assignees(patient=query.patient))
        return staff + ([query.assignee] if query.assignee_id and query.assignee not in staff else [])
    if action == QueryMessage.Action.ASSIGN:
        return [query.assignee] if query.assignee_id else []
    return []


def query_notify(*, query: DataQuery, message: QueryMessage, user) -> list[Notification]:
    """Notify the people a step concerns (see the module docstring); e-mailed after the commit."""
    if message.action not in TITLES:
        return []
    recipients = [r for r in query_recipients(query=query, action=message.action) if r.pk != getattr(user, "pk", None)]
    if not recipients:
        return []

    def title() -> str:
        """In the active language: notifications_send writes it in each recipient's."""
        what = form_name(query.target.partition(":")[0])
        if query.field:
            what = f"{what} · {field_label(query.target, query.field)}"
        return f"{TITLES[message.action]}: {query.patient.subject_number}, {what}"

    return notifications_send(
        recipients=recipients,
        kind=Notification.Kind.QUERY,
        title=title,
        body=message.text,
        link=reverse("query_detail", args=[query.pk]),
        source_key=f"query:{query.pk}:{message.pk}",
    )
