"""Malformed value files (issue 6, Reliability): each is refused with a row-level message and
nothing is written.

tests/measures/test_import_values.py covers the basic cases (bad header, unknown measure,
UTF-16 with the default BOM, Latin-1 on line 2, "=" in the value, …). These are the files
real spreadsheets and real people produce beyond those: other encodings, stray bytes, headers
in the wrong place, stray columns, duplicates written two ways, a quarter of a million rows,
formulas in every guise, dates that became numbers, numbers a spreadsheet formatted,
figures in an approved return.

Every malformed file starts with two good rows — one changing a figure already stored, one
adding a new figure — so that a partial write of either kind would be seen. A file-level
problem (the whole file is in the wrong encoding) is reported with line 0, meaning "the
file", and says what the file is; every other problem names its line.

Cases wrapped in was_wrong() are ones the importer once got wrong (a crash, a silent
change of the figure, a misleading message); each asserts the behaviour it should have.
"""

from __future__ import annotations

import codecs
import datetime
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from measures.arithmetic.periods import parse_period
from measures.importing.rules import ImportRejected, RowError
from measures.importing.values import values_import
from measures.models import Plan, Return, Value
from measures.returns import services
from measures.returns.services import ValueEntry
from tests.conftest import _person

HEADER = "measure,area,period,value,numerator,denominator,note,source\n"
# Line 2 changes the stored 2022-01 figure (5 → 6); line 3 adds 2022-02. Bad rows are line 4.
PREFIX = "t-assaults,force,2022-01,6,,,,\nt-assaults,force,2022-02,7,,,,\n"
XLSX_HEADER = ["measure", "area", "period", "value", "numerator", "denominator", "note"]
XLSX_PREFIX = [["t-assaults", "force", "2022-01", 6], ["t-assaults", "force", "2022-02", 7]]


def csv_rows(*lines: str) -> str:
    """A UTF-8 file: header, the two good rows, then `lines` (line 4 onwards)."""
    return HEADER + PREFIX + "".join(f"{line}\n" for line in lines)


# --- the stored state a rejected file must leave untouched ------------------------------------


@pytest.fixture
def stored(small_plan, tmp_path):
    """Two stored figures (one a ratio with its parts), with their history."""
    path = tmp_path / "stored.csv"
    path.write_text(
        HEADER + "t-assaults,force,2022-01,5,,,,\nt-satisfied,force,2022-01,70.0,70,100,,\n",
        encoding="utf-8",
    )
    values_import(path=path)


def state() -> tuple[list[tuple], int]:
    """Every stored figure, field by field, and the number of history rows."""
    values = list(
        Value.objects.order_by("pk").values_list(
            "pk",
            "measure_id",
            "area_id",
            "start",
            "end",
            "value",
            "numerator",
            "denominator",
            "note",
            "source",
            "status",
        )
    )
    return values, Value.history.count()


def rejected(path: Path) -> list[RowError]:
    """Import `path`, which must be refused as a whole; return its errors."""
    before = state()
    with pytest.raises(ImportRejected) as caught:
        values_import(path=path)
    assert state() == before, "a rejected file must write nothing (values and history)"
    assert caught.value.errors, "a rejection must say why"
    return caught.value.errors


def assert_reported(errors: list[RowError], line: int, *phrases: str) -> None:
    """One error is on `line` and contains every phrase."""
    shown = "\n".join(f"{e.line}: {e.message}" for e in errors)
    on_line = [e for e in errors if e.line == line]
    assert on_line, f"nothing reported on line {line}:\n{shown}"
    assert any(all(p in e.message for p in phrases) for e in on_line), (
        f"line {line} does not say {phrases}:\n{shown}"
    )
    if line:
        assert any(str(e).startswith(f"line {line}: ") for e in on_line)
    else:
        # A file-level message names the file rather than a line.
        assert all(not str(e).startswith("line ") for e in on_line)


# --- writing files ------------------------------------------------------------------------------


def write_bytes(tmp_path: Path, data: bytes, name: str = "values.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def write_xlsx(
    tmp_path: Path,
    rows: list[list],
    *,
    formats: dict[str, str] | None = None,
    more_sheets: dict[str, list[list]] | None = None,
    active: int = 0,
    name: str = "values.xlsx",
) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for cell, number_format in (formats or {}).items():
        sheet[cell].number_format = number_format
    for title, sheet_rows in (more_sheets or {}).items():
        extra = workbook.create_sheet(title)
        for row in sheet_rows:
            extra.append(row)
    workbook.active = active
    path = tmp_path / name
    workbook.save(path)
    return path


