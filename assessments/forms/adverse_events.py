"""The adverse event CRF (protocol section 10): CTCAE v3.0 term and grade, dates, seriousness
with its criteria, relationship to ruxolitinib, action taken and outcome.

The cross-field rules are the service's (`adverse_event_errors`), so a page refuses exactly
what the service refuses, with the same words.
"""

import re

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout
from django import forms
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy

from assessments.models import AdverseEvent, CtcaeTerm
from assessments.services.adverse_events import AE_FIELDS, SAE_CRITERIA, adverse_event_errors
from patients.models import Patient
from trial.clock import site_today
from trial.forms import CRFForm, ReasonForChangeMixin, radios, row

# CTCAE v3.0 general grade definitions, as printed beside each radio.
GRADE_WORDING = {
    1: gettext_lazy("1 – Mild"),
    2: gettext_lazy("2 – Moderate"),
    3: gettext_lazy("3 – Severe"),
    4: gettext_lazy("4 – Life-threatening or disabling"),
    5: gettext_lazy("5 – Death related to the adverse event"),
}
# The labels of the fields the model names by their attribute (the page's words).
FIELD_LABELS = {
    "onset_date": gettext_lazy("Onset date"),
    "resolution_date": gettext_lazy("Resolution date"),
    "action_taken": gettext_lazy("Action taken"),
    "outcome": gettext_lazy("Outcome"),
    "description": gettext_lazy("Description"),
}
# "Hemoglobin (BL104)" as the typeahead fills it in, or the bare code.
_TERM_WITH_CODE = re.compile(r"^(?P<term>.*)\((?P<code>[A-Z]{2}\d{3})\)\s*$")


class YesNoRadio(forms.RadioSelect):
    """Yes / No radios for a required boolean (a paper CRF's two boxes)."""

    CHOICES = [("false", gettext_lazy("No")), ("true", gettext_lazy("Yes"))]

    def format_value(self, value):
        return ["true" if value in (True, "True", "true") else "false"]


def _with_english(text: str, **words: str) -> str:
    """A translated sentence (HTML) with English words of the CTCAE v3.0 terms marked lang="en"."""
    marked = {name: format_html('<span lang="en">{}</span>', word) for name, word in words.items()}
    return mark_safe(conditional_escape(text) % marked)  # noqa: S308 - every part is escaped


def term_from_text(text: str) -> CtcaeTerm | None:
    """The term typed without the typeahead: 'Term (CODE)', a code, or an exact term name."""
    text = (text or "").strip()
    if not text:
        return None
    match = _TERM_WITH_CODE.match(text)
    code = match.group("code") if match else text.upper()
    found = CtcaeTerm.objects.filter(code=code).first()
    if found is not None:
        return found
    named = list(CtcaeTerm.objects.filter(term__iexact=text)[:2])
    return named[0] if len(named) == 1 else None


def term_display(term: CtcaeTerm | None) -> str:
    return f"{term.term} ({term.code})" if term is not None else ""


