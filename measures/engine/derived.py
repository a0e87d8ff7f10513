"""The derived-figures engine (SPEC §6): recompute materialised figures set-based, in SQL.

A recompute of any number of measures is a handful of statements: one `INSERT … SELECT`
that computes, for both scopes, every month's rolling twelve months, financial year to
date, the same windows a year earlier, changes, directions, coverage, the comparison with
the plan baseline, and XmR limits and run signals, with window functions only; then one
merge of the result into the table. Nothing is computed one value at a time, so the cost is
the database's own.

The arithmetic is that of `measures.arithmetic.figures.figure_for` and, for the XmR columns,
`measures.arithmetic.spc.month_checks`; tests compare them column by column. Three rules
keep the SQL equal to them, not merely close:

- **Exact numbers.** Sums are exact (PostgreSQL's numeric; on SQLite, which stores decimals
  as binary floating point, whole numbers of ten-thousandths). Nothing categorical is
  decided on a quotient: a direction compares two figures as fractions (a·d′ against a′·d),
  a value's side of its mean compares value × n with the sum of n values, a limit is
  crossed when the cross-multiplied inequality says so. A value exactly on its mean is on
  neither side.
- **Windows from running totals.** Every month of a series has a row, so the window of k
  months ending n months back is the difference of two running totals, `LAG(total, n)` and
  `LAG(total, n + k)`: rolling twelve months, year to date (k is the months since April),
  the plan's window (k is its baseline's length) and the year before of each.
- **A figure's months.** A window counts the months `figure_for` aggregates: months with a
  value, or for a ratio measure months with both numerator and denominator. A window of one
  month is the value stored for that month, as `figure_for` reads it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from measures.arithmetic.spc import (
    HISTORY_MONTHS,
    MIN_POINTS,
    RUN_LENGTH,
    TREND_LENGTH,
    XMR_CONSTANT,
    unit_bounds,
)
from measures.models import DerivedFigure, Measure, SeriesBreak

TRAILING_MONTHS = 11  # rows kept after a series' last value: where 12-month windows still hold it
# Values are stored with four decimal places (Value.value, numerator, denominator): on SQLite
# they are summed and compared as whole numbers of ten-thousandths (tests check the field).
SCALE = 10_000

COLUMNS = (
    "measure_id, area_id, scope, month, month_index, value, r12_value, r12_numerator, "
    "r12_denominator, r12_months, r12_base_value, r12_base_months, r12_change, r12_change_pct, "
    "fytd_value, fytd_months, fytd_required, fytd_base_value, fytd_base_months, fytd_change, "
    "fytd_change_pct, value_approved, approved, spc_centre, spc_lower, spc_upper, spc_signals, "
    "r12_change_pp, r12_direction, fytd_change_pp, fytd_direction, plan_base_value, "
    "plan_base_months, plan_current_value, plan_current_months, plan_change, plan_change_pct, "
    "plan_change_pp, plan_direction, computed_at"
)

# The running totals each window is the difference of (see `_window`): the sum of values,
# of numerators and of denominators, months with a value, months a figure aggregates, and
# values not yet approved.
RUNNING = ("s", "n", "d", "k", "u", "draft")


def _dialect() -> dict[str, str]:
    if connection.vendor == "postgresql":
        return {
            "month_index": "(EXTRACT(YEAR FROM {0})::int * 12 + EXTRACT(MONTH FROM {0})::int - 1)",
            "month_date": "make_date(({0}) / 12, ({0}) % 12 + 1, 1)",
            # numeric is exact already.
            "exact": "{0}",
            "real": "({0})",
            "least": "LEAST({0}, {1})",
        }
    return {
        "month_index": (
            "(CAST(strftime('%Y', {0}) AS INTEGER) * 12"
            " + CAST(strftime('%m', {0}) AS INTEGER) - 1)"
        ),
        "month_date": "printf('%04d-%02d-01', ({0}) / 12, ({0}) % 12 + 1)",
        # A stored decimal read back as the whole number of ten-thousandths it is, and back.
        "exact": f"CAST(ROUND(({{0}}) * {SCALE}) AS INTEGER)",
        "real": f"(({{0}}) / {SCALE}.0)",
        # SQLite's MIN of several arguments is its LEAST.
        "least": "MIN({0}, {1})",
    }


def _sign(x: str) -> str:
    """SQL for the sign of `x` (-1, 0 or 1), NULL when `x` is."""
    return f"(CASE WHEN {x} > 0 THEN 1 WHEN {x} < 0 THEN -1 WHEN {x} = 0 THEN 0 END)"


def _lag(column: str, months: str) -> str:
    return column if months == "0" else f"LAG({column}, {months}) OVER back"


def _window(name: str, *, end: str, length: str) -> list[str]:
    """SELECT items for the window of `length` months ending `end` months before each row:
    its totals (`{name}_s`…), its latest value (`{name}_last`) and its last month's value
    (`{name}_one`, the figure of a one-month window)."""
    items = [
        f"COALESCE({_lag(f'c{part}', end)}, 0) - COALESCE({_lag(f'c{part}', f'{end} + {length}')},"
        f" 0) AS {name}_{part}"
        for part in RUNNING
    ]
    return [*items, f"{_lag('carried', end)} AS {name}_last", f"{_lag('ev', end)} AS {name}_one"]


def _figure(name: str, *, one: str, d: dict[str, str]) -> list[str]:
    """SELECT items for the figure of a window (`_window`'s columns), as `figure_for` gives it.

    `{name}_num` / `{name}_den` is the figure as an exact fraction, compared by `_direction`;
    `{name}_value` its value; `{name}_months` the months it is built from. `one` says the
    window is one month long: its figure is then the value stored for that month.
    """
    w = name
    real = d["real"]
    return [
        f"CASE WHEN {one} THEN {w}_k ELSE {w}_u END AS {w}_months",
        f"""CASE WHEN {one} THEN {w}_one WHEN {w}_u = 0 THEN NULL
                 WHEN agg IN ('sum', 'mean') THEN {w}_s WHEN agg = 'latest' THEN {w}_last
                 WHEN agg = 'ratio' AND {w}_d <> 0 THEN {w}_n END AS {w}_num""",
        f"""CASE WHEN {one} THEN 1 WHEN agg = 'mean' THEN {w}_u
                 WHEN agg = 'ratio' THEN {w}_d ELSE 1 END AS {w}_den""",
        f"""CASE WHEN {one} THEN {real.format(f"{w}_one")} WHEN {w}_u = 0 THEN NULL
                 WHEN agg = 'sum' THEN {real.format(f"{w}_s")}
                 WHEN agg = 'mean' THEN {real.format(f"{w}_s")} / {w}_u
                 WHEN agg = 'latest' THEN {real.format(f"{w}_last")}
                 WHEN agg = 'ratio' THEN 100.0 * {w}_n / NULLIF({w}_d, 0) END AS {w}_value""",
    ]


def _direction(current: str, base: str) -> str:
    """SQL for `figures.direction` of the change from figure `base` to figure `current`,
    decided on their fractions (no quotient) by the measure's polarity (`pol`)."""
    difference = (
        f"{_sign(f'{current}_num * {base}_den - {base}_num * {current}_den')}"
        f" * {_sign(f'{current}_den')} * {_sign(f'{base}_den')}"
    )
    return (
        f"CASE WHEN {current}_num IS NULL OR {base}_num IS NULL THEN NULL "
        f"WHEN {difference} = 0 THEN 'no_change' "
        f"WHEN pol = 'neutral' THEN CASE WHEN {difference} > 0 THEN 'up' ELSE 'down' END "
        f"WHEN (pol = 'lower_is_better') = ({difference} < 0) THEN 'improving' "
        "ELSE 'worsening' END"
    )


def _changes(current: str, base: str) -> list[str]:
    """The change, change in percent and change in points of `current` over `base`."""
    change = f"({current}_value - {base}_value)"
    return [
        change,
        f"{change} * 100.0 / NULLIF({base}_value, 0)",
        f"CASE WHEN unit = 'percent' THEN {change} END",
    ]


def _bound(kind: str, literal: str) -> str:
    """SQL for the least or greatest value a figure in unit `unit` can take (spc.unit_bounds),
    NULL when there is none; `literal` writes a number in the units compared."""

    def number(value: Decimal | None) -> str:
        return "NULL" if value is None else literal.format(value)

    otherwise = getattr(unit_bounds(""), kind)
    whens = [
        f"WHEN '{unit}' THEN {number(value)}"
        for unit in Measure.Unit.values
        if (value := getattr(unit_bounds(unit), kind)) != otherwise
    ]
    if not whens:
        return number(otherwise)
    return f"(CASE unit {' '.join(whens)} ELSE {number(otherwise)} END)"


def derived_select_sql(*, scope: str, measure_filter: str = "") -> str:
    """Return the SELECT computing every derived figure of the values in `scope`.

    `measure_filter` is an SQL condition on the value row `val` (already parameter-free).
    The text is ready for `cursor.execute(sql, [computed_at])`: literal percent signs are
    doubled and `{now}` has become the one parameter.
    """
    d = _dialect()
    exact, real = d["exact"], d["real"]
    month_index = d["month_index"].format("val.start")
    break_index = d["month_index"].format("sb.start")
    breaks_table = SeriesBreak._meta.db_table
    baseline_start = d["month_index"].format("pl.baseline_start")
    baseline_end = d["month_index"].format("pl.baseline_end")
    approved_only = "AND val.status = 'approved'" if scope == DerivedFigure.Scope.APPROVED else ""
    plan_length = "COALESCE(be - bs + 1, 1)"
    # XmR limits: mean ± (p / q) × mean moving range, with p / q = 2.66. For n values
    # (n - 1 ranges) of sum S and range total R, `value < lower` is
    # q·value·n·(n − 1) < q·S·(n − 1) − p·R·n: decided in exact arithmetic.
    p, q = XMR_CONSTANT.as_integer_ratio()
    scaled = f"{q} * ev * spc_n * (spc_n - 1)"
    lower_at = f"{q} * spc_s * (spc_n - 1) - {p} * spc_r * spc_n"
    upper_at = f"{q} * spc_s * (spc_n - 1) + {p} * spc_r * spc_n"
    limits_over = f"{q} * spc_n * (spc_n - 1)"
    least = _bound("least", exact.format("{}"))
    greatest = _bound("greatest", exact.format("{}"))
    least_value = _bound("least", "{}")
    greatest_value = _bound("greatest", "{}")
    lower_value = f"{real.format(lower_at)} / ({limits_over})"
    upper_value = f"{real.format(upper_at)} / ({limits_over})"
    signals = " || ".join(
        [
            "CASE WHEN beyond = 1 THEN 'beyond_limits,' ELSE '' END",
            "CASE WHEN MAX(above_ends) OVER ahead_run = 1 THEN 'run_above,' ELSE '' END",
            "CASE WHEN MAX(below_ends) OVER ahead_run = 1 THEN 'run_below,' ELSE '' END",
            "CASE WHEN MAX(rise_ends) OVER ahead_trend = 1 THEN 'trend_up,' ELSE '' END",
            "CASE WHEN MAX(fall_ends) OVER ahead_trend = 1 THEN 'trend_down,' ELSE '' END",
        ]
    )
    windows = [
        *_window("r12", end="0", length="12"),
        *_window("pr12", end="12", length="12"),
        *_window("fy", end="0", length="fy_required"),
        *_window("pfy", end="12", length="fy_required"),
        *_window("pl", end="0", length=plan_length),
    ]
    # The plan baseline's own window, the same for every row of a series: running totals at
    # its last month and at the month before its first (a series' last row holds the totals
    # of every later month; before its first row there is nothing).
    at_end = d["least"].format("be", "last_row")
    before_start = d["least"].format("bs - 1", "last_row")
    baseline = [
        f"COALESCE(MAX(CASE WHEN mi = {at_end} THEN c{part} END) OVER whole, 0)"
        f" - COALESCE(MAX(CASE WHEN mi = {before_start} THEN c{part} END) OVER whole, 0)"
        f" AS b_{part}"
        for part in RUNNING
    ]
    baseline += [
        f"MAX(CASE WHEN mi = {at_end} THEN carried END) OVER whole AS b_last",
        "MAX(CASE WHEN mi = be THEN ev END) OVER whole AS b_one",
    ]
    figures_sql = [
        *_figure("r12", one="FALSE", d=d),
        *_figure("pr12", one="FALSE", d=d),
        *_figure("fy", one="fy_required = 1", d=d),
        *_figure("pfy", one="fy_required = 1", d=d),
        *_figure("pl", one="be = bs", d=d),
        *_figure("b", one="be = bs", d=d),
    ]
    r12_change, r12_pct, r12_pp = _changes("r12", "pr12")
    fy_change, fy_pct, fy_pp = _changes("fy", "pfy")
    plan_change, plan_pct, plan_pp = _changes("pl", "b")
    has_plan = "bs IS NOT NULL"
    return f"""
WITH RECURSIVE v AS (
    SELECT val.measure_id, val.area_id, {month_index} AS mi, {exact.format("val.value")} AS ev,
           -- A ratio is aggregated from the months with both its parts (figure_for).
           CASE WHEN m.aggregation = 'ratio' AND val.numerator IS NOT NULL
                     AND val.denominator IS NOT NULL
                THEN {exact.format("val.numerator")} END AS en,
           CASE WHEN m.aggregation = 'ratio' AND val.numerator IS NOT NULL
                     AND val.denominator IS NOT NULL
                THEN {exact.format("val.denominator")} END AS ed,
           CASE WHEN val.status = 'approved' THEN 0 ELSE 1 END AS draft,
           m.aggregation AS agg, m.polarity AS pol, m.unit,
           {baseline_start} AS bs, {baseline_end} AS be
    FROM measures_value val JOIN measures_measure m ON m.id = val.measure_id
    JOIN measures_priority pr ON pr.id = m.priority_id
    JOIN measures_plan pl ON pl.id = pr.plan_id
    WHERE val.start = val."end" {approved_only} {measure_filter}
),
-- Each value's change from the value before it in its series: their running total is the
-- latest value (`carried`), and the running total of their sizes gives the moving ranges
-- between consecutive values of any window (see `spc_r`).
steps AS (
    SELECT v.*,
        ev - COALESCE(LAG(ev) OVER (PARTITION BY measure_id, area_id ORDER BY mi), 0) AS delta
    FROM v
),
bounds AS (
    SELECT measure_id, area_id, MIN(mi) AS lo, MAX(mi) AS hi, MIN(agg) AS agg,
           MIN(pol) AS pol, MIN(unit) AS unit, MIN(bs) AS bs, MIN(be) AS be
    FROM v GROUP BY measure_id, area_id
),
months (mi) AS (
    SELECT MIN(lo) FROM bounds
    UNION ALL
    SELECT mi + 1 FROM months WHERE mi < (SELECT MAX(hi) FROM bounds) + {TRAILING_MONTHS}
),
-- Every month from a series' first value to eleven months after its last, so that every
-- window of up to twelve months holding a value ends on a row: windows ending in a gap, or
-- after the series stops, have their figures (partial, as in figures.figure_for). A break
-- in series (spc.segments) marks the month from which control limits start afresh.
-- Built by grouping rather than joining, so no plan can turn it into a nested loop.
c AS (
    SELECT measure_id, area_id, mi, MIN(agg) AS agg, MAX(ev) AS ev, MAX(en) AS en,
           MAX(ed) AS ed, MAX(delta) AS delta, MAX(draft) AS draft, MAX(brk) AS brk,
           MIN(pol) AS pol, MIN(unit) AS unit, MIN(bs) AS bs, MIN(be) AS be
    FROM (
        SELECT measure_id, area_id, mi, agg, ev, en, ed, delta, draft, 0 AS brk, pol, unit,
               bs, be
        FROM steps
        UNION ALL
        SELECT b.measure_id, b.area_id, months.mi, b.agg, NULL, NULL, NULL, NULL, NULL, 0,
               b.pol, b.unit, b.bs, b.be
        FROM bounds b JOIN months ON months.mi BETWEEN b.lo AND b.hi + {TRAILING_MONTHS}
        UNION ALL
        SELECT b.measure_id, b.area_id, {break_index}, b.agg, NULL, NULL, NULL, NULL, NULL, 1,
               b.pol, b.unit, b.bs, b.be
        FROM bounds b JOIN {breaks_table} sb ON sb.measure_id = b.measure_id
        WHERE {break_index} BETWEEN b.lo AND b.hi + {TRAILING_MONTHS}
    ) AS every_month
    GROUP BY measure_id, area_id, mi
),
-- Running totals along each series, and which segment between breaks each month is in.
w AS (
    SELECT c.*,
        SUM(brk) OVER run AS segment,
        COALESCE(SUM(ev) OVER run, 0) AS cs, COALESCE(SUM(en) OVER run, 0) AS cn,
        COALESCE(SUM(ed) OVER run, 0) AS cd, COUNT(ev) OVER run AS ck,
        COUNT(CASE WHEN agg = 'ratio' THEN en ELSE ev END) OVER run AS cu,
        COALESCE(SUM(draft) OVER run, 0) AS cdraft,
        SUM(delta) OVER run AS carried,
        CASE WHEN ev IS NOT NULL THEN SUM(ABS(delta)) OVER run END AS ranges_to_here,
        MAX(mi) OVER (PARTITION BY measure_id, area_id) AS last_row,
        (mi - 3) % 12 + 1 AS fy_required
    FROM c
    WINDOW run AS (PARTITION BY measure_id, area_id ORDER BY mi
                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
x AS (
    SELECT measure_id, area_id, mi, agg, pol, unit, bs, be, ev, draft, fy_required,
        {", ".join(windows)},
        {", ".join(baseline)},
        -- XmR: the values of up to 24 months before each month, back to the latest break
        -- (spc.month_checks): how many, their sum, and the total of the moving ranges
        -- between consecutive values among them. `ranges_to_here` only grows, so that total
        -- is its greatest minus its least over the window's values: the range from a value
        -- before the window to its first is not the window's.
        COUNT(ev) OVER history AS spc_n, SUM(ev) OVER history AS spc_s,
        MAX(ranges_to_here) OVER history - MIN(ranges_to_here) OVER history AS spc_r,
        -- A value's side of its own mean, value × n against the sum of the n: 0 on it.
        CASE WHEN COUNT(ev) OVER history >= {MIN_POINTS} THEN
            {_sign("ev * COUNT(ev) OVER history - SUM(ev) OVER history")} END AS side,
        {_sign("ev - LAG(ev) OVER segment_order")} AS step,
        segment
    FROM w
    WINDOW back AS (PARTITION BY measure_id, area_id ORDER BY mi),
        whole AS (PARTITION BY measure_id, area_id),
        segment_order AS (PARTITION BY measure_id, area_id, segment ORDER BY mi),
        history AS (PARTITION BY measure_id, area_id, segment ORDER BY mi
                    ROWS BETWEEN {HISTORY_MONTHS} PRECEDING AND 1 PRECEDING)
),
y AS (
    SELECT measure_id, area_id, mi, agg, pol, unit, bs, be, ev, draft, fy_required, segment,
        r12_draft, fy_draft, r12_n, r12_d, r12_u,
        {", ".join(figures_sql)},
        CASE WHEN spc_n >= {MIN_POINTS} THEN {d["real"].format("spc_s")} / spc_n END
            AS spc_centre,
        CASE WHEN spc_n < {MIN_POINTS} THEN NULL
             WHEN {lower_value} < {least_value} THEN {least_value} ELSE {lower_value} END
            AS spc_lower,
        CASE WHEN spc_n < {MIN_POINTS} THEN NULL
             WHEN {upper_value} > {greatest_value} THEN {greatest_value} ELSE {upper_value} END
            AS spc_upper,
        -- Beyond the limits held within the figure's bounds: beyond the bound or the limit.
        CASE WHEN spc_n >= {MIN_POINTS} AND (
                 ev < {least} OR ev > {greatest}
                 OR {scaled} < {lower_at} OR {scaled} > {upper_at}
             ) THEN 1 ELSE 0 END AS beyond,
        -- The last month of 7 in a row on one side of their means, of 5 steps one way.
        CASE WHEN SUM(CASE WHEN side = 1 THEN 1 ELSE 0 END) OVER run_back = {RUN_LENGTH}
             THEN 1 ELSE 0 END AS above_ends,
        CASE WHEN SUM(CASE WHEN side = -1 THEN 1 ELSE 0 END) OVER run_back = {RUN_LENGTH}
             THEN 1 ELSE 0 END AS below_ends,
        CASE WHEN SUM(CASE WHEN step = 1 THEN 1 ELSE 0 END) OVER trend_back = {TREND_LENGTH - 1}
             THEN 1 ELSE 0 END AS rise_ends,
        CASE WHEN SUM(CASE WHEN step = -1 THEN 1 ELSE 0 END) OVER trend_back = {TREND_LENGTH - 1}
             THEN 1 ELSE 0 END AS fall_ends
    FROM x
    WINDOW run_back AS (PARTITION BY measure_id, area_id, segment ORDER BY mi
                        ROWS BETWEEN {RUN_LENGTH - 1} PRECEDING AND CURRENT ROW),
        trend_back AS (PARTITION BY measure_id, area_id, segment ORDER BY mi
                       ROWS BETWEEN {TREND_LENGTH - 2} PRECEDING AND CURRENT ROW)
)
SELECT measure_id, area_id, '{scope}', {d["month_date"].format("mi")}, mi, {real.format("ev")},
    r12_value, CASE WHEN agg = 'ratio' AND r12_u > 0 THEN {real.format("r12_n")} END,
    CASE WHEN agg = 'ratio' AND r12_u > 0 THEN {real.format("r12_d")} END, r12_months,
    pr12_value, pr12_months, {r12_change}, {r12_pct},
    fy_value, fy_months, fy_required, pfy_value, pfy_months, {fy_change}, {fy_pct},
    CASE WHEN ev IS NOT NULL THEN draft = 0 END, (r12_draft = 0 AND fy_draft = 0),
    spc_centre, spc_lower, spc_upper,
    -- A month is in a run (a trend) when a run of 7 (a trend of 6 months) ends within the
    -- next 6 (5) months of its segment, itself included: every month of it is marked.
    rtrim({signals}, ','),
    {r12_pp}, {_direction("r12", "pr12")}, {fy_pp}, {_direction("fy", "pfy")},
    CASE WHEN {has_plan} THEN b_value END, CASE WHEN {has_plan} THEN b_months END,
    CASE WHEN {has_plan} THEN pl_value END, CASE WHEN {has_plan} THEN pl_months END,
    CASE WHEN {has_plan} THEN {plan_change} END, CASE WHEN {has_plan} THEN {plan_pct} END,
    CASE WHEN {has_plan} THEN {plan_pp} END,
    CASE WHEN {has_plan} THEN {_direction("pl", "b")} END,
    {{now}}
FROM y
WINDOW ahead_run AS (PARTITION BY measure_id, area_id, segment ORDER BY mi
                     ROWS BETWEEN CURRENT ROW AND {RUN_LENGTH - 1} FOLLOWING),
    ahead_trend AS (PARTITION BY measure_id, area_id, segment ORDER BY mi
                    ROWS BETWEEN CURRENT ROW AND {TREND_LENGTH - 1} FOLLOWING)
""".replace("%", "%%").replace("{now}", "%s")


def _measure_filter(measure_ids: list[int] | None) -> str:
    if measure_ids is None:
        return ""
    ids = ",".join(str(int(i)) for i in measure_ids) or "NULL"
    return f"AND val.measure_id IN ({ids})"


KEY = ("measure_id", "area_id", "scope", "month_index")
STAGING = "fresh_derived"


def merge_sql(measure_ids: list[int] | None) -> str:
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
    # The measures' rows only, on every side: a recompute of one measure reads that
    # measure's rows through the table's unique index (measure first), not the whole table.
    ids = None if measure_ids is None else ",".join(str(int(i)) for i in measure_ids) or "NULL"
    only = "" if ids is None else f"WHERE measure_id IN ({ids})"
    theirs = "" if ids is None else f"{table}.measure_id IN ({ids}) AND"
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
    DELETE FROM {table} WHERE {theirs} id IN (SELECT target_id FROM diff WHERE gone)
),
updated AS (
    UPDATE {table} SET {", ".join(f"{c} = diff.{c}" for c in (*figures, "computed_at"))}
    FROM diff WHERE {theirs} {table}.id = diff.target_id AND NOT diff.gone
)
INSERT INTO {table} ({COLUMNS}) SELECT {COLUMNS} FROM diff WHERE target_id IS NULL
"""


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
    computed = 0
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            # Serialise recomputes of overlapping measures: concurrent merges of the same
            # rows would otherwise both insert them, violating the unique constraint.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('pcp-recompute'))")
        cursor.execute(f"CREATE TEMP TABLE {STAGING} AS SELECT {COLUMNS} FROM {table} WHERE 1 = 0")
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
            cursor.execute(f"INSERT INTO {STAGING} ({COLUMNS}) {sql}", [now] * parameters)
            computed += max(cursor.rowcount, 0)
        if postgres:
            _merge_postgresql(cursor, ids)
        else:
            _merge_sqlite(cursor, ids)
        # Dropped now, not at commit: a recompute inside a longer transaction (a test, an
        # in-process task) may be followed by another. On an error the rollback removes it.
        cursor.execute(f"DROP TABLE {STAGING}")
    return computed


def _merge_postgresql(cursor, ids: list[int] | None) -> None:
    # Statistics for the staged rows (the planner would otherwise guess from its pages), and
    # no nested loop for the merge: with statistics saying the table is empty (analysed
    # right after `migrate`, or after a wipe), a nested loop looks cheapest and would scan
    # the whole table once per row. The full join never is one; forbidding them keeps the
    # deletes' and updates' joins by primary key hashed or merged too. The setting is
    # local to the transaction and put back afterwards, for whatever the caller runs next.
    cursor.execute(f"ANALYZE {STAGING}")
    cursor.execute(
        "SELECT current_setting('enable_nestloop'), set_config('enable_nestloop', 'off', true)"
    )
    (nestloop, _) = cursor.fetchone()
    cursor.execute(merge_sql(ids))
    cursor.execute("SELECT set_config('enable_nestloop', %s, true)", [nestloop])


def _merge_sqlite(cursor, ids: list[int] | None) -> None:
    table = DerivedFigure._meta.db_table
    columns = [c.strip() for c in COLUMNS.split(",")]
    figures = [c for c in columns if c not in (*KEY, "computed_at")]
    same_row = " AND ".join(f"f.{k} = {table}.{k}" for k in KEY)
    changed = " OR ".join(f"{table}.{c} IS NOT f.{c}" for c in figures)
    only = (
        "" if ids is None else f"AND {table}.measure_id IN ({','.join(map(str, ids)) or 'NULL'})"
    )
    # SQLite joins by nested loops: give it the key to look staged rows up by (the table's
    # own rows are looked up by its unique index).
    cursor.execute(f"CREATE INDEX {STAGING}_key ON {STAGING} ({', '.join(KEY)})")
    cursor.execute(
        f"DELETE FROM {table} WHERE TRUE {only} AND NOT EXISTS "
        f"(SELECT 1 FROM {STAGING} f WHERE {same_row})"
    )
    cursor.execute(
        f"UPDATE {table} SET "
        + ", ".join(f"{c} = f.{c}" for c in (*figures, "computed_at"))
        + f" FROM {STAGING} f WHERE {same_row} AND ({changed})"
    )
    cursor.execute(
        f"INSERT INTO {table} ({COLUMNS}) SELECT {COLUMNS} FROM {STAGING} f "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {same_row})"
    )


__all__ = ["derived_select_sql", "merge_sql", "recompute"]
