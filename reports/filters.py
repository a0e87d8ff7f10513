"""Filters shared by the table pages: which measures, for which area, to which month."""

from __future__ import annotations

import django_filters
from django import forms

from measures.models import Area, Measure, Plan, Priority
from measures.periods import Period, PeriodError, parse_period
from measures.targets import LABELS as TARGET_LABELS

STATUS_CHOICES = [
    ("all", "Approved and provisional"),
    ("approved", "Approved only"),
]


class PeriodField(forms.CharField):
    """A period in any SPEC §3 notation; cleans to a `Period`."""

    def to_python(self, value) -> Period | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_period(text)
        except PeriodError as exc:
            raise forms.ValidationError(str(exc), code="invalid_period") from exc


class PeriodFilter(django_filters.Filter):
    field_class = PeriodField


def _keep(queryset, name, value):
    """Leave the measures as they are: area, period and status choose what is computed."""
    return queryset


class FigureFilter(django_filters.FilterSet):
    plan = django_filters.ModelChoiceFilter(
        field_name="priority__plan",
        label="Plan",
        queryset=Plan.objects.all(),
        to_field_name="code",
        empty_label="All plans",
    )
    priority = django_filters.ModelChoiceFilter(
        label="Priority",
        queryset=Priority.objects.select_related("plan"),
        empty_label="All priorities",
    )
    measure = django_filters.ModelChoiceFilter(
        field_name="code",
        label="Measure",
        queryset=Measure.objects.all(),
        to_field_name="code",
        empty_label="All measures",
        method="filter_measure",
    )
    area = django_filters.ModelChoiceFilter(
        label="Area",
        queryset=Area.objects.all(),
        to_field_name="code",
        empty_label="Default area",
        method=_keep,
    )
    period = PeriodFilter(
        label="Reporting period",
        method=_keep,
        help_text="Ends with the reporting month, e.g. 2022-12 or 2022/23-Q3.",
    )
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES, empty_label=None, method=_keep, label="Figures"
    )
    target_status = django_filters.ChoiceFilter(
        choices=[(key, label) for key, label in TARGET_LABELS.items()],
        empty_label="Any target status",
        method=_keep,
        label="Against target",
    )

    class Meta:
        model = Measure
        fields = ["plan", "priority", "measure"]

    def filter_measure(self, queryset, name, value):
        return queryset.filter(pk=value.pk)
