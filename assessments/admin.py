from django.contrib import admin

from assessments.models import Visit
from patients.admin import ReadOnlyClinicalAdmin


@admin.register(Visit)
class VisitAdmin(ReadOnlyClinicalAdmin):
    list_display = ["patient", "name", "planned_date", "visit_date"]
    list_filter = ["patient__site"]
