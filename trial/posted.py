"""Whole numbers a page posts (a record's version, the id of a visit or a lock) or a client sends.

Parsed in one place: junk ("abc", "1e309", "", "-1", "²") is an error naming the field and
the limit, never a 500, and it is raised before anything is written. A page view calls
`posted_int`: a view that shows a service's ValidationError on its page shows this one the
same way; anywhere else it is a 400 page with the message (config.error_pages). A form uses
`VersionField`; the API turns `whole_number`'s ValidationError into its 400 by field.
"""

import re

from django import forms
from django.core.exceptions import BadRequest, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

ID_MAX = 2**63 - 1  # BigAutoField
VERSION_MAX = 2**31 - 1  # VersionedRecord.version, a PositiveIntegerField
_WHOLE = re.compile(r"[+-]?[0-9]{1,30}")  # ASCII digits only: int() also reads '١٢' and rejects '²'


class PostedValueInvalid(BadRequest, ValidationError):
    """A posted number a page cannot use; its message names the field and is safe to show.

    A ValidationError, so a view that already shows errors on its page (`except ValidationError`)
    shows this one too; a BadRequest, so where nothing catches it Django answers 400.
    """


def _shown(raw) -> str:
    text = str(raw)
    return text if len(text) <= 20 else f"{text[:20]}…"


def whole_number(raw, *, label: str, minimum: int = 1, maximum: int = ID_MAX) -> int:
    """`raw` (text or an int) as an int within [minimum, maximum], else a ValidationError naming `label`."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and _WHOLE.fullmatch(raw.strip()):
        value = int(raw.strip())
    else:
        raise ValidationError(
            _("%(label)s must be a whole number of at least %(minimum)s (sent '%(sent)s').")
            % {"label": label, "minimum": minimum, "sent": _shown(raw)},
            code="invalid",
        )
    if value < minimum:
        raise ValidationError(
            _("%(label)s must be at least %(minimum)s (sent %(sent)s).")
            % {"label": label, "minimum": minimum, "sent": _shown(value)},
            code="min_value",
        )
    if value > maximum:
        raise ValidationError(
            _("%(label)s must be at most %(maximum)s (sent %(sent)s).")
            % {"label": label, "maximum": maximum, "sent": _shown(value)},
            code="max_value",
        )
    return value


def posted_int(
    data, name: str, *, label: str, required: bool = True, minimum: int = 1, maximum: int = ID_MAX
) -> int | None:
    """The whole number posted as `name` (None when optional and empty); junk is a 400 naming the field."""
    raw = data.get(name)
    if raw is None or raw.strip() == "":
        if not required:
            return None
        raise PostedValueInvalid(_("%(label)s is missing from the form.") % {"label": label}, code="required")
    try:
        return whole_number(raw, label=label, minimum=minimum, maximum=maximum)
    except ValidationError as exc:
        raise PostedValueInvalid(exc.messages[0], code=exc.code) from None


class VersionField(forms.Field):
    """The version a form was loaded with (hidden): junk, a missing or a negative version is a form error."""

    widget = forms.HiddenInput
    default_error_messages = {
        "required": gettext_lazy("Version is missing from the form; reload the page to edit the saved data.")
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("label", gettext_lazy("Version"))
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        return whole_number(value, label=self.label, maximum=VERSION_MAX)
