"""Downloads of figure tables (CSV and XLSX), live and published, hold what the page shows.

Every table page's ?export=csv|xlsx and every published version's tables.csv|xlsx are read
back and compared with the HTML tables a reader sees, figure for figure: numbers are
numbers at the page's decimals (XLSX cells in a matching number format), status words are
words, each change column says its unit, each row's footnote marks are in its "Notes"
column and the footnotes are in the file. The cases are every table page
(`tests.factories.table_pages`) and every table of the published snapshot, so a new table
is checked the day it is added.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from django.urls import reverse
from django.utils.html import strip_tags
from openpyxl import load_workbook

from measures.engine import derived as engine
from measures.models import Measure, Value
from reports.exports import (
    NOTES_SHEET,
    SOURCE_MARK,
    export_snapshot,
    format_decimals,
    number_format,
    sheet_names,
)
from reports.figure_tables import TableData
from reports.tables import ScorecardTable
from tests.factories import published_seed_report, table_pages

pytestmark = pytest.mark.usefixtures("demo")

PAGES = table_pages()
QUARTER = {"period": "2022/23-Q3"}
MARKS = re.compile(r"(\*+|\^+|§+|¶+|#+|†+|‡+)")
NOTE_MARK = re.compile(rf"{MARKS.pattern}|{SOURCE_MARK}")
MARK_CHARACTERS = "*^§¶#†‡"
MISSING = {"", "–", "—", "-", "n/a"}  # no figure (or no direction)
# A figure as the report prints it: "16,127", "69.8%", "-£120", "+0.4 pp", "47 days".
FIGURE = re.compile(
    r"(?P<sign>[+-])?(?P<pound>£)?(?P<number>\d[\d,]*(?:\.(?P<decimals>\d+))?)"
    r"(?P<suffix>%| pp| days?| years?| kg)?"
)
UNIT_SUFFIXES = {"%": "%", " pp": "%", " day": "days", " days": "days", " years": "years"}
UNIT_SUFFIXES.update({" year": "years", " kg": "kg"})
SHEET_NAME_FORBIDDEN = set("[]:*?/\\")


# --- reading what a reader gets ---------------------------------------------------------------


@dataclass
class PageRow:
    cells: list[str]
    group: str = ""  # the group label printed above the row, in a grouped printed table


@dataclass
class PageTable:
    caption: str = ""
    headers: list[str] = field(default_factory=list)
    rows: list[PageRow] = field(default_factory=list)
    footnotes: list[tuple[str, str]] = field(default_factory=list)
    # The "Source: …" line under it, each source as its notes in a download give it: the
    # full name, and its link in brackets.
    sources: list[str] = field(default_factory=list)


class FigureTableParser(HTMLParser):
    """Read the figure tables (`table.figures`) of a page as a reader sees them: caption,
    column headers (a month abbreviated in an <abbr> by its title), rows, group labels,
    the footnotes listed under each table and the sources printed under it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[PageTable] = []
        self._table: PageTable | None = None
        self._text: list[str] | None = None
        self._where = ""
        self._head = False
        self._row: list[str] = []
        self._group = ""
        self._abbr = False
        self._footnotes = False
        self._mark = ""
        # Under a table's "Source: …" line: each link's text and address so far.
        self._sources: dict[str, str] | None = None
        self._link: tuple[int, str] | None = None  # where the link's text starts, its href

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "table" and "figures" in classes:
            self._table, self._group = PageTable(), ""
        elif self._table is not None:
            if tag == "thead":
                self._head = True
            elif tag == "tr":
                self._row = []
            elif tag in ("caption", "th", "td"):
                rowgroup = attributes.get("scope") == "rowgroup"
                self._start("group" if rowgroup else tag)
            elif tag == "abbr" and self._text is not None and attributes.get("title"):
                self._text.append(attributes["title"])
                self._abbr = True
        elif tag == "ul" and "footnotes" in classes and self.tables:
            self._footnotes = True
        elif self._footnotes and tag == "li":
            self._mark = ""
            self._start("note")
        elif self._footnotes and tag == "span" and "mark" in classes:
            self._start("mark")
        elif tag == "p" and "table-sources" in classes and self.tables:
            self._sources = {}
            self._start("sources")
        elif tag == "a" and self._sources is not None and self._text is not None:
            self._link = (len(self._text), attributes.get("href") or "")

    def handle_endtag(self, tag):
        table = self._table
        if table is not None:
            if tag == "caption":
                table.caption = self._stop()
            elif tag == "abbr":
                self._abbr = False
            elif tag in ("th", "td") and self._text is not None:
                if self._where == "group":
                    self._group = self._stop()
                else:
                    self._row.append(self._stop())
            elif tag == "tr" and self._row:
                if self._head:
                    table.headers = self._row
                elif self._row != ["No figures."]:
                    table.rows.append(PageRow(self._row, self._group))
                self._row = []
            elif tag == "thead":
                self._head = False
            elif tag == "table":
                self.tables.append(table)
                self._table = None
        elif self._footnotes:
            if tag == "span" and self._where == "mark":
                self._mark = self._stop()
                self._start("note")
            elif tag == "li" and self._text is not None:
                self.tables[-1].footnotes.append((self._mark, self._stop()))
            elif tag == "ul":
                self._footnotes = False
        elif self._sources is not None and self._text is not None:
            if tag == "a" and self._link is not None:
                start, href = self._link
                self._sources["".join(self._text[start:]).strip()] = href
                self._link = None
            elif tag == "p":
                self.tables[-1].sources = self._source_notes(self._stop(), self._sources)
                self._sources = None

    @staticmethod
    def _source_notes(text: str, links: dict[str, str]) -> list[str]:
        """Return "Source: A; B" as notes, each name followed by its link (when linked)."""
        assert re.match(r"Sources?: ", text), text
        names = text.split(": ", 1)[1].split("; ")
        return [f"{name} ({links[name]})" if name in links else name for name in names]

    def handle_data(self, data):
        if self._text is not None and not self._abbr:
            self._text.append(data)

    def _start(self, where: str) -> None:
        self._where, self._text = where, []

    def _stop(self) -> str:
        text = " ".join("".join(self._text or []).split())
        self._text, self._where = None, ""
        return text


