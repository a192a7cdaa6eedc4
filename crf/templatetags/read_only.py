"""A form's values as text, for the pages a user may read but not change (a monitor, a locked form).

The page shows what is saved, the way the form would show it, without inputs that look editable:
a choice as its label, a yes/no as Yes or No, nothing entered as a dash."""

from datetime import datetime

from django import forms, template
from django.utils import timezone
from django.utils.translation import gettext as _

register = template.Library()

NOTHING = "—"


def _choice_label(field: forms.Field, value) -> str | None:
    for key, label in getattr(field, "choices", ()):
        if isinstance(label, list | tuple):  # an optgroup
            for sub_key, sub_label in label:
                if str(sub_key) == str(value):
                    return str(sub_label)
        elif str(key) == str(value):
            return str(label)
    return None


@register.filter
def field_text(bound_field) -> str:
    """The saved value of a form field as text: its initial value (the record's), never a value
    just posted and refused, which would read as if it had been saved."""
    field = bound_field.field
    value = bound_field.initial if bound_field.form.is_bound else bound_field.value()
    if isinstance(field, forms.ModelMultipleChoiceField) and value:
        return ", ".join(str(o) for o in field.queryset.filter(pk__in=[getattr(v, "pk", v) for v in value])) or NOTHING
    if isinstance(field, forms.ModelChoiceField) and value not in (None, ""):
        found = field.queryset.filter(pk=getattr(value, "pk", value)).first()
        return str(found) if found is not None else NOTHING
    if isinstance(field, forms.NullBooleanField | forms.BooleanField) and value in (True, False, "True", "False"):
        return _("Yes") if value in (True, "True") else _("No")
    if value is None or value == "" or value == []:
        return NOTHING
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")  # the page's zone: the site's
    if isinstance(value, list | tuple):
        return ", ".join(_choice_label(field, v) or str(v) for v in value)
    if getattr(field, "choices", None):
        # A yes/no radio keeps "true"/"false" as its choices and the record's bool as its initial.
        label = _choice_label(field, value) or (
            _choice_label(field, str(value).lower()) if isinstance(value, bool) else None
        )
        if label is not None:
            return label
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return str(value)
