"""Checks on a typed figure (SPEC §5): hard errors block a save; warnings need a note.

Shared by the return form, the API and the value import so that a figure is judged the
same way whichever door it comes in by.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from measures.arithmetic.formatting import plain_number
from measures.arithmetic.significance import (
    SMALL_COUNT,
    count_change_significance,
    poisson_rates_p_value,
)
from measures.arithmetic.spc import xmr_limits

NON_NEGATIVE_UNITS = {"count", "days", "years", "gbp", "kg", "rate"}
LARGE_CHANGE = Decimal("0.5")
# The chance that a point of an unchanged series falls beyond XmR's three-sigma limits.
THREE_SIGMA_LEVEL = 0.0027


def value_errors(
    *,
    unit: str,
    aggregation: str,
    decimals: int,
    value: Decimal | None,
    numerator: Decimal | None = None,
    denominator: Decimal | None = None,
    unit_name: str = "",
) -> list[str]:
    """Return the hard errors of a figure (empty when it may be saved)."""
    problems: list[str] = []
    if (numerator is None) != (denominator is None):
        problems.append("numerator and denominator must be given together")
    if numerator is not None and denominator is not None:
        if numerator < 0 or denominator < 0:
            problems.append("numerator and denominator cannot be negative")
        if numerator > denominator:
            problems.append(f"numerator {numerator} is greater than denominator {denominator}")
        if denominator == 0:
            problems.append("denominator is 0")
    if value is None:
        return problems
    if unit in NON_NEGATIVE_UNITS and value < 0:
        problems.append(f"value {value} is negative; {unit_name or unit} cannot be below 0")
    if unit == "count" and value != value.to_integral_value():
        problems.append(f"value {value} is not a whole number; a count cannot have a fraction")
    if unit == "percent" and not (0 <= value <= 100):
        problems.append(f"value {value} is not a percentage between 0 and 100")
    if aggregation == "ratio" and numerator is not None and denominator and numerator >= 0:
        implied = numerator / denominator * 100
        tolerance = Decimal(1).scaleb(-decimals) / 2 + Decimal("0.0001")
        if abs(implied - value) > tolerance:
            problems.append(
                f"value {value} does not match numerator/denominator "
                f"({numerator}/{denominator} = {implied:.{decimals + 1}f}%)"
            )
    return problems


def value_warnings(
    *,
    value: Decimal,
    history: Sequence[Decimal],
    previous: Decimal | None,
    same_period_last_year: Decimal | None,
    unit: str | None = None,
) -> list[str]:
    """Return why a figure looks unusual against its own history (empty when it does not).

    Two checks (SPEC §5): outside the XmR limits of its history, or a change of more than
    50 % against the previous period or the same period last year. Counts get a third
    question, because small numbers jump about by chance (1 -> 2 homicides is +100 %):

    - Below `SMALL_COUNT` (30) in either figure, a change is unusual only if it is more
      than 50 % *and* beyond normal variation by the Poisson test of the two counts. 30
      is where a 50 % change starts to mean something: a count of 30 varies by about
      sqrt(30) = 5.5 by chance alone, so two such counts differ by about sqrt(60) = 7.7,
      and 15 (50 %) is two of those standard deviations. It is also the threshold below
      which the published report cautions "small numbers" (`significance.SMALL_COUNT`).
      From 30 up the plain ±50 % rule applies, as SPEC §5 states it.
    - XmR limits worked out from a series of small counts can collapse (months of 0 have
      limits 0 to 0, so one event would be "unusual"); a count of a series averaging
      below 30 is outside them only if the Poisson test of it against the series' total
      agrees at the limits' own level (three sigma).

    Other units (percent, days, pounds…) are not counts of events, so there is no Poisson
    noise to allow for: they keep the XmR limits and the ±50 % rule. A caller that does
    not give the `unit` has its figures judged as counts when they are all whole numbers.
    """
    counts = _judged_as_counts(unit, [value, previous, same_period_last_year, *history])
    warnings = []
    limits = xmr_limits(history)
    if (
        limits is not None
        and limits.outside(value)
        and (not counts or _count_beyond_its_series(value, history))
    ):
        warnings.append(
            f"outside the usual range of its last {len(history)} values "
            f"({limits.lower:.1f} to {limits.upper:.1f})"
        )
    for name, base in (
        ("previous period", previous),
        ("same period last year", same_period_last_year),
    ):
        if base is None:
            continue
        if counts:
            warning = _count_change_warning(value, base, name)
        elif base and abs(value - base) / abs(base) > LARGE_CHANGE:
            warning = _change_text(value, base, name)
        else:
            warning = ""
        if warning:
            warnings.append(warning)
    return warnings


def _is_whole(number: Decimal) -> bool:
    return number >= 0 and number == number.to_integral_value()


def _judged_as_counts(unit: str | None, figures: Sequence[Decimal | None]) -> bool:
    if unit is not None:
        return unit == "count"
    return all(_is_whole(figure) for figure in figures if figure is not None)


def _change_text(value: Decimal, base: Decimal, name: str) -> str:
    pct = (value - base) / abs(base) * 100
    return f"{pct:+.0f}% against the {name} ({plain_number(base)})"


def _count_change_warning(value: Decimal, base: Decimal, name: str) -> str:
    """Return the warning for a count against one earlier count, or "" when it is usual."""
    significance = count_change_significance(base, value)
    if significance is None:  # not whole numbers: judged as any other figure
        large = base != 0 and abs(value - base) / abs(base) > LARGE_CHANGE
        return _change_text(value, base, name) if large else ""
    if significance.small_numbers and not significance.significant:
        return ""
    if base == 0:
        # No percentage of nothing; only small numbers get here, and only significant ones.
        return f"{plain_number(value)} against 0 in the {name}"
    if abs(value - base) / base <= LARGE_CHANGE:
        return ""
    return _change_text(value, base, name)


def _count_beyond_its_series(value: Decimal, history: Sequence[Decimal]) -> bool:
    """Return whether a count is beyond the Poisson noise of the series before it."""
    total = sum(history, Decimal(0))
    if total >= SMALL_COUNT * len(history):
        return True  # counts this large: the XmR limits alone decide
    if not _is_whole(value) or not all(_is_whole(h) for h in history):
        return True
    p_value = poisson_rates_p_value(int(total), int(value), exposure_ratio=1 / len(history))
    return p_value < THREE_SIGMA_LEVEL