def page_tables(html: str) -> list[PageTable]:
    parser = FigureTableParser()
    parser.feed(html)
    parser.close()
    return parser.tables


@dataclass
class Download:
    """One table of a download, as CSV or XLSX gives it back."""

    caption: str | None
    header: list[str]
    rows: list[list[Any]]
    formats: list[list[str | None]]  # XLSX only
    footnotes: list[tuple[str, str]]
    sheet: str = ""
    sources: list[str] = field(default_factory=list)  # "full name (link)", as in its notes


def csv_tables(content: bytes, *, captions: bool) -> list[Download]:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    blocks: list[list[list[str]]] = [[]]
    for row in rows:
        if row:
            blocks[-1].append(row)
        else:
            blocks.append([])
    tables: list[Download] = []
    for block in blocks:
        if not block:
            continue
        if tables and all(len(r) == 2 and NOTE_MARK.fullmatch(r[0]) for r in block):
            tables[-1].footnotes = [(mark, text) for mark, text in block if mark != SOURCE_MARK]
            tables[-1].sources = [text for mark, text in block if mark == SOURCE_MARK]
            continue
        caption = block.pop(0)[0] if captions else None
        header, *data = block
        tables.append(Download(caption, header, data, [[None] * len(header)] * len(data), []))
    return tables


def xlsx_tables(content: bytes) -> tuple[list[Download], list[str]]:
    workbook = load_workbook(io.BytesIO(content))  # not read-only: it gives number formats
    *sheets, notes = workbook.worksheets
    assert notes.title == NOTES_SHEET, "the footnotes are on the last sheet"
    footnotes: dict[str, list[tuple[str, str]]] = {}
    sources: dict[str, list[str]] = {}
    note_rows = list(notes.iter_rows(values_only=True))
    assert note_rows[0] == ("Table", "Mark", "Note")
    for table, mark, text in note_rows[1:]:
        if mark == SOURCE_MARK:
            sources.setdefault(table, []).append(text)
        else:
            footnotes.setdefault(table, []).append((mark, text))
    tables = []
    for sheet in sheets:
        header, *data = list(sheet.iter_rows())
        tables.append(
            Download(
                caption=None,
                header=[c.value for c in header],
                rows=[[c.value for c in row] for row in data],
                formats=[[c.number_format for c in row] for row in data],
                footnotes=footnotes.get(sheet.title, []),
                sheet=sheet.title,
                sources=sources.get(sheet.title, []),
            )
        )
    return tables, [sheet.title for sheet in workbook.worksheets]


