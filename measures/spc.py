"""Statistical process control for monthly series: XmR (individuals and moving range) limits.

Pure functions over plain numbers; the derived-figures engine and the return checks share
them. Limits are the mean ± 2.66 × the mean moving range, the usual XmR constant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

XMR_CONSTANT = Decimal("2.66")
MIN_POINTS = 6


@dataclass(frozen=True)
class Limits:
    centre: Decimal
    lower: Decimal
    upper: Decimal

    def outside(self, value: Decimal) -> bool:
        return value < self.lower or value > self.upper


def xmr_limits(values: Sequence[Decimal]) -> Limits | None:
    """Return the XmR limits of a series, or None when it is too short to have any."""
    if len(values) < MIN_POINTS:
        return None
    centre = sum(values, Decimal(0)) / len(values)
    moving_ranges = [abs(b - a) for a, b in pairwise(values)]
    mean_range = sum(moving_ranges, Decimal(0)) / len(moving_ranges)
    spread = XMR_CONSTANT * mean_range
    return Limits(centre=centre, lower=centre - spread, upper=centre + spread)
