"""CSV and XLSX downloads of figure tables: a table page's (?export=csv|xlsx) and a
published version's (from its snapshot, as it was published).

A download holds values, never markup:
- numbers are numbers, rounded as the page prints them: XLSX cells carry a number format
  with the measure's decimals ("%", "£", a sign on changes); CSV writes plain numbers
  ("3", "69.8", "-39.1");
- a change column says its unit ("Change (%)", "Change (pp)"), and a "Unit" column gives
  each row's (`reports.tables`);
- each row's footnote marks are in a "Notes" column, and the footnotes themselves are in
  the file: a "Notes" sheet (table, mark, text) in XLSX, rows after a blank line below each
  table in CSV; so are the sources printed under each table (mark "Source", the source's
  full name and its link);
- each XLSX sheet is named after its table's title, as Excel allows (31 characters, none of
  []:*?/\\, unique whatever the case).
"""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.http import HttpResponse
from django.utils.html import strip_tags
from django.utils.text import slugify

from reports.figure_tables import CAUTION_MARKS, FOOTNOTE_MARKS, as_number

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXPORT_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MARK_CHARACTERS = "".join(FOOTNOTE_MARKS + CAUTION_MARKS)

# Excel's rules for a sheet's name: at most 31 characters, none of these, not starting or
# ending with an apostrophe; "History" is Excel's own. Names are unique whatever the case.
SHEET_NAME_LENGTH = 31
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
NOTES_SHEET = "Notes"
# The mark of a table's source among its notes.
SOURCE_MARK = "Source"
RESERVED_SHEET_NAMES = {NOTES_SHEET.casefold(), "history"}


def number_format(unit: str, decimals: int, *, signed: bool = False) -> str:
    """Return the spreadsheet number format that prints a figure as the report does:
    "#,##0" for 16,127; '#,##0.0"%"' for 69.8% (the cell holds 69.8, as the page, the CSV and
    the API say it); '"£"#,##0' for £30,801; `unit` "pp" for percentage points. Signed, it
    prints "+" before a rise, as changes are printed ("+79.5%", "-2.8 pp", "0.0%").
    """
    digits = "#,##0" + ("." + "0" * decimals if decimals else "")
    if unit == "percent":
        body = f'{digits}"%"'
    elif unit == "pp":
        body = f'{digits}" pp"'
    elif unit == "gbp":
        body = f'"£"{digits}'
    else:
        body = digits
    return f"+{body};-{body};{body}" if signed else body


PCT_CHANGE_FORMAT = number_format("percent", 1, signed=True)
PP_CHANGE_FORMAT = number_format("pp", 1, signed=True)


def format_decimals(number_format: str | None) -> int | None:
    """Return how many decimals a number format prints (None for no format)."""
    if not number_format:
        return None
    positive = re.sub(r'"[^"]*"', "", number_format.split(";")[0])
    places = re.search(r"\.(0+)", positive)
    return len(places.group(1)) if places else 0


def neutralise(cell: Any) -> Any:
    """Return the cell as a spreadsheet should get it: numbers as numbers, and no text a
    spreadsheet could read as a formula (CSV injection)."""
    if isinstance(cell, Decimal):
        return as_number(cell)
    if isinstance(cell, str) and cell.startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell


def is_number(cell: Any) -> bool:
    return isinstance(cell, int | float | Decimal) and not isinstance(cell, bool)


@dataclass
class ExportTable:
    """A table as a download holds it: the header, rows of values (numbers as numbers, no
    markup), each cell's number format (None for text), the footnotes (mark, text) and the
    sources printed under it (full name, link)."""

    title: str
    caption: str
    header: list[str]
    rows: list[list[Any]]
    formats: list[list[str | None]]
    footnotes: list[tuple[str, str]]
    sources: list[tuple[str, str]] = field(default_factory=list)

    @property
    def notes(self) -> list[tuple[str, str]]:
        """Return the footnotes, then a ("Source", "full name (link)") note per source."""
        return self.footnotes + [
            (SOURCE_MARK, f"{label} ({url})" if url else label) for label, url in self.sources
        ]


