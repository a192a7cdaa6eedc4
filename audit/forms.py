"""The audit trail's filters: what a reader may narrow a page to. A value the form cannot read is
named on the page and left out of the filter; it never fails the page."""

from datetime import datetime, time, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from audit.selectors import TrailFilter, model_label, tracked_models
from trial.forms import date_input


class TrailFilterForm(forms.Form):
    model = forms.ChoiceField(label=_("Form"), required=False)
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    patient = forms.CharField(label=_("Patient"), required=False, max_length=40)
    since = forms.DateField(label=_("From"), required=False, widget=date_input())
    until = forms.DateField(label=_("To"), required=False, widget=date_input())

    def __init__(self, *args, with_patient: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        forms_ = sorted(((m._meta.label_lower, model_label(m)) for m in tracked_models()), key=lambda c: str(c[1]))
        self.fields["model"].choices = [("", _("All forms")), *forms_]
        if not with_patient:
            del self.fields["patient"]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end date is before the start date."))
            data.pop("until", None)
        return data

    def trail_filter(self, *, zone, patient_id: int | None = None) -> TrailFilter:
        """The filter of the fields that were read (a field in error is left out); dates are days
        in the page's zone, the end date included."""
        self.is_valid()
        data = {name: value for name, value in getattr(self, "cleaned_data", {}).items() if name not in self.errors}
        since, until = data.get("since"), data.get("until")
        return TrailFilter(
            model_label=data.get("model") or "",
            user=(data.get("user") or "").strip(),
            patient_id=patient_id,
            since=datetime.combine(since, time(0), tzinfo=zone) if since else None,
            until=datetime.combine(until + timedelta(days=1), time(0), tzinfo=zone) if until else None,
        )
