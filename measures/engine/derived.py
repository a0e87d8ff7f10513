"""The derived-figures engine (SPEC §6): recompute materialised figures set-based, in SQL.

A recompute of any number of measures is a handful of statements: one `INSERT … SELECT`
per scope that computes every month's rolling twelve months, financial year to date, the
same windows a year earlier, changes, directions, coverage, the comparison with the plan
baseline and XmR limits and run signals with window functions, then a merge of the result
into the table. Nothing is computed one value at a time, so the cost is the
database's own. The arithmetic is that of `measures.arithmetic.figures` and, for the XmR
columns, `measures.arithmetic.spc.month_checks` (tests compare them).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from measures.arithmetic.spc import (
    HISTORY_MONTHS,
    MIN_POINTS,
    RUN_LENGTH,
    TREND_LENGTH,
    XMR_CONSTANT,
)
from measures.models import DerivedFigure, SeriesBreak

TRAILING_MONTHS = 11  # rows kept after a series' last value: where 12-month windows still hold it

COLUMNS = (
    "measure_id, area_id, scope, month, month_index, value, r12_value, r12_numerator, "
    "r12_denominator, r12_months, r12_base_value, r12_base_months, r12_change, r12_change_pct, "
    "fytd_value, fytd_months, fytd_required, fytd_base_value, fytd_base_months, fytd_change, "
    "fytd_change_pct, value_approved, approved, spc_centre, spc_lower, spc_upper, spc_signals, "
    "r12_change_pp, r12_direction, fytd_change_pp, fytd_direction, plan_base_value, "
    "plan_base_months, plan_current_value, plan_current_months, plan_change, plan_change_pct, "
    "plan_change_pp, plan_direction, computed_at"
)


def _dialect() -> dict[str, str]:
    if connection.vendor == "postgresql":
        return {
            "month_index": "(EXTRACT(YEAR FROM {0})::int * 12 + EXTRACT(MONTH FROM {0})::int - 1)",
            "month_date": "make_date(({0}) / 12, ({0}) % 12 + 1, 1)",
            "sign": "sign({0})",
            "greatest": "GREATEST({0}, {1})",
            "least": "LEAST({0}, {1})",
        }
    return {
        "month_index": (
            "(CAST(strftime('%Y', {0}) AS INTEGER) * 12"
            " + CAST(strftime('%m', {0}) AS INTEGER) - 1)"
        ),
        "month_date": "printf('%04d-%02d-01', ({0}) / 12, ({0}) % 12 + 1)",
        "sign": "(CASE WHEN {0} > 0 THEN 1 WHEN {0} < 0 THEN -1 ELSE 0 END)",
        # SQLite's MAX and MIN of several arguments are its GREATEST and LEAST.
        "greatest": "MAX({0}, {1})",
        "least": "MIN({0}, {1})",
    }


def derived_select_sql(*, scope: str, measure_filter: str = "") -> str:
    """Return the SELECT computing every derived figure of the values in `scope`.

    `measure_filter` is an SQL condition on the value row `val` (already parameter-free).
    The text is ready for `cursor.execute(sql, [computed_at])`: literal percent signs are
    doubled and `{now}` has become the one parameter.
    """
    d = _dialect()
    month_index = d["month_index"].format("val.start")
    break_index = d["month_index"].format("sb.start")
    breaks_table = SeriesBreak._meta.db_table
    lower = d["greatest"].format(f"spc_mean - {XMR_CONSTANT} * spc_mean_range", "0")
    upper = f"spc_mean + {XMR_CONSTANT} * spc_mean_range"
    capped_upper = d["least"].format(upper, "100")
    enough = f"spc_n >= {MIN_POINTS} AND spc_mean_range IS NOT NULL"
    baseline_start = d["month_index"].format("pl.baseline_start")
    baseline_end = d["month_index"].format("pl.baseline_end")
    plan_length = "COALESCE(s.be - s.bs + 1, 1)"
    approved_only = "AND val.status = 'approved'" if scope == DerivedFigure.Scope.APPROVED else ""
    sign_vs_centre = d["sign"].format("s.value - s.spc_centre")
    step = d["sign"].format("s.value - s.previous_value")
    signals = " || ".join(
        [
            "CASE WHEN s.value < s.spc_lower OR s.value > s.spc_upper "
            "THEN 'beyond_limits,' ELSE '' END",
            f"CASE WHEN s.side = 1 AND s.run_length >= {RUN_LENGTH} THEN 'run_above,' ELSE '' END",
            f"CASE WHEN s.side = -1 AND s.run_length >= {RUN_LENGTH} "
            "THEN 'run_below,' ELSE '' END",
            # A trend of six points is five steps the same way.
            f"CASE WHEN s.trend_step = 1 AND s.trend_length >= {TREND_LENGTH - 1} "
            "THEN 'trend_up,' ELSE '' END",
            f"CASE WHEN s.trend_step = -1 AND s.trend_length >= {TREND_LENGTH - 1} "
            "THEN 'trend_down,' ELSE '' END",
        ]
    )
    return f"""
