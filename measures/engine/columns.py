"""The derived figures of one scope's values, computed column-wise (numpy), exactly.

`figures_compute` takes one scope's monthly values (every series sorted by month) and
returns every derived column for every month from each series' first value to eleven
months after its last: rolling twelve months, financial year to date, the same windows a
year earlier, the plan's window and its baseline, changes, directions, coverage, and XmR
limits and run signals. It is the arithmetic of `measures.arithmetic.figures.figure_for`
and `measures.arithmetic.spc.month_checks`; the engine's tests compare them column by
column on generated series.

How it stays exact, not merely close:

- **Whole numbers.** Values come in as whole numbers of ten-thousandths (`SCALE`), so every
  sum is an exact integer. Arrays are 64-bit integers when the data's magnitudes keep every
  product below 2**62 (checked, not assumed); otherwise Python integers (`object` arrays),
  slower and just as exact.
- **Nothing categorical on a quotient.** A direction compares two figures as fractions
  (a·d′ against a′·d), a value's side of its mean compares value × n with the sum of the n,
  a limit is crossed when the cross-multiplied inequality says so.
- **Quotients rounded once, correctly.** A stored figure is a fraction X / Y rounded half
  away from zero to six decimal places, as PostgreSQL rounds into `numeric(24, 6)`. It is
  estimated in floating point with a bound on the estimate's error; a row whose estimate
  lies within that bound of a rounding boundary (or is too large to trust) is computed
  again from its integers (`_rounded`).
- **Windows from running totals.** Every month of a series has a row, so the window of k
  months ending n months back is the difference of two running totals.

A figure is returned as whole numbers of millionths (`OUT`) with a mask of which rows hold
one; counts as integers; directions and signals as codes (`DIRECTIONS`, `SIGNALS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from measures.arithmetic.spc import (
    HISTORY_MONTHS,
    MIN_POINTS,
    RUN_LENGTH,
    TREND_LENGTH,
    XMR_CONSTANT,
    unit_bounds,
)

SCALE = 10_000  # values are stored with four decimal places: read as ten-thousandths
OUT = 1_000_000  # figures are stored with six: returned as millionths
TRAILING_MONTHS = 11  # rows kept after a series' last value: where 12-month windows still hold it
AGGREGATIONS = ("sum", "mean", "latest", "ratio")
DIRECTIONS = (None, "no_change", "up", "down", "improving", "worsening")
SIGNALS = ("beyond_limits", "run_above", "run_below", "trend_up", "trend_down")
SAFE = 2**62  # a product below this in magnitude is exact in 64-bit integers
# Relative error of a floating-point estimate built from a few operations on integers that
# may themselves be rounded on conversion (each 2**-53): generous, so a row is rechecked
# whenever the estimate could be on the wrong side of a rounding boundary.
ESTIMATE_ERROR = 2.0**-45


@dataclass
class MeasureInfo:
    """What the arithmetic needs of a measure (and of its plan's baseline)."""

    aggregation: str
    polarity: str
    unit: str
    baseline: tuple[int, int] | None = None  # first and last month index of the plan baseline
    breaks: list[int] = field(default_factory=list)  # month indexes where the series breaks


@dataclass
class Values:
    """One scope's monthly values, one entry per value, in any order."""

    measure: np.ndarray  # int64
    area: np.ndarray  # int64
    month: np.ndarray  # int64 month index (year × 12 + month − 1)
    value: np.ndarray  # int64 ten-thousandths
    numerator: np.ndarray  # int64 ten-thousandths (0 when missing)
    denominator: np.ndarray  # int64 ten-thousandths (0 when missing)
    both_parts: np.ndarray  # bool: numerator and denominator present
    approved: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.measure)

    def subset(self, keep: np.ndarray | slice) -> Values:
        return Values(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))


@dataclass
class Figures:
    """Every derived column of every row: `columns[name] = (array, mask or None)`."""

    measure: np.ndarray
    area: np.ndarray
    month: np.ndarray
    columns: dict[str, tuple[np.ndarray, np.ndarray | None]]

    def __len__(self) -> int:
        return len(self.measure)


def _wide(*arrays: np.ndarray) -> bool:
    """True when the arrays' magnitudes could overflow 64-bit products: use Python ints."""
    return any(a.dtype == object for a in arrays)


