"""The report's layout from a file: its sections in order and what each prints besides its
figures (a part heading, a note, where its Key Headlines go, its activities).

The admin site edits the same rows (*Report sections*). Like the plan import, importing a
file again changes nothing, an edited file updates rows in place, and nothing is deleted:
a section or activity left out of the file is kept as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from reports import selectors
from reports.models import ReportActivity, ReportSection


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


def report_layout_import(*, data: Any) -> LayoutSummary:
    """Create or update a plan's report sections, in the file's order, and their activities.

    The file is a mapping: `plan` (its code) and `sections`, a list of mappings with
    `priority` (its code) and optionally `title`, `part_heading`, `note`, `shown`,
    `headlines` ("before" or "after" the tables) and `activities` (each `text`, optionally
    `group` and `title`).
    """
    summary = LayoutSummary()
    if not isinstance(data, dict):
        raise LayoutInvalid("file: expected a mapping with plan and sections")
    plan = selectors.plan_by_code(str(data.get("plan") or ""))
    if plan is None:
        raise LayoutInvalid(f"plan: unknown plan {data.get('plan')!r} (import the plan first)")
    priorities = {p.code: p for p in selectors.plan_priorities(plan)}
    sections = data.get("sections")
    if not isinstance(sections, list):
        raise LayoutInvalid("sections: expected a list")
    try:
        with transaction.atomic():
            _sections_import(plan, priorities, sections, summary)
    except ValidationError as exc:
        raise LayoutInvalid(f"invalid layout: {'; '.join(exc.messages)}") from exc
    return summary


def _sections_import(plan, priorities, sections: list[Any], summary: LayoutSummary) -> None:
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
    model: type[models.Model], lookup: dict[str, Any], fields: dict[str, Any], summary
) -> Any:
    """Create or update one row, saving (and so recording history) only if it changed."""
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **fields)
        obj.full_clean(validate_unique=False, validate_constraints=False)
        obj.save()
        summary.created += 1
        summary.details.append(f"created {model._meta.verbose_name} {obj}")
        return obj
    changed = [name for name, value in fields.items() if getattr(obj, name) != value]
    if not changed:
        summary.unchanged += 1
        return obj
    for name in changed:
        setattr(obj, name, fields[name])
    obj.full_clean(validate_unique=False, validate_constraints=False)
    obj.save(update_fields=changed)
    summary.updated += 1
    summary.details.append(f"updated {model._meta.verbose_name} {obj}: {', '.join(changed)}")
    return obj
