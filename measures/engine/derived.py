"""The derived-figures engine (SPEC §6): recompute materialised figures, set-based.

A recompute of any number of measures reads their monthly values in one pass, computes
every derived figure of both scopes column-wise (`measures.engine.columns`: rolling twelve
months, financial year to date, the same windows a year earlier, changes, directions,
coverage, the comparison with the plan baseline, XmR limits and run signals), and writes
them in one transaction: straight into the table by `COPY` when it holds none of their
rows (a first run, a rebuild after a wipe), otherwise into a temporary table that one
statement merges into the table, writing only the rows that changed. Nothing is computed
one value at a time and nothing is formatted as text on the way: on PostgreSQL values are
read and figures written in COPY's binary format (`measures.engine.binary`).

The arithmetic is that of `measures.arithmetic.figures.figure_for` and, for the XmR columns,
`measures.arithmetic.spc.month_checks`; tests compare them column by column, on PostgreSQL
and SQLite (`tests/measures/test_engine_exactness.py`). It is exact: sums of whole numbers
of ten-thousandths, directions and limits decided by cross-multiplication, and each stored
quotient rounded once, half away from zero, to six decimal places.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import cast

import numpy as np
from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone
from psycopg.copy import QueuedLibpqWriter

from measures.engine.binary import HEADER, TRAILER, figures_copy_data, rows_read
from measures.engine.columns import (
    DIRECTIONS,
    OUT,
    SCALE,
    TRAILING_MONTHS,
    Figures,
    MeasureInfo,
    Values,
    figures_compute,
    signal_text,
)
from measures.models import DerivedFigure, Measure, Plan, Priority, SeriesBreak, Value

COLUMNS = (
    "measure_id, area_id, scope, month, month_index, value, r12_value, r12_numerator, "
    "r12_denominator, r12_months, r12_base_value, r12_base_months, r12_change, r12_change_pct, "
    "fytd_value, fytd_months, fytd_required, fytd_base_value, fytd_base_months, fytd_change, "
    "fytd_change_pct, value_approved, approved, spc_centre, spc_lower, spc_upper, spc_signals, "
    "r12_change_pp, r12_direction, fytd_change_pp, fytd_direction, plan_base_value, "
    "plan_base_months, plan_current_value, plan_current_months, plan_change, plan_change_pct, "
    "plan_change_pp, plan_direction, computed_at"
)
COLUMN_NAMES = [c.strip() for c in COLUMNS.split(",")]
# Each column's type in COPY's binary format, from the model.
KINDS = {
    "ForeignKey": "int8",
    "CharField": "text",
    "DateField": "date",
    "IntegerField": "int4",
    "DecimalField": "numeric",
    "PositiveSmallIntegerField": "int2",
    "BooleanField": "bool",
    "DateTimeField": "timestamptz",
}


def _month_index(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"(EXTRACT(YEAR FROM {column})::int * 12 + EXTRACT(MONTH FROM {column})::int - 1)"
    return (
        f"(CAST(strftime('%Y', {column}) AS INTEGER) * 12"
        f" + CAST(strftime('%m', {column}) AS INTEGER) - 1)"
    )


def _scaled(column: str) -> str:
    """A stored decimal as the whole number of ten-thousandths it is (0 when missing)."""
    if connection.vendor == "postgresql":
        return f"COALESCE(ROUND({column} * {SCALE})::int8, 0)"
    return f"COALESCE(CAST(ROUND({column} * {SCALE}) AS INTEGER), 0)"


Series = Mapping[int, Iterable[int]]  # areas of a measure, for single series of it


def _chosen(measure: str, area: str, ids: list[int] | None, series: Series | None) -> str:
    """The condition (`AND …`) for the rows of the whole measures `ids` (every measure when
    None) and of the single `series` of other measures: one index condition per measure, so
    the table's unique index (measure, area, …) finds them."""
    if ids is None:
        return ""
    parts = [f"{measure} IN ({','.join(str(int(i)) for i in ids)})"] if ids else []
    for m, areas in sorted((series or {}).items()):
        listed = ",".join(str(int(a)) for a in sorted(areas))
        parts.append(f"({measure} = {int(m)} AND {area} IN ({listed}))")
    return f"AND ({' OR '.join(parts) or 'FALSE'})"


