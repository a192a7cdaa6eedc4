"""The trial as configuration in the admin, each change kept with the reason given on its page."""

from django import forms
from django.contrib import admin

from trial.models import DoseBand, ReferenceRange, Site, SiteMembership, Trial, VisitDefinition
from trial.versioning import REASON_MAX_LENGTH

REASON_MAX = REASON_MAX_LENGTH  # the history's reason column
ADDED = "Added in the admin"
DELETED = "Deleted in the admin"


class ReasonForChangeFields(forms.Form):
    reason_for_change = forms.CharField(
        label="Reason for change",
        max_length=REASON_MAX,
        required=False,
        help_text="Kept with the change in the audit trail; required when you change a saved record.",
    )

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None and not (cleaned.get("reason_for_change") or "").strip():
            self.add_error("reason_for_change", "Give the reason for this change.")
        return cleaned


class ReasonForChangeForm(ReasonForChangeFields, forms.ModelForm):
    pass


class ReasonForChangeAdmin(admin.ModelAdmin):
    """Each save of the object and of its inlines is stored with the reason given on the form."""

    form = ReasonForChangeForm

    @staticmethod
    def reason(form) -> str:
        # The form requires a reason for a change; an addition may go without one.
        return (form.cleaned_data.get("reason_for_change") or "").strip() or ADDED

    def save_model(self, request, obj, form, change):
        obj._change_reason = self.reason(form)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        # The inlines' rows (a trial's sites, dose bands, visits) carry the reason of the page.
        reason = self.reason(form)
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj._change_reason = reason
            obj.delete()
        for obj in instances:
            obj._change_reason = reason
            obj.save()
        formset.save_m2m()

    def delete_model(self, request, obj):
        obj._change_reason = DELETED
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:  # one history row with its reason for each
            self.delete_model(request, obj)


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0
    readonly_fields = ["last_subject_sequence", "last_screening_sequence"]


class DoseBandInline(admin.TabularInline):
    model = DoseBand
    extra = 0


class VisitDefinitionInline(admin.TabularInline):
    model = VisitDefinition
    extra = 0


@admin.register(Trial)
class TrialAdmin(ReasonForChangeAdmin):
    list_display = ["registry_id", "short_name", "protocol_version", "data_cutoff_date"]
    inlines = [SiteInline, DoseBandInline, VisitDefinitionInline]


@admin.register(ReferenceRange)
class ReferenceRangeAdmin(ReasonForChangeAdmin):
    list_display = ["analyte", "unit", "lower", "upper", "site", "age_min_days", "age_max_days", "source"]
    list_filter = ["site", "analyte"]
    search_fields = ["analyte", "source"]


@admin.register(SiteMembership)
class SiteMembershipAdmin(ReasonForChangeAdmin):
    list_display = ["user", "site"]
    list_filter = ["site"]
