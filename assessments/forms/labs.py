"""The lab CRF page of a visit: every variable of protocol section 8, grouped as on paper."""

from datetime import datetime, time
from decimal import Decimal

from django import forms
from django.utils.translation import gettext, gettext_lazy

from assessments.models import LabPanel, SupportiveCare
from assessments.models.labs import EXAM_CHOICES, MISSING_REASON_MAX_LENGTH, RESULT_CHOICES, MissingCode
from assessments.services.labs import (
    PANEL_FIELDS,
    Measurement,
    missing_code_problem,
    supportive_care_product_problem,
)
from crf.catalogue import sections_of
from trial import clock
from trial.analytes import ANALYTES, GROUP_ORDER, plausibility_message, units_for
from trial.clock import site_today
from trial.forms import ISO_DATETIME, REASON_MAX_LENGTH, SiteDateTimeField, date_input, datetime_input
from trial.posted import VersionField

# Height is a screening value; the rest of the catalogue is on the lab page.
LAB_PAGE_ANALYTES = [code for code in ANALYTES if code != "HEIGHT"]

# The panel's qualitative fields by the analyte group they are shown with (the notes stand alone).
QUALITATIVE = {
    title: [(name, LabPanel._meta.get_field(name).verbose_name) for name in names]
    for title, names in sections_of("assessments.labpanel")
    if "notes" not in names
}


def group_slug(group: str) -> str:
    return "".join(ch for ch in group.lower() if ch.isalnum())


