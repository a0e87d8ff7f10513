"""Statistical process control for monthly series: XmR (individuals and moving range).

Pure functions over plain numbers; the derived-figures engine, the measure page, the charts
and the return checks share them. Limits are the mean ± 2.66 × the mean moving range (the
usual XmR constant, i.e. three sigma); the run rules are those of the NHS "Making Data
Count" guidance: a point beyond a limit, a run of 7 on one side of the mean, 6 rising or
falling.

Two things keep the statistics honest:

- **Bounds.** A limit beyond anything the figure can take (a count below zero, a
  percentage over 100) is held at that bound, and the limits say so, so a chart can.
- **Breaks in series.** Where the process changed (a recording rule, a new team, the Covid
  period) the series is split: each segment between breaks has its own limits, and the
  run rules restart at each break. `segments` serves a chart of a window of months;
  `month_checks` gives each month the limits of its own history, as the engine does.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

XMR_CONSTANT = Decimal("2.66")
MIN_POINTS = 6
RUN_LENGTH = 7
TREND_LENGTH = 6
# The months of history a month is judged by (the engine's SPC columns): two years, never
# reaching back past a break in series.
HISTORY_MONTHS = 24


@dataclass(frozen=True)
class Bounds:
    """The least and greatest values a figure can take (None: no bound that way)."""

    least: Decimal | None = None
    greatest: Decimal | None = None


NO_BOUNDS = Bounds()
# No figure of the plan can be negative (counts, days, money, weights, rates); a percentage
# cannot pass 100. The same ranges the return checks enforce on entry.
UNIT_BOUNDS = {"percent": Bounds(Decimal(0), Decimal(100))}


def unit_bounds(unit: str) -> Bounds:
    """Return the range a figure in `unit` can take: never below zero, a percentage to 100."""
    return UNIT_BOUNDS.get(unit, Bounds(least=Decimal(0)))


@dataclass(frozen=True)
class Limits:
    centre: Decimal
    lower: Decimal
    upper: Decimal
    # A limit held at the figure's bound: the calculated one (kept here) lies beyond
    # anything the series can reach, such as a count's lower limit below zero.
    calculated_lower: Decimal | None = None
    calculated_upper: Decimal | None = None

    @property
    def lower_held(self) -> bool:
        return self.calculated_lower is not None

    @property
    def upper_held(self) -> bool:
        return self.calculated_upper is not None

    def outside(self, value: Decimal) -> bool:
        return value < self.lower or value > self.upper

    def within(self, bounds: Bounds) -> Limits:
        """Return these limits held within `bounds`, remembering any calculated one moved."""
        held = self
        if bounds.least is not None and self.lower < bounds.least:
            held = replace(held, lower=bounds.least, calculated_lower=self.lower)
        if bounds.greatest is not None and self.upper > bounds.greatest:
            held = replace(held, upper=bounds.greatest, calculated_upper=self.upper)
        return held


class Signal(StrEnum):
    BEYOND_LIMITS = "beyond_limits"
    RUN_ABOVE = "run_above"
    RUN_BELOW = "run_below"
    TREND_UP = "trend_up"
    TREND_DOWN = "trend_down"


SIGNAL_TEXT = {
    Signal.BEYOND_LIMITS: "beyond the control limits",
    Signal.RUN_ABOVE: f"{RUN_LENGTH} or more in a row above the mean",
    Signal.RUN_BELOW: f"{RUN_LENGTH} or more in a row below the mean",
    Signal.TREND_UP: f"{TREND_LENGTH} or more rising in a row",
    Signal.TREND_DOWN: f"{TREND_LENGTH} or more falling in a row",
}


def xmr_limits(values: Sequence[Decimal], *, bounds: Bounds = NO_BOUNDS) -> Limits | None:
    """Return the XmR limits of a series, or None when it is too short to have any.

    With `bounds` (see `unit_bounds`) a limit beyond them is held at the bound.
    """
    if len(values) < MIN_POINTS:
        return None
    centre = sum(values, Decimal(0)) / len(values)
    moving_ranges = [abs(b - a) for a, b in pairwise(values)]
    mean_range = sum(moving_ranges, Decimal(0)) / len(moving_ranges)
    spread = XMR_CONSTANT * mean_range
    return Limits(centre=centre, lower=centre - spread, upper=centre + spread).within(bounds)


def signals(values: Sequence[Decimal], limits: Limits) -> list[set[Signal]]:
    """Return, for each point, the run rules it is part of breaking."""
    found: list[set[Signal]] = [set() for _ in values]
    for i, value in enumerate(values):
        if limits.outside(value):
            found[i].add(Signal.BEYOND_LIMITS)
    _mark_runs(values, found, lambda v: v > limits.centre, Signal.RUN_ABOVE, RUN_LENGTH)
    _mark_runs(values, found, lambda v: v < limits.centre, Signal.RUN_BELOW, RUN_LENGTH)
    steps = [b - a for a, b in pairwise(values)]
    # A trend of six points is five steps in one direction.
    for signal, rising in ((Signal.TREND_UP, True), (Signal.TREND_DOWN, False)):
        start = None
        for i, step in enumerate([*steps, Decimal(0)]):
            moving = step > 0 if rising else step < 0
            if moving and start is None:
                start = i
            if not moving and start is not None:
                if i - start + 1 >= TREND_LENGTH:
                    for j in range(start, i + 1):
                        found[j].add(signal)
                start = None
    return found


def _mark_runs(values, found, side, signal, length) -> None:
    start = None
    for i, value in enumerate([*values, None]):
        on_side = value is not None and side(value)
        if on_side and start is None:
            start = i
        if not on_side and start is not None:
            if i - start >= length:
                for j in range(start, i):
                    found[j].add(signal)
            start = None


# ---------------------------------------------------------------------------------------
# Breaks in series: a chart's segments.


@dataclass(frozen=True)
class Segment:
    """The points `start` to `stop` (exclusive) of a series between two breaks in series.

    `limits` is None when the segment has fewer than MIN_POINTS values; `reason` is why the
    series broke where the segment starts ("" for the segment a series begins with).
    """

    start: int
    stop: int
    limits: Limits | None
    reason: str = ""


def segments(
    values: Sequence[Decimal | None],
    breaks: Mapping[int, str] | None = None,
    *,
    bounds: Bounds = NO_BOUNDS,
) -> list[Segment]:
    """Return the series cut at its breaks, each part with the limits of its own values.

    `breaks` maps the index of the first point after each break to its reason; a break at or
    before the first point, or after the last, cuts nothing. A missing value (None) is left
    out of the limits.
    """
    cuts = sorted(i for i in (breaks or {}) if 0 < i < len(values))
    found = []
    for start, stop in pairwise([0, *cuts, len(values)]):
        known = [v for v in values[start:stop] if v is not None]
        reason = (breaks or {}).get(start, "") if start else ""
        found.append(Segment(start, stop, xmr_limits(known, bounds=bounds), reason))
    return found


def segment_signals(
    values: Sequence[Decimal | None], parts: Sequence[Segment]
) -> list[set[Signal]]:
    """Return, for each point, the run rules it breaks within its own segment.

    Runs and trends restart at every break; a segment without limits has no signals; a
    missing value breaks a run (it is neither above nor below the mean) and has none.
    """
    found: list[set[Signal]] = [set() for _ in values]
    for part in parts:
        if part.limits is None:
            continue
        centre = part.limits.centre
        stretch = values[part.start : part.stop]
        marks = signals([centre if v is None else v for v in stretch], part.limits)
        for offset, (value, mark) in enumerate(zip(stretch, marks, strict=True)):
            if value is not None:
                found[part.start + offset] = mark
    return found


# ---------------------------------------------------------------------------------------
# Each month judged by its own history: the engine's SPC columns.


@dataclass(frozen=True)
class MonthCheck:
    """A month's limits from the months before it, and the run rules it is part of breaking."""

    limits: Limits | None
    signals: frozenset[Signal]


