"""Display names of a visit's status (templates display; they decide nothing)."""

from django import template
from django.utils.translation import gettext_lazy as _

from assessments import display
from assessments.rules.schedule import VisitStatus

register = template.Library()

STATUS_LABELS = {
    VisitStatus.DONE: _("Done"),
    VisitStatus.NOT_DONE: _("Not done"),
    VisitStatus.UPCOMING: _("Upcoming"),
    VisitStatus.DUE: _("Due"),
    VisitStatus.OVERDUE: _("Overdue"),
    VisitStatus.MISSED: _("Missed"),
}


@register.filter
def visit_status_label(status) -> str:
    return STATUS_LABELS.get(VisitStatus(status), str(status))


@register.filter
def visit_name(visit) -> str:
    """A visit's name in the reader's language (assessments.display)."""
    return display.visit_name(visit)


@register.filter
def window_note(visit) -> str:
    """Why a visit is out of its window, in the reader's language (assessments.display)."""
    return display.window_note(visit)


@register.filter
def response_shown(detail) -> dict:
    """A stored response computation's reasons in the reader's language (assessments.display)."""
    return display.response_detail(detail)
