"""Template lookups for the lab grid (templates display; they decide nothing)."""

from django import template
from django.utils.translation import gettext, gettext_noop

from trial.selectors import range_label

register = template.Library()


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def plain(value):
    """A Decimal without trailing zeros: 3.5000 -> 3.5, 120.0000 -> 120."""
    if value is None:
        return ""
    text = f"{value.normalize():f}" if hasattr(value, "normalize") else str(value)
    return text


@register.filter
def reference_range(result) -> str:
    """The reference range stored with a saved value, with its unit ("≤ 1.7 mmol/L")."""
    if result is None:
        return ""
    return range_label(result.reference_low, result.reference_high, result.unit)


@register.filter
def range_source(saved, rng) -> str:
    """The citation of the range shown beside a value: the one stored with a saved value, else the current one."""
    if saved is not None and (saved.reference_low is not None or saved.reference_high is not None):
        return saved.reference_source
    return rng.source if rng is not None else ""


@register.filter
def entered_in(items, current) -> int:
    """How many of a group's variables have a saved value (the read-only page folds an empty group)."""
    return sum(1 for item in items if current and item["code"] in current)


# Units that are words: the page shows them in the reader's language (the stored unit stays).
UNIT_WORDS = {"ratio": gettext_noop("ratio")}

# Sources of reference ranges the trial seeded that describe the range rather than cite a
# publication: shown in the reader's language. Any other source is a citation (or a site's own
# text) and is shown as written.
DESCRIBED_SOURCES = (
    gettext_noop("RUX-HLH protocol section 8 default (all ages)"),
    gettext_noop("Adult laboratory range seeded with the trial (all ages; a site replaces it with its own)"),
)


@register.filter
def unit_label(unit: str) -> str:
    return gettext(UNIT_WORDS[unit]) if unit in UNIT_WORDS else unit


@register.filter
def source_text(source: str) -> str:
    """A range's source as shown: a seeded description translated, a citation as written."""
    return gettext(source) if source in DESCRIBED_SOURCES else source


@register.filter
def source_is_citation(source: str) -> bool:
    """A citation (author, journal) stays in its own language on the page (lang="en" when it is English)."""
    return bool(source) and source not in DESCRIBED_SOURCES
