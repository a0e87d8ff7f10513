"""Months and periods of months, their notation (SPEC §3) and their labels.

Months are the atomic unit: every period is an inclusive run of whole months. The
financial year runs from 1 April to 31 March and is written "2022/23".
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import total_ordering

__all__ = [
    "ACCEPTED_FORMS",
    "Month",
    "Period",
    "PeriodError",
    "PeriodKind",
    "parse_month",
    "parse_period",
]

MIN_YEAR = 1900
MAX_YEAR = 2999
FINANCIAL_YEAR_START_MONTH = 4

# The seed writes ranges with an en dash: "Oct\u2013Dec 2022", "1st April \u2013 31st December".
EN_DASH = "\u2013"

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# "Sep", not "Sept": the seed abbreviates every month to three letters.
MONTH_ABBREVIATIONS = tuple(name[:3] for name in MONTH_NAMES)

ACCEPTED_FORMS = (
    "2022-12 (a month)",
    "2022-04/2022-12 (a range of months)",
    "2022-Q3 (a calendar quarter)",
    "2022/23 (a financial year)",
    "2022/23-Q3 (a financial quarter)",
    "2022 (a calendar year)",
)


class PeriodError(ValueError):
    """A month or period that does not exist, or text that is not a period."""

    @classmethod
    def for_text(cls, text: str, reason: str = "") -> PeriodError:
        """Return the error for text that is not a period, naming every accepted form."""
        message = f"{text!r} is not a period. Use one of: {', '.join(ACCEPTED_FORMS)}."
        if reason:
            message = f"{message} {reason}"
        return cls(message)


def ordinal(day: int) -> str:
    """Return the day of the month with its English suffix: 1st, 2nd, 3rd, 4th, 11th, 22nd."""
    teens = 11 <= day % 100 <= 13
    suffix = "th" if teens else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


_MONTHS_BY_INDEX: dict[int, Month] = {}


@dataclass(frozen=True, order=True)
class Month:
    """One calendar month."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise PeriodError(f"There is no month {self.month}: months run from 1 to 12.")
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise PeriodError(f"The year {self.year} is not between {MIN_YEAR} and {MAX_YEAR}.")

    def __str__(self) -> str:
        return self.iso

    @classmethod
    def from_index(cls, index: int) -> Month:
        """Return the month whose `index` is `index`."""
        # Months are immutable, so one instance per month serves everyone: month
        # arithmetic on a large table is then a dictionary lookup.
        month = _MONTHS_BY_INDEX.get(index)
        if month is None or cls is not Month:
            year, month0 = divmod(index, 12)
            month = cls(year, month0 + 1)
            if cls is Month:
                _MONTHS_BY_INDEX[index] = month
        return month

    @classmethod
    def from_date(cls, day: date) -> Month:
        """Return the month containing `day`."""
        return cls(day.year, day.month)

    @property
    def index(self) -> int:
        """Return a number that grows by one each month, for month arithmetic."""
        return self.year * 12 + self.month - 1

    def shift(self, months: int) -> Month:
        """Return the month `months` later (earlier when negative)."""
        return Month.from_index(self.index + months)

    def months_until(self, other: Month) -> int:
        """Return how many months `other` is after this month (negative when before)."""
        return other.index - self.index

    @property
    def first_day(self) -> date:
        """Return the first day of the month."""
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        """Return the last day of the month."""
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def iso(self) -> str:
        """Return the month's notation, e.g. "2022-12"."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def name(self) -> str:
        """Return the month's English name, e.g. "December"."""
        return MONTH_NAMES[self.month - 1]

    @property
    def abbreviation(self) -> str:
        """Return the month's three-letter name, e.g. "Dec"."""
        return MONTH_ABBREVIATIONS[self.month - 1]

    @property
    def short_label(self) -> str:
        """Return e.g. "Dec 2022"."""
        return f"{self.abbreviation} {self.year}"

    @property
    def long_label(self) -> str:
        """Return e.g. "December 2022"."""
        return f"{self.name} {self.year}"

    @property
    def financial_year(self) -> int:
        """Return the year in which this month's April to March financial year starts."""
        return self.year if self.month >= FINANCIAL_YEAR_START_MONTH else self.year - 1


class PeriodKind(StrEnum):
    """How a period was named; it decides the notation and label, never equality."""

    MONTH = "month"
    RANGE = "range"
    CALENDAR_QUARTER = "calendar_quarter"
    FINANCIAL_YEAR = "financial_year"
    FINANCIAL_QUARTER = "financial_quarter"
    CALENDAR_YEAR = "calendar_year"


QUARTER_START_MONTHS = (1, 4, 7, 10)


def financial_year_notation(start_year: int) -> str:
    """Return e.g. "2022/23" for the financial year starting in April 2022."""
    return f"{start_year}/{(start_year + 1) % 100:02d}"


