"""A scheduled visit's name in the reader's language.

The names are the trial's configuration (protocol section 7: "Day 7 (efficacy)", "Follow-up
day 56") and stay English in the data and the exports; a page shows them through `visit_name`,
which knows the shapes the schedule's names take. A name of another shape is shown as stored.
"""

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

BASELINE = gettext_noop("Screening / baseline")

_SHAPES = (
    (re.compile(r"^Day (?P<day>\d+)$"), gettext_noop("Day %(day)s")),
    (re.compile(r"^Day (?P<day>\d+) \(efficacy\)$"), gettext_noop("Day %(day)s (efficacy)")),
    (re.compile(r"^Day (?P<day>\d+) \(week (?P<week>\d+)\)$"), gettext_noop("Day %(day)s (week %(week)s)")),
    (re.compile(r"^Day (?P<day>\d+) \(end of treatment\)$"), gettext_noop("Day %(day)s (end of treatment)")),
    (re.compile(r"^Follow-up day (?P<day>\d+)$"), gettext_noop("Follow-up day %(day)s")),
)


def visit_name(name: str) -> str:
    """ "Day 7 (efficacy)" as the reader's language writes it; an unknown shape as stored."""
    text = str(name or "")
    if text == BASELINE:
        return _(BASELINE)
    for shape, message in _SHAPES:
        if match := shape.match(text):
            return _(message) % match.groupdict()
    return text
