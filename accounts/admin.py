from django.contrib import admin

from accounts.models import Preference


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    """Users' page settings; a blank language follows the browser again (the header's switch sets one)."""

    list_display = ["user", "language"]
    list_filter = ["language"]
    search_fields = ["user__username"]