def _fits(*bounds: float) -> bool:
    product = 1.0
    for b in bounds:
        product *= max(float(b), 1.0)
    return product < SAFE


def _maxabs(a: np.ndarray) -> float:
    return float(np.max(np.abs(a))) if len(a) else 0.0


def _as_python(a: np.ndarray) -> np.ndarray:
    return a.astype(object) if a.dtype != object else a


def _rounded(
    x: np.ndarray, y: np.ndarray, valid: np.ndarray, *, scale: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Return round(scale × x / y) half away from zero, in int64 (Python ints if it must),
    for the valid rows (y ≠ 0 there); the mask is `valid`.

    Estimated in floating point; rows whose estimate could round the wrong way, or is too
    large for a float to place, are computed again from the integers.
    """
    out = np.zeros(len(x), dtype=np.int64)
    rows = np.flatnonzero(valid)
    if not len(rows):
        return out, valid
    xf = x[rows].astype(np.float64) * float(scale)
    yf = y[rows].astype(np.float64)
    estimate = xf / yf
    magnitude = np.abs(estimate)
    error = magnitude * ESTIMATE_ERROR + 1e-9
    fraction = magnitude - np.floor(magnitude)
    doubtful = (np.abs(fraction - 0.5) <= error) | (magnitude >= 2.0**50)
    sure = ~doubtful
    out[rows[sure]] = (np.sign(estimate[sure]) * np.floor(magnitude[sure] + 0.5)).astype(np.int64)
    again = rows[doubtful]
    if len(again):
        exact = [
            _round_half_away(int(a) * scale, int(b))
            for a, b in zip(x[again].tolist(), y[again].tolist(), strict=True)
        ]
        if any(abs(e) >= SAFE for e in exact):
            out = out.astype(object)
        out[again] = exact
    return out, valid


def _round_half_away(x: int, y: int) -> int:
    if y < 0:
        x, y = -x, -y
    q = (2 * abs(x) + y) // (2 * y)
    return q if x >= 0 else -q


def _sign_of_difference(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """sign(a·b − c·d), exactly: in int64 when the products fit, else in Python integers."""
    if (
        not _wide(a, b, c, d)
        and _fits(2 * _maxabs(a), _maxabs(b))
        and _fits(2 * _maxabs(c), _maxabs(d))
    ):
        return np.sign(a * b - c * d).astype(np.int64)
    return np.sign(_as_python(a) * _as_python(b) - _as_python(c) * _as_python(d)).astype(np.int64)


class _Series:
    """The rows of every series (measure, area): every month from its first value to eleven
    after its last, in one flat array, with running totals for windows over them."""

    def __init__(self, values: Values):
        order = np.lexsort((values.month, values.area, values.measure))
        v = values.subset(order)
        new = np.ones(len(v), dtype=bool)
        new[1:] = (v.measure[1:] != v.measure[:-1]) | (v.area[1:] != v.area[:-1])
        first = np.flatnonzero(new)
        last = np.append(first[1:] - 1, len(v) - 1)
        self.lo = v.month[first]
        hi = v.month[last]
        lengths = hi - self.lo + 1 + TRAILING_MONTHS
        self.start = np.concatenate(([0], np.cumsum(lengths)[:-1]))  # first row of each series
        self.count = int(lengths.sum())
        self.series = np.repeat(np.arange(len(first)), lengths)
        self.row = np.arange(self.count)
        self.a = self.start[self.series]  # each row's series' first row
        self.end = (self.start + lengths - 1)[self.series]  # each row's series' last row
        self.month = self.lo[self.series] + (self.row - self.a)
        self.series_measure = v.measure[first]
        self.series_area = v.area[first]
        self.measure = self.series_measure[self.series]
        self.area = self.series_area[self.series]
        value_series = np.repeat(np.arange(len(first)), last - first + 1)
        self.at = self.start[value_series] + (v.month - self.lo[value_series])  # value → row
        self.values = v

    def spread(self, column: np.ndarray, fill=0) -> np.ndarray:
        out = np.full(self.count, fill, dtype=column.dtype)
        out[self.at] = column
        return out

    @staticmethod
    def prefix(column: np.ndarray) -> np.ndarray:
        """Running totals with a leading zero: rows [l, h] sum to P[h + 1] − P[l]."""
        return np.concatenate((np.zeros(1, dtype=column.dtype), np.cumsum(column)))

    def upto(self, prefix: np.ndarray, back: np.ndarray | int) -> np.ndarray:
        """Each row's running total up to `back` rows before it (0 before its series)."""
        end = np.maximum(self.row - back + 1, self.a)
        return prefix[end] - prefix[self.a]

    def window(self, prefix: np.ndarray, back: np.ndarray | int, length) -> np.ndarray:
        """The total of the `length` rows ending `back` rows before each row, in its series."""
        return (
            prefix[np.maximum(self.row - back + 1, self.a)]
            - prefix[np.maximum(self.row - back - length + 1, self.a)]
        )

    def lag(self, column: np.ndarray, back: int) -> tuple[np.ndarray, np.ndarray]:
        """The column `back` rows before each row, and whether that row is in the series."""
        source = self.row - back
        inside = source >= self.a
        return column[np.where(inside, source, self.a)], inside


def figures_compute(values: Values, measures: dict[int, MeasureInfo]) -> Figures:
    """Every derived figure of one scope's values (see the module's docstring)."""
    if not len(values):
        empty = np.zeros(0, dtype=np.int64)
        return Figures(empty, empty, empty, {})
    s = _Series(values)
    v = s.values
    info = [measures[int(m)] for m in s.series_measure]
    agg_code = np.array([AGGREGATIONS.index(i.aggregation) for i in info])[s.series]
    ratio = agg_code == AGGREGATIONS.index("ratio")
    percent = np.array([i.unit == "percent" for i in info])[s.series]
    polarity = np.array([i.polarity for i in info])[s.series]

    # Magnitudes: 64-bit integers unless a product could overflow them.
    largest = max(_maxabs(v.value), _maxabs(v.numerator), _maxabs(v.denominator), 1.0)
    longest = float(np.max(s.end - s.a + 1))
    wide = not _fits(largest, longest, 4 * 50 * HISTORY_MONTHS**2 * 100)

    def exact(a: np.ndarray) -> np.ndarray:
        return a.astype(object) if wide else a

    has = s.spread(np.ones(len(v), dtype=bool), False)
    ev = s.spread(exact(v.value))
    parts = s.spread(v.both_parts & ratio[s.at], False)
    en = np.where(parts, s.spread(exact(v.numerator)), 0)
    ed = np.where(parts, s.spread(exact(v.denominator)), 0)
    counted = np.where(ratio, parts, has)  # months a figure aggregates
    draft = s.spread((~v.approved).astype(np.int64))
    totals = {
        "s": s.prefix(ev),
        "n": s.prefix(en),
        "d": s.prefix(ed),
        "k": s.prefix(has.astype(np.int64)),
        "u": s.prefix(counted.astype(np.int64)),
        "draft": s.prefix(draft),
    }
    # The latest value at or before each row (a series' first row always holds a value).
    latest_row = np.maximum.accumulate(np.where(has, s.row, -1))
    carried = ev[latest_row]

    fy_required = (s.month - 3) % 12 + 1
    baselines = [i.baseline for i in info]
    has_plan = np.array([b is not None for b in baselines])[s.series]
    bs = np.array([b[0] if b else 0 for b in baselines])[s.series]
    be = np.array([b[1] if b else 0 for b in baselines])[s.series]
    plan_length = np.where(has_plan, be - bs + 1, 1)

    def window(back: int, length) -> dict[str, np.ndarray]:
        w = {part: s.window(p, back, length) for part, p in totals.items()}
        w["last"], inside = s.lag(carried, back)
        w["one"], _ = s.lag(ev, back)
        one_has, _ = s.lag(has, back)
        w["one_has"] = one_has & inside
        return w

    def baseline_window() -> dict[str, np.ndarray]:
        # The plan baseline's own window, the same for every row of a series: running totals
        # at its last month and at the month before its first (clipped to the series' rows).
        last_month = s.month[s.end]

        def at(month: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            m = np.minimum(month, last_month)
            inside = has_plan & (m >= s.lo[s.series])
            return np.where(inside, s.a + (m - s.lo[s.series]), s.a), inside

        end_row, end_in = at(be)
        before_row, before_in = at(bs - 1)
        w = {
            part: np.where(end_in, p[end_row + 1] - p[s.a], 0)
            - np.where(before_in, p[before_row + 1] - p[s.a], 0)
            for part, p in totals.items()
        }
        w["last"] = np.where(end_in, carried[end_row], 0)
        be_inside = has_plan & (be >= s.lo[s.series]) & (be <= last_month)
        be_row = np.where(be_inside, s.a + (be - s.lo[s.series]), s.a)
        w["one"] = ev[be_row]
        w["one_has"] = be_inside & has[be_row]
        return w

    def figure(w: dict[str, np.ndarray], one: np.ndarray) -> dict[str, np.ndarray]:
        """The figure of a window as `figure_for` gives it: months, the exact fraction
        num / den, whether there is one, and its value in millionths."""
        u = w["u"]
        mean = agg_code == AGGREGATIONS.index("mean")
        latest = agg_code == AGGREGATIONS.index("latest")
        num = np.where(one, w["one"], np.where(latest, w["last"], np.where(ratio, w["n"], w["s"])))
        den = np.where(one, 1, np.where(mean, u, np.where(ratio, w["d"], 1)))
        valid = np.where(one, w["one_has"], (u > 0) & ~(ratio & (w["d"] == 0)))
        # Value in millionths: num / den in ten-thousandths, or 100 × n / d for a ratio.
        scaled = np.where(ratio & ~one, num * (100 * SCALE), num)
        value, _ = _rounded(scaled, np.where(valid, den, 1), valid, scale=100)
        months = np.where(one, w["k"], u)
        return {"num": num, "den": den, "valid": valid, "value": value, "months": months}

    def change(cur: dict, base: dict) -> dict:
        """Change, change in percent, change in points and direction of `cur` over `base`."""
        both = cur["valid"] & base["valid"]
        d1 = np.where(both, cur["den"], 1)
        d2 = np.where(both, base["den"], 1)
        n1 = np.where(both, cur["num"], 0)
        n2 = np.where(both, base["num"], 0)
        # Both figures of a pair share a form (one month, or a ratio), so the values' scale
        # factor is common: the change is G·(n1·d2 − n2·d1) / (d1·d2).
        g = np.where(ratio & ~cur["one"], 100 * SCALE, 1)
        difference = _sign_of_difference(n1, d2, n2, d1) * np.sign(d1) * np.sign(d2)
        x = _products(n1, d2, n2, d1, wide)
        change_value, _ = _rounded(x * g, _mul(d1, d2, wide), both, scale=100)
        pct_valid = both & (n2 != 0)
        pct_value, _ = _rounded(
            x * 100 * SCALE,
            np.where(pct_valid, _mul(d1, n2, wide), 1),
            pct_valid,
            scale=100,
        )
        direction = np.zeros(len(n1), dtype=np.int8)
        direction[both & (difference == 0)] = DIRECTIONS.index("no_change")
        moved = both & (difference != 0)
        neutral = polarity == "neutral"
        direction[moved & neutral & (difference > 0)] = DIRECTIONS.index("up")
        direction[moved & neutral & (difference < 0)] = DIRECTIONS.index("down")
        judged = moved & ~neutral
        better = (polarity == "lower_is_better") == (difference < 0)
        direction[judged & better] = DIRECTIONS.index("improving")
        direction[judged & ~better] = DIRECTIONS.index("worsening")
        return {
            "change": (change_value, both),
            "pct": (pct_value, pct_valid),
            "pp": (change_value, both & percent),
            "direction": direction,
        }

    no = np.zeros(s.count, dtype=bool)
    r12 = figure(window(0, 12), no)
    pr12 = figure(window(12, 12), no)
    r12["one"] = pr12["one"] = no
    fy_one = fy_required == 1
    fy = figure(window(0, fy_required), fy_one)
    pfy = figure(window(12, fy_required), fy_one)
    fy["one"] = fy_one
    plan_one = has_plan & (be == bs)
    pl = figure(window(0, plan_length), plan_one)
    b = figure(baseline_window(), plan_one)
    pl["one"] = plan_one
    for f in (pl, b):
        f["valid"] = f["valid"] & has_plan
    r12w_draft = s.window(totals["draft"], 0, 12)
    fyw_draft = s.window(totals["draft"], 0, fy_required)
    r12_change, fy_change, plan_change = change(r12, pr12), change(fy, pfy), change(pl, b)

    cols: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    cols["value"] = (ev * 100, has)
    cols["r12_value"] = (r12["value"], r12["valid"])
    r12_parts = ratio & (r12["months"] > 0)
    r12_n = s.window(totals["n"], 0, 12)
    r12_d = s.window(totals["d"], 0, 12)
    cols["r12_numerator"] = (r12_n * 100, r12_parts)
    cols["r12_denominator"] = (r12_d * 100, r12_parts)
    cols["r12_months"] = (r12["months"], None)
    cols["r12_base_value"] = (pr12["value"], pr12["valid"])
    cols["r12_base_months"] = (pr12["months"], None)
    cols["r12_change"] = r12_change["change"]
    cols["r12_change_pct"] = r12_change["pct"]
    cols["fytd_value"] = (fy["value"], fy["valid"])
    cols["fytd_months"] = (fy["months"], None)
    cols["fytd_required"] = (fy_required, None)
    cols["fytd_base_value"] = (pfy["value"], pfy["valid"])
    cols["fytd_base_months"] = (pfy["months"], None)
    cols["fytd_change"] = fy_change["change"]
    cols["fytd_change_pct"] = fy_change["pct"]
    cols["value_approved"] = (draft == 0, has)
    cols["approved"] = ((r12w_draft == 0) & (fyw_draft == 0), None)
    cols.update(_control(s, ev, has, info, wide))
    cols["r12_change_pp"] = r12_change["pp"]
    cols["r12_direction"] = (r12_change["direction"], None)
    cols["fytd_change_pp"] = fy_change["pp"]
    cols["fytd_direction"] = (fy_change["direction"], None)
    cols["plan_base_value"] = (b["value"], b["valid"])
    cols["plan_base_months"] = (b["months"], has_plan)
    cols["plan_current_value"] = (pl["value"], pl["valid"])
    cols["plan_current_months"] = (pl["months"], has_plan)
    cols["plan_change"] = plan_change["change"]
    cols["plan_change_pct"] = plan_change["pct"]
    cols["plan_change_pp"] = plan_change["pp"]
    cols["plan_direction"] = (np.where(has_plan, plan_change["direction"], 0), None)
    return Figures(s.measure, s.area, s.month, cols)


def _mul(a: np.ndarray, b: np.ndarray, wide: bool) -> np.ndarray:
    if wide or not _fits(_maxabs(a), _maxabs(b)):
        return _as_python(a) * _as_python(b)
    return a * b


def _products(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, wide: bool):
    """a·b − c·d, in int64 when it fits with room for a further factor, else Python ints."""
    if (
        not wide
        and _fits(2 * _maxabs(a), _maxabs(b), 2**30)
        and _fits(2 * _maxabs(c), _maxabs(d), 2**30)
    ):
        return a * b - c * d
    return _as_python(a) * _as_python(b) - _as_python(c) * _as_python(d)


def _control(s: _Series, ev: np.ndarray, has: np.ndarray, info: list[MeasureInfo], wide: bool):
    """XmR centre line, limits (held within the figure's bounds) and signals of every row:
    `spc.month_checks` on each series, limits from up to 24 values before each month, back
    to its segment's first month (a break in series starts a segment)."""
    p, q = XMR_CONSTANT.as_integer_ratio()
    # Segments: a break's month starts one (rows before a series' first are not its).
    brk = np.zeros(s.count, dtype=bool)
    by_measure: dict[int, list[int]] = {}
    for i, m in zip(info, s.series_measure.tolist(), strict=True):
        if i.breaks:
            by_measure[m] = i.breaks
    for m, months in by_measure.items():
        series = np.flatnonzero(s.series_measure == m)
        first_rows, lo = s.start[series], s.lo[series]
        last_month = lo + (np.append(s.start[1:], s.count)[series] - first_rows) - 1
        for month in months:
            inside = (month >= lo) & (month <= last_month)
            brk[first_rows[inside] + (month - lo[inside])] = True
    seg_a = np.maximum(np.maximum.accumulate(np.where(brk, s.row, -1)), s.a)
    next_break = np.minimum.accumulate(np.where(brk, s.row, s.count)[::-1])[::-1]
    # The segment's last row: the row before the next break after this row, or the series'.
    following = np.append(next_break[1:], s.count)
    seg_end = np.minimum(following - 1, s.end)

    ones = has.astype(np.int64)
    p_k, p_s = s.prefix(ones), s.prefix(ev)
    previous_value = np.concatenate(([0], ev[:-1]))
    latest_row = np.maximum.accumulate(np.where(has, s.row, -1))
    before = np.concatenate(([-1], latest_row[:-1]))  # the latest value row before each row
    delta_base = np.where(before >= s.a, ev[np.maximum(before, 0)], 0)
    absdelta = np.where(has, np.abs(ev - delta_base), 0)
    p_r = s.prefix(absdelta)
    lo_w = np.maximum(s.row - HISTORY_MONTHS, seg_a)
    n = p_k[s.row] - p_k[lo_w]
    total = p_s[s.row] - p_s[lo_w]
    next_value = np.minimum.accumulate(np.where(has, s.row, s.count)[::-1])[::-1]
    first_in = np.minimum(next_value[lo_w], s.count - 1)
    ranges = np.where(n > 0, p_r[s.row] - p_r[lo_w] - absdelta[first_in], 0)
    enough = n >= MIN_POINTS
    n_safe = np.where(enough, n, MIN_POINTS)
    limits_over = q * n_safe * (n_safe - 1)
    centre_base = q * total * (n_safe - 1)
    spread = p * ranges * n_safe
    lower_at, upper_at = centre_base - spread, centre_base + spread
    least, greatest = _bounds(info, s)
    no_least, no_greatest = least is None, greatest is None
    centre, _ = _rounded(total, np.where(enough, n_safe, 1), enough, scale=100)
    lower, _ = _rounded(lower_at, limits_over, enough, scale=100)
    upper, _ = _rounded(upper_at, limits_over, enough, scale=100)
    if not no_least:
        held = enough & least[1] & (lower_at < least[0] * limits_over)
        lower = np.where(held, least[0] * 100, lower)
    if not no_greatest:
        held = enough & greatest[1] & (upper_at > greatest[0] * limits_over)
        upper = np.where(held, greatest[0] * 100, upper)
    scaled = q * ev * n_safe * (n_safe - 1)
    outside = (scaled < lower_at) | (scaled > upper_at)
    if not no_least:
        outside |= least[1] & (ev < least[0])
    if not no_greatest:
        outside |= greatest[1] & (ev > greatest[0])
    beyond = enough & has & outside
    side = np.where(enough & has, np.sign(ev * n_safe - total), 0)
    step_ok = has & np.roll(has, 1) & (s.row - 1 >= seg_a)
    step = np.where(step_ok, np.sign(ev - previous_value), 0)

    def ends(mark: np.ndarray, length: int) -> np.ndarray:
        """Rows ending `length` marked rows in a row within their segment."""
        prefix = s.prefix(mark.astype(np.int64))
        start = s.row - length + 1
        return (start >= seg_a) & (prefix[s.row + 1] - prefix[np.maximum(start, 0)] == length)

    def marked(end: np.ndarray, reach: int) -> np.ndarray:
        """Rows with an end within the next `reach` rows of their segment, themselves too."""
        prefix = s.prefix(end.astype(np.int64))
        return prefix[np.minimum(s.row + reach, seg_end) + 1] - prefix[s.row] > 0

    signals = (
        beyond.astype(np.int64)
        | marked(ends(side == 1, RUN_LENGTH), RUN_LENGTH - 1) << 1
        | marked(ends(side == -1, RUN_LENGTH), RUN_LENGTH - 1) << 2
        | marked(ends(step == 1, TREND_LENGTH - 1), TREND_LENGTH - 1) << 3
        | marked(ends(step == -1, TREND_LENGTH - 1), TREND_LENGTH - 1) << 4
    )
    return {
        "spc_centre": (centre, enough),
        "spc_lower": (lower, enough),
        "spc_upper": (upper, enough),
        "spc_signals": (signals, None),
    }


def _bounds(info: list[MeasureInfo], s: _Series):
    """Each row's least and greatest value (ten-thousandths) with whether it has one."""

    def one(kind: str):
        found = [getattr(unit_bounds(i.unit), kind) for i in info]
        if all(f is None for f in found):
            return None
        value = np.array([int(f * SCALE) if f is not None else 0 for f in found])[s.series]
        present = np.array([f is not None for f in found])[s.series]
        return value, present

    return one("least"), one("greatest")


def signal_text(code: int) -> str:
    """The stored text of a signal bitmask: the signals' names, comma-separated."""
    return ",".join(name for bit, name in enumerate(SIGNALS) if code >> bit & 1)


__all__ = [
    "Figures",
    "MeasureInfo",
    "Values",
    "figures_compute",
    "signal_text",
]
