"""Checking and publishing the quarterly report (SPEC §7; issue 5).

Publishing renders the report once and freezes it — HTML, every table's figures, charts —
as a new version. Later revisions of the data change the live tables, never a published
version; publishing again makes version 2, 3 … with a list of what changed, figure by
figure. Publishing a report equal to its latest version is refused: nothing would be new.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import dateformat, timezone
from django.utils.html import strip_tags

from measures import access
from measures.access import Reader
from measures.arithmetic.formatting import format_value
from measures.arithmetic.periods import Period, parse_month
from measures.arithmetic.targets import LABELS as TARGET_LABELS
from measures.models import Area, Measure, Plan
from measures.selectors import SeriesBook, unapproved_headlines, unapproved_values
from reports import selectors
from reports.figure_tables import TableData, as_number
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
    # "provisional", "unapproved-headline", "unchanged" (NothingChanged), and the
    # overridable ones: "headline" (a number that disagrees) and "missing-return" (a
    # department's return not yet approved)
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


# The snapshot's format: 2 adds the figures, headlines, charts and notes, keyed by what
# they are, so that versions can be compared figure by figure.
SNAPSHOT_FORMAT = 2
ABSENT = "—"
# What a snapshot's table holds for its downloads only (see `_content`).
DOWNLOAD_ONLY = frozenset({"values", "formats", "title"})


class NothingChanged(PublishBlocked):
    """Publishing was refused because the report equals its latest published version."""

    def __init__(self, version: ReportVersion):
        published_on = dateformat.format(timezone.localtime(version.published_at), "j F Y")
        self.version = version
        self.message = (
            f"Nothing has changed since version {version.number} was published on "
            f"{published_on}, so no new version was made."
        )
        super().__init__([Problem("unchanged", self.message)])


@dataclass(frozen=True)
class ShownFigure:
    """One figure as the report shows it: what it is (measure, area, period, and the
    column's kind of figure) and its value.

    Two tables showing the same figure — the rolling 12 months in the National Picture and
    in the comparison with national, say — show one `ShownFigure`.
    """

    measure: Measure
    area: Area
    period: str  # the period's label, as the report prints it
    value: Any
    column: str = "value"  # "value" for a figure; "rag" for its rating against a target

    def entry(self, *, report_area: Area) -> dict[str, Any]:
        """Return the figure as the snapshot stores it: its key, its words and its value."""
        where = [self.measure.name]
        if self.area != report_area:
            where.append(self.area.name)
        where.append(self.period if self.column == "value" else f"{self.period} against target")
        if self.column == "rag":
            value, shown = self.value, TARGET_LABELS.get(self.value, ABSENT)
        else:
            value = as_number(self.value)
            shown = format_value(self.value, self.measure.unit, self.measure.decimals)
        return {
            "measure": self.measure.code,
            "area": self.area.code,
            "period": self.period,
            "column": self.column,
            "label": ", ".join(where),
            "value": value,
            "shown": ABSENT if self.value is None else shown,
        }


def _national_picture_figures(data: TableData, area: Area) -> Iterator[ShownFigure]:
    for row in data.rows:
        measure, where = row["measure"], row["area"]
        yield ShownFigure(measure, where, row["base_period"].label, row["base"])
        yield ShownFigure(measure, where, row["current_period"].label, row["current"])
        yield ShownFigure(measure, where, row["current_period"].label, row["rag"], "rag")


def _national_comparison_figures(data: TableData, area: Area) -> Iterator[ShownFigure]:
    national = area.national()
    for row in data.rows:
        measure, used = row["measure"], row["current_period"]
        yield ShownFigure(measure, area, used.label, row["current"])
        if national is not None:
            yield ShownFigure(measure, national, used.label, row["national"])
        # The previous release is the rolling 12 months three months earlier; partial data
        # moves both windows back alike (SPEC §4).
        yield ShownFigure(measure, area, used.shift(-3).label, row["previous"])


def _scorecard_figures(data: TableData, area: Area) -> Iterator[ShownFigure]:
    for row in data.rows:
        yield ShownFigure(row["measure"], area, data.labels["value"], row["value"])
        yield ShownFigure(row["measure"], area, data.labels["previous"], row["previous"])


def _year_to_date_figures(data: TableData, area: Area) -> Iterator[ShownFigure]:
    for row in data.rows:
        period = f"{data.labels['window']} {row['year']}"
        yield ShownFigure(row["measure"], area, period, row["value"])


def _monthly_figures(data: TableData, area: Area) -> Iterator[ShownFigure]:
    months = [parse_month(key) for key in data.labels if key[:4].isdigit()]
    for row in data.rows:
        for month in months:
            yield ShownFigure(row["measure"], area, month.short_label, row[month.iso])


# Each table kind's figures, by what they are. Change columns, directions and statuses are
# left out: they follow from the figures, and listing them would list one revision thrice.
FIGURE_READERS: dict[str, Callable[[TableData, Area], Iterator[ShownFigure]]] = {
    "national-picture": _national_picture_figures,
    "national-comparison": _national_comparison_figures,
    "scorecard": _scorecard_figures,
    "year-to-date": _year_to_date_figures,
    "monthly": _monthly_figures,
}


def report_figures(built: BuiltReport) -> list[dict[str, Any]]:
    """Return every figure of the report's tables once, in report order, as stored."""
    found: dict[tuple, dict[str, Any]] = {}
    for section, _ in built.sections:
        for kind, data in section.tables:
            for figure in FIGURE_READERS[kind](data, built.area):
                entry = figure.entry(report_area=built.area)
                found.setdefault(_figure_key(entry), entry)
    return list(found.values())


def _figure_key(entry: dict[str, Any]) -> tuple:
    return (entry["measure"], entry["area"], entry["period"], entry["column"])


def snapshot_of(built: BuiltReport) -> dict[str, Any]:
    """Return what a reader reads in the report, for exports and for comparing versions:
    every table's header and cells (text and numbers), every figure keyed by what it is,
    the Key Headlines, the charts' data and the sections' notes."""
    tables, headlines, charts, notes = [], [], [], []
    for section, section_tables in built.sections:
        for index, ((kind, data), table) in enumerate(
            zip(section.tables, section_tables, strict=True)
        ):
            values = [[_jsonable(c) for c in row] for row in table.as_values()]
            tables.append(
                {
                    "key": f"{section.code}-{index + 1}",
                    "id": f"{section.code}/{kind}/{data.key}",
                    "section": section.title,
                    "title": table.title,  # the spreadsheet's sheet name
                    "caption": table.caption,
                    # The downloads' header and rows (`reports.exports`), with each cell's
                    # number format.
                    "values": values,
                    "formats": table.export_formats(),
                    "cells": [
                        [strip_tags(str(html)) for html, _ in row] for row in table.cell_rows()
                    ],
                    "footnotes": [f"{mark} {text}" for mark, text in table.footnotes],
                    # Printed under the table; its downloads' notes name them too.
                    "sources": [_source(source) for source in data.source_systems],
                }
            )
        headlines += [
            {
                "section": section.title,
                "priority": section.code,
                "department": headline.department.code,
                "department_name": headline.department.name,
                "text": headline.text,
            }
            for headline in section.headlines
        ]
        charts += [
            {
                "section": section.title,
                "priority": section.code,
                "title": chart.title,
                "description": chart.description,
                "table": [[str(cell) for cell in row] for row in chart.table],
                # Printed under the chart.
                "sources": [_source(source) for source in chart.sources],
            }
            for chart in section.charts_before + section.charts
        ]
        notes.append(
            {
                "section": section.title,
                "priority": section.code,
                "part_heading": section.part_heading,
                "release_note": section.release_note,
                "note": section.note,
                "sources": [_source(source) for source in section.source_systems],
                "definitions": [_definition(item) for item in section.definitions],
                "activities": [
                    [activity.group, activity.title, activity.text]
                    for activity in section.activities
                ],
            }
        )
    return {
        "format": SNAPSHOT_FORMAT,
        "plan": built.plan.code,
        "period": built.period.notation,
        "area": built.area.code,
        "tables": tables,
        "figures": report_figures(built),
        "headlines": headlines,
        "charts": charts,
        "notes": notes,
    }


def _source(source) -> dict[str, str]:
    """Return a source as a version keeps it: the name measures give it, and the full name
    and link the report printed."""
    return {"name": source.name, "label": source.label, "url": source.url}


def _definition(item) -> list[str]:
    """Return [measure name, definition] for an entry of a section's definitions: a measure,
    or the (name, definition) pair sections held before they linked names to definitions."""
    if isinstance(item, tuple | list):
        return [str(item[0]), str(item[1])]
    return [item.name, item.definition]


def _jsonable(cell):
    if isinstance(cell, int | float | str) or cell is None:
        return cell
    return str(cell)


def _as_stored(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Return the snapshot as the database gives it back (tuples as lists, and so on), so
    that a new snapshot compares equal to a stored one with the same content."""
    return json.loads(json.dumps(snapshot, cls=DjangoJSONEncoder))


def snapshot_unchanged(old: dict | None, new: dict) -> bool:
    """Return whether two snapshots hold the same figures, texts and charts, in whatever
    order: a measure or section moved is not a new version of the report."""
    if not old or old.get("format") != new.get("format"):
        return False
    return _content(old) == _content(new)


def _content(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Return the snapshot's content: its lists in a fixed order, without the tables'
    positions, so that two orders of the same content compare equal."""

    def ordered(items) -> list:
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))

    content = dict(snapshot)
    # Its report fixes the months; the notation only says how they were typed ("2022/23-Q3"
    # on the command line, "2022-10/2022-12" from the publish page).
    content.pop("period", None)
    # A table's download (values, formats, sheet title) is its printed cells and figures
    # laid out for a spreadsheet: a new layout of the downloads is not a new report.
    content["tables"] = ordered(
        {
            **{k: v for k, v in table.items() if k not in DOWNLOAD_ONLY},
            "key": None,
            "cells": ordered(table["cells"]),
        }
        for table in snapshot["tables"]
    )
    for name in ("figures", "headlines", "charts"):
        content[name] = ordered(snapshot[name])
    content["notes"] = ordered(
        {
            **notes,
            "sources": ordered(notes["sources"]),
            "definitions": ordered(notes["definitions"]),
            "activities": ordered(notes.get("activities", [])),
        }
        for notes in snapshot["notes"]
    )
    return content