def table_export(table) -> ExportTable:
    """Return a live figure table (`reports.tables.FigureTable`) as its download holds it."""
    header, *rows = table.as_values()
    return ExportTable(
        title=table.title or table.caption,
        caption=table.caption,
        header=[str(h) for h in header],
        rows=rows,
        formats=table.export_formats(),
        footnotes=list(table.footnotes),
        sources=[(s.label, s.url) for s in getattr(table, "source_systems", [])],
    )


def snapshot_table_export(entry: dict[str, Any]) -> ExportTable:
    """Return a published table (an entry of a version's snapshot) as its download holds it.

    Versions published before the snapshot kept number formats and titles hold the cells
    as the page printed them (`cells`) beside values that may carry markup (the status
    badge) or decimals as text ("3.000000"): those are read as `legacy_table_export` does.
    """
    footnotes = [_footnote(text) for text in entry.get("footnotes", [])]
    if "formats" not in entry:
        return legacy_table_export(entry, footnotes)
    header, *rows = entry["values"]
    return ExportTable(
        title=entry.get("title") or entry["caption"],
        caption=entry["caption"],
        header=header,
        rows=rows,
        formats=entry["formats"],
        footnotes=footnotes,
        sources=[(source["label"], source["url"]) for source in entry.get("sources", [])],
    )


def legacy_table_export(entry: dict[str, Any], footnotes: list[tuple[str, str]]) -> ExportTable:
    """Return a table of an older snapshot as today's downloads give it: text without
    markup, decimals as numbers, and each row's footnote marks (read from the printed
    cells) in a "Notes" column. Number formats were not kept: spreadsheets show the
    numbers as they are."""
    header, *values = entry["values"]
    rows = []
    for row, printed in zip(values, entry["cells"], strict=True):
        cells, marks = [], ""
        for value, text in zip(row, printed, strict=True):
            if isinstance(value, str):
                markup = "<" in value
                value = html.unescape(strip_tags(value)).strip() if markup else value
                value = _stored_decimal(value)
            if not isinstance(value, str):
                # Marks follow figures ("44*", "-39.1%†"), never a name.
                marks += _marks(html.unescape(text))
            cells.append(value)
        rows.append([*cells, marks])
    return ExportTable(
        title=entry["caption"],
        caption=entry["caption"],
        header=[*header, "Notes"],
        rows=rows,
        formats=[[None] * len(row) for row in rows],
        footnotes=footnotes,
    )


def _marks(text: str) -> str:
    return text[len(text.rstrip(MARK_CHARACTERS)) :]


def _stored_decimal(value: str) -> Any:
    """Return a figure stored as decimal text ("3.000000") as a number; other text as it is.

    Only text with a decimal point is a figure: "2019" is a year's label.
    """
    if not re.fullmatch(r"-?\d+\.\d+", value):
        return value
    try:
        return as_number(Decimal(value))
    except InvalidOperation:
        return value


def _footnote(text: str) -> tuple[str, str]:
    mark, _, note = text.partition(" ")
    return mark, note


def sheet_names(titles: list[str]) -> list[str]:
    """Return a sheet name per title, as Excel allows: forbidden characters replaced, at
    most 31 characters, unique whatever the case (" (2)" added), "Notes" left free."""
    used = set(RESERVED_SHEET_NAMES)
    names = []
    for index, title in enumerate(titles, start=1):
        base = SHEET_NAME_FORBIDDEN.sub("-", title).strip().strip("'").strip()
        base = base or f"Table {index}"
        name = base[:SHEET_NAME_LENGTH].rstrip()
        copy = 2
        while name.casefold() in used:
            suffix = f" ({copy})"
            name = base[: SHEET_NAME_LENGTH - len(suffix)].rstrip(" ,;.-–") + suffix
            copy += 1
        used.add(name.casefold())
        names.append(name)
    return names


