"""A visit of the schedule by its name in the reader's language.

A visit's name is stored as the protocol's schedule names it ("Day 7 (efficacy)", copied from
trial.VisitDefinition when the visit is planned) and stays so: the stored value never changes
with the language. It is translated where it is shown. A name the schedule does not give (an
unscheduled visit named by a user) is shown as stored.
"""

import re

from django.utils.translation import gettext

# The shapes of the schedule's names (protocol section 7), each with its translation.
_PATTERNS = (
    (re.compile(r"Screening / baseline"), lambda m: gettext("Screening / baseline")),
    (re.compile(r"Day (\d+)"), lambda m: gettext("Day %(day)s") % {"day": m[1]}),
    (re.compile(r"Day (\d+) \(efficacy\)"), lambda m: gettext("Day %(day)s (efficacy)") % {"day": m[1]}),
    (
        re.compile(r"Day (\d+) \(week (\d+)\)"),
        lambda m: gettext("Day %(day)s (week %(week)s)") % {"day": m[1], "week": m[2]},
    ),
    (
        re.compile(r"Day (\d+) \(end of treatment\)"),
        lambda m: gettext("Day %(day)s (end of treatment)") % {"day": m[1]},
    ),
    (re.compile(r"Follow-up day (\d+)"), lambda m: gettext("Follow-up day %(day)s") % {"day": m[1]}),
)


def visit_name(name) -> str:
    """'Day 7 (efficacy)' as the reader's language names it; any other name as it is."""
    text = str(name or "")
    for pattern, translated in _PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return translated(match)
    return text


def is_schedule_name(name) -> bool:
    """Whether a name is one the schedule gives (translated), not one a user typed."""
    return any(pattern.fullmatch(str(name or "")) for pattern, _ in _PATTERNS)