@total_ordering
@dataclass(frozen=True, eq=False)
class Period:
    """An inclusive run of whole months.

    Two periods with the same first and last month are equal whatever their kind: the kind
    only says how to write and label them (2022/23-Q3 and 2022-Q4 are the same months).
    """

    start: Month
    end: Month
    kind: PeriodKind = PeriodKind.RANGE

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError(f"The period {self.start.iso}/{self.end.iso} ends before it starts.")
        length = self.length
        fits = {
            PeriodKind.MONTH: length == 1,
            PeriodKind.RANGE: True,
            PeriodKind.CALENDAR_QUARTER: length == 3 and self.start.month in QUARTER_START_MONTHS,
            PeriodKind.FINANCIAL_QUARTER: length == 3 and self.start.month in QUARTER_START_MONTHS,
            PeriodKind.FINANCIAL_YEAR: length == 12
            and self.start.month == FINANCIAL_YEAR_START_MONTH,
            PeriodKind.CALENDAR_YEAR: length == 12 and self.start.month == 1,
        }[PeriodKind(self.kind)]
        if not fits:
            kind = PeriodKind(self.kind).replace("_", " ")
            raise PeriodError(f"The months {self.start.iso}/{self.end.iso} are not a {kind}.")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return (self.start, self.end) == (other.start, other.end)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return (self.start, self.end) < (other.start, other.end)

    def __hash__(self) -> int:
        return hash((self.start, self.end))

    def __str__(self) -> str:
        return self.notation

    # Constructors

    @classmethod
    def month(cls, month: Month) -> Period:
        """Return the period of the single month `month`."""
        return cls(month, month, PeriodKind.MONTH)

    @classmethod
    def range(cls, start: Month, end: Month) -> Period:
        """Return the months from `start` to `end` inclusive."""
        return cls(start, end, PeriodKind.MONTH if start == end else PeriodKind.RANGE)

    @classmethod
    def rolling_twelve(cls, end: Month) -> Period:
        """Return the 12 months ending with `end`."""
        return cls(end.shift(-11), end, PeriodKind.RANGE)

    @classmethod
    def financial_year(cls, start_year: int) -> Period:
        """Return the financial year 1 April `start_year` to 31 March of the next year."""
        return cls(
            Month(start_year, FINANCIAL_YEAR_START_MONTH),
            Month(start_year + 1, FINANCIAL_YEAR_START_MONTH - 1),
            PeriodKind.FINANCIAL_YEAR,
        )

    @classmethod
    def financial_year_to_date(cls, end: Month) -> Period:
        """Return 1 April of `end`'s financial year to the end of `end`."""
        start = Month(end.financial_year, FINANCIAL_YEAR_START_MONTH)
        if start.months_until(end) == 11:
            return cls.financial_year(end.financial_year)
        return cls.range(start, end)

    @classmethod
    def calendar_quarter(cls, year: int, quarter: int) -> Period:
        """Return calendar quarter `quarter` (1 = January to March) of `year`."""
        start = Month(year, 1).shift(3 * (_check_quarter(quarter) - 1))
        return cls(start, start.shift(2), PeriodKind.CALENDAR_QUARTER)

    @classmethod
    def financial_quarter(cls, start_year: int, quarter: int) -> Period:
        """Return quarter `quarter` of financial year `start_year`: Q1 is April to June."""
        first = Month(start_year, FINANCIAL_YEAR_START_MONTH)
        start = first.shift(3 * (_check_quarter(quarter) - 1))
        return cls(start, start.shift(2), PeriodKind.FINANCIAL_QUARTER)

    @classmethod
    def calendar_year(cls, year: int) -> Period:
        """Return January to December of `year`."""
        return cls(Month(year, 1), Month(year, 12), PeriodKind.CALENDAR_YEAR)

    # Months

    @property
    def length(self) -> int:
        """Return the number of months in the period."""
        return self.start.months_until(self.end) + 1

    @property
    def months(self) -> tuple[Month, ...]:
        """Return the period's months, earliest first."""
        return tuple(self.start.shift(offset) for offset in range(self.length))

    def contains(self, month: Month) -> bool:
        """Return whether `month` is one of the period's months."""
        return self.start <= month <= self.end

    def __contains__(self, month: object) -> bool:
        return isinstance(month, Month) and self.contains(month)

    def shift(self, months: int) -> Period:
        """Return the period moved `months` later (earlier when negative).

        A move by whole years keeps the kind (2021/22 → 2022/23); any other move leaves a
        plain range, because a financial year moved by a month is no longer one. A single
        month stays a month.
        """
        if months % 12 == 0 or self.kind == PeriodKind.MONTH:
            kind = PeriodKind(self.kind)
        else:
            kind = PeriodKind.RANGE
        return Period(self.start.shift(months), self.end.shift(months), kind)

    # Writing

    @property
    def notation(self) -> str:
        """Return the SPEC §3 notation for the period's kind, e.g. "2022/23-Q3"."""
        kind = self.kind
        if kind == PeriodKind.MONTH:
            return self.start.iso
        if kind == PeriodKind.CALENDAR_QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if kind == PeriodKind.FINANCIAL_YEAR:
            return financial_year_notation(self.start.year)
        if kind == PeriodKind.FINANCIAL_QUARTER:
            quarter = (self.start.month - FINANCIAL_YEAR_START_MONTH) % 12 // 3 + 1
            return f"{financial_year_notation(self.start.financial_year)}-Q{quarter}"
        if kind == PeriodKind.CALENDAR_YEAR:
            return str(self.start.year)
        return f"{self.start.iso}/{self.end.iso}"

    @property
    def label(self) -> str:
        """Return the period as the seed report writes it.

        E.g. "Dec 2022", "12 months to Dec 2022", "2022/23", "1st April - 31st December
        2022", "Oct-Dec 2022", "Nov 2022 - Jan 2023" (each dash an en dash).
        """
        start, end, kind = self.start, self.end, self.kind
        if self.length == 1:
            return end.short_label
        if kind == PeriodKind.FINANCIAL_YEAR:
            return financial_year_notation(start.year)
        if kind == PeriodKind.CALENDAR_YEAR:
            return str(start.year)
        if self.length % 12 == 0:
            return f"{self.length} months to {end.short_label}"
        if (
            kind == PeriodKind.RANGE
            and start.month == FINANCIAL_YEAR_START_MONTH
            and self.length < 12
        ):
            # A financial year to date, which the seed writes out to the day.
            if start.year == end.year:
                return f"{self.day_range_label} {end.year}"
            return (
                f"{ordinal(1)} {start.name} {start.year} {EN_DASH} "
                f"{ordinal(end.last_day.day)} {end.name} {end.year}"
            )
        if start.year == end.year:
            return f"{start.abbreviation}{EN_DASH}{end.abbreviation} {end.year}"
        return f"{start.short_label} {EN_DASH} {end.short_label}"

    @property
    def day_range_label(self) -> str:
        """Return the first and last day without years, e.g. "1st April - 31st December".

        This is the heading of the seed's year-to-date tables, whose rows are the years.
        """
        last_day = ordinal(self.end.last_day.day)
        return f"{ordinal(1)} {self.start.name} {EN_DASH} {last_day} {self.end.name}"


