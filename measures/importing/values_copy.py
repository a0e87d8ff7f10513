"""The fast path of `import_values` (SPEC §8): COPY a CSV file, check it in SQL, write in sets.

The row-by-row import in measures/importers.py stays the authority on what a file means and
what is wrong with it. This path takes a file only when every row passes the same checks,
written here in SQL over a staging table, and then writes exactly what the row-by-row import
would write: the values, their history rows (same user, same change reason), the pending
recomputes and the saved events of the returns the figures fall in, in one transaction.

On anything else — a bad row, a duplicate, a change to an approved figure, a figure in a
return under review, or CSV that Python's csv module and PostgreSQL's COPY might read
differently — it rolls its staging work back and returns None, and the row-by-row import
runs and reports every problem with its line number. Bad files take the slow path; good
files the fast one.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from measures.arithmetic.periods import PeriodError, parse_period
from measures.engine.marks import recompute_mark
from measures.importing.rules import (
    FIGURE_DECIMALS,
    FIGURE_RE,
    MAX_FIGURE,
    MAX_FILE_BYTES,
    ImportSummary,
    check_header,
)
from measures.models import (
    Area,
    Measure,
    Priority,
    ReportingPeriod,
    Return,
    UnavailableFigure,
    Value,
)
from measures.returns import services
from measures.returns.validation import NON_NEGATIVE_UNITS

# What str.strip() removes: every character for which str.isspace() is true (none is above
# U+3000). PostgreSQL's btrim() removes only spaces unless it is told which characters.
PYTHON_WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
ASCII_WHITESPACE = "".join(c for c in PYTHON_WHITESPACE if c.isascii())

# `parse_figure` accepts exactly the text this matches (the digit is checked separately); an
# exponent can never match it, so no exponent check is needed to know a figure is good.
FIGURE_PATTERN = f"^(?:{FIGURE_RE.pattern})$"

# Python's csv module and COPY agree on a line whose every quote opens or closes a whole
# field, with "" for a quote inside one. They differ elsewhere: COPY toggles quoting at a
# quote in the middle of a field, where csv keeps it as a character (`a"b`), and csv with
# strict=True refuses text after a closing quote (`"1"2`), which COPY joins up. A quoted
# field spanning lines is left to the row-by-row import too, to keep this check per line.
_FIELD = rb'(?:"(?:[^"]|"")*"|[^",\r\n]*)'
_PLAIN_LINE_RE = re.compile(_FIELD + rb"(?:," + _FIELD + rb")*")
_LINE_END_RE = re.compile(rb"[\r\n]")

# The Value columns this path writes, in the order its history rows list them; a field added
# to Value sends files to the row-by-row import until it is written here too.
VALUE_COLUMNS = (
    "id",
    "measure_id",
    "area_id",
    "start",
    "end",
    "value",
    "numerator",
    "denominator",
    "note",
    "source",
    "released_on",  # never written here (a file with a released column goes row by row)
    "status",
    "updated_at",
    "updated_by_id",
)
WRITTEN_COLUMNS = set(VALUE_COLUMNS)
HISTORY_COLUMNS = ", ".join(f'"{c}"' for c in VALUE_COLUMNS)
# Of two ways of computing a ratio's implied percentage, Python's Decimal rounds to 28 digits
# and SQL's comparison below is exact: a difference this close to the tolerance, but not on
# it, is left to Python to judge.
RATIO_MARGIN = Decimal("1e-20")
# Beyond this many decimals the tolerance itself has more digits than the exact-equality
# argument for RATIO_MARGIN covers; such measures are left to the row-by-row import.
MAX_RATIO_DECIMALS = 20


class _LeaveToRows(Exception):
    """The file is not one this path may decide; the row-by-row import must."""


def values_import_copy(
    *, path: Path, approve: bool, user: Any, reason: str
) -> ImportSummary | None:
    """Import a CSV file of values by COPY and set-based SQL, or return None to leave it to
    the row-by-row import (which then accepts it or reports why not)."""
    path = Path(path)
    if connection.vendor != "postgresql" or path.suffix.lower() not in {".csv", ".txt"}:
        return None
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return None
    if {f.column for f in Value._meta.concrete_fields} != WRITTEN_COLUMNS:
        return None
    reason = reason or f"import {path.name}"
    reason_field = Value.history.model._meta.get_field("history_change_reason")
    if reason_field.max_length is not None and len(reason) > reason_field.max_length:
        return None  # the row-by-row import fails on it the way it always has
    plain = _plain_csv(path)
    if plain is None:
        return None
    columns, errors = check_header(1, plain.header)
    if errors or "released" in columns:
        return None
    try:
        with transaction.atomic():
            return _import(plain, columns=columns, approve=approve, user=user, reason=reason)
    except _LeaveToRows:
        return None


@dataclass(frozen=True)
class _PlainCsv:
    header: list[str]
    body: memoryview  # the bytes after the header line
    whitespace: str  # the characters str.strip() removes that occur in the file's cells


def _plain_csv(path: Path) -> _PlainCsv | None:
    """Return the file's header cells and rows, or None when it is not plainly written CSV
    UTF-8 (the row-by-row import then reads it and says what is wrong, or accepts it)."""
    if path.stat().st_size > MAX_FILE_BYTES:
        return None
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b"PK\x03\x04")):
        return None
    # A NUL cannot be stored in text; a line "\." ends COPY's input early.
    if b"\x00" in raw or b"\\." in raw:
        return None
    start = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    end = _LINE_END_RE.search(raw, start)
    if end is None:
        return None
    header = raw[start : end.start()]
    if b'"' in header:
        return None
    try:
        raw.decode("utf-8")
        text = header.decode("utf-8")
    except UnicodeDecodeError:
        return None
    body_start = end.start() + (2 if raw.startswith(b"\r\n", end.start()) else 1)
    if not _plainly_quoted(raw, body_start):
        return None
    # Line ends never reach a cell here: they end rows, and a quoted field spanning lines
    # is not plain. Most files have no other whitespace, or only ASCII spaces and tabs.
    candidates = ASCII_WHITESPACE if raw.isascii() else PYTHON_WHITESPACE
    whitespace = "".join(c for c in candidates if c not in "\r\n" and c.encode() in raw)
    return _PlainCsv(
        header=[cell.strip() for cell in text.split(",")],
        body=memoryview(raw)[body_start:],
        whitespace=whitespace,
    )


def _plainly_quoted(raw: bytes, start: int) -> bool:
    """Return whether every line after `start` that has a quote is made of whole fields."""
    quote = raw.find(b'"', start)
    while quote != -1:
        line_start = max(raw.rfind(b"\n", start, quote), raw.rfind(b"\r", start, quote), start - 1)
        end = _LINE_END_RE.search(raw, quote)
        line_end = end.start() if end else len(raw)
        if not _PLAIN_LINE_RE.fullmatch(raw, line_start + 1, line_end):
            return False
        quote = raw.find(b'"', line_end)
    return True


def _import(
    plain: _PlainCsv, *, columns: dict[str, int], approve: bool, user: Any, reason: str
) -> ImportSummary:
    tables = {
        "value": Value._meta.db_table,
        "history": Value.history.model._meta.db_table,
        "area": Area._meta.db_table,
        "measure": Measure._meta.db_table,
        "priority": Priority._meta.db_table,
        "reporting": ReportingPeriod._meta.db_table,
        "return": Return._meta.db_table,
        "unavailable": UnavailableFigure._meta.db_table,
    }
    status = Value.Status.APPROVED if approve else Value.Status.DRAFT
    with connection.cursor() as cursor:
        # The statements below read every row once or twice: compiling them takes longer
        # than that, and sorting and hashing them on disk takes longer than in memory.
        cursor.execute(
            "SELECT current_setting('jit'), current_setting('work_mem'),"
            " set_config('jit', 'off', true), set_config('work_mem', '64MB', true)"
        )
        jit, work_mem, _, _ = cursor.fetchone()
        try:
            _stage(cursor, plain, columns=columns, tables=tables)
            rows = _check_rows(cursor)
        except (DatabaseError, psycopg.Error) as exc:
            # COPY or a check refused the file (a short or long row, a blank line, bad
            # UTF-8, a number too large for numeric, two rows for one figure): the
            # row-by-row import says what is wrong, or copes.
            raise _LeaveToRows from exc
        # Lock the returns the rows fall in, then the values this import may change, as the
        # row-by-row import does (and in its order), so that no return is submitted and no
        # value approved between the checks below and the writes.
        cursor.execute(
            f"""SELECT count(*) FROM (
                  SELECT 1 FROM {tables["return"]} held
                  WHERE held.id IN (SELECT ret.id {_return_rows(tables)})
                  ORDER BY held.id
                  FOR UPDATE OF held) locked"""
        )
        (in_returns,) = cursor.fetchone()
        cursor.execute(
            f"""SELECT count(*) FROM (
                  SELECT 1 FROM {tables["value"]} v
                  WHERE v.measure_id IN (SELECT measure_id FROM import_row)
                  FOR UPDATE OF v) locked"""
        )
        _check_against_stored(cursor, tables=tables, status=status, approve=approve)
        changes = (
            _changes_in_returns(cursor, tables=tables, status=status, approve=approve)
            if in_returns
            else {}
        )
        written = _write(
            cursor, tables=tables, status=status, approve=approve, user=user, reason=reason
        )
        cursor.execute("DROP TABLE import_staging, import_row")
        # Whatever else the caller's transaction does runs with its own settings.
        cursor.execute(
            "SELECT set_config('jit', %s, true), set_config('work_mem', %s, true)",
            [jit, work_mem],
        )
    created = sum(count for kind, _, count in written if kind == "+")
    updated = sum(count for kind, _, count in written if kind == "~")
    # Without --approve only drafts change, which readers of approved figures never see.
    recompute_mark({measure_id for _, measure_id, _ in written}, drafts_only=not approve)
    services.returns_record_import(changes=changes, actor=user, reason=reason)
    return ImportSummary(created=created, updated=updated, unchanged=rows - created - updated)


# A stored value v and a row r are for the same measure, area and period.
_KEY = (
    "v.measure_id = r.measure_id AND v.area_id = r.area_id AND v.start = r.start"
    ' AND v."end" = r."end"'
)


def _return_rows(tables: dict[str, str]) -> str:
    """Return a FROM clause of the rows r of the file that fall in a return ret, as
    returns.return_values says which stored values belong to a return: the months the
    figure covers fall due (plus the data lag; a release's at its end) in the reporting
    period's due window (returns.rows.due_span). Figures marked not available are left to
    the row-by-row import (_check_against_stored)."""
    lag = "make_interval(months => m.data_lag_months)"
    first = f"""(CASE WHEN m.frequency = '{Measure.Frequency.RELEASE}'
                 THEN r."end" ELSE r.start END + {lag})::date"""
    return f"""
    FROM {tables["return"]} ret
    JOIN {tables["reporting"]} rp ON rp.id = ret.reporting_period_id
    JOIN {tables["priority"]} p ON p.plan_id = rp.plan_id
    JOIN {tables["measure"]} m ON m.priority_id = p.id AND m.owner_id = ret.department_id
    JOIN import_row r ON r.measure_id = m.id AND r.area_id = rp.area_id
         AND rp.asks_from <= {first} AND (r."end" + {lag})::date <= rp."end"
    """


# Whether a stored value v differs from the row r in a field the import writes (_differences).
_CHANGED = (
    "(v.value <> r.value OR v.numerator IS DISTINCT FROM r.numerator"
    " OR v.denominator IS DISTINCT FROM r.denominator OR v.note <> r.note"
    " OR v.source <> r.source)"
)
# Whether the import writes row r over stored value v (values_import: not unchanged).
_WRITES = f"({_CHANGED} OR (%(approve)s AND v.status <> %(status)s))"


def figure_sql(text: str) -> str:
    """Return SQL for the figure the text expression `text` writes, NULL if it is not one.

    As `parse_figure`: the text matches FIGURE_RE (%(figure)s is FIGURE_PATTERN) and has a digit.
    The only texts FIGURE_RE matches without a digit are the six named here; and digits with
    at most one point always match it, which spares most cells the regular expression.
    Magnitude and decimal places are checked with the other rules (_ROW_OK).
    """
    return (
        f"CASE WHEN CASE WHEN translate({text}, '0123456789', '') IN ('', '.') "
        f"THEN {text} NOT IN ('', '.') "
        f"ELSE {text} ~ %(figure)s AND {text} NOT IN ('+', '-', '+.', '-.') END "
        f"THEN replace({text}, ',', '')::numeric END"
    )


def formula_sql(text: str) -> str:
    """Return SQL for whether a spreadsheet would take the text for a formula (is_formula):
    = or @ first (61, 64), or + or - first (43, 45) in anything but a plain number."""
    return (
        f"(ascii({text}) IN (61, 64) OR (ascii({text}) IN (43, 45) "
        f"AND length({text}) > 1 AND {text} !~ %(figure)s))"
    )


def _stage(cursor, plain: _PlainCsv, *, columns: dict[str, int], tables: dict[str, str]) -> None:
    """COPY the rows into import_staging, then read them into typed columns in import_row."""
    width = len(plain.header)
    cells = [f"c{i}" for i in range(width)]
    cursor.execute(
        "CREATE TEMP TABLE import_staging (n bigint GENERATED ALWAYS AS IDENTITY, "
        + ", ".join(f"{c} text" for c in cells)
        + ") ON COMMIT DROP"
    )
    with cursor.copy(
        f"COPY import_staging ({', '.join(cells)}) FROM STDIN WITH (FORMAT csv, ENCODING 'UTF8')"
    ) as copy:
        for offset in range(0, len(plain.body), 1 << 20):
            copy.write(plain.body[offset : offset + (1 << 20)])

    def stripped(column: str) -> str:
        # COPY reads an unquoted empty cell as NULL; csv reads it as "".
        if not plain.whitespace:
            return f"coalesce({column}, '')"
        return f"btrim(coalesce({column}, ''), %(whitespace)s)"

    # The periods written in the file, to be read by parse_period; and whether any cell is
    # longer than the csv module's field limit, which makes it refuse the file.
    period_cell = stripped(f"c{columns['period']}")
    long_cell = " OR ".join(f"octet_length({c}) > %(field_limit)s" for c in cells)
    cursor.execute(
        f"SELECT {period_cell}, bool_or({long_cell}) FROM import_staging GROUP BY 1",
        {"whitespace": plain.whitespace, "field_limit": csv.field_size_limit()},
    )
    period_texts = cursor.fetchall()
    if any(long for _, long in period_texts):
        raise _LeaveToRows
    periods: dict[str, tuple] = {}
    for text, _ in period_texts:
        try:
            period = parse_period(text)
        except PeriodError:
            continue  # its rows are not ok, and the row-by-row import says why
        periods[text] = (period.start.first_day, period.end.first_day)

    measures = list(
        Measure.objects.values_list("id", "code", "unit", "aggregation", "decimals", "source")
    )

    def tolerance(decimals: int) -> Decimal | None:
        # value_errors' tolerance for a ratio measure's value against numerator/denominator.
        if decimals > MAX_RATIO_DECIMALS:
            return None
        return Decimal(1).scaleb(-decimals) / 2 + Decimal("0.0001")

    def cell(name: str) -> str:
        return f"t.c{columns[name]}" if name in columns else "''"

    named = set(columns.values())
    all_cells = [f"t.c{i}" for i in range(width)]
    stray = [f"t.c{i} <> ''" for i in range(width) if i not in named] or ["false"]
    # OFFSET 0 keeps the stripped cells a subquery of their own, computed once per row
    # rather than once for every place the expressions below name them.
    cursor.execute(
        f"""
        CREATE TEMP TABLE import_row ON COMMIT DROP AS
        SELECT t.n,
               ({" OR ".join(formula_sql(c) for c in all_cells)}) AS formula,
               ({" OR ".join(stray)}) AS stray,
               rule.id AS measure_id, rule.unit, rule.aggregation, rule.tolerance,
               area.id AS area_id, period.start, period."end",
               {figure_sql(cell("value"))} AS value,
               {cell("numerator")} <> '' AS numerator_given,
               {figure_sql(cell("numerator"))} AS numerator,
               {cell("denominator")} <> '' AS denominator_given,
               {figure_sql(cell("denominator"))} AS denominator,
               {cell("note")} AS note,
               coalesce(nullif({cell("source")}, ''), rule.source) AS source
        FROM (
          SELECT n, {", ".join(f"{stripped(c)} AS {c}" for c in cells)}
          FROM import_staging OFFSET 0
        ) t
        LEFT JOIN unnest(%(ids)s::bigint[], %(codes)s::text[], %(units)s::text[],
                         %(aggregations)s::text[], %(tolerances)s::numeric[], %(sources)s::text[])
             AS rule(id, code, unit, aggregation, tolerance, source)
             ON rule.code = {cell("measure")}
        LEFT JOIN {tables["area"]} area ON area.code = {cell("area")}
        LEFT JOIN unnest(%(period_texts)s::text[], %(starts)s::date[], %(ends)s::date[])
             AS period(text, start, "end")
             ON period.text = {cell("period")}
        -- A line of empty cells is skipped, as the row-by-row import skips it.
        WHERE NOT ({" AND ".join(f"{c} = ''" for c in all_cells)})
        """,
        {
            "whitespace": plain.whitespace,
            "figure": FIGURE_PATTERN,
            "ids": [m[0] for m in measures],
            "codes": [m[1] for m in measures],
            "units": [m[2] for m in measures],
            "aggregations": [m[3] for m in measures],
            "tolerances": [tolerance(m[4]) for m in measures],
            "sources": [m[5] for m in measures],
            "period_texts": list(periods),
            "starts": [p[0] for p in periods.values()],
            "ends": [p[1] for p in periods.values()],
        },
    )
    cursor.execute("ANALYZE import_row")


# A row passes every check of _parse_value_row, parse_figure and value_errors. coalesce(…, false)
# because a check on a NULL (an unknown measure's unit) must count as failed, not unknown.
_ROW_OK = """coalesce(
    NOT formula AND NOT stray
    AND measure_id IS NOT NULL AND area_id IS NOT NULL AND start IS NOT NULL
    AND value IS NOT NULL
    AND numerator_given = (numerator IS NOT NULL)
    AND denominator_given = (denominator IS NOT NULL)
    AND numerator_given = denominator_given
    AND abs(value) < %(max)s AND value = trunc(value, %(decimals)s)
    AND (numerator IS NULL OR (
        abs(numerator) < %(max)s AND numerator = trunc(numerator, %(decimals)s)
        AND abs(denominator) < %(max)s AND denominator = trunc(denominator, %(decimals)s)
        AND numerator >= 0 AND denominator > 0 AND numerator <= denominator))
    AND NOT (unit = ANY(%(non_negative)s) AND value < 0)
    AND (unit <> 'count' OR value = trunc(value))
    AND (unit <> 'percent' OR value BETWEEN 0 AND 100)
    AND (aggregation <> 'ratio' OR numerator IS NULL OR (
        tolerance IS NOT NULL AND (
            abs(numerator * 100 - value * denominator) <= (tolerance - %(margin)s) * denominator
            OR abs(numerator * 100 - value * denominator) = tolerance * denominator)))
    AND length(source) <= %(source_max)s,
    false)"""


def _check_rows(cursor) -> int:
    """Return the number of rows; raise _LeaveToRows if a row is bad, or IntegrityError if
    two rows are for the same figure."""
    cursor.execute(
        f"""
        SELECT count(*), count(*) FILTER (WHERE NOT {_ROW_OK}) FROM import_row
        """,
        {
            "max": MAX_FIGURE,
            "decimals": FIGURE_DECIMALS,
            "non_negative": sorted(NON_NEGATIVE_UNITS),
            "margin": RATIO_MARGIN,
            "source_max": Value._meta.get_field("source").max_length,
        },
    )
    rows, bad = cursor.fetchone()
    if rows == 0 or bad:
        raise _LeaveToRows
    # Two rows for the same measure, area and period (however the period is written) are a
    # duplicate, which the index refuses (IntegrityError). It also serves the joins below.
    cursor.execute(
        'CREATE UNIQUE INDEX import_row_key ON import_row (measure_id, area_id, start, "end")'
    )
    return rows


def _check_against_stored(cursor, *, tables: dict[str, str], status: str, approve: bool) -> None:
    """Raise _LeaveToRows if the file changes an approved value, writes into a return that
    is under review or approved, or approves a figure of any return (values_import and
    _locked_rows)."""
    # With --approve every return locks: an approved one's figures cannot change, and any
    # other's cannot be approved before the return is.
    locking = list(Return.Status) if approve else [Return.Status.SUBMITTED, Return.Status.APPROVED]
    cursor.execute(
        f"""
        SELECT
          EXISTS (
            SELECT 1 FROM import_row r JOIN {tables["value"]} v ON {_KEY}
            WHERE v.status = %(approved)s AND {_CHANGED})
          OR EXISTS (SELECT 1 FROM import_row r JOIN {tables["unavailable"]} v ON {_KEY}),
          EXISTS (
            SELECT 1 {_return_rows(tables)}
            LEFT JOIN {tables["value"]} v ON {_KEY}
            WHERE ret.status = ANY(%(locking)s) AND (v.id IS NULL OR {_WRITES}))
        """,
        {
            "approved": Value.Status.APPROVED,
            "locking": [str(s) for s in locking],
            "status": status,
            "approve": approve,
        },
    )
    changes_approved, locked = cursor.fetchone()
    if changes_approved or locked:
        raise _LeaveToRows


def _changes_in_returns(
    cursor, *, tables: dict[str, str], status: str, approve: bool
) -> dict[int, list[dict]]:
    """Return, by return id, the changes the import is about to make to figures of returns
    (in file order), in the shape return events keep them: what values_import records."""
    fields = services.FIGURE_FIELDS
    cursor.execute(
        f"""
        SELECT ret.id, r.measure_id, r.start, r."end", v.id IS NOT NULL,
               {", ".join(f"v.{name}" for name in fields)},
               {", ".join(f"r.{name}" for name in fields)}
        {_return_rows(tables)}
        LEFT JOIN {tables["value"]} v ON {_KEY}
        WHERE v.id IS NULL OR {_WRITES}
        ORDER BY r.n, ret.id
        """,
        {"status": status, "approve": approve},
    )
    found = cursor.fetchall()
    measures = Measure.objects.in_bulk({row[1] for row in found})
    changes: dict[int, list[dict]] = {}
    for return_id, measure_id, start, end, existed, *figures in found:
        before = dict(zip(fields, figures[: len(fields)], strict=True)) if existed else None
        after = dict(zip(fields, figures[len(fields) :], strict=True))
        changes.setdefault(return_id, []).extend(
            services.figure_changes(
                measure=measures[measure_id],
                period=Value(start=start, end=end).period,
                before=before,
                after=after,
            )
        )
    return changes


def _write(
    cursor, *, tables: dict[str, str], status: str, approve: bool, user: Any, reason: str
) -> list[tuple[str, int, int]]:
    """Create and update the values and write their history rows in one statement; return
    (history type, measure id, count) for what was written.

    Created values come first in file order, then updated ones in file order, as the
    row-by-row import writes them (bulk_create_with_history, then bulk_update_with_history).
    """
    now = timezone.now()
    history_user = user or Value.history.model.get_default_history_user(Value())
    cursor.execute(
        f"""
        WITH created AS (
          INSERT INTO {tables["value"]} (measure_id, area_id, start, "end", value, numerator,
                      denominator, note, source, status, updated_at, updated_by_id)
          SELECT r.measure_id, r.area_id, r.start, r."end", r.value, r.numerator,
                 r.denominator, r.note, r.source, %(status)s, %(now)s, %(user)s::integer
          FROM import_row r
          WHERE NOT EXISTS (SELECT 1 FROM {tables["value"]} v WHERE {_KEY})
          ORDER BY r.n
          RETURNING *
        ), updated AS (
          UPDATE {tables["value"]} v
          SET value = r.value, numerator = r.numerator, denominator = r.denominator,
              note = r.note, source = r.source, status = %(status)s, updated_at = %(now)s,
              updated_by_id = %(user)s::integer
          FROM import_row r
          WHERE {_KEY} AND {_WRITES}
          RETURNING v.*, r.n
        ), history AS (
          INSERT INTO {tables["history"]} ({HISTORY_COLUMNS}, history_date,
                      history_change_reason, history_type, history_user_id)
          SELECT {HISTORY_COLUMNS}, %(now)s, %(reason)s, '+', %(history_user)s::integer
          FROM created
          UNION ALL
          (SELECT {HISTORY_COLUMNS}, %(now)s, %(reason)s, '~', %(history_user)s::integer
           FROM updated ORDER BY n)
        )
        SELECT '+', measure_id, count(*) FROM created GROUP BY measure_id
        UNION ALL
        SELECT '~', measure_id, count(*) FROM updated GROUP BY measure_id
        """,
        {
            "status": status,
            "approve": approve,
            "now": now,
            "user": user.pk if user else None,
            "history_user": history_user.pk if history_user else None,
            "reason": reason,
        },
    )
    return list(cursor.fetchall())
