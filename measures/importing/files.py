"""Reading import files: CSV and XLSX rows as text cells, YAML and JSON structures."""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from measures.arithmetic.formatting import plain_number
from measures.importing.plan import PlanInvalid
from measures.importing.rules import MAX_FILE_BYTES, ImportRejected, RowError

# --- reading tables -------------------------------------------------------------------------


def cell_text(cell: Any, number_format: str | None = None) -> str:
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    if cell is None:
        return ""
    if isinstance(cell, ArrayFormula):
        return cell.text or "="
    if isinstance(cell, DataTableFormula):
        return "=TABLE()"
    if isinstance(cell, datetime.datetime | datetime.date):
        # A spreadsheet turns "2022-12" into a date; the month is what was meant.
        return f"{cell.year:04d}-{cell.month:02d}"
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        # Excel stores 17 significant digits and shows 15: 0.30000000000000004 is 0.3.
        number = Decimal(format(cell, ".15g")) if isinstance(cell, float) else Decimal(cell)
        if not number.is_finite():
            return str(cell)
        if number_format and "%" in number_format:
            # Shown as 70.2%: give the text the person sees, which the value check refuses.
            return f"{plain_number(number * 100)}%"
        return plain_number(number) or ""
    return str(cell).strip()


def read_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, cells) for every row of a CSV or XLSX file, header first."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImportRejected([RowError(0, f"{path.name} is larger than 200 MB")])
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        yield from _read_xlsx(path)
    elif suffix in {".csv", ".txt"}:
        yield from _read_csv(path)
    else:
        raise ImportRejected(
            [RowError(0, f"{path.name}: unsupported file type {suffix!r}; use .csv or .xlsx")]
        )


def _read_csv(path: Path) -> Iterator[tuple[int, list[str]]]:
    raw = path.read_bytes()
    head = raw[:4096]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b"PK\x03\x04")) or (
        head.count(b"\x00") * 8 > len(head)
    ):
        raise ImportRejected(
            [RowError(0, f"{path.name} is not a text CSV file (is it UTF-16 or a spreadsheet?)")]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1
        raise ImportRejected(
            [RowError(line, "the file is not UTF-8 encoded; save it as CSV UTF-8")]
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for cells in reader:
            yield reader.line_num, [c.strip() for c in cells]
    except csv.Error as exc:
        raise ImportRejected([RowError(reader.line_num, f"malformed CSV: {exc}")]) from exc


def _read_xlsx(path: Path) -> Iterator[tuple[int, list[str]]]:
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ImportRejected(
            [RowError(0, f"{path.name} is not a readable XLSX workbook")]
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        number = 0
        for number, row in enumerate(sheet.iter_rows(), start=1):
            cells = [cell_text(c.value, getattr(c, "number_format", None)) for c in row]
            while cells and cells[-1] == "":
                cells.pop()
            yield number, cells
        if number == 0 and len(workbook.worksheets) > 1:
            raise ImportRejected(
                [
                    RowError(
                        0,
                        f"{path.name}: the first sheet, {sheet.title!r}, is empty; values are "
                        "read from the first sheet only",
                    )
                ]
            )
    finally:
        workbook.close()


def load_structured_file(path: Path) -> Any:
    """Return the parsed YAML or JSON content of a file, or raise PlanInvalid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlanInvalid(f"{path.name} is not UTF-8 encoded") from exc
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise PlanInvalid(f"{path.name} is not valid YAML/JSON: {exc}") from exc