def snapshot_changes(old: dict | None, new: dict) -> list[str]:
    """Return what changed between two snapshots, in words: each figure that changed (by
    what it is, never by its row), then Key Headlines, charts and notes.

    A figure reads "Robbery Personal, 1st April – 31st December 2022: 722 → 725"; one
    added or removed reads "— → 45" or "45 → —". Rows or sections that only moved are not
    a change. Any other difference (a label, a caption) gets one line saying so, so that a
    new version never lists nothing.
    """
    if not old:
        return []
    if old.get("format") != SNAPSHOT_FORMAT:
        return [
            "The previous version was published before figures were recorded one by one, "
            "so its changes cannot be listed."
        ]
    changes = (
        figure_changes(old["figures"], new["figures"])
        + headline_changes(old["headlines"], new["headlines"])
        + chart_changes(old["charts"], new["charts"])
        + note_changes(old, new)
    )
    if not changes and not snapshot_unchanged(old, new):
        changes.append("A label or caption changed; no figure, headline or chart did.")
    return list(dict.fromkeys(changes))


def figure_changes(old: list[dict], new: list[dict]) -> list[str]:
    """Return a line per figure whose value differs, was added or was removed."""
    before = {_figure_key(entry): entry for entry in old}
    after = {_figure_key(entry): entry for entry in new}
    changes = []
    for key, entry in after.items():
        was = before.get(key)
        if was is None:
            if entry["value"] is not None:
                changes.append(f"{entry['label']}: {ABSENT} → {entry['shown']}")
        elif was["value"] != entry["value"]:
            changes.append(f"{entry['label']}: {_shown_change(was, entry)}")
    for key, was in before.items():
        if key not in after and was["value"] is not None:
            changes.append(f"{was['label']}: {was['shown']} → {ABSENT}")
    return changes