def month_checks(
    values: Sequence[Decimal | None],
    *,
    breaks: Collection[int] = (),
    bounds: Bounds = NO_BOUNDS,
) -> list[MonthCheck]:
    """Return each month's limits and signals as the derived-figures engine materialises them.

    `values` is a run of consecutive months (None where a month has no value); `breaks` the
    indexes of the first months after breaks in series. A month's limits are `xmr_limits`
    of the values of up to HISTORY_MONTHS months before it, back to the latest break: their
    mean, and 2.66 times the mean of the moving ranges between consecutive values of that
    window (a missing month is skipped, as a chart's segment skips it; the range from a value
    before the window to its first value is not the window's). With fewer than MIN_POINTS
    values it has none.

    A month is beyond the limits when outside its own; it is in a run when it and the
    months next to it, 7 or more in a row within a segment, are each on the same side of
    their own mean (a value equal to its mean, or a missing month, ends a run); in a trend
    when it is one of 6 or more months in a row within a segment, each higher (or each lower)
    than the month before it: every month of the trend is marked, its first too, as
    `signals` marks them.
    """
    segment = _segment_numbers(len(values), breaks)
    limits: list[Limits | None] = []
    for i in range(len(values)):
        history = [j for j in range(max(0, i - HISTORY_MONTHS), i) if segment[j] == segment[i]]
        known = [v for j in history if (v := values[j]) is not None]
        limits.append(xmr_limits(known, bounds=bounds))

    def side(i: int) -> int | None:
        value, own = values[i], limits[i]
        if value is None or own is None:
            return None
        return (value > own.centre) - (value < own.centre)

    def step(i: int) -> int | None:
        value = values[i]
        previous = values[i - 1] if i and segment[i - 1] == segment[i] else None
        if value is None or previous is None:
            return None
        return (value > previous) - (value < previous)

    sides = [side(i) for i in range(len(values))]
    steps = [step(i) for i in range(len(values))]
    found: list[set[Signal]] = [set() for _ in values]
    for i, own in enumerate(limits):
        value = values[i]
        if own is not None and value is not None and own.outside(value):
            found[i].add(Signal.BEYOND_LIMITS)
    _mark_islands(sides, segment, found, RUN_LENGTH, {1: Signal.RUN_ABOVE, -1: Signal.RUN_BELOW})
    # A trend of six months is five steps the same way; the month before the first step
    # (in the same segment, or the step would have none) is the trend's first month.
    _mark_islands(
        steps,
        segment,
        found,
        TREND_LENGTH - 1,
        {1: Signal.TREND_UP, -1: Signal.TREND_DOWN},
        before=1,
    )
    return [MonthCheck(own, frozenset(f)) for own, f in zip(limits, found, strict=True)]


def _segment_numbers(length: int, breaks: Iterable[int]) -> list[int]:
    """Return, for each index, how many breaks come at or before it."""
    starts = set(breaks)
    numbers, current = [], 0
    for i in range(length):
        current += i in starts
        numbers.append(current)
    return numbers


def _mark_islands(
    keys: Sequence[int | None],
    segment: Sequence[int],
    found: list[set[Signal]],
    length: int,
    signal_of: Mapping[int, Signal],
    *,
    before: int = 0,
) -> None:
    """Mark every index in a row of at least `length` equal keys within a segment, and the
    `before` indexes just ahead of the row."""
    start = 0
    for i in range(1, len(keys) + 1):
        if i < len(keys) and keys[i] == keys[start] and segment[i] == segment[start]:
            continue
        key = keys[start]
        if key is not None and key in signal_of and i - start >= length:
            for j in range(start - before, i):
                found[j].add(signal_of[key])
        start = i