# --- comparing figure for figure --------------------------------------------------------------


def _stem(header: str) -> str:
    return re.sub(r" \((%|pp)\)$", "", header)


def _names_same(page_header: str, download_header: str) -> bool:
    """Whether a download column is the page column's (or one of its unit columns): the
    same words, or one qualifying the other ("Change" → "Rolling 12 months change (%)",
    "Percentage change vs. previous year" → "Change vs. previous year (%)")."""
    page, stem = page_header.casefold(), _stem(download_header).casefold()
    return page == stem or stem.endswith(" " + page) or page.endswith(" " + stem)


def match_columns(page_headers: list[str], download_headers: list[str]) -> list[list[int]]:
    """Return, per page column in order, the download columns holding it: one, or one per
    unit ("Change (%)", "Change (pp)"). Columns keep their order in a download."""
    matched, start = [], 0
    for header in page_headers:
        exact = [
            k
            for k in range(start, len(download_headers))
            if _stem(download_headers[k]).casefold() == header.casefold()
        ]
        loose = [
            k
            for k in range(start, len(download_headers))
            if _names_same(header, download_headers[k])
        ]
        assert exact or loose, f"no download column for {header!r} in {download_headers}"
        first = (exact or loose)[0]
        columns = [first]
        while (
            columns[-1] + 1 < len(download_headers)
            and download_headers[columns[-1] + 1] != _stem(download_headers[columns[-1] + 1])
            and _stem(download_headers[columns[-1] + 1]) == _stem(download_headers[first])
        ):
            columns.append(columns[-1] + 1)
        matched.append(columns)
        start = columns[-1] + 1
    return matched


def _empty(value: Any) -> bool:
    return value is None or value == ""


def _numeric(value: Any) -> bool:
    """Whether a cell is a number: an XLSX number, or a CSV plain number ("-39.1", "3")."""
    if isinstance(value, str):
        return re.fullmatch(r"-?\d+(\.\d+)?", value) is not None
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any) -> Decimal:
    if isinstance(value, str):
        return Decimal(value)
    return Decimal(str(value))


def _split_marks(text: str) -> tuple[str, str]:
    body = text.rstrip(MARK_CHARACTERS)
    return body, text[len(body) :]


def compare(page: PageTable, download: Download, *, xlsx: bool) -> int:
    """Assert that the download holds the page table's figures, texts, marks and notes;
    return how many figures were compared."""
    where = f"{page.caption!r} ({'XLSX' if xlsx else 'CSV'})"
    if download.caption is not None:
        assert download.caption == page.caption, where
    assert len(download.rows) == len(page.rows), where
    header = download.header
    columns = match_columns(page.headers, header)
    unit_at = header.index("Unit") if "Unit" in header else None
    notes_at = header.index("Notes")
    used = {k for group in columns for k in group}
    figures = 0
    for number, (page_row, row, formats) in enumerate(
        zip(page.rows, download.rows, download.formats, strict=True)
    ):
        at = f"{where}, row {number + 1}"
        if page_row.group:
            assert row[0] == page_row.group, at  # printed once above its rows
            used.add(0)
        marks: list[str] = []
        for text, heading, group in zip(page_row.cells, page.headers, columns, strict=True):
            body, cell_marks = _split_marks(text)
            figure = FIGURE.fullmatch(body)
            values = [row[k] for k in group]
            if body in MISSING or (figure and any(_numeric(v) for v in values)):
                marks += MARKS.findall(cell_marks)
            if body in MISSING:
                assert all(_empty(v) for v in values), (at, heading, text, values)
                continue
            numbers = [k for k in group if not _empty(row[k])]
            if figure is None or not all(_numeric(row[k]) for k in numbers):
                assert [str(row[k]) for k in numbers] == [text], (at, heading, text, values)
                continue
            assert len(numbers) == 1, (at, heading, text, values)
            (k,) = numbers
            shown = figure.group("sign") == "-"
            expected = _number(figure.group("number").replace(",", ""))
            assert _number(row[k]) == (-expected if shown else expected), (at, heading, text)
            _check_unit(figure, header[k], row, unit_at, at=(at, heading, text))
            places = len(figure.group("decimals") or "")
            if xlsx:
                _check_format(figure, formats[k], places, at=(at, heading, text, formats[k]))
            else:
                assert format_decimals_of_text(row[k]) == places, (at, heading, text, row[k])
            figures += 1
        # The row's marks, each once ("44*", "79*" → "*"), in the order the page prints them.
        assert MARKS.findall(row[notes_at] or "") == list(dict.fromkeys(marks)), (
            at,
            marks,
            row[notes_at],
        )
    unmatched = [
        header[k]
        for k in range(len(header))
        if k not in used and any(_numeric(row[k]) for row in download.rows)
    ]
    assert not unmatched, f"{where}: figures the page does not show: {unmatched}"
    assert download.footnotes == page.footnotes, where
    assert download.sources == page.sources, where
    return figures