class AdverseEventForm(CRFForm):
    term = forms.ModelChoiceField(queryset=CtcaeTerm.objects.all(), required=False, widget=forms.HiddenInput)
    term_search = forms.CharField(
        label=gettext_lazy("CTCAE v3.0 term"),
        required=False,
    )
    serious = forms.TypedChoiceField(
        label=gettext_lazy("Serious adverse event"),
        choices=YesNoRadio.CHOICES,
        coerce=lambda value: value == "true",
        widget=YesNoRadio,
        initial="false",
    )

    class Meta:
        model = AdverseEvent
        fields = list(AE_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "grade": forms.RadioSelect,
            "relationship": forms.RadioSelect,
            "action_taken": forms.RadioSelect,
        }

    def __init__(self, *args, patient: Patient, **kwargs):
        super().__init__(*args, site=patient.site, **kwargs)
        self.patient = patient
        self.fields["grade"].choices = list(GRADE_WORDING.items())
        self.fields["grade"].label = gettext("CTCAE grade")
        for name in ("relationship", "action_taken"):
            self.fields[name].choices = [c for c in self.fields[name].choices if c[0] != ""]
        term = self.instance.term if self.instance.pk and self.instance.term_id else None
        if not self.is_bound and term is not None:
            self.initial.setdefault("term_search", term_display(term))
        self.term_category = term.category if term is not None else ""
        self.fields["term_search"].widget.attrs.update(
            {
                "autocomplete": "off",
                "data-ctcae-search": "",
                "data-target": "id_term",
                "data-category": "term-category",
                "placeholder": gettext("Search CTCAE v3.0 terms…"),
                "role": "combobox",
                "aria-autocomplete": "list",
            }
        )
        # The words a user types or reads in the English CTCAE terms stay English (lang="en").
        self.fields["term_search"].help_text = _with_english(
            gettext("Type part of the term or its category (e.g. %(examples)s) and pick from the list."),
            examples="'neutro', 'rash', 'infection'",
        )
        self.fields["other_specify"].help_text = _with_english(
            gettext("Required with a CTCAE '%(other)s' term (code ending 999)."), other="-other"
        )
        self.fields["resolution_date"].help_text = gettext("Leave empty while the event is ongoing.")
        for name, label in FIELD_LABELS.items():
            if name in self.fields:
                self.fields[name].label = label
        self.order_fields(["term_search", *AE_FIELDS])
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the page's own form tag carries the token
        self.helper.layout = Layout(
            Fieldset(
                gettext("Event"),
                Div(
                    Div(
                        "term_search",
                        "term",
                        HTML(
                            '<div class="small text-muted mb-2" id="term-category-line">'
                            + escape(gettext("Category:"))
                            + ' <span id="term-category" lang="en">{{ form.term_category|default:"—" }}</span></div>'
                        ),
                        css_class="col-md-6 position-relative",
                    ),
                    Div("other_specify", css_class="col-md-6"),
                    css_class="row",
                ),
                InlineRadios("grade"),
                row("onset_date", "resolution_date"),
            ),
            Fieldset(
                gettext("Seriousness"),
                radios("serious"),
                Div(
                    HTML(
                        '<p class="small text-muted mb-1">'
                        + escape(gettext("Criteria (tick every one that applies):"))
                        + "</p>"
                    ),
                    Div(*[Div(name, css_class="col-md-4") for name in SAE_CRITERIA], css_class="row"),
                    css_id="sae-criteria",
                ),
            ),
            Fieldset(
                gettext("Assessment"),
                radios("relationship", "action_taken"),
                row("outcome"),
                row("description", width=12),
            ),
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("term") is None and "term" not in self.errors:
            typed = cleaned.get("term_search", "")
            found = term_from_text(typed)
            if found is not None:
                cleaned["term"] = found
            elif typed.strip():
                self.add_error(
                    "term_search",
                    gettext("'%(typed)s' is not a CTCAE v3.0 term; pick one from the list.") % {"typed": typed.strip()},
                )
        if cleaned.get("serious") is False:
            # The criteria are hidden when the event is not serious; what stayed ticked is not an answer.
            for name in SAE_CRITERIA:
                cleaned[name] = False
        record = {name: cleaned.get(name) for name in AE_FIELDS}
        for field, messages in adverse_event_errors(
            patient=self.patient, data=record, today=site_today(self.patient.site)
        ).items():
            # A term error stays on the hidden field too, so the model's own constraint check skips it.
            for target in ("term", "term_search") if field == "term" else (field,):
                if target not in self.errors:
                    self.add_error(target, messages)
        if "term" in self.errors and "term_search" not in self.errors:
            self.add_error("term_search", list(self.errors["term"]))
        return cleaned

    def ae_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in AE_FIELDS}


class AdverseEventEditForm(AdverseEventForm, ReasonForChangeMixin):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["version"] = self.instance.version
        self.helper.layout.append(Fieldset(gettext("Reason for change"), row("reason_for_change", width=12), "version"))


class SuggestionAcceptForm(AdverseEventForm):
    """A lab-based suggestion accepted: term, grade and onset come from the lab value."""

    FIXED = ("term", "term_search", "other_specify", "grade", "onset_date")

    def __init__(self, *args, suggestion, onset_date, **kwargs):
        initial = {
            "term": suggestion.term,
            "term_search": term_display(suggestion.term),
            "other_specify": "",
            "grade": suggestion.grade,
            "onset_date": onset_date,
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.term_category = suggestion.term.category
        for name in self.FIXED:
            self.fields[name].disabled = True
        self.fields["term_search"].help_text = gettext("From the lab value.")
        self.fields["onset_date"].help_text = gettext("The sampling date of the lab value.")
