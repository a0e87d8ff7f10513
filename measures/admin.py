from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin

from measures import services
from measures.models import (
    Area,
    ComparisonGroup,
    Department,
    Headline,
    Measure,
    Plan,
    Priority,
    Profile,
    ReportingPeriod,
    Return,
    ReturnEvent,
    Target,
    Value,
)
from measures.periods import Month, Period


class ApprovedReadOnlyMixin:
    """Approved rows are read-only here as everywhere: reopen the return to change them.

    The stored status decides, not the object passed in: on simple-history's pages that is
    an old version of the row, which may predate its approval.
    """

    @staticmethod
    def _approved(obj) -> bool:
        return obj is not None and type(obj).objects.filter(pk=obj.pk, status="approved").exists()

    def has_change_permission(self, request, obj=None):
        return not self._approved(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._approved(obj) and super().has_delete_permission(request, obj)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            current = self.get_object(request, unquote(object_id))
            if self._approved(current):
                raise PermissionDenied("Approved rows are read-only: reopen the return first.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class AuditOnlyMixin:
    """Audit rows are written by the workflow only: nobody adds, edits or deletes them here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
class ValueAdmin(ApprovedReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["measure", "area", "start", "end", "value", "status", "updated_at"]
    list_filter = ["status", "measure__priority", "area"]
    search_fields = ["measure__code", "measure__name", "area__code"]
    list_select_related = ["measure", "area"]
    date_hierarchy = "start"
    raw_id_fields = ["measure", "area"]


@admin.register(Headline)
class HeadlineAdmin(ApprovedReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["priority", "start", "end", "status", "department"]
    list_filter = ["status", "priority__plan"]
    list_select_related = ["priority", "department"]


@admin.register(Profile)
class ProfileAdmin(SimpleHistoryAdmin):
    list_display = ["user", "role"]
    list_filter = ["role", "departments"]
    filter_horizontal = ["departments"]


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(SimpleHistoryAdmin):
    list_display = ["plan", "start", "end", "deadline", "area", "opened_at"]
    list_filter = ["plan"]
    list_select_related = ["plan", "area"]
    fields = ["plan", "area", "start", "end", "deadline"]

    def get_readonly_fields(self, request, obj=None):
        return ["plan", "area", "start", "end"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # Opening goes through the service so that every department gets its return.
        period = Period.range(Month.from_date(obj.start), Month.from_date(obj.end))
        opened = services.reporting_period_open(
            plan=obj.plan, period=period, deadline=obj.deadline, area=obj.area, actor=request.user
        )
        obj.pk = opened.pk


class ReturnEventInline(AuditOnlyMixin, admin.TabularInline):
    model = ReturnEvent
    fields = readonly_fields = (
        "at",
        "kind",
        "from_status",
        "to_status",
        "version",
        "actor",
        "reason",
    )
    extra = 0


@admin.register(Return)
class ReturnAdmin(SimpleHistoryAdmin):
    """Returns change state only through the workflow (the return pages or the API)."""

    list_display = ["department", "reporting_period", "status", "version", "updated_at"]
    list_filter = ["status", "reporting_period", "department"]
    list_select_related = ["department", "reporting_period", "reporting_period__plan"]
    readonly_fields = [
        "reporting_period",
        "department",
        "status",
        "version",
        "submitted_at",
        "submitted_by",
        "decided_at",
        "decided_by",
        "last_reminded_on",
    ]
    inlines = [ReturnEventInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReturnEvent)
class ReturnEventAdmin(AuditOnlyMixin, admin.ModelAdmin):
    list_display = ["return_obj", "kind", "version", "actor", "at"]
    list_filter = ["kind"]
    list_select_related = ["return_obj", "return_obj__department", "actor"]


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    filter_horizontal = ["departments"]
    verbose_name = verbose_name_plural = "Role and departments"


class PersonAdmin(UserAdmin):
    """Users with their role and departments on the same page, so an admin sets them at once."""

    inlines = [ProfileInline]


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), PersonAdmin)