WITH RECURSIVE v AS (
    SELECT val.measure_id, val.area_id, {month_index} AS mi, val.value, val.numerator,
           val.denominator, CASE WHEN val.status = 'approved' THEN 1 ELSE 0 END AS ok,
           m.aggregation AS agg, m.polarity AS pol, m.unit,
           {baseline_start} AS bs, {baseline_end} AS be
    FROM measures_value val JOIN measures_measure m ON m.id = val.measure_id
    JOIN measures_priority pr ON pr.id = m.priority_id
    JOIN measures_plan pl ON pl.id = pr.plan_id
    WHERE val.start = val."end" {approved_only} {measure_filter}
),
bounds AS (
    SELECT measure_id, area_id, MIN(mi) AS lo, MAX(mi) AS hi, MIN(agg) AS agg,
           MIN(pol) AS pol, MIN(unit) AS unit, MIN(bs) AS bs, MIN(be) AS be
    FROM v GROUP BY measure_id, area_id
),
-- Breaks in series (spc.segments): a month at which a measure's control limits start afresh.
breaks AS (
    SELECT sb.measure_id, {break_index} AS mi FROM {breaks_table} sb
),
months (mi) AS (
    SELECT MIN(lo) FROM bounds
    UNION ALL
    SELECT mi + 1 FROM months WHERE mi < (SELECT MAX(hi) FROM bounds) + {TRAILING_MONTHS}
),
-- Every month from a series' first value to eleven months after its last, so that every
-- window of up to twelve months holding a value ends on a row: windows ending in a gap, or
-- after the series stops, have their figures (partial, as in figures.figure_for).
-- Built by grouping rather than joining, so no plan can turn it into a nested loop.
c AS (
    SELECT measure_id, area_id, mi, MIN(agg) AS agg, MAX(value) AS value,
           MAX(numerator) AS numerator, MAX(denominator) AS denominator, MAX(ok) AS ok,
           MIN(pol) AS pol, MIN(unit) AS unit, MIN(bs) AS bs, MIN(be) AS be
    FROM (
        SELECT measure_id, area_id, mi, agg, value, numerator, denominator, ok, pol, unit, bs, be
        FROM v
        UNION ALL
        SELECT b.measure_id, b.area_id, months.mi, b.agg, NULL, NULL, NULL, NULL, b.pol, b.unit,
               b.bs, b.be
        FROM bounds b JOIN months ON months.mi BETWEEN b.lo AND b.hi + {TRAILING_MONTHS}
    ) AS every_month
    GROUP BY measure_id, area_id, mi
),
-- Which segment between breaks in series each month is in: the breaks at or before it.
cs AS (
    SELECT c.*,
        SUM(CASE WHEN br.mi IS NULL THEN 0 ELSE 1 END) OVER (
            PARTITION BY c.measure_id, c.area_id ORDER BY c.mi
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS segment
    FROM c LEFT JOIN breaks br ON br.measure_id = c.measure_id AND br.mi = c.mi
),
-- The plan's baseline window, one figure per series (the same rules as figures.figure_for).
base_months AS (
    SELECT measure_id, area_id, SUM(value) AS b_sum, SUM(numerator) AS b_num,
           SUM(denominator) AS b_den, COUNT(value) AS b_n,
           MAX(CASE WHEN value IS NOT NULL THEN mi END) AS b_last
    FROM c WHERE mi BETWEEN bs AND be
    GROUP BY measure_id, area_id
),
base AS (
    SELECT bm.measure_id, bm.area_id, bm.b_n,
        CASE c.agg WHEN 'sum' THEN bm.b_sum
                   WHEN 'mean' THEN bm.b_sum * 1.0 / NULLIF(bm.b_n, 0)
                   WHEN 'latest' THEN c.value
                   WHEN 'ratio' THEN CASE WHEN c.be = c.bs THEN c.value
                                          ELSE bm.b_num * 100.0 / NULLIF(bm.b_den, 0) END
                   END AS b_value
    FROM base_months bm
    LEFT JOIN c ON c.measure_id = bm.measure_id AND c.area_id = bm.area_id AND c.mi = bm.b_last
),
w AS (
    SELECT cs.*,
        SUM(value) OVER r12 AS r12_sum, AVG(value) OVER r12 AS r12_mean,
        SUM(numerator) OVER r12 AS r12_num, SUM(denominator) OVER r12 AS r12_den,
        COUNT(value) OVER r12 AS r12_n, COALESCE(MIN(ok) OVER r12, 1) AS r12_ok,
        SUM(value) OVER fy AS fy_sum, AVG(value) OVER fy AS fy_mean,
        SUM(numerator) OVER fy AS fy_num, SUM(denominator) OVER fy AS fy_den,
        COUNT(value) OVER fy AS fy_n, COALESCE(MIN(ok) OVER fy, 1) AS fy_ok,
        COUNT(value) OVER series AS carry_group,
        SUM(value) OVER cum AS cum_sum, SUM(numerator) OVER cum AS cum_num,
        SUM(denominator) OVER cum AS cum_den, COUNT(value) OVER cum AS cum_n,
        LAG(value) OVER phase AS previous_value,
        ABS(value - LAG(value) OVER phase) AS moving_range
    FROM cs
    WINDOW series AS (PARTITION BY measure_id, area_id ORDER BY mi),
        phase AS (PARTITION BY measure_id, area_id, segment ORDER BY mi),
        cum AS (PARTITION BY measure_id, area_id ORDER BY mi
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
        r12 AS (PARTITION BY measure_id, area_id ORDER BY mi
                RANGE BETWEEN 11 PRECEDING AND CURRENT ROW),
        fy AS (PARTITION BY measure_id, area_id, (mi - 3) / 12 ORDER BY mi
               RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
latest AS (
    -- The latest value in a window is the last value carried forward to its end month:
    -- the window has one exactly when it has any value at all.
    SELECT w.*,
        FIRST_VALUE(value) OVER (PARTITION BY measure_id, area_id, carry_group ORDER BY mi)
            AS carried
    FROM w
),
f AS (
    SELECT measure_id, area_id, mi, value, ok, previous_value, agg, pol, unit, bs, be, carried,
        segment, cum_sum, cum_num, cum_den, cum_n,
        CASE agg WHEN 'sum' THEN r12_sum WHEN 'mean' THEN r12_mean
                 WHEN 'latest' THEN CASE WHEN r12_n > 0 THEN carried END
                 WHEN 'ratio' THEN r12_num * 100.0 / NULLIF(r12_den, 0) END AS r12,
        r12_num, r12_den, r12_n, r12_ok,
        -- April's year to date is one month: its stored value, as figures.figure_for does.
        CASE agg WHEN 'sum' THEN fy_sum WHEN 'mean' THEN fy_mean
                 WHEN 'latest' THEN CASE WHEN fy_n > 0 THEN carried END
                 WHEN 'ratio' THEN CASE WHEN mi % 12 = 3 THEN value
                                        ELSE fy_num * 100.0 / NULLIF(fy_den, 0) END
                 END AS fy,
        fy_n, fy_ok, mi - ((mi - 3) / 12) * 12 - 2 AS fy_required,
        -- In floating point: limits are a guide, and numeric sliding averages can degrade to
        -- re-aggregating the frame for every row.
        AVG(CAST(value AS double precision)) OVER history AS spc_mean,
        AVG(CAST(moving_range AS double precision)) OVER history AS spc_mean_range,
        COUNT(value) OVER history AS spc_n
    FROM latest
    WINDOW history AS (PARTITION BY measure_id, area_id, segment ORDER BY mi
                       ROWS BETWEEN {HISTORY_MONTHS} PRECEDING AND 1 PRECEDING)
),
-- Limits from enough history only, held within what the figure can take (spc.unit_bounds):
-- never below zero, a percentage never over 100.
l AS (
    SELECT f.*,
        CASE WHEN {enough} THEN spc_mean END AS spc_centre,
        CASE WHEN {enough} THEN {lower} END AS spc_lower,
        CASE WHEN {enough} THEN
            CASE WHEN unit = 'percent' THEN {capped_upper} ELSE {upper} END
        END AS spc_upper
    FROM f
),
sides AS (
    SELECT l.*,
        {sign_vs_centre.replace("s.", "l.")} AS side,
        {step.replace("s.", "l.")} AS trend_step
    FROM l
),
islands AS (
    SELECT sides.*,
        ROW_NUMBER() OVER (PARTITION BY measure_id, area_id, segment ORDER BY mi)
          - ROW_NUMBER() OVER (PARTITION BY measure_id, area_id, segment, side ORDER BY mi)
          AS side_group,
        ROW_NUMBER() OVER (PARTITION BY measure_id, area_id, segment ORDER BY mi)
          - ROW_NUMBER() OVER (PARTITION BY measure_id, area_id, segment, trend_step ORDER BY mi)
          AS trend_group
    FROM sides
),
-- Runs and trends restart at a break in series: islands never cross segments.
s AS (
    SELECT islands.*,
        COUNT(*) OVER (PARTITION BY measure_id, area_id, segment, side, side_group)
          AS run_length,
        COUNT(*) OVER (PARTITION BY measure_id, area_id, segment, trend_step, trend_group)
          AS trend_length
    FROM islands
)
SELECT s.measure_id, s.area_id, '{scope}', {d["month_date"].format("s.mi")}, s.mi, s.value,
    s.r12, s.r12_num, s.r12_den, s.r12_n, s.p_r12, s.p_r12_n, s.r12 - s.p_r12,
    (s.r12 - s.p_r12) * 100.0 / NULLIF(s.p_r12, 0),
    s.fy, s.fy_n, s.fy_required, s.p_fy, s.p_fy_n, s.fy - s.p_fy,
    (s.fy - s.p_fy) * 100.0 / NULLIF(s.p_fy, 0),
    CASE WHEN s.value IS NOT NULL THEN s.ok = 1 END, (s.r12_ok = 1 AND s.fy_ok = 1),
    s.spc_centre, s.spc_lower, s.spc_upper,
    rtrim({signals}, ','),
    {_points("s.r12 - s.p_r12")}, {_direction("s.r12 - s.p_r12")},
    {_points("s.fy - s.p_fy")}, {_direction("s.fy - s.p_fy")},
    b.b_value, CASE WHEN s.bs IS NOT NULL THEN COALESCE(b.b_n, 0) END,
    s.plan_value, s.plan_n, s.plan_value - b.b_value,
    (s.plan_value - b.b_value) * 100.0 / NULLIF(b.b_value, 0),
    {_points("s.plan_value - b.b_value")}, {_direction("s.plan_value - b.b_value")},
    {{now}}
FROM (
    -- The window of the plan baseline's length ending with each month, from running totals.
    SELECT t.*,
        CASE WHEN t.bs IS NOT NULL THEN t.cum_n - COALESCE(t.q_n, 0) END AS plan_n,
        CASE WHEN t.bs IS NOT NULL AND t.cum_n - COALESCE(t.q_n, 0) > 0 THEN
            CASE t.agg
                WHEN 'sum' THEN t.cum_sum - COALESCE(t.q_sum, 0)
                WHEN 'mean' THEN (t.cum_sum - COALESCE(t.q_sum, 0)) * 1.0
                                 / (t.cum_n - COALESCE(t.q_n, 0))
                WHEN 'latest' THEN t.carried
                WHEN 'ratio' THEN CASE WHEN t.be = t.bs THEN t.value
                    ELSE (t.cum_num - COALESCE(t.q_num, 0)) * 100.0
                         / NULLIF(t.cum_den - COALESCE(t.q_den, 0), 0) END
            END
        END AS plan_value
    FROM (
        -- Every month of a series has a row, so the row n before is the month n before:
        -- a year earlier, and the plan baseline's length earlier, without a self-join.
        SELECT s.*,
            LAG(s.r12, 12) OVER back AS p_r12, LAG(s.r12_n, 12) OVER back AS p_r12_n,
            LAG(s.fy, 12) OVER back AS p_fy, LAG(s.fy_n, 12) OVER back AS p_fy_n,
            LAG(s.cum_sum, {plan_length}) OVER back AS q_sum,
            LAG(s.cum_num, {plan_length}) OVER back AS q_num,
            LAG(s.cum_den, {plan_length}) OVER back AS q_den,
            LAG(s.cum_n, {plan_length}) OVER back AS q_n
        FROM s
        WINDOW back AS (PARTITION BY s.measure_id, s.area_id ORDER BY s.mi)
    ) t
) s
LEFT JOIN base b ON b.measure_id = s.measure_id AND b.area_id = s.area_id
""".replace("%", "%%").replace("{now}", "%s")


def _points(change: str) -> str:
    """SQL for a change in percentage points: the change itself, for percent measures."""
    return f"CASE WHEN s.unit = 'percent' THEN {change} END"


def _direction(change: str) -> str:
    """SQL for `figures.direction` of a change, by the measure's polarity (`s.pol`)."""
    return (
        f"CASE WHEN {change} IS NULL THEN NULL WHEN {change} = 0 THEN 'no_change' "
        f"WHEN s.pol = 'neutral' THEN CASE WHEN {change} > 0 THEN 'up' ELSE 'down' END "
        f"WHEN (s.pol = 'lower_is_better') = ({change} < 0) THEN 'improving' "
        "ELSE 'worsening' END"
    )


def _measure_filter(measure_ids: list[int] | None) -> str:
    if measure_ids is None:
        return ""
    ids = ",".join(str(int(i)) for i in measure_ids) or "NULL"
    return f"AND val.measure_id IN ({ids})"


KEY = ("measure_id", "area_id", "scope", "month_index")


def recompute(measure_ids: Iterable[int] | None = None) -> int:
    """Recompute the derived figures of the measures (all when None); return rows computed.

    The figures are computed into a temporary table, then merged: rows whose figures
    changed are updated, new rows inserted and rows that no longer exist deleted, all in one
    transaction. Rows whose figures did not change are not written at all, so a nightly
    recompute of unchanged data costs little more than computing it, readers never see a
    half-written table, and the table does not fill with dead rows.

    Idempotent: running it twice, or twice at once, leaves the same rows (the second waits
    on the first's lock and then finds nothing to change).
    """
    ids = None if measure_ids is None else sorted({int(i) for i in measure_ids})
    now = timezone.now()
    table = DerivedFigure._meta.db_table
    postgres = connection.vendor == "postgresql"
    columns = [c.strip() for c in COLUMNS.split(",")]
    figures = [c for c in columns if c not in (*KEY, "computed_at")]
    same_row = " AND ".join(f"f.{k} = {table}.{k}" for k in KEY)
    if postgres:
        changed = (
            f"({', '.join(f'{table}.{c}' for c in figures)}) IS DISTINCT FROM "
            f"({', '.join(f'f.{c}' for c in figures)})"
        )
    else:
        changed = " OR ".join(f"{table}.{c} IS NOT f.{c}" for c in figures)
    only = (
        "" if ids is None else f"AND {table}.measure_id IN ({','.join(map(str, ids)) or 'NULL'})"
    )
    computed = 0
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            # Serialise recomputes of overlapping measures: concurrent merges of the same
            # rows would otherwise both insert them, violating the unique constraint.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('pcp-recompute'))")
        cursor.execute(
            f"CREATE TEMP TABLE fresh_derived AS SELECT {COLUMNS} FROM {table} WHERE 1 = 0"
        )
        selects = [
            derived_select_sql(scope=scope, measure_filter=_measure_filter(ids))
            for scope in DerivedFigure.Scope.values
        ]
        # One statement for both scopes where the database allows parenthesised parts
        # (each SELECT takes one parameter, the time of computing).
        statements = (
            [(" UNION ALL ".join(f"({sql})" for sql in selects), len(selects))]
            if postgres
            else [(sql, 1) for sql in selects]
        )
        for sql, parameters in statements:
            cursor.execute(f"INSERT INTO fresh_derived ({COLUMNS}) {sql}", [now] * parameters)
            computed += max(cursor.rowcount, 0)
        if postgres:
            # Statistics for the merge's joins: without them the planner guesses this table
            # holds a handful of rows and may look each row up one at a time.
            cursor.execute("ANALYZE fresh_derived")
        else:
            # SQLite joins by nested loops: give it the key to look rows up by.
            cursor.execute(f"CREATE INDEX fresh_derived_key ON fresh_derived ({', '.join(KEY)})")
        cursor.execute(
            f"DELETE FROM {table} WHERE TRUE {only} AND NOT EXISTS "
            f"(SELECT 1 FROM fresh_derived f WHERE {same_row})"
        )
        cursor.execute(
            f"UPDATE {table} SET "
            + ", ".join(f"{c} = f.{c}" for c in (*figures, "computed_at"))
            + f" FROM fresh_derived f WHERE {same_row} AND ({changed})"
        )
        cursor.execute(
            f"INSERT INTO {table} ({COLUMNS}) SELECT {COLUMNS} FROM fresh_derived f "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {same_row})"
        )
        # Dropped now, not at commit: a recompute inside a longer transaction (a test, an
        # in-process task) may be followed by another. On an error the rollback removes it.
        cursor.execute("DROP TABLE fresh_derived")
    return computed


__all__ = ["derived_select_sql", "recompute"]
