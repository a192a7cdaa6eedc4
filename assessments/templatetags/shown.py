"""Labels the report keeps in English, printed in the reader's language (templates display; they decide nothing)."""

from django import template
from django.utils.translation import gettext

register = template.Library()


@register.filter
def translated(value):
    """A label of the report's data in the reader's language; a number or an empty value as it is."""
    if isinstance(value, str) and value:
        return gettext(value)
    return value
