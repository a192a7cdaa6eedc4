"""The admin asks for a reason for change and stores it with the history row of each change.

Configuration that changes clinical meaning is edited here (reference ranges, dose bands, the
visit schedule, sites, memberships, user accounts and their roles); its history is read back in
the study audit trail like any clinical record's.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import User

from audit.models import account_history_record
from trial.admin import ReasonForChangeAdmin, ReasonForChangeFields


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
