"""Checking and publishing the quarterly report (SPEC §7; issue 5).

Publishing renders the report once and freezes it — HTML, every table's figures, charts —
as a new version. Later revisions of the data change the live tables, never a published
version; publishing again makes version 2, 3 … with a list of what changed.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils.html import strip_tags

from measures import access
from measures.models import Area, Headline, Plan, Return
from measures.periods import Period
from reports import rows
from reports.models import PublishedReport, ReportVersion
from reports.tables import TABLE_CLASSES


class PublishBlocked(Exception):
    """Publishing was refused; `problems` says why, one line each."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.text for p in problems[:5]))
        self.problems = problems


@dataclass(frozen=True)
class Problem:
    # "provisional", "unapproved-headline", and the overridable ones: "headline" (a number
    # that disagrees) and "missing-return" (a department's return not yet approved)
    kind: str
    text: str
    key: str = ""  # what an override refers to

    @property
    def overridable(self) -> bool:
        return self.kind in ("headline", "missing-return")


@dataclass
class BuiltReport:
    plan: Plan
    period: Period
    area: Area
    sections: list[tuple[rows.Section, list]]
    problems: list[Problem] = field(default_factory=list)


def report_area(plan: Plan) -> Area:
    area = Area.objects.filter(kind=Area.Kind.FORCE).order_by("pk").first()
    if area is None:
        raise PublishBlocked([Problem("setup", "The plan has no force area to report on.")])
    return area


def report_build(*, plan: Plan, period: Period, user=None) -> BuiltReport:
    """Build the report for the period (ending with its last month) and find its problems."""
    area = report_area(plan)
    sections = rows.report_sections(plan=plan, area=area, month=period.end, user=user)
    built = BuiltReport(
        plan=plan,
        period=period,
        area=area,
        sections=[
            (section, [TABLE_CLASSES[kind](data) for kind, data in section.tables])
            for section in sections
        ],
    )
    attach_charts(built)
    built.problems = report_problems(built)
    return built


def attach_charts(built: BuiltReport) -> None:
    """Add the charts each section calls for (see reports.report_charts)."""
    from reports.report_charts import section_charts

    for section, _tables in built.sections:
        section.charts = section_charts(section, area=built.area, month=built.period.end)


def report_problems(built: BuiltReport) -> list[Problem]:
    """Return what blocks publishing: provisional figures, unapproved or wrong headlines."""
    problems = []
    for section, tables in built.sections:
        for table in tables:
            for record in table.data.data:
                if record.get("status") == "provisional":
                    measure = record["measure"]
                    problems.append(
                        Problem(
                            "provisional",
                            f"{section.title}: {measure.name} in “{table.caption}” is provisional"
                            " — approve its return first",
                        )
                    )
        for headline in section.headlines:
            if headline.status != Headline.Status.APPROVED:
                problems.append(
                    Problem(
                        "unapproved-headline",
                        f"{section.title}: Key Headlines from {headline.department.name} are "
                        "not approved",
                    )
                )
    problems += headline_problems(built)
    problems += missing_returns(built)
    return problems


def missing_returns(built: BuiltReport) -> list[Problem]:
    """Return a problem for each return of the reporting period that is not approved.

    Its figures are simply absent from the report (older months stand in, with a footnote),
    so an admin may publish anyway with a reason, e.g. a department that reports late.
    """
    returns = Return.objects.filter(
        reporting_period__plan=built.plan,
        reporting_period__start=built.period.start.first_day,
        reporting_period__end=built.period.end.first_day,
    ).exclude(status=Return.Status.APPROVED)
    return [
        Problem(
            "missing-return",
            f"The return of {ret.department.name} for {built.period.label} is "
            f"{ret.get_status_display().lower()}: its figures are not in this report",
            key=f"return-{ret.department.code}",
        )
        for ret in returns.select_related("department").order_by("department__name")
    ]


def headline_problems(built: BuiltReport) -> list[Problem]:
    """Return each number in a Key Headline that disagrees with the computed figures."""
    from reports.report_headlines import headline_mismatches

    return [
        Problem("headline", text, key=key)
        for key, text in headline_mismatches(
            built.sections, area=built.area, month=built.period.end
        )
    ]