def format_decimals_of_text(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def _check_unit(figure, heading: str, row: list, unit_at: int | None, *, at) -> None:
    """The unit a page prints with a figure is the download's: a change column's header
    says it ("(%)", "(pp)"); any other figure's row says it in its "Unit" column."""
    suffix = figure.group("suffix") or ""
    if heading.endswith("(pp)"):
        assert suffix == " pp", at
    elif heading.endswith("(%)"):
        assert suffix == "%", at
    else:
        assert suffix != " pp", ("points in a column without its unit", at)
        assert unit_at is not None, at
        unit = row[unit_at]
        if figure.group("pound"):
            assert unit == "£", at
        elif suffix:
            assert unit == UNIT_SUFFIXES[suffix], at
        else:
            assert unit == "count" or str(unit).startswith("per "), at


def _check_format(figure, cell_format: str, places: int, *, at) -> None:
    """An XLSX cell's number format prints it as the page does: its decimals, "%", "£",
    "pp" and a "+" on a signed change."""
    assert format_decimals(cell_format) == places, at
    suffix = figure.group("suffix") or ""
    assert ('"%"' in cell_format) == (suffix == "%"), at
    assert ('" pp"' in cell_format) == (suffix == " pp"), at
    assert ("£" in cell_format) == bool(figure.group("pound")), at
    if figure.group("sign") == "+":
        assert cell_format.startswith("+"), at


def assert_plain_values(download: Download) -> None:
    """No markup in any cell; statuses are words; change columns say their unit."""
    for row in download.rows:
        for value in row:
            assert not (isinstance(value, str) and re.search(r"<\w|&\w+;", value)), value
    if "Status" in download.header:
        at = download.header.index("Status")
        assert {row[at] for row in download.rows} <= {"Approved", "Provisional"}
    for heading in download.header:
        if re.search(r"\bchange\b|\bdifference\b", heading, re.IGNORECASE):
            # In a unit of its own, or (a difference of figures) in the row's "Unit".
            assert heading.endswith(("(%)", "(pp)")) or "Unit" in download.header, heading
    assert download.header[-1] == "Notes"


def assert_valid_sheet_names(names: list[str]) -> None:
    assert len({n.casefold() for n in names}) == len(names), names
    for name in names:
        assert 0 < len(name) <= 31, name
        assert not SHEET_NAME_FORBIDDEN & set(name), name
        assert not name.startswith("'") and not name.endswith("'"), name


def assert_downloads_match(page_html: str, csv_content: bytes, xlsx_content: bytes, titles):
    """Assert that both downloads hold the page's tables, figure for figure."""
    tables = page_tables(page_html)
    assert tables, "the page shows figure tables"
    as_csv = csv_tables(csv_content, captions=len(tables) > 1)
    as_xlsx, names = xlsx_tables(xlsx_content)
    assert len(as_csv) == len(as_xlsx) == len(tables)
    assert_valid_sheet_names(names)
    assert names[:-1] == sheet_names(titles)
    figures = 0
    for page, in_csv, in_xlsx in zip(tables, as_csv, as_xlsx, strict=True):
        assert in_csv.header == in_xlsx.header
        for download in (in_csv, in_xlsx):
            assert_plain_values(download)
        figures += compare(page, in_csv, xlsx=False)
        compare(page, in_xlsx, xlsx=True)
    return figures


# --- live: every table page ---------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_a_table_pages_downloads_hold_its_figures(client, admin_user, name):
    client.force_login(admin_user)
    page = client.get(reverse(name), QUARTER)
    as_csv = client.get(reverse(name), {**QUARTER, "export": "csv"})
    as_xlsx = client.get(reverse(name), {**QUARTER, "export": "xlsx"})

    assert page.status_code == as_csv.status_code == as_xlsx.status_code == 200
    titles = [table.title for table in page.context["figure_tables"]]
    figures = assert_downloads_match(
        page.content.decode(), as_csv.content, as_xlsx.content, titles
    )
    assert figures >= 6, figures


def test_a_provisional_figure_is_the_word_provisional(client, admin_user):
    dvpn = Measure.objects.get(code="dvpn")
    Value.objects.filter(measure=dvpn, start="2022-12-01").update(status=Value.Status.DRAFT)
    engine.recompute([dvpn.pk])
    client.force_login(admin_user)

    response = client.get(reverse("reports:monthly"), {**QUARTER, "export": "csv"})

    (table,) = csv_tables(response.content, captions=False)
    status = {row[0]: row[table.header.index("Status")] for row in table.rows}
    assert status["DVPN"] == "Provisional"
    assert status["DVPO"] == "Approved"


# --- published: every table of the snapshot --------------------------------------------------


@pytest.fixture
def published(admin_user):
    return published_seed_report(admin_user)


def _published_downloads(client, version) -> tuple[str, bytes, bytes]:
    base = version.get_absolute_url()
    page, as_csv, as_xlsx = (
        client.get(url) for url in (base, f"{base}tables.csv", f"{base}tables.xlsx")
    )
    assert page.status_code == as_csv.status_code == as_xlsx.status_code == 200
    return page.content.decode(), as_csv.content, as_xlsx.content


def test_the_published_downloads_equal_the_published_report_figure_for_figure(client, published):
    """Every table of the demo's published Q3 report: the HTML a reader reads, the CSV and
    the XLSX hold the same figures, texts, marks and footnotes."""
    html, as_csv, as_xlsx = _published_downloads(client, published)  # anonymous
    tables = published.snapshot["tables"]

    assert len(page_tables(html)) == len(tables)
    figures = assert_downloads_match(html, as_csv, as_xlsx, [t["title"] for t in tables])
    # Every figure of every table: the seed's report has a few hundred.
    assert figures >= 200, figures


def test_every_published_table_has_numbers_and_its_footnotes(client, published):
    _, as_csv, as_xlsx = _published_downloads(client, published)
    in_xlsx, names = xlsx_tables(as_xlsx)
    in_csv = csv_tables(as_csv, captions=True)

    for entry, sheet, block, name in zip(
        published.snapshot["tables"], in_xlsx, in_csv, names[:-1], strict=True
    ):
        assert name == sheet_names([entry["title"]])[0] or name.startswith(entry["title"][:25])
        assert block.caption == entry["caption"]
        footnotes = [tuple(text.split(" ", 1)) for text in entry["footnotes"]]
        assert sheet.footnotes == block.footnotes == footnotes, entry["caption"]
        numbers = [v for row in sheet.rows for v in row if isinstance(v, int | float)]
        assert numbers, entry["caption"]
        assert not any(
            isinstance(v, str) and re.fullmatch(r"-?[\d,]+(\.\d+)?%?", v)
            for row in sheet.rows
            for v in row[1:]
        ), (entry["caption"], "a figure written as text")


def test_the_published_monthly_table_holds_numbers_in_the_measures_format(client, published):
    _, _, as_xlsx = _published_downloads(client, published)
    workbook = load_workbook(io.BytesIO(as_xlsx))
    sheet = workbook["Monthly figures 2022"]
    header = [c.value for c in sheet[1]]
    dvpn = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "DVPN")
    december = dvpn[header.index("December")]

    assert header[:3] == ["Measure", "Unit", "January"]
    assert (december.value, december.data_type, december.number_format) == (27, "n", "#,##0")
    assert dvpn[header.index("Status")].value == "Approved"