def xlsx_rows(*rows: list) -> list[list]:
    return [XLSX_HEADER, *XLSX_PREFIX, *rows]


@dataclass(frozen=True)
class Case:
    make: Callable[[Path], Path]
    line: int
    phrases: tuple[str, ...]


def csv_case(text: str | bytes, line: int, *phrases: str) -> Case:
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    return Case(lambda tmp: write_bytes(tmp, data), line, phrases)


def xlsx_case(rows: list[list], line: int, *phrases: str, **options) -> Case:
    return Case(lambda tmp: write_xlsx(tmp, rows, **options), line, phrases)


def was_wrong(case: Case, reason: str) -> Case:
    """A case the importer once got wrong (`reason` says how); kept as a regression test."""
    return case


def _ascii_rows(count: int) -> str:
    """`count` good monthly rows from 1900-01 onwards for the nation area."""
    month = parse_period("1900-01").start
    rows = []
    for _ in range(count):
        rows.append(f"t-assaults,nation,{month.iso},1,,,,\n")
        month = month.shift(1)
    return "".join(rows)


def _xlsx_bytes(tmp_path: Path) -> bytes:
    return write_xlsx(tmp_path, xlsx_rows(), name="real.xlsx").read_bytes()


FIRST_4_KB = 4096
FILLER = _ascii_rows(200)  # about 5 KB of good rows: what follows is past the first 4 KB
assert len(FILLER) > FIRST_4_KB

