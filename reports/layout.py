"""The report's layout from a file: its sections in order and what each prints besides its
figures (a part heading, a note, where its Key Headlines go, its activities) and the charts
each draws from measures it names.

The admin site edits the same rows (*Report sections*). Like the plan import, importing a
file again changes nothing, an edited file updates rows in place, and nothing is deleted:
a section, activity or chart left out of the file is kept as it is. A chart's measures are
the file's: those it no longer lists are removed from the chart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from measures.arithmetic.periods import PeriodError, parse_month
from reports import selectors
from reports.models import ReportActivity, ReportChart, ReportSection


class LayoutInvalid(Exception):
    """The layout file is malformed; nothing was written."""


@dataclass
class LayoutSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


# What a section of the file may say, and the field of ReportSection it sets.
SECTION_TEXTS = {"title": "title", "part_heading": "part_heading", "note": "note"}
PLACEMENTS = {choice.value for choice in ReportSection.HeadlinesPlacement}
CHART_TEXTS = {"title": "title", "total_label": "total_label", "source": "source"}


def report_layout_import(*, data: Any) -> LayoutSummary:
    """Create or update a plan's report sections, in the file's order, and their activities.

    The file is a mapping: `plan` (its code) and `sections`, a list of mappings with
    `priority` (its code) and optionally `title`, `part_heading`, `note`, `shown`,
    `headlines` ("before" or "after" the tables), `activities` (each `text`, optionally
    `group` and `title`) and `charts` (each `kind`, `title` and `measures`, a list of
    measure codes, optionally `start` (a month, "2018-01"), `years`, `total_label`,
    `placement` ("before" or "after" the tables) and `source`).
    """
    summary = LayoutSummary()
    if not isinstance(data, dict):
        raise LayoutInvalid("file: expected a mapping with plan and sections")
    plan = selectors.plan_by_code(str(data.get("plan") or ""))
    if plan is None:
        raise LayoutInvalid(f"plan: unknown plan {data.get('plan')!r} (import the plan first)")
    priorities = {p.code: p for p in selectors.plan_priorities(plan)}
    measures = {m.code: m for m in selectors.plan_measures(plan)}
    sections = data.get("sections")
    if not isinstance(sections, list):
        raise LayoutInvalid("sections: expected a list")
    try:
        with transaction.atomic():
            _sections_import(plan, priorities, measures, sections, summary)
    except ValidationError as exc:
        raise LayoutInvalid(f"invalid layout: {'; '.join(exc.messages)}") from exc
    return summary


def _sections_import(
    plan, priorities, measures, sections: list[Any], summary: LayoutSummary
) -> None:
    for index, item in enumerate(sections):
        where = f"sections[{index}]"
        entry = _mapping(item, where)
        code = _text(entry, "priority", where)
        if code not in priorities:
            raise LayoutInvalid(f"{where}.priority: {plan.code} has no priority {code!r}")
        placement = _text(entry, "headlines", where) or ReportSection.HeadlinesPlacement.AFTER
        if placement not in PLACEMENTS:
            raise LayoutInvalid(f"{where}.headlines: {placement!r} is not before or after")
        shown = entry.get("shown", True)
        if not isinstance(shown, bool):
            raise LayoutInvalid(f"{where}.shown: {shown!r} is not true or false")
        section = _upsert(
            ReportSection,
            {"plan": plan, "priority": priorities[code]},
            {
                **{name: _text(entry, key, where) for key, name in SECTION_TEXTS.items()},
                "position": index + 1,
                "shown": shown,
                "headlines_placement": placement,
            },
            summary,
        )
        _activities_import(section, entry.get("activities") or [], where, summary)
        _charts_import(section, measures, entry.get("charts") or [], where, summary)


def _activities_import(
    section: ReportSection, activities: Any, where: str, summary: LayoutSummary
) -> None:
    """Create or update the section's activities, keyed by their place in the list."""
    if not isinstance(activities, list):
        raise LayoutInvalid(f"{where}.activities: expected a list")
    for position, activity in enumerate(activities, start=1):
        at = f"{where}.activities[{position - 1}]"
        fields = _mapping(activity, at)
        text = _text(fields, "text", at)
        if not text:
            raise LayoutInvalid(f"{at}.text is required")
        _upsert(
            ReportActivity,
            {"section": section, "position": position},
            {
                "group": _text(fields, "group", at),
                "title": _text(fields, "title", at),
                "text": text,
            },
            summary,
        )