def test_the_national_picture_download_reads_like_the_seed(client, published):
    _, as_csv, _ = _published_downloads(client, published)
    picture = csv_tables(as_csv, captions=True)[0]
    rows = {row[1]: dict(zip(picture.header, row, strict=True)) for row in picture.rows}

    assert picture.header == [
        "Target",
        "Measure",
        "Unit",
        "12 months to Dec 2020",
        "12 months to Dec 2022",
        "Change (%)",
        "Change (pp)",
        "Against target",
        "Status",
        "Notes",
    ]
    homicides = rows["Recorded Homicides"]
    assert (homicides["12 months to Dec 2020"], homicides["12 months to Dec 2022"]) == ("23", "14")
    assert (homicides["Change (%)"], homicides["Change (pp)"], homicides["Notes"]) == (
        "-39.1",
        "",
        "†",
    )
    satisfied = rows["% Victims Satisfied (internal surveys)"]
    assert satisfied["Unit"] == "%"
    assert (satisfied["12 months to Dec 2020"], satisfied["12 months to Dec 2022"]) == (
        "69.8",
        "70.2",
    )
    assert (satisfied["Change (%)"], satisfied["Change (pp)"]) == ("", "0.4")
    assert picture.footnotes[0][0] == "*"
    assert picture.footnotes[0][1].startswith("Data 12 months to end of September 2020")