CASES = {
    # --- encodings ------------------------------------------------------------------------
    "utf-16-be-with-bom": csv_case(
        codecs.BOM_UTF16_BE + csv_rows().encode("utf-16-be"), 0, "not a text CSV", "UTF-16"
    ),
    "utf-16-le-without-bom": csv_case(
        csv_rows().encode("utf-16-le"), 0, "not a text CSV", "UTF-16"
    ),
    "utf-32-with-bom": csv_case(csv_rows().encode("utf-32"), 0, "not a text CSV"),
    "windows-1252-pound-sign-crlf": csv_case(
        csv_rows("t-cash,force,2022-Q4,30801,,,,£ seized (PAM)")
        .replace("\n", "\r\n")
        # The good rows must be plain ASCII so the first bad byte is the £ on line 4.
        .encode("cp1252"),
        4,
        "not UTF-8 encoded",
        "CSV UTF-8",
    ),
    "windows-1252-e-acute-in-a-note": csv_case(
        csv_rows("t-assaults,force,2022-03,8,,,Opération Warrior,").encode("cp1252"),
        4,
        "not UTF-8 encoded",
    ),
    "windows-1252-curly-quotes": csv_case(
        csv_rows('t-assaults,force,2022-03,8,,,"“Op Limit” arrests",').encode("cp1252"),
        4,
        "not UTF-8 encoded",
    ),
    "latin-1-deep-in-the-file": csv_case(
        (csv_rows() + _ascii_rows(1000) + "t-assaults,force,2022-03,8,,,año,\n").encode("latin-1"),
        1004,
        "not UTF-8 encoded",
    ),
    "latin-1-old-mac-cr-line-endings": was_wrong(
        csv_case(
            csv_rows("t-assaults,force,2022-03,8,,,é,").replace("\n", "\r").encode("latin-1"),
            4,
            "not UTF-8 encoded",
        ),
        "_read_csv counts only \\n to place an encoding error, so a CR-only file says line 1",
    ),
    "byte-order-mark-in-the-middle": csv_case(
        # Two exports pasted together: the second one's BOM and header land on line 4.
        csv_rows("\ufeff" + HEADER.strip(), "t-assaults,force,2022-03,8,,,,"),
        4,
        "unknown measure",
        "\\ufeff",
    ),
    "byte-order-mark-inside-a-number": csv_case(
        csv_rows("t-assaults,force,2022-03,1\ufeff2,,,,"), 4, "not a number"
    ),
    "xlsx-saved-with-a-csv-name": Case(
        lambda tmp: write_bytes(tmp, _xlsx_bytes(tmp)), 0, ("not a text CSV", "spreadsheet")
    ),
    "nul-byte-inside-a-number-after-4-kb": csv_case(
        csv_rows() + FILLER + "t-assaults,force,2022-03,8\x00,,,,\n", 204, "not a number"
    ),
    "nul-byte-in-a-note-in-the-first-4-kb": was_wrong(
        csv_case(csv_rows("t-assaults,force,2022-03,8,,,bad\x00note,"), 4, "NUL"),
        "one stray NUL in a UTF-8 file is reported as 'not a text CSV file (is it UTF-16 or "
        "a spreadsheet?)' for the whole file, not on its line",
    ),
    "nul-byte-in-a-note-after-4-kb": was_wrong(
        csv_case(csv_rows() + FILLER + "t-assaults,force,2022-03,8,,,bad\x00note,\n", 204, "NUL"),
        "a NUL after the first 4 KB reaches the database: PostgreSQL raises DataError "
        "(text cannot contain NUL) instead of a row-level rejection",
    ),
    # --- headers ----------------------------------------------------------------------------
    "header-without-a-value-column": csv_case(
        "measure,area,period,note\nt-assaults,force,2022-03,eight\n", 1, "missing value"
    ),
    "header-with-value-twice": csv_case(
        "measure,area,period,value,value\nt-assaults,force,2022-03,8,9\n",
        1,
        "value appear more than once",
    ),
    "header-with-value-twice-in-other-case": csv_case(
        "measure,area,period,Value,VALUE \nt-assaults,force,2022-03,8,9\n",
        1,
        "value appear more than once",
    ),
    "header-below-a-title-row": csv_case(
        "Lancashire values for Q3,,,\n" + HEADER + PREFIX, 1, "header is missing measure"
    ),
    "header-below-a-blank-line": csv_case("\n" + HEADER + PREFIX, 1, "header is missing"),
    "csv-of-blank-lines-only": csv_case("\n\n  \n\t\n\n", 1, "header is missing measure"),
    "xlsx-header-in-row-2": xlsx_case(
        [["Lancashire values for Q3"], *xlsx_rows()], 1, "header is missing measure"
    ),
    # --- columns ----------------------------------------------------------------------------
    "too-many-columns-unquoted-thousands": was_wrong(
        # "1,234" written without quotes: 1 is the value and 234 spills into a ninth column.
        csv_case(
            "measure,area,period,value\n"
            "t-assaults,force,2022-01,6\nt-assaults,force,2022-02,7\n"
            "t-assaults,force,2022-03,1,234\n",
            4,
            "'234' in column 5 has no heading",
        ),
        "cells beyond the header are ignored: the row imports as 1, not 1,234",
    ),
    "figure-under-a-blank-heading": was_wrong(
        csv_case(
            "measure,area,period,value,\n" + "t-assaults,force,2022-03,8,12\n",
            2,
            "no heading",
        ),
        "a cell under an empty heading is silently dropped",
    ),
    "xlsx-too-many-columns": was_wrong(
        xlsx_case(
            [["measure", "area", "period", "value"], ["t-assaults", "force", "2022-03", 1, 234]],
            2,
            "no heading",
        ),
        "cells beyond the header are ignored",
    ),
    "too-few-columns": csv_case(csv_rows("t-assaults,force,2022-03"), 4, "value is empty"),
    # --- duplicates ------------------------------------------------------------------------
    "duplicate-2022-Q4-and-2022-10/2022-12": csv_case(
        csv_rows("t-cash,force,2022-Q4,1,,,,", "t-cash,force,2022-10/2022-12,1,,,,"),
        5,
        "duplicate of line 4",
    ),
    "duplicate-lower-case-quarter-and-financial-quarter": csv_case(
        csv_rows("t-cash,force,2022-q4,1,,,,", "t-cash,force,2022/23-Q3,2,,,,"),
        5,
        "duplicate of line 4",
    ),
    "duplicate-month-and-one-month-range": csv_case(
        csv_rows("t-assaults,force,2022-03,1,,,,", "t-assaults,force,2022-03/2022-03,1,,,,"),
        5,
        "duplicate of line 4",
    ),
    "duplicate-with-padding-around-the-code": csv_case(
        csv_rows("t-assaults,force,2022-03,1,,,,", '" t-assaults ", force ,2022-03 ,1,,,,'),
        5,
        "duplicate of line 4",
    ),
    "duplicate-of-a-row-that-changes-a-stored-figure": csv_case(
        csv_rows("t-assaults,force,2022-01,5,,,,"), 4, "duplicate of line 2"
    ),
    "xlsx-duplicate-date-cell-and-text": xlsx_case(
        xlsx_rows(
            ["t-assaults", "force", datetime.datetime(2022, 3, 1), 8],
            ["t-assaults", "force", "2022-03", 8],
        ),
        5,
        "duplicate of line 4",
    ),
    # --- formulas ---------------------------------------------------------------------------
    "csv-formula-in-the-period": csv_case(
        csv_rows('t-assaults,force,"=TEXT(TODAY(),""yyyy-mm"")",8,,,,'), 4, "formula"
    ),
    "csv-formula-in-the-source": csv_case(
        csv_rows('t-assaults,force,2022-03,8,,,,"=HYPERLINK(""http://x"")"'), 4, "formula"
    ),
    "csv-plus-formula-in-the-value": csv_case(
        csv_rows("t-assaults,force,2022-03,+A1+A2,,,,"), 4, "not a number"
    ),
    "csv-minus-formula-in-the-value": csv_case(
        csv_rows("t-assaults,force,2022-03,-A1,,,,"), 4, "not a number"
    ),
    "csv-at-formula-in-the-value": csv_case(
        csv_rows("t-assaults,force,2022-03,@SUM(A1:A3),,,,"), 4, "not a number"
    ),
    "csv-at-formula-in-a-note": was_wrong(
        csv_case(csv_rows("t-assaults,force,2022-03,8,,,@SUM(A1:A3),"), 4, "formula"),
        "only '=' is treated as a formula: '@SUM(A1:A3)' is stored as the note",
    ),
    "csv-dde-payload-in-a-note": was_wrong(
        csv_case(csv_rows("t-assaults,force,2022-03,8,,,+cmd|' /C calc'!A0,"), 4, "formula"),
        "only '=' is treated as a formula: a '+cmd|…' DDE payload is stored as the note",
    ),
    "csv-minus-formula-in-the-source": was_wrong(
        csv_case(csv_rows("t-assaults,force,2022-03,8,,,,-2+3"), 4, "formula"),
        "only '=' is treated as a formula: '-2+3' is stored as the source",
    ),
    "xlsx-formula-in-the-period": xlsx_case(
        xlsx_rows(["t-assaults", "force", '=TEXT(TODAY(),"yyyy-mm")', 8]), 4, "formula"
    ),
    "xlsx-formula-in-a-note": xlsx_case(
        xlsx_rows(["t-assaults", "force", "2022-03", 8, None, None, "=A1"]), 4, "formula"
    ),
    "xlsx-formula-error-value": xlsx_case(
        xlsx_rows(["t-assaults", "force", "2022-03", "#DIV/0!"]), 4, "'#DIV/0!' is not a number"
    ),
    # --- dates that became numbers ----------------------------------------------------------
    "csv-excel-serial-date-as-period": csv_case(
        csv_rows("t-assaults,force,44896,8,,,,"),
        4,
        "'44896' is not a period",
        "2022-12 (a month)",
    ),
    "xlsx-serial-date-as-a-plain-number": xlsx_case(
        xlsx_rows(["t-assaults", "force", 44896, 8]),
        4,
        "'44896' is not a period",
        "2022-12 (a month)",
    ),
    "xlsx-serial-date-with-a-time": xlsx_case(
        xlsx_rows(["t-assaults", "force", 44896.5, 8]), 4, "'44896.5' is not a period"
    ),
    "csv-year/month-with-a-slash": csv_case(
        csv_rows("t-assaults,force,2022/12,8,,,,"),
        4,
        "'2022/12' is not a period",
        "financial year is two consecutive years",
    ),
    "csv-excel-month-format": csv_case(
        csv_rows("t-assaults,force,Dec-22,8,,,,"), 4, "'Dec-22' is not a period"
    ),
    # --- numbers ----------------------------------------------------------------------------
    "decimal-comma": was_wrong(
        csv_case(csv_rows('t-cash,force,2022-Q4,"30801,50",,,,'), 4, "not a number"),
        "commas are removed wherever they are: '30801,50' (£30,801.50 written the European "
        "way) imports as 3,080,150",
    ),
    "space-as-thousands-separator": csv_case(
        csv_rows("t-assaults,force,2022-03,1 234,,,,"), 4, "'1 234' is not a number"
    ),
    "no-break-space-as-thousands-separator": csv_case(
        csv_rows("t-assaults,force,2022-03,1\u00a0234,,,,"), 4, "is not a number"
    ),
    "exponent-1e3": was_wrong(
        csv_case(csv_rows("t-assaults,force,2022-03,1e3,,,,"), 4, "scientific notation"),
        "exponents are accepted, so a figure a spreadsheet shortened is imported rounded",
    ),
    "exponent-written-by-a-spreadsheet": was_wrong(
        csv_case(csv_rows("t-cash,force,2022-Q4,1.23457E+10,,,,"), 4, "scientific notation"),
        "'1.23457E+10' (Excel's General format for 12,345,678,901) imports as 12,345,700,000",
    ),
    "not-a-number": csv_case(csv_rows("t-assaults,force,2022-03,NaN,,,,"), 4, "not a number"),
    "signalling-not-a-number": csv_case(
        csv_rows("t-assaults,force,2022-03,-sNaN,,,,"), 4, "not a number"
    ),
    "percentage-with-a-percent-sign": csv_case(
        csv_rows("t-satisfied,force,2022-03,70.2%,,,,"), 4, "'70.2%' is not a number"
    ),
    "xlsx-percentage-format": was_wrong(
        xlsx_case(
            xlsx_rows(["t-satisfied", "force", "2022-03", 0.702]),
            4,
            "'70.2%' is not a number",
            formats={"D4": "0.0%"},
        ),
        "a cell shown as 70.2% is read as 0.702 and imported as 0.702%",
    ),
    "number-too-large-to-store": was_wrong(
        csv_case(csv_rows("t-cash,force,2022-Q4,123456789012345678901234,,,,"), 4, "too large"),
        "a figure over 14 digits crashes the import with DataError (numeric field overflow)",
    ),
    "exponent-too-large-to-store": was_wrong(
        csv_case(csv_rows("t-cash,force,2022-Q4,1e30,,,,"), 4, "scientific notation"),
        "1e30 crashes the import with DataError (numeric field overflow)",
    ),
    "xlsx-number-too-large-to-store": was_wrong(
        xlsx_case(xlsx_rows(["t-cash", "force", "2022-Q4", 10**20]), 4, "too large"),
        "a figure over 14 digits crashes the import with DataError (numeric field overflow)",
    ),
    "more-decimal-places-than-stored": was_wrong(
        csv_case(csv_rows("t-satisfied,force,2022-03,70.123456789,,,,"), 4, "decimal places"),
        "stored silently rounded to 70.1235, and the same file then 'updates' it on every "
        "re-import",
    ),
    "fraction-in-a-count": csv_case(
        csv_rows("t-assaults,force,2022-03,1234.5,,,,"), 4, "not a whole number"
    ),
    "xlsx-true-as-a-value": xlsx_case(
        xlsx_rows(["t-assaults", "force", "2022-03", True]), 4, "'True' is not a number"
    ),
    "xlsx-array-formula": was_wrong(
        Case(
            lambda tmp: _array_formula_xlsx(tmp),
            4,
            ("formula", "=SUM(A1:A2)"),
        ),
        "an array formula is reported as \"value '<openpyxl…ArrayFormula object at 0x…>' is "
        'not a number"',
    ),
    # --- sheets -----------------------------------------------------------------------------
    "xlsx-empty": Case(lambda tmp: write_xlsx(tmp, []), 0, ("is empty", "header")),
    "xlsx-two-sheets-first-one-bad": xlsx_case(
        xlsx_rows(["t-assaults", "force", "2022-03", "eight"]),
        4,
        "'eight' is not a number",
        more_sheets={"Good": xlsx_rows(["t-assaults", "force", "2022-03", 8])},
        active=1,
    ),
    "xlsx-two-sheets-first-one-empty": was_wrong(
        xlsx_case([], 0, "first sheet", "'Sheet'", more_sheets={"Data": xlsx_rows()}),
        "says 'values.xlsx is empty' when the values are on the second sheet",
    ),
}


