"""Computed scores as the rules print them, so a page and a PDF show the same value."""

from django import template

from patients.rules.meld import meld_display

register = template.Library()


@register.filter
def meld(score) -> str:
    return "" if score is None else meld_display(float(score))
