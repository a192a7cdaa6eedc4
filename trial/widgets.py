"""Form widgets shared by the CRF pages."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _


class YesNoUnknownRadio(forms.RadioSelect):
    """Yes / No / Not known as inline radios: a paper CRF's three boxes, None meaning not known."""

    CHOICES = [("true", _("Yes")), ("false", _("No")), ("unknown", _("Not known"))]

    def __init__(self, attrs=None):
        super().__init__(attrs, choices=self.CHOICES)

    def format_value(self, value):
        mapping = {True: "true", False: "false", "true": "true", "false": "false", "True": "true", "False": "false"}
        return [mapping.get(value, "unknown")]

    def value_from_datadict(self, data, files, name):
        return {"true": True, "false": False, "True": True, "False": False}.get(data.get(name))


def tri_state_field(model_field) -> forms.NullBooleanField:
    return forms.NullBooleanField(
        label=capfirst(model_field.verbose_name),
        help_text=model_field.help_text,
        required=False,
        widget=YesNoUnknownRadio,
    )
