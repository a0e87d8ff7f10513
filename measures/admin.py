"""The admin site: an entry point like any other (STYLE §9), not a back door.

Figures, headlines and targets are written here only through the services that the return
pages, the API and the imports use (`measures.returns.services`): the same checks, the same history
and the same recompute marks. Nothing here edits a status, a version, who changed a figure,
or which return a figure belongs to.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from measures import services as catalogue
from measures.arithmetic.periods import Month, Period
from measures.models import (
    ApprovedLocked,
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
    SeriesBreak,
    Source,
    Target,
    Value,
)
from measures.returns import services
from measures.returns.forms import FigureField
from measures.returns.validation import value_errors

REASON_HELP = (
    "Required. Kept with the change in the figure's history and in its return's history; "
    "the return's lead and reviewers see it."
)


def _refusal_text(exc: Exception) -> str:
    """Return an error raised by a service as one sentence for a message."""
    if isinstance(exc, services.ReturnInvalid):
        return "; ".join(m for problems in exc.errors.values() for m in problems)
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)


class HistoryChanges(HistoricalRecordContextHelper):
    """The changes listed on a history page, with an empty old or new value shown as "–"."""

    def prepare_delta_change_value(self, change, value):
        return "–" if value is None else super().prepare_delta_change_value(change, value)


class HistoryAdmin(SimpleHistoryAdmin):
    """simple-history's admin, with its "revert" form held to the change page's rules.

    A revert saves the old version of the whole row, read-only fields included, and
    simple-history checks only that the person may view it. Here it needs the change
    permission on the row as stored now, and models whose read-only fields carry the
    workflow (`revert_allowed = False`) refuse it altogether.
    """

    revert_allowed = True
    revert_refusal = "Reverting is not available for this kind of record."

    def revert_disabled(self, request, obj=None):
        return not self.revert_allowed or super().revert_disabled(request, obj)

    def get_historical_record_context_helper(self, request, historical_record):
        return HistoryChanges(self.model, historical_record)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            if not self.revert_allowed:
                raise PermissionDenied(self.revert_refusal)
            current = self.get_object(request, unquote(object_id))
            if current is None or not self.has_change_permission(request, current):
                raise PermissionDenied("You may not change this record.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class ServiceWrittenAdmin(HistoryAdmin):
    """An admin whose saves go through a service: a refusal there saves nothing.

    The service runs inside the admin's own transaction; when it refuses (the return was
    submitted a moment ago, say), the whole request is rolled back and the page says why.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (services.WorkflowError, ValidationError, ApprovedLocked) as exc:
            messages.error(request, f"Nothing was saved. {_refusal_text(exc)}")
            return HttpResponseRedirect(request.get_full_path())

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        try:
            return super().history_form_view(request, object_id, version_id, extra_context)
        except (services.WorkflowError, ValidationError, ApprovedLocked) as exc:
            messages.error(request, f"Nothing was saved. {_refusal_text(exc)}")
            return HttpResponseRedirect(request.get_full_path())


class CorrectionForm(forms.ModelForm):
    """A correction in the admin: the figure's own fields and the reason for the change."""

    reason = forms.CharField(
        label="Reason for the change",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        max_length=2000,
        help_text=REASON_HELP,
    )


class ValueCorrectionForm(CorrectionForm):
    value = FigureField(required=True)
    numerator = FigureField()
    denominator = FigureField()

    class Meta:
        model = Value
        fields = ["value", "numerator", "denominator", "note"]

    def clean(self):
        cleaned = super().clean()
        measure = self.instance.measure
        problems = value_errors(
            unit=measure.unit,
            aggregation=measure.aggregation,
            decimals=measure.decimals,
            value=cleaned.get("value"),
            numerator=cleaned.get("numerator"),
            denominator=cleaned.get("denominator"),
            unit_name=measure.get_unit_display().lower(),
        )
        for problem in problems:
            self.add_error("value", problem)
        return cleaned


class HeadlineCorrectionForm(CorrectionForm):
    class Meta:
        model = Headline
        fields = ["text"]