def snapshot_of(built: BuiltReport) -> dict[str, Any]:
    """Return every table's header and cells (text and numbers), keyed for diffs and exports."""
    tables = []
    for section, section_tables in built.sections:
        for index, table in enumerate(section_tables):
            values = [[_jsonable(c) for c in row] for row in table.as_values()]
            tables.append(
                {
                    "key": f"{section.code}-{index + 1}",
                    "section": section.title,
                    "caption": table.caption,
                    "values": values,
                    "cells": [
                        [strip_tags(str(html)) for html, _ in row] for row in table.cell_rows()
                    ],
                    "footnotes": [f"{mark} {text}" for mark, text in table.footnotes],
                }
            )
    return {
        "plan": built.plan.code,
        "period": built.period.notation,
        "area": built.area.code,
        "tables": tables,
    }


def _jsonable(cell):
    if isinstance(cell, int | float | str) or cell is None:
        return cell
    return str(cell)


def snapshot_changes(old: dict | None, new: dict) -> list[str]:
    """Return what changed between two snapshots, one line per figure, in words."""
    if not old:
        return []
    before = {t["key"]: t for t in old.get("tables", [])}
    changes = []
    for table in new["tables"]:
        previous = before.get(table["key"])
        if previous is None:
            changes.append(f"{table['section']}: new table “{table['caption']}”")
            continue
        header = table["values"][0] if table["values"] else []
        old_rows = {
            str(r[0]): (r, c)
            for r, c in zip(previous["values"][1:], previous["cells"], strict=False)
        }
        for values, cells in zip(table["values"][1:], table["cells"], strict=False):
            label = str(values[0])
            if label not in old_rows:
                continue
            old_values, old_cells = old_rows[label]
            for col, (was, now) in enumerate(zip(old_values, values, strict=False)):
                if col == 0 or was == now or header[col] == "Status":
                    continue
                shown_was = old_cells[col] if col < len(old_cells) else was
                shown_now = cells[col] if col < len(cells) else now
                where = f"{table['section']}: {label} ({header[col]})"
                changes.append(f"{where} revised {shown_was} → {shown_now}")
    return changes


def report_publish(
    *, plan: Plan, period: Period, actor, overrides: dict[str, str] | None = None
) -> ReportVersion:
    """Publish the report as a new version, or raise PublishBlocked saying why not.

    A headline number that disagrees with the figures may be overridden with a reason
    (recorded on the version); provisional figures and unapproved headlines may not.
    """
    access.require_admin(actor)
    overrides = {k: v.strip() for k, v in (overrides or {}).items() if v and v.strip()}
    built = report_build(plan=plan, period=period)
    blocking = [p for p in built.problems if not (p.overridable and p.key in overrides)]
    if blocking:
        raise PublishBlocked(blocking)
    snapshot = snapshot_of(built)
    html = render_to_string(
        "reports/report_body.html",
        {"sections": built.sections, "published": True},
    )
    with transaction.atomic():
        report, _ = PublishedReport.objects.get_or_create(
            plan=plan, start=period.start.first_day, end=period.end.first_day
        )
        # Lock the report so two people publishing at once get versions n and n+1.
        report = PublishedReport.objects.select_for_update().get(pk=report.pk)
        previous = report.versions.order_by("-number").first()
        version = ReportVersion.objects.create(
            report=report,
            number=(previous.number + 1) if previous else 1,
            published_by=actor,
            html=html,
            snapshot=snapshot,
            changes=snapshot_changes(previous.snapshot if previous else None, snapshot),
            overrides=[
                {"problem": p.text, "reason": overrides[p.key]}
                for p in built.problems
                if p.overridable and p.key in overrides
            ],
        )
        transaction.on_commit(lambda: _make_pdf(version.pk))
    return version


def _make_pdf(version_id: int) -> None:
    from reports.tasks import make_report_pdf_task

    # If the broker is down the PDF view makes the PDF on its first request instead.
    with contextlib.suppress(Exception):
        make_report_pdf_task.apply_async(args=[version_id], retry=False)