def _shown_change(was: dict, now: dict) -> str:
    """Return "old → new" as the report formats them, or the plain numbers when the
    revision is too small to show at the report's decimal places."""
    if was["shown"] != now["shown"]:
        return f"{was['shown']} → {now['shown']}"
    return f"{was['value']} → {now['value']}"


def headline_changes(old: list[dict], new: list[dict]) -> list[str]:
    """Return a line per priority's Key Headlines (from one department) that changed."""
    return _named_changes(
        old,
        new,
        key=lambda h: (h["priority"], h["department"]),
        name=lambda h: f"{h['section']}: Key Headlines from {h['department_name']}",
        content=lambda h: h["text"],
    )


def chart_changes(old: list[dict], new: list[dict]) -> list[str]:
    """Return a line per chart whose data, description or sources changed, was added or
    removed. Versions published before charts printed their sources read them as none."""
    return _named_changes(
        old,
        new,
        key=lambda c: (c["priority"], c["title"]),
        name=lambda c: f"{c['section']}: chart “{c['title']}”",
        content=lambda c: (c["description"], c["table"], c.get("sources", [])),
    )


# A section's texts besides its headlines, and how a change of each is named. Versions
# published before a text existed read it as empty.
SECTION_TEXTS = {
    "part_heading": "heading above the section",
    "release_note": "note on the release its figures come from",
    "note": "note",
    "activities": "activities",
}


