from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from measures.models import (
    Area,
    ComparisonGroup,
    Department,
    Headline,
    Measure,
    Plan,
    Priority,
    Profile,
    Target,
    Value,
)


@admin.register(Department)
class DepartmentAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Plan)
class PlanAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "baseline_start", "baseline_end"]
    search_fields = ["code", "name"]


@admin.register(Area)
class AreaAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "kind", "parent"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]


@admin.register(ComparisonGroup)
class ComparisonGroupAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name"]
    filter_horizontal = ["areas"]


class MeasureInline(admin.TabularInline):
    model = Measure
    fields = ["position", "code", "name", "unit", "owner"]
    extra = 0
    show_change_link = True


@admin.register(Priority)
class PriorityAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "plan", "position"]
    list_filter = ["plan"]
    search_fields = ["code", "name"]
    inlines = [MeasureInline]


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0


@admin.register(Measure)
class MeasureAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "priority", "unit", "aggregation", "polarity", "owner"]
    list_filter = ["priority__plan", "priority", "unit", "frequency", "owner"]
    search_fields = ["code", "name", "definition"]
    list_select_related = ["priority", "owner"]
    inlines = [TargetInline]
    fieldsets = [
        (None, {"fields": ["priority", "position", "code", "name", "definition"]}),
        (
            "Arithmetic",
            {"fields": ["unit", "rate_per", "aggregation", "polarity", "decimals"]},
        ),
        ("Reporting", {"fields": ["frequency", "data_lag_months", "owner", "source"]}),
        ("Report tables", {"fields": ["year_to_date_table", "monthly_table", "scorecard_group"]}),
    ]


@admin.register(Target)
class TargetAdmin(SimpleHistoryAdmin):
    list_display = ["name", "measure", "area", "kind", "baseline_start", "baseline_end"]
    list_filter = ["kind"]
    list_select_related = ["measure", "area"]


@admin.register(Value)
class ValueAdmin(SimpleHistoryAdmin):
    list_display = ["measure", "area", "start", "end", "value", "status", "updated_at"]
    list_filter = ["status", "measure__priority", "area"]
    search_fields = ["measure__code", "measure__name", "area__code"]
    list_select_related = ["measure", "area"]
    date_hierarchy = "start"
    raw_id_fields = ["measure", "area"]


@admin.register(Headline)
class HeadlineAdmin(SimpleHistoryAdmin):
    list_display = ["priority", "start", "end", "status", "department"]
    list_filter = ["status", "priority__plan"]
    list_select_related = ["priority", "department"]


@admin.register(Profile)
class ProfileAdmin(SimpleHistoryAdmin):
    list_display = ["user", "role"]
    list_filter = ["role", "departments"]
    filter_horizontal = ["departments"]