def csv_content(tables: list[ExportTable]) -> str:
    """Return the tables as CSV: each one's caption (when there are several), header and
    rows, then its notes (mark, text: the footnotes, then its sources) after a blank line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for index, table in enumerate(tables):
        if index:
            writer.writerow([])
        if len(tables) > 1:
            writer.writerow([neutralise(table.caption)])
        writer.writerow([neutralise(h) for h in table.header])
        for row, formats in zip(table.rows, table.formats, strict=True):
            writer.writerow([_csv_cell(cell, f) for cell, f in zip(row, formats, strict=True)])
        if table.notes:
            writer.writerow([])
            writer.writerows([[mark, neutralise(text)] for mark, text in table.notes])
    return "\ufeff" + buffer.getvalue()


def _csv_cell(cell: Any, number_format: str | None) -> Any:
    """Return a plain number at the decimals the report prints ("9.0" for 9.0%), or text."""
    if is_number(cell):
        places = format_decimals(number_format)
        return f"{cell:.{places}f}" if places is not None else cell
    return neutralise(cell)


def xlsx_content(tables: list[ExportTable]) -> bytes:
    """Return the tables as an XLSX workbook: a sheet per table, named after its title,
    with the header in its first row, then a "Notes" sheet of every table's footnotes and
    sources."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def cell(sheet, value: Any, number_format: str | None = None, *, heading: bool = False):
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", neutralise(value)) or None
        written = WriteOnlyCell(sheet, value=value)
        if number_format and is_number(value):
            written.number_format = number_format
        if heading:
            written.font = bold
        return written

    def add_sheet(title: str, header: list[str], rows: list[list[Any]], formats):
        sheet = workbook.create_sheet(title=title)
        sheet.freeze_panes = "A2"
        for letter, width in _column_widths(header, rows):
            sheet.column_dimensions[letter].width = width
        sheet.append([cell(sheet, h, heading=True) for h in header])
        for row, row_formats in zip(rows, formats, strict=True):
            sheet.append([cell(sheet, v, f) for v, f in zip(row, row_formats, strict=True)])

    names = sheet_names([table.title for table in tables])
    for name, table in zip(names, tables, strict=True):
        add_sheet(name, table.header, table.rows, table.formats)
    notes = [
        [name, mark, text]
        for name, table in zip(names, tables, strict=True)
        for mark, text in table.notes
    ]
    add_sheet(NOTES_SHEET, ["Table", "Mark", "Note"], notes, [[None] * 3 for _ in notes])
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def _column_widths(header: list[str], rows: list[list[Any]]) -> list[tuple[str, float]]:
    """Return (column letter, width) wide enough for each column's longest entry, within
    reason: a long name wraps in the reader's hands, not across the screen."""
    from openpyxl.utils import get_column_letter

    widths: list[tuple[str, float]] = []
    for index, heading in enumerate(header):
        longest = max(
            [len(str(heading))] + [len(str(row[index])) for row in rows if row[index] is not None]
        )
        widths.append((get_column_letter(index + 1), min(max(longest, 6) + 2, 60)))
    return widths


def export_response(tables: list, *, name: str, export_format: str) -> HttpResponse:
    """Return a download of a table page's figure tables (XLSX: a sheet each; CSV: one
    after another)."""
    return download(
        [table_export(table) for table in tables], name=name, export_format=export_format
    )


def export_snapshot(snapshot: dict, *, name: str, export_format: str) -> HttpResponse:
    """Return a download of every table of a published version, as it was published."""
    tables = [snapshot_table_export(entry) for entry in snapshot.get("tables", [])]
    return download(tables, name=name, export_format=export_format)


def download(tables: list[ExportTable], *, name: str, export_format: str) -> HttpResponse:
    filename = f"{slugify(name) or 'table'}.{export_format}"
    response = HttpResponse(content_type=EXPORT_FORMATS[export_format])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    if export_format == "csv":
        response.write(csv_content(tables))
    else:
        response.write(xlsx_content(tables))
    return response
