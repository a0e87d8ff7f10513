"""Filters of the returns list: by state, reporting period and department."""

from __future__ import annotations

import django_filters

from measures.models import Department, ReportingPeriod, Return
from measures.returns import workflow


def _visible_returns(request):
    return workflow.returns_visible_to(request.user if request is not None else None)


def reporting_periods(request):
    """Offer only the periods of returns the person may see."""
    return (
        ReportingPeriod.objects.filter(returns__in=_visible_returns(request))
        .select_related("plan")
        .distinct()
    )


def departments(request):
    """Offer only the departments whose returns the person may see."""
    return Department.objects.filter(returns__in=_visible_returns(request)).distinct()


class ReturnFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label="State", choices=Return.Status.choices, empty_label="Any state"
    )
    reporting_period = django_filters.ModelChoiceFilter(
        label="Reporting period", queryset=reporting_periods, empty_label="Any period"
    )
    department = django_filters.ModelChoiceFilter(
        label="Department", queryset=departments, empty_label="Any department"
    )

    class Meta:
        model = Return
        fields = ["status", "reporting_period", "department"]