def _check_quarter(quarter: int) -> int:
    if not 1 <= quarter <= 4:
        raise PeriodError(f"There is no quarter {quarter}: quarters run from 1 to 4.")
    return quarter


_MONTH = r"([0-9]{4})-([0-9]{2})"
_FINANCIAL_YEAR = r"([0-9]{4})/([0-9]{2})"
_QUARTER = r"-Q([0-9])"
_MONTH_RE = re.compile(_MONTH)
_RANGE_RE = re.compile(f"{_MONTH}/{_MONTH}")
_CALENDAR_QUARTER_RE = re.compile(f"([0-9]{{4}}){_QUARTER}", re.IGNORECASE)
_FINANCIAL_YEAR_RE = re.compile(_FINANCIAL_YEAR)
_FINANCIAL_QUARTER_RE = re.compile(f"{_FINANCIAL_YEAR}{_QUARTER}", re.IGNORECASE)
_CALENDAR_YEAR_RE = re.compile(r"[0-9]{4}")


def parse_period(text: str) -> Period:
    """Return the period written as `text` in one of the SPEC §3 notations.

    Raise PeriodError, naming every accepted form, for anything else.
    """
    stripped = text.strip()
    try:
        period = _parse_period(stripped)
    except PeriodError as error:
        raise PeriodError.for_text(stripped, str(error)) from None
    if period is None:
        raise PeriodError.for_text(stripped)
    return period


def _parse_period(text: str) -> Period | None:
    if match := _MONTH_RE.fullmatch(text):
        return Period.month(_month(match[1], match[2]))
    if match := _RANGE_RE.fullmatch(text):
        return Period.range(_month(match[1], match[2]), _month(match[3], match[4]))
    if match := _CALENDAR_QUARTER_RE.fullmatch(text):
        return Period.calendar_quarter(int(match[1]), int(match[2]))
    if match := _FINANCIAL_YEAR_RE.fullmatch(text):
        return Period.financial_year(_financial_year(match[1], match[2]))
    if match := _FINANCIAL_QUARTER_RE.fullmatch(text):
        return Period.financial_quarter(_financial_year(match[1], match[2]), int(match[3]))
    if _CALENDAR_YEAR_RE.fullmatch(text):
        return Period.calendar_year(int(text))
    return None


def _month(year: str, month: str) -> Month:
    return Month(int(year), int(month))


def _financial_year(first: str, second: str) -> int:
    start_year = int(first)
    if int(second) != (start_year + 1) % 100:
        expected = financial_year_notation(start_year)
        raise PeriodError(f"A financial year is two consecutive years, e.g. {expected}.")
    return start_year


def parse_month(text: str) -> Month:
    """Return the month written as "YYYY-MM"; raise PeriodError for anything else."""
    stripped = text.strip()
    match = _MONTH_RE.fullmatch(stripped)
    if match is None:
        raise PeriodError(f"{stripped!r} is not a month. Write a month as e.g. 2022-12.")
    try:
        return _month(match[1], match[2])
    except PeriodError as error:
        raise PeriodError(
            f"{stripped!r} is not a month. Write a month as e.g. 2022-12. {error}"
        ) from None