CJS_DASHBOARD = "https://www.gov.uk/government/collections/criminal-justice-system-delivery-data"
CJS_SOURCE = f"Criminal Justice System Delivery Data Dashboard - GOV.UK ({CJS_DASHBOARD})"


def test_the_cjs_tables_download_as_a_table_each_with_their_source(client, published):
    """The seed's two CJS tables, All Crime and Adult Rape, are two sheets (two tables in
    the CSV), each with its own measures and the dashboard as its source in its notes."""
    _, as_csv, as_xlsx = _published_downloads(client, published)
    in_xlsx, names = xlsx_tables(as_xlsx)
    in_csv = csv_tables(as_csv, captions=True)
    sheets = {table.sheet: table for table in in_xlsx}
    blocks = {table.caption: table for table in in_csv}

    for group, prefix, count in (
        ("All Crime", "All crime: ", 5),
        ("Adult Rape", "Adult rape: ", 7),
    ):
        sheet = sheets[f"{group} against national"]
        block = blocks[f"Rolling 12 month comparisons for Lancashire – {group}"]
        measures = [row[0] for row in sheet.rows]
        assert len(measures) == count
        assert all(name.startswith(prefix) for name in measures), measures
        assert [row[0] for row in block.rows] == measures
        assert sheet.sources == block.sources == [CJS_SOURCE]
    assert "Comparison with national" not in names, "no table of every CJS measure"
    assert_valid_sheet_names(names)
    notes = list(load_workbook(io.BytesIO(as_xlsx))[NOTES_SHEET].iter_rows(values_only=True))
    assert ("Adult Rape against national", SOURCE_MARK, CJS_SOURCE) in notes


def test_a_table_s_sources_follow_its_footnotes_in_both_downloads():
    entry = {
        "key": "criminal-justice-1",
        "title": "All Crime against national",
        "caption": "Rolling 12 month comparisons for Lancashire – All Crime",
        "values": [["Measure", "Lancashire", "Notes"], ["Days to charge", 47, "*"]],
        "formats": [[None, "#,##0", None]],
        "cells": [["Days to charge", "47*"]],
        "footnotes": ["* Data was updated in February 2023"],
        "sources": [
            {"name": "CJS", "label": "CJS dashboard", "url": "https://example.org/cjs"},
            {"name": "PAM system", "label": "PAM system", "url": ""},
        ],
    }
    snapshot = {"tables": [entry]}

    as_csv = export_snapshot(snapshot, name="v", export_format="csv").content
    as_xlsx = export_snapshot(snapshot, name="v", export_format="xlsx").content

    rows = list(csv.reader(io.StringIO(as_csv.decode("utf-8-sig"))))
    assert rows[-3:] == [
        ["*", "Data was updated in February 2023"],
        [SOURCE_MARK, "CJS dashboard (https://example.org/cjs)"],
        [SOURCE_MARK, "PAM system"],
    ]
    notes = load_workbook(io.BytesIO(as_xlsx))[NOTES_SHEET]
    assert list(notes.iter_rows(values_only=True))[1:] == [
        ("All Crime against national", "*", "Data was updated in February 2023"),
        ("All Crime against national", SOURCE_MARK, "CJS dashboard (https://example.org/cjs)"),
        ("All Crime against national", SOURCE_MARK, "PAM system"),
    ]


