"""The admin asks for a reason for change and stores it with the history row of each change.

Configuration that changes clinical meaning is edited here (reference ranges, dose bands, the
visit schedule, sites, memberships, user accounts and their roles); its history is read back in
the study audit trail like any clinical record's.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import User

from audit.models import account_history_record

REASON_MAX = User.history.model._meta.get_field("history_change_reason").max_length
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


class AccountChangeForm(ReasonForChangeFields, UserChangeForm):
    pass


class AccountAdmin(ReasonForChangeAdmin, UserAdmin):
    """A user's account and roles are saved as one change with its reason: one history row."""

    form = AccountChangeForm
    fieldsets = (*UserAdmin.fieldsets, ("Reason for change", {"fields": ("reason_for_change",)}))

    def save_model(self, request, obj, form, change):
        obj.save_without_historical_record()  # written with the groups, in save_related

    def save_related(self, request, form, formsets, change):
        user = form.instance
        user._roles_saved_with_account = True
        try:
            super().save_related(request, form, formsets, change)
        finally:
            del user._roles_saved_with_account
        account_history_record(user=user, reason=self.reason(form), created=not change)


admin.site.unregister(User)
admin.site.register(User, AccountAdmin)