def note_changes(old: dict, new: dict) -> list[str]:
    """Return a line per section whose sources, definitions, notes, heading or activities
    changed, and per table whose footnotes or sources changed (for tables and sections in
    both versions)."""
    changes = []
    before = {n["priority"]: n for n in old["notes"]}
    for notes in new["notes"]:
        was = before.get(notes["priority"])
        if was is None:
            continue
        for key, name in SECTION_TEXTS.items():
            if (was.get(key) or "") != (notes.get(key) or ""):
                changes.append(f"{notes['section']}: {name} revised")
        if was["sources"] != notes["sources"]:
            changes.append(f"{notes['section']}: sources revised")
        defined = dict(map(tuple, was["definitions"]))
        for name, text in notes["definitions"]:
            if name in defined and defined[name] != text:
                changes.append(f"{notes['section']}: definition of {name} revised")
    tables = {t["id"]: t for t in old["tables"]}
    for table in new["tables"]:
        was = tables.get(table["id"])
        if was is not None and was["footnotes"] != table["footnotes"]:
            changes.append(f"{table['section']}: notes under “{table['caption']}” revised")
        # Versions published before tables printed their sources read them as none.
        if was is not None and was.get("sources", []) != table.get("sources", []):
            changes.append(f"{table['section']}: sources under “{table['caption']}” revised")
    return changes


def _named_changes(
    old: list[dict],
    new: list[dict],
    *,
    key: Callable[[dict], Any],
    name: Callable[[dict], str],
    content: Callable[[dict], Any],
) -> list[str]:
    before = {key(item): item for item in old}
    after = {key(item): item for item in new}
    changes = []
    for item_key, item in after.items():
        was = before.get(item_key)
        if was is None:
            changes.append(f"{name(item)} added")
        elif content(was) != content(item):
            changes.append(f"{name(item)} revised")
    changes += [f"{name(item)} removed" for k, item in before.items() if k not in after]
    return changes


def report_html(built: BuiltReport) -> str:
    """Return the report's body as it is published."""
    return render_to_string(
        "reports/report_body.html",
        {"sections": built.sections, "published": True},
    )


def report_publish(
    *, plan: Plan, period: Period, actor, overrides: dict[str, str] | None = None
) -> ReportVersion:
    """Publish the report as a new version, or raise PublishBlocked saying why not.

    A headline number that disagrees with the figures may be overridden with a reason
    (recorded on the version); provisional figures and unapproved headlines may not. A
    report equal to its latest published version is refused (NothingChanged): a new
    version would only repeat it.
    """
    access.require_admin(actor)
    overrides = {k: v.strip() for k, v in (overrides or {}).items() if v and v.strip()}
    built = report_build(plan=plan, period=period)
    blocking = [p for p in built.problems if not (p.overridable and p.key in overrides)]
    if blocking:
        raise PublishBlocked(blocking)
    snapshot = _as_stored(snapshot_of(built))
    html = report_html(built)
    with transaction.atomic():
        report, _ = PublishedReport.objects.get_or_create(
            plan=plan, start=period.start.first_day, end=period.end.first_day
        )
        # Lock the report so two people publishing at once get versions n and n+1, and
        # the second of two identical publications is refused rather than repeated.
        report = PublishedReport.objects.select_for_update().get(pk=report.pk)
        previous = report.versions.order_by("-number").first()
        if previous is not None and snapshot_unchanged(previous.snapshot, snapshot):
            raise NothingChanged(previous)
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
