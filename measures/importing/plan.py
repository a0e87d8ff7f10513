""""""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models, transaction

from measures import services as catalogue
from measures.arithmetic.periods import Period, PeriodError, parse_period
from measures.importing.rules import ImportSummary, parse_decimal
from measures.models import (
    Area,
    ComparisonGroup,
    Department,
    Measure,
    Plan,
    Priority,
    SeriesBreak,
    Source,
    Target,
)

# --- plan definitions ------------------------------------------------------------------------


class PlanInvalid(Exception):
    """The plan file is malformed; nothing was written."""


class _Reader:
    """Typed access to one mapping of the plan file, with errors naming where they are."""

    def __init__(self, data: Any, where: str):
        if not isinstance(data, dict):
            raise PlanInvalid(f"{where}: expected a mapping, got {type(data).__name__}")
        self.data, self.where = data, where

    def text(self, key: str, *, required: bool = False, default: str = "") -> str:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise PlanInvalid(f"{self.where}.{key} is required")
            return default
        return str(value).strip()

    def choice(
        self, key: str, choices: type[models.TextChoices], default: str | None = None
    ) -> str:
        value = self.text(key, required=default is None, default=default or "")
        if value not in choices.values:
            raise PlanInvalid(
                f"{self.where}.{key}: {value!r} is not one of {', '.join(choices.values)}"
            )
        return value

    def integer(self, key: str, default: int) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise PlanInvalid(f"{self.where}.{key}: {value!r} is not a whole number >= 0")
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            raise PlanInvalid(f"{self.where}.{key}: {value!r} is not true or false")
        return value

    def number(self, key: str) -> Decimal | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        try:
            return parse_decimal(str(value))
        except (InvalidOperation, ValueError) as exc:
            raise PlanInvalid(f"{self.where}.{key}: {value!r} is not a number") from exc

    def period(self, key: str) -> Period | None:
        value = self.text(key)
        if not value:
            return None
        try:
            return parse_period(value)
        except PeriodError as exc:
            raise PlanInvalid(f"{self.where}.{key}: {exc}") from exc

    def names(self, key: str) -> list[str]:
        value = self.data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise PlanInvalid(f"{self.where}.{key}: expected a list of names")
        return [v.strip() for v in value]

    def items(self, key: str) -> list[Any]:
        value = self.data.get(key) or []
        if not isinstance(value, list):
            raise PlanInvalid(f"{self.where}.{key}: expected a list")
        return value


def _upsert(
    model,
    lookup: dict[str, Any],
    fields: dict[str, Any],
    summary: ImportSummary,
    *,
    save: Callable[[Any, list[str] | None], None] | None = None,
):
    """Create or update one row, writing (and so recording history) only if something changed.

    `save(obj, changed_fields)` writes it instead of `obj.save()` (None: a new row): how
    rows that have a service of their own are written.
    """
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **fields)
        obj.full_clean(validate_unique=False, validate_constraints=False)
        if save is None:
            obj.save()
        else:
            save(obj, None)
        summary.created += 1
        summary.details.append(f"created {model._meta.verbose_name} {lookup}")
        return obj
    changed = [name for name, value in fields.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, fields[name])
        obj.full_clean(validate_unique=False, validate_constraints=False)
        if save is None:
            obj.save(update_fields=changed)
        else:
            save(obj, changed)
        summary.updated += 1
        summary.details.append(
            f"updated {model._meta.verbose_name} {lookup}: {', '.join(changed)}"
        )
    else:
        summary.unchanged += 1
    return obj


def _period_dates(period: Period | None) -> tuple[datetime.date | None, datetime.date | None]:
    if period is None:
        return None, None
    return period.start.first_day, period.end.first_day


def plan_import(*, data: Any) -> ImportSummary:
    """Create or update a plan, its departments, areas, sources, priorities, measures and
    targets."""
    from django.core.exceptions import ValidationError

    summary = ImportSummary()
    root = _Reader(data, "file")
    try:
        with transaction.atomic():
            _plan_import(root, summary)
    except ValidationError as exc:
        raise PlanInvalid(f"invalid plan: {exc}") from exc
    return summary