def only_measures(column: str, ids: Iterable[int] | None) -> str:
    """The condition (`AND …`) for the rows of the measures `ids` (every measure when None)."""
    return _chosen(column, "", None if ids is None else list(ids), None)


VALUE_FIELDS = [
    ("measure", ">i8"),
    ("area", ">i8"),
    ("month", ">i4"),
    ("value", ">i8"),
    ("numerator", ">i8"),
    ("denominator", ">i8"),
    ("both_parts", "u1"),
    ("approved", "u1"),
]


def values_read(cursor, ids: list[int] | None, series: Series | None = None) -> Values:
    """The monthly values of the measures (all when None) and of the single series of
    others, in one pass."""
    sql = f"""
SELECT val.measure_id, val.area_id, {_month_index("val.start")}, {_scaled("val.value")},
       {_scaled("val.numerator")}, {_scaled("val.denominator")},
       (val.numerator IS NOT NULL AND val.denominator IS NOT NULL),
       (val.status = 'approved')
FROM {Value._meta.db_table} val
WHERE val.start = val."end" {_chosen("val.measure_id", "val.area_id", ids, series)}
"""
    if connection.vendor == "postgresql":
        with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)") as copy:
            data = b"".join(bytes(chunk) for chunk in copy)
        rows = rows_read(data, VALUE_FIELDS)
        columns = [rows[name] for name, _ in VALUE_FIELDS]
    else:
        cursor.execute(sql)
        fetched = cursor.fetchall()
        columns = (
            [np.array(c) for c in zip(*fetched, strict=True)]
            if fetched
            else [np.zeros(0)] * len(VALUE_FIELDS)
        )
    measure, area, month, value, numerator, denominator = (c.astype(np.int64) for c in columns[:6])
    return Values(
        measure=measure,
        area=area,
        month=month,
        value=value,
        numerator=numerator,
        denominator=denominator,
        both_parts=columns[6].astype(bool),
        approved=columns[7].astype(bool),
    )


@dataclass
class Inputs:
    """What a recompute reads before its values, in one query after its lock."""

    measures: dict[int, MeasureInfo]
    holds_rows: bool  # the table holds rows of these measures (any rows, for every measure)
    nestloop: str  # the planner's setting, put back after the merge


def inputs_read(cursor, ids: list[int] | None) -> Inputs:
    """What the arithmetic needs of each measure — aggregation, polarity, unit, the plan's
    baseline and the breaks in its series — with whether the table already holds rows of
    them (if not, the figures are copied straight in) and the planner's nested-loop
    setting: one query, read after the recompute's lock."""
    table = DerivedFigure._meta.db_table
    postgres = connection.vendor == "postgresql"
    nestloop = "current_setting('enable_nestloop')" if postgres else "'on'"
    cursor.execute(
        f"""
SELECT m.id, m.aggregation, m.polarity, m.unit, {_month_index("pl.baseline_start")},
       {_month_index("pl.baseline_end")}, {_month_index("sb.start")},
       (SELECT EXISTS (SELECT 1 FROM {table} WHERE TRUE {only_measures("measure_id", ids)})),
       {nestloop}
FROM {Measure._meta.db_table} m
JOIN {Priority._meta.db_table} pr ON pr.id = m.priority_id
JOIN {Plan._meta.db_table} pl ON pl.id = pr.plan_id
LEFT JOIN {SeriesBreak._meta.db_table} sb ON sb.measure_id = m.id
WHERE TRUE {only_measures("m.id", ids)}
"""
    )
    inputs = Inputs({}, True, "on")
    for pk, aggregation, polarity, unit, bs, be, break_month, holds, setting in cursor.fetchall():
        inputs.holds_rows, inputs.nestloop = bool(holds), setting
        info = inputs.measures.setdefault(
            pk,
            MeasureInfo(
                aggregation, polarity, unit, None if bs is None or be is None else (bs, be)
            ),
        )
        if break_month is not None:
            info.breaks.append(break_month)
    return inputs