def _charts_import(
    section: ReportSection, measures, charts: Any, where: str, summary: LayoutSummary
) -> None:
    """Create or update the section's charts, keyed by their place in the list, each with
    its measures in the file's order."""
    if not isinstance(charts, list):
        raise LayoutInvalid(f"{where}.charts: expected a list")
    for position, item in enumerate(charts, start=1):
        at = f"{where}.charts[{position - 1}]"
        fields = _mapping(item, at)
        kind = _text(fields, "kind", at)
        if kind not in ReportChart.Kind.values:
            raise LayoutInvalid(
                f"{at}.kind: {kind!r} is not one of {', '.join(ReportChart.Kind.values)}"
            )
        texts = {name: _text(fields, key, at) for key, name in CHART_TEXTS.items()}
        if not texts["title"]:
            raise LayoutInvalid(f"{at}.title is required")
        placement = _text(fields, "placement", at) or ReportChart.Placement.AFTER
        if placement not in ReportChart.Placement.values:
            raise LayoutInvalid(f"{at}.placement: {placement!r} is not before or after")
        shown = _chart_measures(fields.get("measures"), measures, kind, f"{at}.measures")
        chart = ReportChart.objects.filter(section=section, position=position).first()
        changed = chart is None or [m.pk for m in chart.shown_measures()] != [m.pk for m in shown]
        chart = _upsert(
            ReportChart,
            {"section": section, "position": position},
            {
                **texts,
                "kind": kind,
                "start": _start(fields, at),
                "years": _years(fields, at),
                "placement": placement,
            },
            summary,
            also_changed=["measures"] if changed else [],
        )
        chart.measures_set(shown)


def _chart_measures(codes: Any, measures, kind: str, where: str) -> list:
    """Return the plan's measures of these codes, in order, if they suit the chart's kind."""
    if not isinstance(codes, list) or not codes:
        raise LayoutInvalid(f"{where}: expected a list of measure codes")
    unknown = [code for code in codes if not isinstance(code, str) or code not in measures]
    if unknown:
        raise LayoutInvalid(f"{where}: unknown measure {unknown[0]!r}")
    shown = [measures[code] for code in codes]
    problems = ReportChart.measure_problems(kind, shown)
    if problems:
        raise LayoutInvalid(f"{where}: {'; '.join(problems)}")
    return shown


def _start(fields: dict[str, Any], where: str):
    text = _text(fields, "start", where)
    if not text:
        return None
    try:
        return parse_month(text).first_day
    except PeriodError as exc:
        raise LayoutInvalid(f"{where}.start: {exc}") from None


def _years(fields: dict[str, Any], where: str) -> int | None:
    years = fields.get("years")
    if years is None:
        return None
    if isinstance(years, bool) or not isinstance(years, int) or years < 1:
        raise LayoutInvalid(f"{where}.years: {years!r} is not a whole number of years (1 or more)")
    return years


def _mapping(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise LayoutInvalid(f"{where}: expected a mapping, got {type(item).__name__}")
    return item


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise LayoutInvalid(f"{where}.{key}: expected text, got {type(value).__name__}")
    return value.strip()


def _upsert(
    model: type[models.Model],
    lookup: dict[str, Any],
    fields: dict[str, Any],
    summary,
    *,
    also_changed: list[str] | None = None,
) -> Any:
    """Create or update one row, saving (and so recording history) only if it changed.

    `also_changed` names what else about the row the caller changes (a chart's measures):
    the row then counts as updated even if none of its own fields did.
    """
    also_changed = also_changed or []
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **fields)
        obj.full_clean(validate_unique=False, validate_constraints=False)
        obj.save()
        summary.created += 1
        summary.details.append(f"created {model._meta.verbose_name} {obj}")
        return obj
    changed = [name for name, value in fields.items() if getattr(obj, name) != value]
    if not changed and not also_changed:
        summary.unchanged += 1
        return obj
    if changed:
        for name in changed:
            setattr(obj, name, fields[name])
        obj.full_clean(validate_unique=False, validate_constraints=False)
        obj.save(update_fields=changed)
    summary.updated += 1
    what = ", ".join(changed + also_changed)
    summary.details.append(f"updated {model._meta.verbose_name} {obj}: {what}")
    return obj