class LabPanelForm(forms.Form):
    """Values with their units; impossible values name the field and the limit."""

    visit_date = forms.DateField(label=gettext_lazy("Date of visit"), widget=date_input())
    sampled_at = SiteDateTimeField(label=gettext_lazy("Sampled at"), widget=datetime_input())
    notes = forms.CharField(
        label=gettext_lazy("Notes (CSF, MRI, ECG, echo findings)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    version = VersionField(required=False)  # required once the panel is saved: a change states what it changes
    reason_for_change = forms.CharField(
        label=gettext_lazy("Reason for change"), max_length=REASON_MAX_LENGTH, required=False
    )

    def __init__(self, *args, visit, panel: LabPanel | None = None, expected: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.visit, self.panel, self.expected = visit, panel, expected
        self.fields["version"].required = panel is not None
        self.zone = clock.zone_of(visit.patient.site)
        self.fields["sampled_at"].zone = self.zone
        self.groups: list[tuple[str, list[str]]] = []
        for group in GROUP_ORDER:
            codes = [c for c in LAB_PAGE_ANALYTES if ANALYTES[c].group == group]
            if codes or group in QUALITATIVE:
                self.groups.append((group, codes))
            # Hidden behind "different time for this group" on the page: blank, the panel's time is meant.
            self.fields[f"sampled_{group_slug(group)}"] = SiteDateTimeField(
                zone=self.zone,
                label=gettext("%(group)s sampled at") % {"group": gettext(group)},
                required=False,
                widget=datetime_input(),
                help_text=gettext_lazy("Leave blank when sampled with the rest of the panel."),
            )
            for code in codes:
                analyte = ANALYTES[code]
                self.fields[f"v_{code}"] = forms.DecimalField(
                    label=gettext(analyte.label),
                    required=False,
                    max_digits=16,
                    decimal_places=4,
                    # data-lab-value: the inputs Tab and Enter move between (static/js/lab_form.js).
                    widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "data-lab-value": ""}),
                )
                # Instead of the value: a missing-data code and its reason, behind the value's "⋯" menu.
                self.fields[f"m_{code}"] = forms.ChoiceField(
                    label=gettext("%(label)s: missing-data code") % {"label": gettext(analyte.label)},
                    choices=[("", gettext("— (a value)")), *MissingCode.choices],
                    required=False,
                    widget=forms.Select(attrs={"data-missing-code": code, "tabindex": "-1"}),
                )
                self.fields[f"mr_{code}"] = forms.CharField(
                    label=gettext("%(label)s: reason it is missing") % {"label": gettext(analyte.label)},
                    max_length=MISSING_REASON_MAX_LENGTH,
                    required=False,
                    widget=forms.TextInput(
                        attrs={"autocomplete": "off", "data-missing-reason": code, "tabindex": "-1"}
                    ),
                )
                units = units_for(code)
                if len(units) > 1:
                    # Not required: without a unit the catalogue's unit is meant.
                    # Out of the Tab order: one Tab goes from a value to the next (a tap changes the unit).
                    self.fields[f"u_{code}"] = forms.ChoiceField(
                        label=gettext("%(label)s unit") % {"label": gettext(analyte.label)},
                        choices=[(u, u) for u in units],
                        initial=units[0],
                        required=False,
                        widget=forms.Select(attrs={"tabindex": "-1"}),
                    )
        for name, label in QUALITATIVE["Spleen and CNS"][:1]:
            self.fields[name] = forms.NullBooleanField(label=label, required=False, widget=forms.NullBooleanSelect)
        for items in QUALITATIVE.values():
            for name, label in items:
                if name == "cns_symptoms":
                    continue
                choices = EXAM_CHOICES if name.endswith("_result") else RESULT_CHOICES
                self.fields[name] = forms.ChoiceField(label=label, choices=choices, required=False)
        for fld in self.fields.values():
            css = (
                "form-select form-select-sm" if isinstance(fld.widget, forms.Select) else "form-control form-control-sm"
            )
            fld.widget.attrs.setdefault("class", css)
        if panel is not None and not self.is_bound:
            self.initial.update(self._initial_from(panel))

    def _initial_from(self, panel: LabPanel) -> dict:
        initial = {
            "visit_date": self.visit.visit_date,
            "sampled_at": panel.sampled_at.astimezone(self.zone).strftime(ISO_DATETIME),
            "version": panel.version,
        }
        for name in PANEL_FIELDS:
            initial[name] = getattr(panel, name)
        for result in panel.results.all():
            # Fixed-point text: normalize() alone turns 70.0000 into 7E+1, which the input would show.
            if result.value is not None:
                initial[f"v_{result.analyte}"] = f"{result.value.normalize():f}"
            initial[f"m_{result.analyte}"] = result.missing
            initial[f"mr_{result.analyte}"] = result.missing_reason
            initial[f"u_{result.analyte}"] = result.unit
            if result.sampled_at != panel.sampled_at:
                group = ANALYTES[result.analyte].group
                initial[f"sampled_{group_slug(group)}"] = result.sampled_at.astimezone(self.zone).strftime(ISO_DATETIME)
        return initial

    def clean(self):
        cleaned = super().clean()
        today = site_today(self.visit.patient.site)
        if (day := cleaned.get("visit_date")) and day > today:
            self.add_error("visit_date", f"Date of visit cannot be in the future (after {today.isoformat()}).")
        for _group, codes in self.groups:
            for code in codes:
                value = cleaned.get(f"v_{code}")
                missing, reason = cleaned.get(f"m_{code}") or "", cleaned.get(f"mr_{code}") or ""
                if (missing or reason) and (
                    problem := missing_code_problem(
                        label=gettext(ANALYTES[code].label),
                        has_value=value is not None,
                        missing=missing,
                        missing_reason=reason,
                    )
                ):
                    field, error = problem
                    self.add_error(
                        {"missing": f"m_{code}", "missing_reason": f"mr_{code}"}.get(field, f"v_{code}"), error
                    )
                    continue
                if value is None:
                    continue
                unit = cleaned.get(f"u_{code}") or ANALYTES[code].unit
                if message := plausibility_message(code, float(value), unit):
                    self.add_error(f"v_{code}", message)
        if self.panel is not None and not (cleaned.get("reason_for_change") or "").strip():
            self.add_error("reason_for_change", "A reason is required to change saved lab data.")
        return cleaned

    def measurements(self) -> dict[str, Measurement]:
        cleaned = self.cleaned_data
        out = {}
        for group, codes in self.groups:
            when = cleaned.get(f"sampled_{group_slug(group)}") or cleaned["sampled_at"]
            for code in codes:
                value = cleaned.get(f"v_{code}")
                unit = cleaned.get(f"u_{code}") or ANALYTES[code].unit
                if value is not None:
                    out[code] = Measurement(value=Decimal(value), unit=unit, sampled_at=when)
                elif missing := cleaned.get(f"m_{code}"):
                    reason = (cleaned.get(f"mr_{code}") or "").strip()
                    out[code] = Measurement(
                        value=None, unit=unit, sampled_at=when, missing=missing, missing_reason=reason
                    )
        return out

    def panel_data(self) -> dict:
        cleaned = self.cleaned_data
        names = [n for items in QUALITATIVE.values() for n, _ in items] + ["notes"]
        return {name: cleaned.get(name) if name == "cns_symptoms" else (cleaned.get(name) or "") for name in names}

    def rows(self):
        """The grid the template draws: group -> (field, unit field, analyte code) rows."""
        for group, codes in self.groups:
            sampled = self[f"sampled_{group_slug(group)}"]
            yield {
                "group": group,
                "expected": group in self.expected,
                "sampled": sampled,
                # The group's own time is shown open when it has one (saved, typed or refused).
                "own_time": bool(sampled.value()) or bool(sampled.errors),
                "items": [
                    {
                        "code": code,
                        "field": self[f"v_{code}"],
                        "missing": self[f"m_{code}"],
                        "missing_reason": self[f"mr_{code}"],
                        "unit": self[f"u_{code}"] if f"u_{code}" in self.fields else None,
                        "canonical_unit": ANALYTES[code].unit,
                    }
                    for code in codes
                ],
                "qualitative": [self[name] for name, _ in QUALITATIVE.get(group, [])],
            }


def default_sampled_at(visit) -> str:
    """08:00 site time on the visit's day: the usual morning sampling at the bedside."""
    day = visit.visit_date or visit.planned_date or site_today(visit.patient.site)
    return datetime.combine(day, time(8, 0)).strftime(ISO_DATETIME)


class SupportiveCareForm(forms.ModelForm):
    class Meta:
        model = SupportiveCare
        fields = ["kind", "product", "given_on", "detail"]
        widgets = {"given_on": date_input()}
        labels = {
            "kind": gettext_lazy("Kind"),
            "product": gettext_lazy("Product"),
            "given_on": gettext_lazy("Given on"),
        }

    def clean(self):
        # On the product field, before the table's constraint would refuse it without naming it.
        cleaned = super().clean()
        if "kind" in cleaned:
            problem = supportive_care_product_problem(kind=cleaned["kind"], product=cleaned.get("product") or "")
            if problem:
                self.add_error("product", problem)
        return cleaned
