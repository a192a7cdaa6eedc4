"""{{ visit.name|visit_name }}: a scheduled visit's name in the reader's language."""

from django import template

from trial import visit_names

register = template.Library()


@register.filter
def visit_name(name) -> str:
    return visit_names.visit_name(name)
