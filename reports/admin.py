"""The report's layout in the admin site (*Report sections*): each section's place, title,
part heading, where its Key Headlines go, its note, its activities and its charts. No
figures here."""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin

from reports import selectors
from reports.models import ReportActivity, ReportChart, ReportSection


class ReportActivityInline(admin.TabularInline):
    model = ReportActivity
    fields = ["position", "group", "title", "text"]
    extra = 0


class ReportChartForm(forms.ModelForm):
    """A chart with its measures typed as their codes, in the order it draws them."""

    measures = forms.CharField(
        help_text="Measure codes in the order the chart draws them, separated by commas, "
        "e.g. calls-999, calls-101.",
        widget=forms.TextInput(attrs={"size": 60}),
    )

    class Meta:
        model = ReportChart
        fields = [
            "position",
            "kind",
            "title",
            "measures",
            "start",
            "years",
            "total_label",
            "placement",
            "source",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            codes = [m.code for m in self.instance.shown_measures()]
            self.initial["measures"] = ", ".join(codes)
        self.chosen: list = []

    def clean(self):
        cleaned = super().clean()
        codes = [code for code in re.split(r"[\s,]+", cleaned.get("measures") or "") if code]
        if not codes:
            return cleaned
        found = selectors.measures_by_code(codes)
        unknown = [code for code in codes if code not in found]
        plan_id = self.instance.section.plan_id if self.instance.section_id else None
        other_plan = [
            c for c in codes if c in found and plan_id not in (None, found[c].priority.plan_id)
        ]
        if unknown or other_plan:
            self.add_error(
                "measures",
                f"Unknown measure {(unknown or other_plan)[0]!r}: give the codes of the "
                "plan's measures.",
            )
            return cleaned
        self.chosen = [found[code] for code in codes]
        kind = cleaned.get("kind")
        if kind:
            for problem in ReportChart.measure_problems(kind, self.chosen):
                self.add_error("measures", problem[0].upper() + problem[1:] + ".")
        return cleaned

    def _save_m2m(self):
        super()._save_m2m()
        self.instance.measures_set(self.chosen)


class ReportChartInline(admin.StackedInline):
    model = ReportChart
    form = ReportChartForm
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
    inlines = [ReportActivityInline, ReportChartInline]

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history lets anyone who may view a row revert it; reverting is a change.
        if request.method == "POST" and not self.has_change_permission(request):
            raise PermissionDenied("You may not change this record.")
        return super().history_form_view(request, object_id, version_id, extra_context)
