"""What `reports/` reads from the catalogue in `measures/`: one module, so it is all in view.

The catalogue (plans, priorities, measures, areas, targets, returns' states) is read here;
figures and Key Headlines are read through `measures.selectors` for a `Reader`. No other
module of `reports/` queries `measures` models (tests/reports/test_layout.py checks).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import Case, OuterRef, Subquery, When
from django.db.models import Value as Literal
from django.shortcuts import get_object_or_404

from measures.arithmetic.periods import Period
from measures.models import (
    Area,
    Measure,
    PendingRecompute,
    Plan,
    Priority,
    Return,
    Source,
    Target,
)
from measures.selectors import reporting_area, stored_longer
from measures.selectors import series_breaks as series_breaks  # charts read breaks here

if TYPE_CHECKING:
    from reports.models import ReportSection

__all__ = [
    "area_by_code",
    "baseline_targets",
    "catalogue_areas",
    "catalogue_measures",
    "default_plan",
    "measure_by_code",
    "measure_targets",
    "measures_by_code",
    "measures_with_baselines",
    "other_area_names",
    "plan_by_code",
    "plan_measures",
    "plan_priorities",
    "priority_measures",
    "report_layout",
    "reporting_area",
    "series_breaks",
    "source_systems",
    "target_baselines",
    "unapproved_returns",
]


def default_plan() -> Plan | None:
    """Return the plan pages show unless told otherwise: the first one loaded."""
    return Plan.objects.order_by("pk").first()


def plan_by_code(code: str) -> Plan | None:
    return Plan.objects.filter(code=code).first()


def catalogue_areas() -> list[Area]:
    """Return every area, by name, each linked to its parent in memory."""
    areas = list(Area.objects.order_by("name", "pk"))
    by_id = {a.pk: a for a in areas}
    for area in areas:
        if area.parent_id in by_id:
            area.parent = by_id[area.parent_id]
    return areas


def catalogue_measures() -> list[Measure]:
    """Return every measure with its priority and plan, in report order, each carrying
    `pending_recompute` ("approved": figures everyone sees are stale; "drafts": only drafts
    are; None) and `stored_longer` (some value covers more than a month)."""
    pending = PendingRecompute.objects.filter(measure=OuterRef("pk")).values(
        kind=Case(When(drafts_only=True, then=Literal("drafts")), default=Literal("approved"))
    )
    return list(
        Measure.objects.select_related("priority", "priority__plan")
        .annotate(pending_recompute=Subquery(pending[:1]), stored_longer=stored_longer())
        .order_by("priority__position", "position", "name")
    )


def measure_by_code(code: str) -> Measure:
    """Return the measure with the code, or raise Http404."""
    return get_object_or_404(Measure.objects.select_related("priority", "owner"), code=code)


def measures_by_code(codes: Iterable[str]) -> dict[str, Measure]:
    """Return the measures of these codes, by code (codes without a measure left out)."""
    return {
        m.code: m for m in Measure.objects.filter(code__in=list(codes)).select_related("priority")
    }


def area_by_code(code: str) -> Area:
    """Return the area with the code, or raise Http404."""
    return get_object_or_404(Area, code=code)


def plan_measures(plan: Plan) -> list[Measure]:
    """Return the plan's measures in report order."""
    return list(
        Measure.objects.filter(priority__plan=plan)
        .select_related("priority", "owner")
        .order_by("priority__position", "position")
    )


def plan_priorities(plan: Plan | None):
    """Return the plan's priorities with their measures (for the home page)."""
    if plan is None:
        return []
    return plan.priorities.prefetch_related("measures")


def priority_measures(priority: Priority) -> list[Measure]:
    """Return the priority's measures in order."""
    return list(Measure.objects.filter(priority=priority).order_by("position"))


def baseline_targets(measures: Iterable[Measure]) -> list[Target]:
    """Return the measures' targets that have a baseline, in National Picture order."""
    return list(
        Target.objects.filter(measure__in=list(measures), baseline_start__isnull=False)
        .select_related("measure", "area", "measure__priority")
        .order_by("measure__priority__position", "position", "measure__position")
    )


def measures_with_baselines(measures: Iterable[Measure]) -> set[int]:
    """Return the ids of the measures with a target that has a baseline."""
    return set(
        Target.objects.filter(
            measure__in=list(measures), baseline_start__isnull=False
        ).values_list("measure_id", flat=True)
    )


def measure_targets(measures: Iterable[Measure]) -> list[Target]:
    """Return the measures' targets, newest first."""
    return list(Target.objects.filter(measure_id__in=[m.pk for m in measures]).order_by("-pk"))


def target_baselines() -> dict[int, Period | None]:
    """Return each measure's target baseline (the oldest target's, where several have one)."""
    return {
        t.measure_id: t.baseline
        for t in Target.objects.filter(baseline_start__isnull=False).order_by("-pk")
    }


def other_area_names(area: Area) -> list[str]:
    """Return the names of every area but this one (a headline naming one is not about it)."""
    return list(Area.objects.exclude(pk=area.pk).values_list("name", flat=True))


def report_layout(plan: Plan) -> list[ReportSection]:
    """Return the report's sections in order, shown ones only, each with its activities and
    its charts (with their measures).

    The admins' layout comes first; a priority it does not list (one added to the plan
    since) follows in the plan's order, as a section of its own with the defaults, unsaved.
    """
    from reports.models import ReportSection

    layout = list(
        ReportSection.objects.filter(plan=plan)
        .select_related("priority")
        .prefetch_related("activities", "charts__chart_measures__measure")
        .order_by("position", "pk")
    )
    listed = {section.priority_id for section in layout}
    layout += [
        ReportSection(plan=plan, priority=priority, position=priority.position)
        for priority in plan.priorities.order_by("position")
        if priority.pk not in listed
    ]
    return [section for section in layout if section.shown]


def source_systems(names: Iterable[str]) -> list[Source]:
    """Return the sources of these names, in the order given; a name with no Source row
    stands as one of its own (unsaved), printed by its name."""
    names = list(dict.fromkeys(name for name in names if name))
    found = {source.name: source for source in Source.objects.filter(name__in=names)}
    return [found.get(name) or Source(name=name) for name in names]


def unapproved_returns(plan: Plan, period: Period) -> list[Return]:
    """Return the period's returns not yet approved, with their departments, by name."""
    return list(
        Return.objects.filter(
            reporting_period__plan=plan,
            reporting_period__start=period.start.first_day,
            reporting_period__end=period.end.first_day,
        )
        .exclude(status=Return.Status.APPROVED)
        .select_related("department")
        .order_by("department__name")
    )
