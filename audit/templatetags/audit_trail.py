"""The changes cell of an audit trail entry, built in one pass: a trail page shows hundreds of
changes, and the same markup through template tags costs about ten lookups a change."""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import ngettext

register = template.Library()


def _value(text, verbatim: bool, tag: str) -> str:
    """A value as shown; a value typed or stored as text is marked as not to translate."""
    marked = ' translate="no"' if verbatim else ""
    return f"<{tag}{marked}>{conditional_escape(text)}</{tag}>"


@register.simple_tag
def trail_changes(entry) -> str:
    """Created with more than four fields: folded under "N fields entered"; otherwise each change
    as "label: old → new" (a creation without its old value); none: a dash."""
    changes = entry.changes
    if not changes:
        return "—"
    created = entry.action == "Created"
    lines = []
    for c in changes:
        label = f'<span class="text-muted">{conditional_escape(c.label)}:</span> '
        old = ""
        if not created:
            old = (_value(c.old, True, "span") if c.verbatim else str(conditional_escape(c.old))) + " → "
        lines.append(f"<div>{label}{old}{_value(c.new, c.verbatim, 'strong')}</div>")
    body = "".join(lines)
    if created and len(changes) > 4:
        n = len(changes)
        summary = ngettext("%(n)s field entered", "%(n)s fields entered", n) % {"n": n}
        body = f"<details><summary>{conditional_escape(summary)}</summary>{body}</details>"
    return mark_safe(body)  # noqa: S308 - every value above is escaped
