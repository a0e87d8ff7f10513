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
from measures.access import Reader
from measures.arithmetic.periods import Period
from measures.models import Area, Measure, Plan
from measures.selectors import SeriesBook, unapproved_headlines, unapproved_values
from reports import selectors
from reports.models import PublishedReport, ReportVersion
from reports.report_sections import Section, report_sections
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
    sections: list[tuple[Section, list]]
    problems: list[Problem] = field(default_factory=list)


def report_area(plan: Plan) -> Area:
    area = selectors.reporting_area()
    if area is None:
        raise PublishBlocked([Problem("setup", "The plan has no force area to report on.")])
    return area


def report_build(*, plan: Plan, period: Period) -> BuiltReport:
    """Build the report for the period (ending with its last month) and find its problems.

    The report is read for the public, whoever asks: approved figures and headlines only,
    in its tables, charts, chart data and headline checks. The publish page shows exactly
    what would be published.
    """
    area = report_area(plan)
    book = SeriesBook(Reader.public())
    sections = report_sections(plan=plan, area=area, month=period.end, book=book)
    built = BuiltReport(
        plan=plan,
        period=period,
        area=area,
        sections=[
            (section, [TABLE_CLASSES[kind](data) for kind, data in section.tables])
            for section in sections
        ],
    )
    built.problems = report_problems(built, book=book)
    return built


def report_measures(built: BuiltReport) -> dict[int, tuple[str, Measure]]:
    """Return every measure a figure of the report comes from, with the first section
    naming it: table rows, charts (and their data tables), and headline checks."""
    found: dict[int, tuple[str, Measure]] = {}
    for section, tables in built.sections:
        named = [record["measure"] for table in tables for record in table.data.data]
        named += section.measures
        if section.headlines:
            # Every measure of the priority is a candidate for a headline's numbers.
            named += selectors.priority_measures(section.priority)
        for measure in named:
            found.setdefault(measure.pk, (section.title, measure))
    return found


def unapproved_figures(built: BuiltReport) -> list[Problem]:
    """Return a problem for each measure of the report with figures not yet approved.

    The report reads approved figures only, so such a figure is not in it: the table,
    chart or headline check would show an older figure, or none. Publishing waits until
    the figure is approved (or cleared from its return).
    """
    measures = report_measures(built)
    areas = [built.area] + [a for a in [built.area.national()] if a and a != built.area]
    periods: dict[int, list[str]] = {}
    for measure_id, period in unapproved_values(
        measure_ids=measures, areas=areas, until=built.period.end
    ):
        periods.setdefault(measure_id, []).append(period.label)
    problems = []
    for measure_id, labels in periods.items():
        title, measure = measures[measure_id]
        shown = ", ".join(dict.fromkeys(labels[:6])) + (" …" if len(labels) > 6 else "")
        problems.append(
            Problem(
                "provisional",
                f"{title}: {measure.name} is provisional — approve its return first "
                f"({shown} not yet approved; the report leaves them out)",
            )
        )
    return problems


def report_problems(built: BuiltReport, *, book: SeriesBook) -> list[Problem]:
    """Return what blocks publishing: unapproved figures or headlines, wrong headlines,
    and returns not yet approved."""
    problems = unapproved_figures(built)
    unapproved = unapproved_headlines(plan=built.plan, quarter=built.period)
    titles = {section.priority.pk: section.title for section, _ in built.sections}
    for headline in unapproved:
        if headline.priority_id not in titles:
            continue
        problems.append(
            Problem(
                "unapproved-headline",
                f"{titles[headline.priority_id]}: Key Headlines from "
                f"{headline.department.name} are not approved",
            )
        )
    problems += headline_problems(built, book=book)
    problems += missing_returns(built)
    return problems


def missing_returns(built: BuiltReport) -> list[Problem]:
    """Return a problem for each return of the reporting period that is not approved.

    Its figures are simply absent from the report (older months stand in, with a footnote),
    so an admin may publish anyway with a reason, e.g. a department that reports late.
    """
    return [
        Problem(
            "missing-return",
            f"The return of {ret.department.name} for {built.period.label} is "
            f"{ret.get_status_display().lower()}: its figures are not in this report",
            key=f"return-{ret.department.code}",
        )
        for ret in selectors.unapproved_returns(built.plan, built.period)
    ]


def headline_problems(built: BuiltReport, *, book: SeriesBook) -> list[Problem]:
    """Return each number in a Key Headline that disagrees with the computed figures."""
    from reports.headlines.figures import headline_mismatches

    return [
        Problem("headline", text, key=key)
        for key, text in headline_mismatches(
            built.sections, area=built.area, month=built.period.end, book=book
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


def _row_keys(rows: list[list]) -> list[tuple]:
    """Return a key naming each row: its leading text cells (a group label and a measure,
    say), made unique by occurrence, so rows that share a group label are not confused."""
    keys: list[tuple] = []
    seen: dict[tuple, int] = {}
    for row in rows:
        label = []
        for cell in row:
            if isinstance(cell, int | float):
                break
            label.append("" if cell is None else str(cell))
        key = tuple(label[:3]) or (str(row[0]) if row else "",)
        seen[key] = seen.get(key, 0) + 1
        keys.append((*key, seen[key]))
    return keys


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
        old_rows = dict(
            zip(
                _row_keys(previous["values"][1:]),
                zip(previous["values"][1:], previous["cells"], strict=False),
                strict=True,
            )
        )
        new_rows = zip(table["values"][1:], table["cells"], strict=False)
        for key, (values, cells) in zip(_row_keys(table["values"][1:]), new_rows, strict=False):
            if key not in old_rows:
                continue
            label = " – ".join(part for part in key[:-1] if part)
            old_values, old_cells = old_rows[key]
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