class FigureAdmin(ServiceWrittenAdmin):
    """Figures and headlines: corrected here with a reason, never added, deleted or reverted.

    They enter through their return (the return pages or the API) or the import command. An
    admin may correct a draft one here; the correction is a service call that records it in
    the return's history like any other edit, bumps the return's version, and keeps the
    admin from approving that return. While its return is under review or approved, or the
    figure is approved, the page is read-only.
    """

    editable_fields: list[str] = []
    shown_fields: list[str] = []
    revert_allowed = False
    # A revert saves the old version as it stands: no reason, no return event, no check of
    # the return's state. To restore an old figure, correct it on its change page.
    revert_refusal = (
        "Reverting is not available here: correct the figure on its change page, with a "
        "reason, so the change is recorded in its return's history."
    )

    def lock_reason(self, obj) -> str:
        raise NotImplementedError

    def correct(self, request, obj, form) -> None:
        raise NotImplementedError

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The stored row decides, not the object passed in: on simple-history's pages that
        # is an old version of the row.
        if obj is not None and obj.pk is not None and self.lock_reason(obj):
            return False
        return super().has_change_permission(request, obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = [(None, {"fields": [*self.shown_fields, "held_by", "locked"]})]
        if obj is not None and self.has_change_permission(request, obj):
            fieldsets.append(("Correction", {"fields": ["reason"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [f for f in self.shown_fields if f not in self.editable_fields] + [
            "held_by",
            "locked",
        ]

    @admin.display(description="Return")
    def held_by(self, obj):
        returns = self.returns_of(obj)
        if not returns:
            return "None: no return asks for this figure."
        return format_html_join(
            ", ",
            '<a href="{}">{}</a> ({})',
            (
                (reverse("returns:detail", args=[r.pk]), str(r), r.get_status_display().lower())
                for r in returns
            ),
        )

    @admin.display(description="Can it be corrected here?")
    def locked(self, obj):
        reason = self.lock_reason(obj)
        return format_html("No. {}", reason) if reason else "Yes, with a reason."

    def returns_of(self, obj) -> list[Return]:
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        if not change:
            raise PermissionDenied("Figures enter through their return or the import command.")
        self.correct(request, obj, form)

    def delete_model(self, request, obj):
        raise PermissionDenied("Figures are removed in their return, not here.")

    def delete_queryset(self, request, queryset):
        raise PermissionDenied("Figures are removed in their return, not here.")


class AuditOnlyMixin:
    """Audit rows are written by the workflow only: nobody adds, edits or deletes them here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Department)
class DepartmentAdmin(HistoryAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Plan)
class PlanAdmin(HistoryAdmin):
    list_display = ["code", "name", "organisation", "baseline_start", "baseline_end"]
    search_fields = ["code", "name"]


@admin.register(Area)
class AreaAdmin(HistoryAdmin):
    list_display = ["code", "name", "kind", "parent"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]


@admin.register(ComparisonGroup)
class ComparisonGroupAdmin(HistoryAdmin):
    list_display = ["code", "name"]
    filter_horizontal = ["areas"]


@admin.register(Source)
class SourceAdmin(HistoryAdmin):
    """Source systems: the name measures give each, and the full name and link the report
    prints ("Source: Criminal Justice System Delivery Data Dashboard - GOV.UK")."""

    list_display = ["name", "full_name", "url"]
    search_fields = ["name", "full_name"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class MeasureInline(admin.TabularInline):
    model = Measure
    fields = ["position", "code", "name", "unit", "owner"]
    extra = 0
    show_change_link = True


@admin.register(Priority)
class PriorityAdmin(HistoryAdmin):
    list_display = ["name", "code", "plan", "position"]
    list_filter = ["plan"]
    search_fields = ["code", "name"]
    inlines = [MeasureInline]


class TargetInline(admin.TabularInline):
    """A measure's targets, read-only here: each is written on its own page (TargetAdmin).

    An editable inline would save targets as the measure's formset, around
    catalogue.target_save; the link to each target's page keeps one door for target writes.
    """

    model = Target
    extra = 0
    show_change_link = True
    fields = readonly_fields = (
        "name",
        "kind",
        "area",
        "baseline_start",
        "baseline_end",
        "target_value",
        "tolerance",
    )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SeriesBreakForm(forms.ModelForm):
    class Meta:
        model = SeriesBreak
        fields = ["start", "reason"]

    def clean_start(self):
        # A break is a month: any day of it names it (and two rows of one month clash here,
        # on the form, rather than in the database).
        start = self.cleaned_data.get("start")
        return start.replace(day=1) if start else start


class SeriesBreakInline(admin.TabularInline):
    """A measure's breaks in series (SPEC §2): from each, its control limits are worked out
    afresh and its run rules restart. Saved through catalogue.series_break_save and
    series_break_delete (MeasureAdmin.save_formset), which mark the measure for recompute."""

    model = SeriesBreak
    form = SeriesBreakForm
    fields = ["start", "reason"]
    extra = 0
    verbose_name = "break in series"
    verbose_name_plural = "breaks in series (control limits start afresh from each)"


@admin.register(Measure)
class MeasureAdmin(HistoryAdmin):
    list_display = ["code", "name", "priority", "unit", "aggregation", "polarity", "owner"]
    list_filter = ["priority__plan", "priority", "unit", "frequency", "owner"]
    search_fields = ["code", "name", "definition"]
    list_select_related = ["priority", "owner"]
    inlines = [TargetInline, SeriesBreakInline]
    fieldsets = [
        (None, {"fields": ["priority", "position", "code", "name", "definition"]}),
        (
            "Arithmetic",
            {"fields": ["unit", "rate_per", "aggregation", "polarity", "decimals"]},
        ),
        ("Reporting", {"fields": ["frequency", "data_lag_months", "owner", "source"]}),
        (
            "Report tables",
            {"fields": ["year_to_date_table", "monthly_table", "scorecard_group", "table_group"]},
        ),
        ("Key Headlines", {"fields": ["aliases"]}),
    ]

    def save_model(self, request, obj, form, change):
        # Through the service: a change to the measure's arithmetic marks it for recompute.
        catalogue.measure_save(
            measure=obj, actor=request.user, changed=form.changed_data if change else ["unit"]
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is not SeriesBreak:
            return super().save_formset(request, form, formset, change)
        # Through the services: each break saved or removed marks the measure for recompute.
        kept = formset.save(commit=False)
        for gone in formset.deleted_objects:
            catalogue.series_break_delete(series_break_id=gone.pk, actor=request.user)
        for series_break in kept:
            catalogue.series_break_save(series_break=series_break, actor=request.user)


class TargetForm(forms.ModelForm):
    reason = forms.CharField(
        label="Reason for the change",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        max_length=2000,
        help_text="Optional. Kept with the change in the target's history.",
    )

    class Meta:
        model = Target
        fields = [
            "measure",
            "area",
            "name",
            "kind",
            "baseline_start",
            "baseline_end",
            "target_value",
            "tolerance",
            "position",
        ]


@admin.register(Target)
class TargetAdmin(ServiceWrittenAdmin):
    """Targets are written through catalogue.target_save, which marks the measure for
    recompute (target statuses are derived figures)."""

    form = TargetForm
    list_display = ["name", "measure", "area", "kind", "baseline_start", "baseline_end"]
    list_filter = ["kind"]
    list_select_related = ["measure", "area"]

    def save_model(self, request, obj, form, change):
        catalogue.target_save(
            target=obj, actor=request.user, reason=form.cleaned_data.get("reason", "")
        )

    def delete_model(self, request, obj):
        catalogue.target_delete(target_id=obj.pk, actor=request.user)

    def delete_queryset(self, request, queryset):
        for target_id in queryset.values_list("pk", flat=True):
            catalogue.target_delete(target_id=target_id, actor=request.user)


@admin.register(Value)
class ValueAdmin(FigureAdmin):
    """Figures: values enter through returns, the API or `import_values`; an admin may only
    correct a draft one here, with a reason (services.value_correct)."""

    form = ValueCorrectionForm
    list_display = ["measure", "area", "start", "end", "value", "status", "updated_at"]
    list_filter = ["status", "measure__priority", "area"]
    search_fields = ["measure__code", "measure__name", "area__code"]
    list_select_related = ["measure", "area"]
    date_hierarchy = "start"
    shown_fields = [
        "measure",
        "area",
        "start",
        "end",
        "value",
        "numerator",
        "denominator",
        "note",
        "source",
        "status",
        "updated_by",
        "updated_at",
    ]
    editable_fields = ["value", "numerator", "denominator", "note"]

    def lock_reason(self, obj) -> str:
        return services.value_lock_reason(value_id=obj.pk)

    def returns_of(self, obj) -> list[Return]:
        stored = Value.objects.select_related("measure__priority").filter(pk=obj.pk).first()
        return services.returns_holding_value(stored) if stored else []

    def correct(self, request, obj, form) -> None:
        data = form.cleaned_data
        services.value_correct(
            value_id=obj.pk,
            value=data["value"],
            numerator=data.get("numerator"),
            denominator=data.get("denominator"),
            note=data.get("note") or "",
            reason=data["reason"],
            actor=request.user,
        )


@admin.register(Headline)
class HeadlineAdmin(FigureAdmin):
    """Key Headlines: written in their return; an admin may only correct a draft one here,
    with a reason (services.headline_correct)."""

    form = HeadlineCorrectionForm
    list_display = ["priority", "start", "end", "status", "department"]
    list_filter = ["status", "priority__plan"]
    list_select_related = ["priority", "department"]
    shown_fields = ["priority", "department", "start", "end", "text", "status", "updated_at"]
    editable_fields = ["text"]

    def lock_reason(self, obj) -> str:
        return services.headline_lock_reason(headline_id=obj.pk)

    def returns_of(self, obj) -> list[Return]:
        stored = Headline.objects.select_related("priority").filter(pk=obj.pk).first()
        return services.returns_holding_headline(stored) if stored else []

    def correct(self, request, obj, form) -> None:
        services.headline_correct(
            headline_id=obj.pk,
            text=form.cleaned_data["text"],
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )


@admin.register(Profile)
class ProfileAdmin(HistoryAdmin):
    list_display = ["user", "role"]
    list_filter = ["role", "departments"]
    filter_horizontal = ["departments"]


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(HistoryAdmin):
    list_display = ["plan", "start", "end", "deadline", "area", "opened_at"]
    list_filter = ["plan"]
    list_select_related = ["plan", "area"]
    fields = ["plan", "area", "start", "end", "deadline"]
    # A revert would restore the read-only plan, area and months, moving figures between
    # returns; a deadline is simply changed again.
    revert_allowed = False

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
class ReturnAdmin(HistoryAdmin):
    """Returns change state only through the workflow (the return pages or the API)."""

    revert_allowed = False
    revert_refusal = "A return changes state only through its workflow, never by a revert."

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

    def has_change_permission(self, request, obj=None):
        # Nothing on a return is edited here; a save would only write a history row.
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
