"""Figures written as the seed report writes them: "16,127", "69.8%", "+79.5%", "+0.4 pp"."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from measures.arithmetic.figures import UNITS

__all__ = [
    "MISSING",
    "format_change_pct",
    "format_change_pp",
    "format_value",
    "plain_number",
    "round_half_up",
]

# A missing figure prints as an en dash, as in the seed's tables.
MISSING = "\u2013"
NOT_APPLICABLE = "n/a"

# Units whose number is followed by a word; "1 day" and "1 year" drop the plural.
_SUFFIXED_UNITS = {"kg": ("kg", "kg"), "years": ("year", "years"), "days": ("day", "days")}


def round_half_up(value: Decimal, places: int) -> Decimal:
    """Return `value` rounded to `places` decimal places, halves away from zero.

    Published reports round 0.05 up to 0.1; Python's default (banker's) rounding would
    print some changes differently from the reports the figures must match.
    """
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _number(value: Decimal, decimals: int) -> str:
    """Return `value` rounded with thousands separators, never as "-0"."""
    rounded = round_half_up(value, decimals)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded:,.{decimals}f}"


def format_value(value: Decimal | None, unit: str, decimals: int = 0) -> str:
    """Return `value` in `unit` rounded to `decimals` places, e.g. "£30,801" or "8.8 kg"."""
    if unit not in UNITS:
        raise ValueError(f"Unknown unit {unit!r}; use one of {', '.join(UNITS)}.")
    if value is None:
        return MISSING
    number = _number(value, decimals)
    if unit == "percent":
        return f"{number}%"
    if unit == "gbp":
        # "-£120", not "£-120".
        return f"-£{number[1:]}" if number.startswith("-") else f"£{number}"
    if unit in _SUFFIXED_UNITS:
        singular, plural = _SUFFIXED_UNITS[unit]
        return f"{number} {singular if number == '1' else plural}"
    return number


def _signed(value: Decimal) -> str:
    """Return `value` to one decimal place with an explicit "+" when positive."""
    number = _number(value, 1)
    return f"+{number}" if round_half_up(value, 1) > 0 else number


def format_change_pct(pct: Decimal | None) -> str:
    """Return a percentage change as "+79.5%", "-39.1%" or "0.0%"; "n/a" when there is none."""
    if pct is None:
        return NOT_APPLICABLE
    return f"{_signed(pct)}%"


def format_change_pp(pp: Decimal | None) -> str:
    """Return a change in percentage points as "+0.4 pp" or "-2.8 pp"; "n/a" when there is none."""
    if pp is None:
        return NOT_APPLICABLE
    return f"{_signed(pp)} pp"


def plain_number(number: Decimal | None) -> str | None:
    """Return a stored figure as a person would type it: "12", not "12.0000" (None as None).

    -0 is stored as 0 (PostgreSQL's numeric has no negative zero), so it is written 0.
    """
    if number is None:
        return None
    return "0" if number == 0 else format(number.normalize(), "f")
