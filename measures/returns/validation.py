"""Checks on a typed figure (SPEC §5): hard errors block a save; warnings need a note.

Shared by the return form, the API and the value import so that a figure is judged the
same way whichever door it comes in by.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from measures.arithmetic.formatting import plain_number
from measures.arithmetic.spc import xmr_limits

NON_NEGATIVE_UNITS = {"count", "days", "years", "gbp", "kg", "rate"}
LARGE_CHANGE = Decimal("0.5")


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
) -> list[str]:
    """Return why a figure looks unusual against its own history (empty when it does not)."""
    warnings = []
    limits = xmr_limits(history)
    if limits is not None and limits.outside(value):
        warnings.append(
            f"outside the usual range of its last {len(history)} values "
            f"({limits.lower:.1f} to {limits.upper:.1f})"
        )
    for name, base in (
        ("previous period", previous),
        ("same period last year", same_period_last_year),
    ):
        if base and abs(value - base) / abs(base) > LARGE_CHANGE:
            pct = (value - base) / abs(base) * 100
            warnings.append(f"{pct:+.0f}% against the {name} ({plain_number(base)})")
    return warnings