def figures_of(values: Values, measures: dict[int, MeasureInfo]) -> Iterator[tuple[str, Figures]]:
    """Both scopes' figures — every value, and the approved values only — batch by batch of
    whole measures, about `BATCH_VALUES` values at a time.

    A series' figures depend on its own values only, so batches change no figure; they keep
    each computation's arrays small enough to stay in the processor's caches (one pass over
    1.6 million values at once is three times slower than sixteen passes over a tenth of
    them), and let the figures of one batch be written while the next is computed.
    """
    ids = np.fromiter(measures, dtype=np.int64, count=len(measures))
    values = values.subset(np.isin(values.measure, ids))
    values = values.subset(np.argsort(values.measure, kind="stable"))
    firsts = np.flatnonzero(np.r_[True, values.measure[1:] != values.measure[:-1]])
    lo, count = 0, len(values)
    while lo < count:
        after = int(np.searchsorted(firsts, lo + BATCH_VALUES))
        hi = int(firsts[after]) if after < len(firsts) else count
        batch = values.subset(slice(lo, hi))
        yield DerivedFigure.Scope.ALL, figures_compute(batch, measures)
        yield DerivedFigure.Scope.APPROVED, figures_compute(batch.subset(batch.approved), measures)
        lo = hi


BATCH_VALUES = 100_000  # values computed at a time (figures_of)
KEY = ("measure_id", "area_id", "scope", "month_index")
ANALYSE_FROM_ROWS = 100_000  # staged rows worth statistics before the merge is planned
STAGING = "fresh_derived"


def merge_sql(measure_ids: list[int] | None, series: Series | None = None) -> str:
    """Return the PostgreSQL statement that merges the staged figures into the table.

    The difference is found by one full join of the staged rows with the table's rows of the
    measures: rows only in the table are deleted, rows whose figures differ are updated and
    rows only staged are inserted, each written by its primary key. A full join cannot be
    run as a nested loop, and the statement never reads the table it inserts into, so no
    plan re-reads a table growing under it, whatever its statistics say.
    """
    table = DerivedFigure._meta.db_table
    columns = [c.strip() for c in COLUMNS.split(",")]
    figures = [c for c in columns if c not in (*KEY, "computed_at")]
    # The measures' and series' rows only, on every side: a recompute of one measure reads
    # that measure's rows through the table's unique index (measure first), not the table.
    only = "WHERE TRUE " + _chosen("measure_id", "area_id", measure_ids, series)
    theirs = _chosen(f"{table}.measure_id", f"{table}.area_id", measure_ids, series)
    same_row = " AND ".join(f"f.{k} = t.{k}" for k in KEY)
    changed = (
        f"({', '.join(f't.{c}' for c in figures)}) IS DISTINCT FROM "
        f"({', '.join(f'f.{c}' for c in figures)})"
    )
    return f"""
WITH diff AS MATERIALIZED (
    SELECT t.id AS target_id, f.measure_id IS NULL AS gone, {", ".join(f"f.{c}" for c in columns)}
    FROM {STAGING} f
    FULL JOIN (SELECT * FROM {table} {only}) t ON {same_row}
    WHERE t.id IS NULL OR f.measure_id IS NULL OR {changed}
),
deleted AS (
    DELETE FROM {table} WHERE id IN (SELECT target_id FROM diff WHERE gone) {theirs}
),
updated AS (
    UPDATE {table} SET {", ".join(f"{c} = diff.{c}" for c in (*figures, "computed_at"))}
    FROM diff WHERE {table}.id = diff.target_id AND NOT diff.gone {theirs}
)
INSERT INTO {table} ({COLUMNS}) SELECT {COLUMNS} FROM diff WHERE target_id IS NULL
"""


