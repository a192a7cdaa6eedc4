"""Computed scores as the rules print them, so a page and a PDF show the same value."""

from django import template
from django.utils.translation import pgettext

from patients.models import Eligibility
from patients.rules import dosing
from patients.rules.meld import meld_display

register = template.Library()


@register.filter
def meld(score) -> str:
    return "" if score is None else meld_display(float(score))


@register.filter
def eligibility_label(status: str) -> str:
    """An eligibility code ("eligible") as the badge names it, in the reader's language."""
    badges = {
        Eligibility.ELIGIBLE: pgettext("eligibility badge", "Eligible"),
        Eligibility.INELIGIBLE: pgettext("eligibility badge", "Ineligible"),
        Eligibility.INCOMPLETE: pgettext("eligibility badge", "Incomplete"),
    }
    return badges.get(status, str(status).title())


@register.filter
def band_label(label: str) -> str:
    """A weight band's label ("> 10 kg and <= 20 kg") with its conjunction in the reader's language."""
    return dosing.band_label(label)
