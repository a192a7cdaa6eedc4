"""Clinical records are read-only in the admin: every write goes through the services,
so that eligibility, versions and the reason for change are never bypassed."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from patients.models import Patient, Screening


class ReadOnlyClinicalAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Screening)
class ScreeningAdmin(ReadOnlyClinicalAdmin):
    list_display = ["screening_number", "site", "initials", "screening_date", "status", "eligibility"]
    list_filter = ["site", "status", "eligibility"]


@admin.register(Patient)
class PatientAdmin(ReadOnlyClinicalAdmin):
    list_display = ["subject_number", "site", "status", "risk_group", "etiology", "expected_dose_mg", "dose_deviation"]
    list_filter = ["site", "status", "risk_group", "etiology"]
