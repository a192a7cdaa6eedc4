"""{{ visit.name|visit_name }}: a visit of the schedule named in the page's language."""

from django import template

from trial.schedule_names import visit_name as _visit_name

register = template.Library()


@register.filter
def visit_name(name) -> str:
    return _visit_name(name)
