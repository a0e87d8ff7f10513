"""CSV and XLSX downloads of any figure table."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils.text import slugify

from reports.figure_tables import as_number

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXPORT_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def neutralise(cell: Any) -> Any:
    """Return the cell as a spreadsheet should get it: numbers as numbers, and no text a
    spreadsheet could read as a formula (CSV injection)."""
    if isinstance(cell, Decimal):
        return as_number(cell)
    if isinstance(cell, str) and cell.startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell


def table_rows(table) -> list[list[Any]]:
    """Return the table's header and rows as export values (numbers stay numbers)."""
    rows = [[neutralise(c) for c in row] for row in table.as_values()]
    footnotes = getattr(table, "footnotes", [])
    if footnotes:
        rows.append([])
        rows.extend([[neutralise(f"{mark} {text}")] for mark, text in footnotes])
    return rows


def export_response(tables: list, *, name: str, export_format: str) -> HttpResponse:
    """Return a download of one or more tables (XLSX: one sheet each; CSV: one after another)."""
    filename = f"{slugify(name) or 'table'}.{export_format}"
    response = HttpResponse(content_type=EXPORT_FORMATS[export_format])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    if export_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for index, table in enumerate(tables):
            if index:
                writer.writerow([])
            if len(tables) > 1:
                writer.writerow([neutralise(table.caption)])
            writer.writerows(table_rows(table))
        response.write("\ufeff" + buffer.getvalue())
        return response
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    used_titles: set[str] = set()
    for index, table in enumerate(tables, start=1):
        title = (slugify(getattr(table, "sheet_name", "")) or f"table-{index}")[:31]
        while title in used_titles:
            title = f"{title[:28]}-{index}"
        used_titles.add(title)
        sheet = workbook.create_sheet(title=title)
        for row in table_rows(table):
            sheet.append(row)
    stream = io.BytesIO()
    workbook.save(stream)
    response.write(stream.getvalue())
    return response


class _FrozenTable:
    """A published table read back from a snapshot, shaped like a table for export."""

    def __init__(self, table: dict):
        self.caption = table["caption"]
        self.sheet_name = table["key"]
        self.footnotes = [tuple(f.split(" ", 1)) for f in table.get("footnotes", [])]
        self._values = table["values"]

    def as_values(self):
        return self._values


def export_snapshot(snapshot: dict, *, name: str, export_format: str) -> HttpResponse:
    """Return a download of every table of a published version, as it was published."""
    return export_response(
        [_FrozenTable(t) for t in snapshot.get("tables", [])],
        name=name,
        export_format=export_format,
    )
