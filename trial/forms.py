"""Shared pieces of the CRF forms: dates judged in the site's time zone, yes/no/not-known
radios, physiological limits named on error, and the reason for change of saved data."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.layout import Div
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy

from trial import clock
from trial.analytes import ANALYTES, Analyte, limit_message
from trial.clock import site_today
from trial.models import Site
from trial.posted import VersionField
from trial.versioning import REASON_MAX_LENGTH  # the history's reason column
from trial.widgets import tri_state_field


class SiteDateTimeField(forms.DateTimeField):
    """A date and time typed at the bedside: without an offset it is the site's wall-clock time.

    Django's field would read a naive value in the request's active zone; a site's form says
    which zone it means, so the page, the API and the import read the same instant.
    """

    def __init__(self, *args, zone: ZoneInfo | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone or ZoneInfo("UTC")

    def to_python(self, value):
        with timezone.override(self.zone):
            return super().to_python(value)

    def prepare_value(self, value):
        if isinstance(value, datetime) and timezone.is_aware(value):
            return value.astimezone(self.zone).replace(tzinfo=None)
        return value


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def row(*fields: str, width: int = 4) -> Div:
    return Div(*[Div(f, css_class=f"col-md-{width}") for f in fields], css_class="row")


def radios(*fields: str) -> Div:
    return Div(*[Div(InlineRadios(f), css_class="col-md-6") for f in fields], css_class="row")


class CRFForm(forms.ModelForm):
    """A model form whose yes/no/not-known questions are radios and whose numbers obey limits."""

    field_analytes: dict[str, str] = {}

    def __init__(self, *args, site: Site | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.site = site
        model_fields = {f.name: f for f in self._meta.model._meta.get_fields()}
        for name, field in list(self.fields.items()):
            model_field = model_fields.get(name)
            if model_field is None:
                continue
            if model_field.get_internal_type() == "BooleanField" and model_field.null:
                self.fields[name] = tri_state_field(model_field)
            elif model_field.get_internal_type() == "DateField":
                field.widget = date_input()
            elif isinstance(field, forms.DecimalField):
                field.widget.attrs.update({"inputmode": "decimal", "step": "any"})

    def analyte_check(self, name: str, analyte: Analyte) -> None:
        value = self.cleaned_data.get(name)
        if value is None:
            return
        message = limit_message(analyte, float(value))
        if message:
            self.add_error(name, ValidationError(message, code="implausible_value"))

    def clean(self):
        cleaned = super().clean()
        for name, code in self.field_analytes.items():
            if name in self.fields:
                self.analyte_check(name, ANALYTES[code])
        # A form always knows its site; without one the day is UTC's, never the request's zone.
        today = site_today(self.site) if self.site is not None else clock.now().date()
        for name, value in list(cleaned.items()):
            if isinstance(value, date) and value > today:
                message = f"{self.fields[name].label} cannot be in the future (after {today.isoformat()})."
                self.add_error(name, ValidationError(message, code="date_in_future"))
        return cleaned


class ReasonForChangeMixin(forms.Form):
    version = VersionField()
    reason_for_change = forms.CharField(
        label=gettext_lazy("Reason for change"),
        max_length=REASON_MAX_LENGTH,
        help_text=gettext_lazy("Required for any change to saved data; it is kept in the audit trail."),
    )
