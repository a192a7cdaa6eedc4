from django.contrib import admin

from audit.admin import ReasonForChangeAdmin
from trial.models import DoseBand, ReferenceRange, Site, SiteMembership, Trial, VisitDefinition


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
    list_display = ["analyte", "unit", "lower", "upper", "site", "age_min_days", "age_max_days"]
    list_filter = ["site", "analyte"]


@admin.register(SiteMembership)
class SiteMembershipAdmin(ReasonForChangeAdmin):
    list_display = ["user", "site"]
    list_filter = ["site"]