def test_a_version_published_before_formats_were_kept_downloads_without_markup():
    """Snapshots of older versions hold the status badge's HTML and decimals as text; their
    downloads are read back as today's: words, numbers and a "Notes" column."""
    entry = {
        "key": "domestic-abuse-2",
        "caption": "Monthly figures, January – December 2022, Lancashire",
        "values": [
            ["Measure", "January", "Year", "Status"],
            ["DVPN", "3.000000", "2019", '<span class="status status-approved">Approved</span>'],
        ],
        "cells": [["DVPN", "3*", "2019", "Approved"]],
        "footnotes": ["* Data to November"],
    }

    response = export_snapshot({"tables": [entry]}, name="old", export_format="xlsx")

    (table,), names = xlsx_tables(response.content)
    assert table.header == ["Measure", "January", "Year", "Status", "Notes"]
    assert table.rows == [["DVPN", 3, "2019", "Approved", "*"]]
    assert table.footnotes == [("*", "Data to November")]
    assert_valid_sheet_names(names)


# --- rounding, sheet names and number formats -------------------------------------------------


def test_figures_are_rounded_as_the_page_prints_them():
    """Halves go away from zero in downloads as on the page, never to the even digit."""
    measure = Measure(code="halves", name="Halves", unit="percent", decimals=1)
    row = {
        "group": "Group",
        "measure": measure,
        "value": Decimal("2.25"),
        "previous": Decimal("-0.05"),
        "change": Decimal("2.3"),
        "change_pct": Decimal("0.25"),
        "marks": "",
        "status": "approved",
    }
    table = ScorecardTable(TableData(rows=[row], title="Halves"))

    header, values = table.as_values()
    printed = [strip_tags(str(cell)) for cell, _ in table.cell_rows()[0]]

    assert printed[2:5] == ["2.3%", "-0.1%", "+0.3%"]
    assert values[header.index("This quarter")] == 2.3
    assert values[header.index("Previous quarter")] == -0.1
    assert values[header.index("Change (%)")] == 0.3


def test_sheet_names_are_the_titles_as_excel_allows_them():
    titles = [
        "National Picture",
        "Recorded Burglary, Robbery, Theft of/from vehicle, Theft from person",
        "Recorded Burglary, Robbery, Theft of/from vehicle, Theft from person",
        "national picture",
        "Notes",
        "[Draft]: what? *",
        "'quoted'",
        "",
    ]

    names = sheet_names(titles)

    assert names == [
        "National Picture",
        "Recorded Burglary, Robbery, The",
        "Recorded Burglary, Robbery (2)",
        "national picture (2)",
        "Notes (2)",
        "-Draft-- what- -",
        "quoted",
        "Table 8",
    ]
    assert_valid_sheet_names([*names, NOTES_SHEET])


@pytest.mark.parametrize(
    ("unit", "decimals", "signed", "expected"),
    [
        ("count", 0, False, "#,##0"),
        ("percent", 1, False, '#,##0.0"%"'),
        ("gbp", 0, False, '"£"#,##0'),
        ("days", 0, True, "+#,##0;-#,##0;#,##0"),
        ("pp", 1, True, '+#,##0.0" pp";-#,##0.0" pp";#,##0.0" pp"'),
        ("kg", 2, False, "#,##0.00"),
    ],
)
def test_number_formats_print_figures_as_the_report_does(unit, decimals, signed, expected):
    assert number_format(unit, decimals, signed=signed) == expected
    assert format_decimals(expected) == decimals
