"""Tags of the printed documents: a label in the document's language, or in two.

The bilingual blank CRF book is printed in Chinese with the English beside each label, for the
sites whose monitors read English: `{% bilingual label %}` renders the label under each
language in turn (translation.override), so both come from the same catalogue entry.
"""

from django import template
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext

register = template.Library()

# The languages of a bilingual document, the first one leading.
BILINGUAL_LANGUAGES = ("zh-hans", "en")


def label_in(language: str, label) -> str:
    """`label` (a msgid, or a lazy translation) in `language`, its first letter raised."""
    with translation.override(language):
        text = gettext(str(label)) if str(label) else ""
    return text[:1].upper() + text[1:]


@register.simple_tag(takes_context=True)
def bilingual(context, label):
    """The label in the document's language; in a bilingual document, the Chinese and then the
    English in a lighter span (once when both are the same, as a unit or a code)."""
    if not context.get("bilingual"):
        return label_in(translation.get_language(), label)
    first, second = (label_in(language, label) for language in BILINGUAL_LANGUAGES)
    if first == second:
        return first
    return format_html('{} <span class="en" lang="en">{}</span>', first, second)
