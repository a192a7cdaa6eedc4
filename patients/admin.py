"""Clinical records are read-only in the admin: every write goes through the services,
so that eligibility, versions, locks and the reason for change are never bypassed."""

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from patients.models import Patient, Screening

READ_ONLY = (
    "Not saved: clinical records cannot be changed in the admin. Change them on their page, "
    "which checks locks and versions and records the reason for change."
)


class ReadOnlyClinicalAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _lock_of(self, object_id):
        from crf.locks import active_lock

        record = self.model._default_manager.filter(pk=object_id).first() if str(object_id).isdigit() else None
        return active_lock(record) if record is not None else None

    def _refuse(self, request, object_id):
        from crf.locks import lock_description

        lock = self._lock_of(object_id)
        if lock is not None:
            messages.error(
                request,
                f"Not saved: {lock_description(lock)}. Once a data manager unlocks it, change it on its "
                "page: clinical records are never changed in the admin.",
            )
        else:
            messages.error(request, READ_ONLY)
        return redirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[object_id]))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and object_id is not None:
            return self._refuse(request, object_id)
        if object_id is not None and (lock := self._lock_of(object_id)):
            from crf.locks import lock_description

            messages.warning(request, f"This record cannot be changed: {lock_description(lock)}.")
        return super().changeform_view(request, object_id, form_url, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # The history page can show an old version; reverting to it would bypass every check.
        if request.method == "POST":
            return self._refuse(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


@admin.register(Screening)
class ScreeningAdmin(ReadOnlyClinicalAdmin):
    list_display = ["screening_number", "site", "initials", "screening_date", "status", "eligibility"]
    list_filter = ["site", "status", "eligibility"]


@admin.register(Patient)
class PatientAdmin(ReadOnlyClinicalAdmin):
    list_display = ["subject_number", "site", "status", "risk_group", "etiology", "expected_dose_mg", "dose_deviation"]
    list_filter = ["site", "status", "risk_group", "etiology"]
