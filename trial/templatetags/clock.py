"""Template filters for times: the unambiguous name of a page's or document's time zone."""

from django import template

from trial.clock import zone_label as clock_zone_label

register = template.Library()


@register.filter
def zone_label(zone_name: str) -> str:
    """'Asia/Shanghai' -> 'Asia/Shanghai, UTC+08:00' (never an abbreviation such as CST)."""
    return clock_zone_label(str(zone_name)) if zone_name else "UTC"