def _array_formula_xlsx(tmp: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.worksheet.formula import ArrayFormula

    workbook = Workbook()
    sheet = workbook.active
    for row in xlsx_rows(["t-assaults", "force", "2022-03", None]):
        sheet.append(row)
    sheet["D4"] = ArrayFormula("D4", "=SUM(A1:A2)")
    path = tmp / "values.xlsx"
    workbook.save(path)
    return path


def test_there_are_at_least_30_malformed_files():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_a_malformed_file_is_rejected_on_its_line_and_nothing_is_written(stored, tmp_path, case):
    errors = rejected(case.make(tmp_path))
    assert_reported(errors, case.line, *case.phrases)


# --- locked periods ---------------------------------------------------------------------------


@pytest.fixture
def approved_q3(stored):
    """Department A's Q3 2022/23 return, filled (10, 11, 12), submitted and approved."""
    alice = _person("alice", "lead", ["dept-a"])
    charlie = _person("charlie", "reviewer")
    reporting = services.reporting_period_open(
        plan=Plan.objects.get(code="test-plan"),
        period=parse_period("2022/23-Q3"),
        deadline=datetime.date(2023, 1, 20),
    )
    ret = Return.objects.get(reporting_period=reporting, department__code="dept-a")
    ret = services.return_save(
        return_id=ret.pk,
        version=ret.version,
        entries=[
            ValueEntry("t-assaults", parse_period(m), Decimal(v))
            for m, v in (("2022-10", 10), ("2022-11", 11), ("2022-12", 12))
        ],
        actor=alice,
    )
    services.return_submit(return_id=ret.pk, actor=alice)
    return services.return_approve(return_id=ret.pk, actor=charlie)


LOCKED = {
    "a-new-quarter-figure-inside-the-approved-return": csv_case(
        csv_rows("t-assaults,force,2022/23-Q3,33,,,,"),
        4,
        "belongs to the return of Department A for Oct–Dec 2022, which is approved",
    ),
    "an-approved-figure-with-only-its-note-changed": csv_case(
        csv_rows("t-assaults,force,2022-11,11,,,late crimes added,"),
        4,
        "approved and the file changes it (note (blank) → 'late crimes added')",
        "reopen its return",
    ),
    "an-approved-figure-written-as-a-one-month-range": csv_case(
        csv_rows("t-assaults,force,2022-12/2022-12,13,,,,"),
        4,
        "approved and the file changes it (value 12 → 13)",
    ),
    "xlsx-an-approved-figure-as-a-date-cell": xlsx_case(
        xlsx_rows(["t-assaults", "force", datetime.datetime(2022, 10, 1), 9]),
        4,
        "approved and the file changes it (value 10 → 9)",
    ),
}


@pytest.mark.parametrize("case", list(LOCKED.values()), ids=list(LOCKED))
def test_a_figure_in_an_approved_return_is_rejected_and_nothing_is_written(
    approved_q3, tmp_path, case
):
    errors = rejected(case.make(tmp_path))
    assert_reported(errors, case.line, *case.phrases)
    assert Return.objects.get(pk=approved_q3.pk).status == Return.Status.APPROVED


# --- a quarter of a million rows ----------------------------------------------------------------

HUGE_ROWS = 250_000


def _huge_file(tmp_path: Path) -> Path:
    """250,000 distinct good monthly rows (19 areas from 1900-01 on), then one bad row."""
    from measures.models import Area

    force = Area.objects.get(code="force")
    districts = Area.objects.bulk_create(
        Area(code=f"district-{i:02d}", name=f"District {i}", kind="district", parent=force)
        for i in range(17)
    )
    areas = ["force", "nation", *(d.code for d in districts)]
    first = parse_period("1900-01").start
    months = [first.shift(i).iso for i in range(-(-(HUGE_ROWS - 1) // len(areas)))]
    rows = (f"t-assaults,{a},{m},{i % 97}\n" for i, m in enumerate(months) for a in areas)
    lines = ["measure,area,period,value\n", *itertools.islice(rows, HUGE_ROWS - 1)]
    lines.append("t-assaults,mars,2022-12,5\n")
    path = tmp_path / "huge.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_a_250000_row_file_with_one_bad_row_at_the_end_is_rejected_on_that_line(stored, tmp_path):
    path = _huge_file(tmp_path)
    started = time.perf_counter()

    errors = rejected(path)

    elapsed = time.perf_counter() - started
    assert [str(e) for e in errors] == [f"line {HUGE_ROWS + 1}: unknown area 'mars'"]
    assert elapsed < 120, f"checking 250,000 rows took {elapsed:.1f} s"


# --- what is accepted, decided ----------------------------------------------------------------


def imported(path: Path) -> dict[str, Value]:
    values_import(path=path)
    return {
        f"{v.measure.code} {v.area.code} {v.start:%Y-%m}": v
        for v in Value.objects.select_related("measure", "area")
    }


def test_header_names_are_matched_ignoring_case_and_surrounding_spaces(stored, tmp_path):
    path = write_bytes(tmp_path, b" Measure , AREA ,Period,VALUE \nt-assaults,force,2022-03,8\n")
    assert imported(path)["t-assaults force 2022-03"].value == 8


def test_xlsx_header_names_are_matched_ignoring_case_and_surrounding_spaces(stored, tmp_path):
    path = write_xlsx(
        tmp_path, [[" Measure", "AREA ", "Period", "Value"], ["t-assaults", "force", "2022-03", 8]]
    )
    assert imported(path)["t-assaults force 2022-03"].value == 8


def test_csv_utf8_with_a_bom_keeps_pound_signs_and_accents(stored, tmp_path):
    """Excel's "CSV UTF-8": the BOM is dropped, £ and é are kept as written."""
    text = "\ufeff" + HEADER + "t-cash,force,2022-Q4,30801,,,Opération Warrior,£ seized\n"
    cash = imported(write_bytes(tmp_path, text.encode("utf-8")))["t-cash force 2022-10"]
    assert (cash.note, cash.source) == ("Opération Warrior", "£ seized")


@pytest.mark.parametrize(
    ("written", "stored_as"),
    [
        ('"1,234"', Decimal(1234)),  # thousands separators in quotes
        ("+12", Decimal(12)),  # a sign is not a formula
        ("-0", Decimal(0)),  # negative zero is zero
        (" 12 ", Decimal(12)),
    ],
)
def test_numbers_written_in_ordinary_ways_are_accepted(stored, tmp_path, written, stored_as):
    path = write_bytes(tmp_path, (HEADER + f"t-assaults,force,2022-03,{written},,,,\n").encode())
    value = imported(path)["t-assaults force 2022-03"]
    value.refresh_from_db()
    assert value.value == stored_as
    assert not value.value.is_signed(), "no negative zero is stored"


def test_xlsx_negative_zero_is_zero(stored, tmp_path):
    path = write_xlsx(tmp_path, [XLSX_HEADER, ["t-assaults", "force", "2022-03", -0.0]])
    value = imported(path)["t-assaults force 2022-03"]
    value.refresh_from_db()
    assert value.value == 0 and not value.value.is_signed()


def test_an_xlsx_serial_date_formatted_as_a_date_is_read_as_its_month(stored, tmp_path):
    """44896 is 1 Dec 2022; shown as a date, it is the month the spreadsheet shows."""
    path = write_xlsx(
        tmp_path, [XLSX_HEADER, ["t-assaults", "force", 44896, 8]], formats={"C2": "mmm-yy"}
    )
    assert imported(path)["t-assaults force 2022-12"].value == 8


def test_only_the_first_xlsx_sheet_is_read_even_when_another_is_active(stored, tmp_path):
    path = write_xlsx(
        tmp_path,
        [XLSX_HEADER, ["t-assaults", "force", "2022-03", 8]],
        more_sheets={"Notes": [["anything"], ["=1+1", None, "x"]]},
        active=1,
    )
    values = imported(path)
    assert values["t-assaults force 2022-03"].value == 8
    assert Value.objects.count() == 3  # the two stored figures and this one


def test_reimporting_an_xlsx_with_float_noise_changes_nothing(stored, tmp_path):
    """Excel stores 0.1 + 0.2 as 0.30000000000000004 (17 digits) and shows 0.3."""
    import zipfile

    written = write_xlsx(tmp_path, [XLSX_HEADER, ["t-satisfied", "force", "2022-03", 0.3]])
    path = tmp_path / "excel.xlsx"
    with zipfile.ZipFile(written) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b"<v>0.3</v>" in data
                data = data.replace(b"<v>0.3</v>", b"<v>0.30000000000000004</v>")
            target.writestr(item, data)
    values_import(path=path)
    history = Value.history.count()

    summary = values_import(path=path)

    assert (summary.updated, summary.unchanged) == (0, 1)
    assert Value.history.count() == history
