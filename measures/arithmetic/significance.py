"""Is a change real or noise? (SPEC §4) Pure functions over plain numbers.

Two counts over windows of the same length are compared with the exact conditional test
for two Poisson rates: given n = base + current events, the current count is
Binomial(n, p) with p = t_current / (t_base + t_current) when nothing has changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

SIGNIFICANCE_LEVEL = 0.05
# Below this in either window, a percentage change says more about chance than about
# policing (23 -> 14 homicides is "-39 %" but well within normal variation).
SMALL_COUNT = 30
# Beyond this the normal approximation is within 0.001 of the exact test, and far faster.
EXACT_LIMIT = 1_000


@dataclass(frozen=True)
class Significance:
    p_value: float
    significant: bool
    small_numbers: bool

    @property
    def caution(self) -> str:
        """Return the caution to print beside the figure, or an empty string."""
        if self.small_numbers:
            return "Small numbers: treat the change with caution"
        if not self.significant:
            return "Within normal variation"
        return ""


def _log_binomial_pmf(k: int, n: int, p: float) -> float:
    return (
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )


def poisson_rates_p_value(base: int, current: int, *, exposure_ratio: float = 1.0) -> float:
    """Return the two-sided p-value that two Poisson counts share one rate.

    `exposure_ratio` is the current window's length over the base window's.
    """
    if base < 0 or current < 0:
        raise ValueError("Counts cannot be negative.")
    n = base + current
    if n == 0:
        return 1.0
    p = exposure_ratio / (1 + exposure_ratio)
    if n > EXACT_LIMIT:
        # The binomial is as good as normal here; the exact sum would be slow.
        mean, sd = n * p, math.sqrt(n * p * (1 - p))
        z = (abs(current - mean) - 0.5) / sd
        return max(0.0, min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2))))
    observed = _log_binomial_pmf(current, n, p)
    # Sum every outcome no more likely than the one observed (the exact two-sided test).
    tolerance = 1e-7
    total = 0.0
    for k in range(n + 1):
        log_pmf = _log_binomial_pmf(k, n, p)
        if log_pmf <= observed + tolerance:
            total += math.exp(log_pmf)
    return min(1.0, total)


def count_change_significance(
    base: Decimal | int | None, current: Decimal | int | None, *, exposure_ratio: float = 1.0
) -> Significance | None:
    """Return the significance of a change in a count, or None when it cannot be tested."""
    if base is None or current is None:
        return None
    if Decimal(base) != int(base) or Decimal(current) != int(current):
        return None
    b, c = int(base), int(current)
    if b < 0 or c < 0:
        return None
    p_value = poisson_rates_p_value(b, c, exposure_ratio=exposure_ratio)
    small = min(b, c) < SMALL_COUNT
    return Significance(
        p_value=p_value, significant=p_value < SIGNIFICANCE_LEVEL, small_numbers=small
    )
