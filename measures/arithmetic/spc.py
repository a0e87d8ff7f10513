"""Statistical process control for monthly series: XmR (individuals and moving range).

Pure functions over plain numbers; the derived-figures engine, the measure page and the
return checks share them. Limits are the mean ± 2.66 × the mean moving range (the usual
XmR constant, i.e. three sigma); the run rules are those of the NHS "Making Data Count"
guidance: a point beyond a limit, a run of 7 on one side of the mean, 6 rising or falling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

XMR_CONSTANT = Decimal("2.66")
MIN_POINTS = 6
RUN_LENGTH = 7
TREND_LENGTH = 6


@dataclass(frozen=True)
class Limits:
    centre: Decimal
    lower: Decimal
    upper: Decimal

    def outside(self, value: Decimal) -> bool:
        return value < self.lower or value > self.upper


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


def xmr_limits(values: Sequence[Decimal]) -> Limits | None:
    """Return the XmR limits of a series, or None when it is too short to have any."""
    if len(values) < MIN_POINTS:
        return None
    centre = sum(values, Decimal(0)) / len(values)
    moving_ranges = [abs(b - a) for a, b in pairwise(values)]
    mean_range = sum(moving_ranges, Decimal(0)) / len(moving_ranges)
    spread = XMR_CONSTANT * mean_range
    return Limits(centre=centre, lower=centre - spread, upper=centre + spread)


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