def recompute(measure_ids: Iterable[int] | None = None, *, series: Series | None = None) -> int:
    """Recompute the derived figures of the measures (all when None), and of the single
    `series` of other measures ({measure: areas}); return rows computed.

    The figures are written in one transaction: straight into the table when it holds none
    of the measures' rows (and, for every measure, no rows at all), otherwise into a
    temporary table that is merged in — rows whose figures changed are updated, new rows
    inserted and rows that no longer exist deleted. Rows whose figures did not change are
    not written at all, so a recompute of unchanged data costs little more than computing
    it, readers never see a half-written table, and the table does not fill with dead rows.

    Idempotent: running it twice, or twice at once, leaves the same rows (the second waits
    on the first's lock and then finds nothing to change).
    """
    whole = None if measure_ids is None else sorted({int(i) for i in measure_ids})
    partial = (
        {}
        if whole is None
        else {int(m): set(a) for m, a in (series or {}).items() if int(m) not in whole and a}
    )
    ids = None if whole is None else sorted({*whole, *partial})
    now = timezone.now()
    table = DerivedFigure._meta.db_table
    postgres = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            # Serialise recomputes of overlapping measures: concurrent merges of the same
            # rows would otherwise both insert them, violating the unique constraint.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('pcp-recompute'))")
        inputs = inputs_read(cursor, ids)
        fresh = figures_of(values_read(cursor, whole, partial), inputs.measures)
        if postgres and not inputs.holds_rows:
            # Nothing to merge with (a first run, a rebuild after a wipe): straight in.
            return figures_copy(cursor, table, fresh, now)
        cursor.execute(f"CREATE TEMP TABLE {STAGING} AS SELECT {COLUMNS} FROM {table} WHERE 1 = 0")
        if postgres:
            computed = figures_copy(cursor, STAGING, fresh, now)
            _merge_postgresql(cursor, merge_sql(whole, partial), inputs.nestloop, computed)
        else:
            computed = _insert_sqlite(cursor, fresh, now)
            _merge_sqlite(cursor, whole, partial)
            cursor.execute(f"DROP TABLE {STAGING}")
    return computed


def _field_type(column: str) -> str:
    field = DerivedFigure._meta.get_field(column.removesuffix("_id"))
    return cast(Field, field).get_internal_type()


def figures_copy(
    cursor, table: str, fresh: Iterable[tuple[str, Figures]], now: datetime.datetime
) -> int:
    """COPY the figures into `table` in binary format; return the rows written.

    The data goes to the server from a second thread (psycopg's queued writer), so the
    server stores one batch while this thread computes and encodes the next.
    """
    kinds = [(name, KINDS[_field_type(name)]) for name in COLUMN_NAMES]
    epoch = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    computed_at_us = (now - epoch) // datetime.timedelta(microseconds=1)
    rows = 0
    sql = f"COPY {table} ({COLUMNS}) FROM STDIN (FORMAT binary)"
    raw = getattr(cursor, "cursor", cursor)  # psycopg's own cursor under Django's wrapper
    # Logged as Django's own `copy` logs it (its wrapper takes no writer).
    debug = getattr(cursor, "debug_sql", None)
    with debug(sql) if debug else contextlib.nullcontext():
        started = raw.copy(sql, writer=QueuedLibpqWriter(raw))
    with started as copy:
        copy.write(HEADER)
        for scope, figures in fresh:
            rows += len(figures)
            for chunk in figures_copy_data(
                figures, columns=kinds, scope=scope, computed_at_us=computed_at_us
            ):
                copy.write(chunk)
        copy.write(TRAILER)
    return rows


