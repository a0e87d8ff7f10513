"""The report's layout in the admin site (*Report sections*): each section's place, title,
part heading, where its Key Headlines go, its note and its activities. No figures here."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin

from reports.models import ReportActivity, ReportSection


class ReportActivityInline(admin.TabularInline):
    model = ReportActivity
    fields = ["position", "group", "title", "text"]
    extra = 0


@admin.register(ReportSection)
class ReportSectionAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "plan", "position", "shown", "headlines_placement"]
    list_filter = ["plan", "shown", "headlines_placement"]
    list_select_related = ["plan", "priority"]
    fields = [
        "plan",
        "priority",
        "position",
        "title",
        "part_heading",
        "shown",
        "headlines_placement",
        "note",
    ]
    inlines = [ReportActivityInline]

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history lets anyone who may view a row revert it; reverting is a change.
        if request.method == "POST" and not self.has_change_permission(request):
            raise PermissionDenied("You may not change this record.")
        return super().history_form_view(request, object_id, version_id, extra_context)