def _plan_import(root: _Reader, summary: ImportSummary) -> None:
    plan_data = _Reader(root.data.get("plan"), "plan")
    baseline = plan_data.period("baseline")
    b_start, b_end = _period_dates(baseline)
    plan = _upsert(
        Plan,
        {"code": plan_data.text("code", required=True)},
        {
            "name": plan_data.text("name", required=True),
            "title": plan_data.text("title"),
            "organisation": plan_data.text("organisation"),
            "baseline_start": b_start,
            "baseline_end": b_end,
        },
        summary,
    )
    departments = {d.code: d for d in Department.objects.all()}
    for i, item in enumerate(root.items("departments")):
        row = _Reader(item, f"departments[{i}]")
        code = row.text("code", required=True)
        departments[code] = _upsert(
            Department, {"code": code}, {"name": row.text("name", required=True)}, summary
        )

    # Sources are keyed by the name measures give them ("CRaSH"); a measure may name one
    # that is not listed, which is then printed by its name alone.
    for i, item in enumerate(root.items("sources")):
        row = _Reader(item, f"sources[{i}]")
        url = row.text("url")
        if url and not url.startswith(("https://", "http://")):
            raise PlanInvalid(f"sources[{i}].url: {url!r} is not a web address (https://…)")
        _upsert(
            Source,
            {"name": row.text("name", required=True)},
            {"full_name": row.text("full_name"), "url": url},
            summary,
        )

    areas = {a.code: a for a in Area.objects.all()}
    for i, item in enumerate(root.items("areas")):
        row = _Reader(item, f"areas[{i}]")
        code = row.text("code", required=True)
        parent_code = row.text("parent")
        if parent_code and parent_code not in areas:
            raise PlanInvalid(
                f"areas[{i}].parent: unknown area {parent_code!r} (list parents before children)"
            )
        areas[code] = _upsert(
            Area,
            {"code": code},
            {
                "name": row.text("name", required=True),
                "kind": row.choice("kind", Area.Kind),
                "parent": areas.get(parent_code) if parent_code else None,
            },
            summary,
        )

    for i, item in enumerate(root.items("comparison_groups")):
        row = _Reader(item, f"comparison_groups[{i}]")
        group = _upsert(
            ComparisonGroup,
            {"code": row.text("code", required=True)},
            {"name": row.text("name", required=True)},
            summary,
        )
        wanted = []
        for code in row.items("areas"):
            if code not in areas:
                raise PlanInvalid(f"comparison_groups[{i}].areas: unknown area {code!r}")
            wanted.append(areas[code])
        if {a.pk for a in group.areas.all()} != {a.pk for a in wanted}:
            group.areas.set(wanted)

    measures: dict[str, Measure] = {}
    for p_index, item in enumerate(root.items("priorities")):
        row = _Reader(item, f"priorities[{p_index}]")
        priority = _upsert(
            Priority,
            {"plan": plan, "code": row.text("code", required=True)},
            {
                "name": row.text("name", required=True),
                "description": row.text("description"),
                "position": p_index + 1,
            },
            summary,
        )
        for m_index, m_item in enumerate(row.items("measures")):
            where = f"priorities[{p_index}].measures[{m_index}]"
            m = _Reader(m_item, where)
            owner = m.text("owner", required=True)
            if owner not in departments:
                raise PlanInvalid(f"{where}.owner: unknown department {owner!r}")
            code = m.text("code", required=True)
            if code in measures:
                raise PlanInvalid(f"{where}.code: measure {code!r} is defined twice")
            unit = m.choice("unit", Measure.Unit, default="count")
            rate_per = m.data.get("rate_per")
            if unit == Measure.Unit.RATE and not rate_per:
                raise PlanInvalid(f"{where}.rate_per is required for unit 'rate'")
            measures[code] = _upsert(
                Measure,
                {"code": code},
                {
                    "priority": priority,
                    "name": m.text("name", required=True),
                    "definition": m.text("definition"),
                    "unit": unit,
                    "rate_per": m.integer("rate_per", 0) or None,
                    "aggregation": m.choice("aggregation", Measure.Aggregation, default="sum"),
                    "polarity": m.choice("polarity", Measure.Polarity, default="lower_is_better"),
                    "frequency": m.choice("frequency", Measure.Frequency, default="monthly"),
                    "data_lag_months": m.integer("data_lag_months", 0),
                    "decimals": m.integer("decimals", 0),
                    "owner": departments[owner],
                    "source": m.text("source"),
                    "year_to_date_table": m.flag("year_to_date_table"),
                    "monthly_table": m.flag("monthly_table"),
                    "scorecard_group": m.text("scorecard_group"),
                    "table_group": m.text("table_group"),
                    "aliases": m.names("aliases"),
                    "position": m_index + 1,
                },
                summary,
            )
            _series_breaks_import(measures[code], m, where, summary)

    for i, item in enumerate(root.items("targets")):
        where = f"targets[{i}]"
        row = _Reader(item, where)
        code = row.text("measure", required=True)
        measure = measures.get(code) or Measure.objects.filter(code=code).first()
        if measure is None:
            raise PlanInvalid(f"{where}.measure: unknown measure {code!r}")
        area_code = row.text("area")
        if area_code and area_code not in areas:
            raise PlanInvalid(f"{where}.area: unknown area {area_code!r}")
        start, end = _period_dates(row.period("baseline"))
        tolerance = row.number("tolerance") or Decimal(0)
        _upsert(
            Target,
            {
                "measure": measure,
                "area": areas.get(area_code) if area_code else None,
                "kind": row.choice("kind", Target.Kind),
            },
            {
                "name": row.text("name", required=True),
                "baseline_start": start,
                "baseline_end": end,
                "target_value": row.number("target_value"),
                "tolerance": tolerance,
                "position": i + 1,
            },
            summary,
            save=_target_save,
        )


def _series_breaks_import(
    measure: Measure, row: _Reader, where: str, summary: ImportSummary
) -> None:
    """Create or update the measure's breaks in series, keyed by their month.

    A break left out of the file is kept (as areas and targets are): an admin may have
    recorded it, and removing one is done in the admin site.
    """
    for i, item in enumerate(row.items("breaks")):
        entry = _Reader(item, f"{where}.breaks[{i}]")
        month = entry.period("from")
        if month is None or month.length != 1:
            raise PlanInvalid(
                f"{entry.where}.from: give the first month of the change, e.g. 2020-03"
            )
        _upsert(
            SeriesBreak,
            {"measure": measure, "start": month.start.first_day},
            {"reason": entry.text("reason", required=True)},
            summary,
            save=_series_break_save,
        )


def _series_break_save(series_break: SeriesBreak, changed: list[str] | None) -> None:
    # Through the service, so a new or changed break marks its measure for recompute.
    catalogue.series_break_save(series_break=series_break, actor=None)


def _target_save(target: Target, changed: list[str] | None) -> None:
    # Through the service, so a changed target marks its measure for recompute.
    catalogue.target_save(target=target, actor=None)
