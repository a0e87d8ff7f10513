"""Published reports: links that stay within them, and tables laid out to be read on paper.

A published report is read without signing in, so its links must stay within it. Its
tables are printed (`printed`): no status column, since everything published is approved
(the report says so once, in its front matter); a group label once per group rather than
on every row; and a layout chosen from the number of columns, so that no table runs off an
A4 page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from measures.arithmetic.periods import MONTH_ABBREVIATIONS, MONTH_NAMES
from reports import tables

register = template.Library()

# How many columns a printed table may have before it needs a narrower layout. Up to
# COMPACT_FROM - 1 columns share an A4 portrait page (180 mm between the margins) at the
# report's type size; from COMPACT_FROM the table is set smaller, in equal figure columns,
# with month names abbreviated (the monthly table: a measure and twelve months); from
# LANDSCAPE_FROM it gets a landscape page of its own.
COMPACT_FROM = 9
LANDSCAPE_FROM = 16

# Columns that a published report does not print.
UNPRINTED_COLUMNS = frozenset({"status"})

_MONTH_ABBREVIATION = dict(zip(MONTH_NAMES, MONTH_ABBREVIATIONS, strict=True))


@register.filter
def published(table: tables.FigureTable) -> tables.FigureTable:
    """Return the table with its measure names linked to their definitions in the report,
    not to the measure pages, which an anonymous reader cannot open."""
    table.published = True
    return table


@register.filter
def definition_anchor(measure) -> str:
    """Return the id of the measure's definition in the report (`tables.definition_anchor`)."""
    return tables.definition_anchor(measure)


@dataclass(frozen=True)
class PrintedHeader:
    html: SafeString
    css: str


@dataclass
class RowGroup:
    """Rows under one group label (`label` is empty for a table without groups)."""

    label: SafeString | str
    rows: list[list[tuple[SafeString, str]]] = field(default_factory=list)


@dataclass
class PrintedTable:
    """A figure table as a published report prints it (`reports/printed_table.html`)."""

    caption: str
    headers: list[PrintedHeader]
    groups: list[RowGroup]
    footnotes: list[tuple[str, str]]

    @property
    def width(self) -> int:
        """Return the number of columns printed."""
        return len(self.headers)

    @property
    def layout(self) -> str:
        """Return "landscape", "compact" or "" (the ordinary layout), from the width."""
        if self.width >= LANDSCAPE_FROM:
            return "landscape"
        if self.width >= COMPACT_FROM:
            return "compact"
        return ""


@register.filter
def printed(table: tables.FigureTable) -> PrintedTable:
    """Return the table as a published report prints it.

    The status column is left out. When the first column repeats a label on consecutive
    rows (the scorecard's "Pursuing offenders…" on 17 rows), it is a group: its label is
    printed once, as a heading row above the group's rows, and the column is dropped. A
    first column that is blank where it repeats (the National Picture's targets) already
    reads once per group and stays a column.
    """
    table = published(table)
    kept = [
        (index, bound)
        for index, bound in enumerate(table.columns)
        if bound.name not in UNPRINTED_COLUMNS
    ]
    rows = [[row[index] for index, _ in kept] for row in table.cell_rows()]
    labels = [row[0][0] if row else "" for row in rows]
    grouped = _is_grouped(labels)
    if grouped:
        kept, rows = kept[1:], [row[1:] for row in rows]
    figure_css = {index: css for row in rows for index, (_, css) in enumerate(row) if css}
    compact = len(kept) >= COMPACT_FROM
    headers = [
        PrintedHeader(_header_html(bound.header, abbreviate=compact), figure_css.get(position, ""))
        for position, (_, bound) in enumerate(kept)
    ]
    return PrintedTable(
        caption=table.caption,
        headers=headers,
        groups=_groups(labels, rows) if grouped else [RowGroup("", rows)] if rows else [],
        footnotes=table.footnotes,
    )


@register.filter
def section_layout(section_tables: list[tables.FigureTable]) -> str:
    """Return "landscape" when a section holds a table printed on a landscape page.

    The whole section is then printed landscape: a change of page size breaks the page, and
    the section's heading must not be left alone on the portrait page before its table.
    """
    if any(printed(table).layout == "landscape" for table in section_tables):
        return "landscape"
    return ""


def _is_grouped(labels: list[str]) -> bool:
    """Return whether a first column repeats a label on consecutive rows."""
    return any(label and label == following for label, following in pairwise(labels))


def _groups(labels: list[SafeString | str], rows: list) -> list[RowGroup]:
    """Return the rows in runs of one group label (a blank label continues the group)."""
    groups: list[RowGroup] = []
    for label, row in zip(labels, rows, strict=True):
        if not groups or (label and label != groups[-1].label):
            groups.append(RowGroup(label))
        groups[-1].rows.append(row)
    return groups


def _header_html(header, *, abbreviate: bool) -> SafeString:
    """Return a column header; in a compact table a month's name is shortened ("Sep"), with
    the full name for screen readers and on hover."""
    text = str(header)
    if abbreviate and text in _MONTH_ABBREVIATION:
        return format_html('<abbr title="{}">{}</abbr>', text, _MONTH_ABBREVIATION[text])
    return format_html("{}", header)