def _insert_sqlite(cursor, fresh: Iterable[tuple[str, Figures]], now: datetime.datetime) -> int:
    """Insert the figures into the staging table (SQLite: small data, row by row); return
    the rows inserted."""
    kinds = {name: _field_type(name) for name in COLUMN_NAMES}
    rows: list[tuple] = []
    for scope, figures in fresh:
        count = len(figures)
        if not count:
            continue
        columns: list[list] = []
        for name in COLUMN_NAMES:
            if name == "measure_id":
                columns.append(figures.measure.tolist())
            elif name == "area_id":
                columns.append(figures.area.tolist())
            elif name == "scope":
                columns.append([str(scope)] * count)
            elif name == "month":
                columns.append(
                    [f"{m // 12:04d}-{m % 12 + 1:02d}-01" for m in figures.month.tolist()]
                )
            elif name == "month_index":
                columns.append(figures.month.tolist())
            elif name == "computed_at":
                columns.append([now.isoformat()] * count)
            else:
                values, mask = figures.columns[name]
                kind = kinds[name]
                if kind == "DecimalField":
                    shown = [v / OUT for v in values.tolist()]
                elif kind == "BooleanField":
                    shown = [bool(v) for v in values.tolist()]
                elif name == "spc_signals":
                    shown = [signal_text(v) for v in values.tolist()]
                elif name.endswith("direction"):
                    shown = [DIRECTIONS[v] for v in values.tolist()]
                else:
                    shown = [int(v) for v in values.tolist()]
                if mask is not None:
                    shown = [v if m else None for v, m in zip(shown, mask.tolist(), strict=True)]
                columns.append(shown)
        rows += zip(*columns, strict=True)
    placeholders = ", ".join(["%s"] * len(COLUMN_NAMES))
    cursor.executemany(f"INSERT INTO {STAGING} ({COLUMNS}) VALUES ({placeholders})", rows)
    return len(rows)


def _merge_postgresql(cursor, merge: str, nestloop: str, staged: int) -> None:
    # Statistics for the staged rows (the planner would otherwise guess from its pages), and
    # no nested loop for the merge: with statistics saying the table is empty (analysed
    # right after `migrate`, or after a wipe), a nested loop looks cheapest and would scan
    # the whole table once per row. The full join never is one; forbidding them keeps the
    # deletes' and updates' joins by primary key hashed or merged too. The setting is
    # local to the transaction and put back afterwards, for whatever the caller runs next.
    # The staging table is dropped now, not at commit: a recompute inside a longer
    # transaction (a test, an in-process task) may be followed by another. On an error the
    # rollback removes it.
    setting = "on" if nestloop == "on" else "off"
    # A few measures' rows (an approval's recompute) are planned well enough from the
    # table's size, and analysing them would cost more than the merge itself.
    analyse = f"ANALYZE {STAGING}; " if staged >= ANALYSE_FROM_ROWS else ""
    cursor.execute(f"{analyse}SET LOCAL enable_nestloop = off")
    cursor.execute(merge)
    cursor.execute(f"SET LOCAL enable_nestloop = {setting}; DROP TABLE {STAGING}")


def _merge_sqlite(cursor, ids: list[int] | None, series: Series | None) -> None:
    table = DerivedFigure._meta.db_table
    columns = [c.strip() for c in COLUMNS.split(",")]
    figures = [c for c in columns if c not in (*KEY, "computed_at")]
    same_row = " AND ".join(f"f.{k} = {table}.{k}" for k in KEY)
    only = _chosen(f"{table}.measure_id", f"{table}.area_id", ids, series)
    # SQLite joins by nested loops: give it the key to look staged rows up by (the table's
    # own rows are looked up by its unique index).
    cursor.execute(f"CREATE INDEX {STAGING}_key ON {STAGING} ({', '.join(KEY)})")
    cursor.execute(
        f"DELETE FROM {table} WHERE TRUE {only} AND NOT EXISTS "
        f"(SELECT 1 FROM {STAGING} f WHERE {same_row})"
    )
    # New rows inserted, changed rows updated (SQLite's upsert on the table's unique key).
    cursor.execute(
        f"INSERT INTO {table} ({COLUMNS}) SELECT {COLUMNS} FROM {STAGING} f WHERE TRUE "
        f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in (*figures, "computed_at"))
        + " WHERE "
        + " OR ".join(f"{table}.{c} IS NOT excluded.{c}" for c in figures)
    )


__all__ = [
    "TRAILING_MONTHS",
    "figures_copy",
    "figures_of",
    "inputs_read",
    "merge_sql",
    "only_measures",
    "recompute",
    "values_read",
]
