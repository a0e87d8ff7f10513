"""What an import accepts: the columns, the limits, and how a cell is read as a figure.

Shared by the row-by-row import (`values`) and the COPY path (`values_copy`), so both judge
a file the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

VALUE_COLUMNS = ("measure", "area", "period", "value")


OPTIONAL_VALUE_COLUMNS = ("numerator", "denominator", "note", "source", "released")


MAX_FILE_BYTES = 200 * 1024 * 1024


# Value.value is DecimalField(max_digits=18, decimal_places=4).
MAX_FIGURE = Decimal(10) ** 14


FIGURE_DECIMALS = 4


FIGURE_RE = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.[0-9]*)?")


EXPONENT_RE = re.compile(r"[+-]?[0-9.,]*[0-9][eE][+-]?[0-9]+")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class ImportRejected(Exception):
    """The file was rejected as a whole; nothing was written."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors[:5]))


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


# --- values -----------------------------------------------------------------------------------


def parse_decimal(text: str) -> Decimal:
    cleaned = text.replace(",", "")
    number = Decimal(cleaned)
    if not number.is_finite():
        raise InvalidOperation
    return number


def parse_figure(text: str) -> Decimal:
    """Return the figure written as `text`, or raise ValueError saying why it is not one.

    Digits with an optional sign and decimal point; commas only between thousands (1,234.5).
    """
    if EXPONENT_RE.fullmatch(text):
        raise ValueError(
            f"{text!r} is in scientific notation, which may have lost digits; format the "
            "column as a number showing every digit"
        )
    if not FIGURE_RE.fullmatch(text) or not any(c in "0123456789" for c in text):
        raise ValueError(f"{text!r} is not a number")
    number = Decimal(text.replace(",", ""))
    if abs(number) >= MAX_FIGURE:
        raise ValueError(f"{text!r} is too large; figures must be below 100,000,000,000,000")
    if number != number.quantize(Decimal(1).scaleb(-FIGURE_DECIMALS)):
        raise ValueError(f"{text!r} has more than {FIGURE_DECIMALS} decimal places")
    return number


def is_formula(text: str) -> bool:
    """Whether a spreadsheet would take the cell for a formula: = or @ first, or + or -
    first in anything but a plain number."""
    if text[:1] in ("=", "@"):
        return True
    return text[:1] in ("+", "-") and len(text) > 1 and not FIGURE_RE.fullmatch(text)


def check_header(line: int, cells: list[str]) -> tuple[dict[str, int], list[RowError]]:
    names = [c.strip().lower() for c in cells]
    errors = []
    missing = [c for c in VALUE_COLUMNS if c not in names]
    if missing:
        errors.append(
            RowError(
                line,
                f"header is missing {', '.join(missing)}; expected "
                f"{','.join(VALUE_COLUMNS)} and optionally {','.join(OPTIONAL_VALUE_COLUMNS)}",
            )
        )
    unknown = [c for c in names if c and c not in VALUE_COLUMNS + OPTIONAL_VALUE_COLUMNS]
    if unknown:
        errors.append(RowError(line, f"unknown column(s) {', '.join(map(repr, unknown))}"))
    repeated = sorted({c for c in names if c and names.count(c) > 1})
    if repeated:
        errors.append(RowError(line, f"column(s) {', '.join(repeated)} appear more than once"))
    return {name: i for i, name in enumerate(names) if name}, errors
