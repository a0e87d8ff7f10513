"""The arithmetic of SPEC §4: a measure's figure for a period, changes and comparisons.

Everything here works on plain values (Decimals, months and periods) so that tasks, views
and the API share one tested implementation; nothing reads the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from measures.arithmetic.periods import Month, Period

__all__ = [
    "AGGREGATIONS",
    "POLARITIES",
    "UNITS",
    "Comparison",
    "Figure",
    "Observation",
    "Series",
    "YearToDate",
    "YearToDateRow",
    "change",
    "change_pct",
    "compare",
    "direction",
    "figure_for",
    "year_to_date",
]

AGGREGATIONS = ("sum", "ratio", "mean", "latest")
UNITS = ("count", "percent", "days", "years", "gbp", "kg", "rate")
POLARITIES = ("lower_is_better", "higher_is_better", "neutral")

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Observation:
    """A value stored for one measure, area and period."""

    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None

    @property
    def has_ratio_parts(self) -> bool:
        """Return whether both numerator and denominator are known."""
        return self.numerator is not None and self.denominator is not None

    @property
    def is_empty(self) -> bool:
        """Return whether the observation holds no number at all."""
        return self.value is None and self.numerator is None and self.denominator is None


class Series:
    """Observations of one measure in one area, keyed by the months they were stored for."""

    def __init__(
        self,
        observations: Mapping[Period, Observation] | Iterable[tuple[Period, Observation]],
    ) -> None:
        pairs = observations.items() if isinstance(observations, Mapping) else observations
        self._observations: dict[Period, Observation] = {}
        for period, observation in pairs:
            if period in self._observations:
                # The database allows one value per period; two here would be summed twice.
                raise ValueError(f"Two observations for {period.label}.")
            self._observations[period] = observation
        self._in_order = sorted(self._observations.items(), key=lambda pair: pair[0])

    def __len__(self) -> int:
        return len(self._observations)

    def __repr__(self) -> str:
        return f"Series({len(self)} observations)"

    def items(self) -> list[tuple[Period, Observation]]:
        """Return every (period, observation), earliest first."""
        return list(self._in_order)

    def stored(self, period: Period) -> Observation | None:
        """Return the observation stored for exactly `period`, if any."""
        return self._observations.get(period)

    def monthly(self, since: Month | None = None) -> dict[Month, Observation]:
        """Return the observations stored for single months (from `since`, if given)."""
        return {
            period.start: observation
            for period, observation in self._observations.items()
            if period.length == 1 and (since is None or period.start >= since)
        }

    def latest_month(self, on_or_before: Month | None = None) -> Month | None:
        """Return the latest month for which there is data, optionally no later than a month.

        A value stored for several months counts as data for its last month: a quarter's
        value is known once the quarter has ended.
        """
        ends = [
            period.end
            for period, observation in self._observations.items()
            if not observation.is_empty and (on_or_before is None or period.end <= on_or_before)
        ]
        return max(ends, default=None)


@dataclass(frozen=True)
class Figure:
    """A measure's value for a period and how much of the period it is built from."""

    period: Period
    value: Decimal | None
    months_present: int
    months_required: int
    stored: bool
    numerator: Decimal | None = None
    denominator: Decimal | None = None

    @property
    def coverage(self) -> float:
        """Return the share of the period's months the value is built from (0.0 to 1.0)."""
        return self.months_present / self.months_required

    @property
    def complete(self) -> bool:
        """Return whether every month of the period contributed to the value."""
        return self.months_present == self.months_required


def figure_for(series: Series, period: Period, aggregation: str) -> Figure:
    """Return the measure's figure for `period`.

    A value stored for exactly the period wins. Otherwise the months are aggregated:
    single-month values first, then values stored for several months that lie wholly inside
    the period and cover only months no other value covers (quarters making up a year).
    """
    _check_choice("aggregation", aggregation, AGGREGATIONS)
    exact = series.stored(period)
    if exact is not None and not exact.is_empty:
        value = exact.value
        if value is None and aggregation == "ratio":
            value = _ratio(exact.numerator, exact.denominator)
        return Figure(
            period=period,
            value=value,
            months_present=period.length,
            months_required=period.length,
            stored=True,
            numerator=exact.numerator,
            denominator=exact.denominator,
        )

    tiles = _tiles(series, period, aggregation)
    months_present = sum(tile.length for tile, _ in tiles)
    numerator = denominator = None
    if aggregation == "sum":
        value = _sum(observation.value for _, observation in tiles)
    elif aggregation == "ratio":
        numerator = _sum(observation.numerator for _, observation in tiles)
        denominator = _sum(observation.denominator for _, observation in tiles)
        value = _ratio(numerator, denominator)
    elif aggregation == "mean":
        value = _weighted_mean(tiles)
    else:
        value = tiles[-1][1].value if tiles else None
    return Figure(
        period=period,
        value=value,
        months_present=months_present,
        months_required=period.length,
        stored=False,
        numerator=numerator,
        denominator=denominator,
    )


def _tiles(series: Series, period: Period, aggregation: str) -> list[tuple[Period, Observation]]:
    """Return non-overlapping observations inside `period` that can be aggregated, in order."""

    def usable(observation: Observation) -> bool:
        if aggregation == "ratio":
            # A stored percentage cannot be re-weighted without the counts behind it.
            return observation.has_ratio_parts
        return observation.value is not None

    candidates = [
        (tile, observation)
        for tile, observation in series.items()
        if period.start <= tile.start and tile.end <= period.end and usable(observation)
    ]
    monthly = [(tile, observation) for tile, observation in candidates if tile.length == 1]
    covered = {tile.start for tile, _ in monthly}
    tiles = list(monthly)
    # Longest first among tiles starting together, so that a stored half-year is preferred
    # to its quarters and the choice does not depend on insertion order.
    longer = sorted(
        (pair for pair in candidates if pair[0].length > 1),
        key=lambda pair: (pair[0].start, -pair[0].length),
    )
    for tile, observation in longer:
        months = set(tile.months)
        if covered.isdisjoint(months):
            covered |= months
            tiles.append((tile, observation))
    return sorted(tiles, key=lambda pair: pair[0].start)


def _sum(values: Iterable[Decimal | None]) -> Decimal | None:
    present = [value for value in values if value is not None]
    return sum(present, Decimal(0)) if present else None


def _weighted_mean(tiles: list[tuple[Period, Observation]]) -> Decimal | None:
    """Return the mean monthly value, counting a tile stored for n months n times."""
    total = Decimal(0)
    months = 0
    for tile, observation in tiles:
        if observation.value is not None:
            total += observation.value * tile.length
            months += tile.length
    return total / months if months else None


def _ratio(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator * HUNDRED


def change(base: Decimal | None, current: Decimal | None) -> Decimal | None:
    """Return current - base, or None when either is missing."""
    if base is None or current is None:
        return None
    return current - base


def change_pct(base: Decimal | None, current: Decimal | None) -> Decimal | None:
    """Return the change as a percentage of base, or None when base is missing or zero."""
    if base is None or current is None or base == 0:
        return None
    return (current - base) / base * HUNDRED


def direction(change: Decimal | None, polarity: str) -> str | None:
    """Return "improving", "worsening" or "no_change" ("up"/"down" for neutral measures)."""
    _check_choice("polarity", polarity, POLARITIES)
    if change is None:
        return None
    if change == 0:
        return "no_change"
    if polarity == "neutral":
        return "up" if change > 0 else "down"
    better = change < 0 if polarity == "lower_is_better" else change > 0
    return "improving" if better else "worsening"


@dataclass(frozen=True)
class Comparison:
    """A base and current figure compared, naming the windows actually used."""

    requested_base: Period
    requested_current: Period
    base: Figure
    current: Figure
    change: Decimal | None
    change_pct: Decimal | None
    change_pp: Decimal | None
    direction: str | None
    footnotes: tuple[str, ...]
    partial: bool


class SeriesLike(Protocol):
    """What comparisons need of a series: `Series`, or materialised figures that act alike."""

    def stored(self, period: Period) -> Observation | None: ...

    def latest_month(self, on_or_before: Month | None = None) -> Month | None: ...


FigureReader = Callable[[Period], Figure]


def compare(
    series: SeriesLike,
    base: Period,
    current: Period,
    *,
    aggregation: str,
    unit: str,
    polarity: str,
    figure: FigureReader | None = None,
) -> Comparison:
    """Return the comparison of the measure's figure for `current` with that for `base`.

    When the last months of `current` have no data yet, both windows end that many months
    earlier so that like is compared with like (SPEC §4 partial data): windows of whole
    years keep their length and move back; shorter windows keep their start and are cut
    short.
    """
    _check_choice("aggregation", aggregation, AGGREGATIONS)
    _check_choice("unit", unit, UNITS)
    _check_choice("polarity", polarity, POLARITIES)
    footnotes: list[str] = []
    used_base, used_current = base, current
    gap = _missing_months(series, current)
    if gap:
        if current.length % 12 == 0:
            used_base, used_current = base.shift(-gap), current.shift(-gap)
            footnotes.append(
                f"Data {current.length} months to end of {used_base.end.long_label} and "
                f"{used_current.end.long_label} as {_missing(current, gap)}'s data isn't yet "
                "available"
            )
        else:
            used_base, used_current = _cut(base, gap), _cut(current, gap)
            footnotes.append(
                f"Data {used_current.label} compared with {used_base.label} as "
                f"{_missing(current, gap)}'s data isn't yet available"
            )

    read = figure or _reader(series, aggregation)
    base_figure = read(used_base)
    current_figure = read(used_current)
    footnotes += _coverage_footnotes(base_figure) + _coverage_footnotes(current_figure)
    difference = change(base_figure.value, current_figure.value)
    unlike = _unlike(base_figure, current_figure)
    if unlike:
        # Never set windows of different coverage against each other (SPEC §4): the
        # figures stand, each with its coverage footnote; the change is withheld.
        footnotes.append(unlike)
        difference = None
    return Comparison(
        requested_base=base,
        requested_current=current,
        base=base_figure,
        current=current_figure,
        change=difference,
        change_pct=None if unlike else change_pct(base_figure.value, current_figure.value),
        change_pp=difference if unit == "percent" else None,
        direction=direction(difference, polarity),
        footnotes=tuple(footnotes),
        partial=bool(gap),
    )


def _missing_months(series: SeriesLike, window: Period) -> int:
    """Return how many months at the end of `window` have no data yet.

    Zero when the window's value is stored outright, and when the window has no data at
    all: there is then nothing to move towards, and the figure says so instead.
    """
    stored = series.stored(window)
    if stored is not None and not stored.is_empty:
        return 0
    latest = series.latest_month(window.end)
    if latest is None or latest < window.start:
        return 0
    return latest.months_until(window.end)


def _cut(window: Period, gap: int) -> Period:
    """Return `window` with its last `gap` months removed, keeping at least its first month."""
    return Period.range(window.start, max(window.start, window.end.shift(-gap)))


def _missing(window: Period, gap: int) -> str:
    """Return the missing months as the seed names them: "October, November and December"."""
    months = window.months[-gap:]
    if gap > 12:
        return f"{months[0].long_label} to {months[-1].long_label}"
    names = [month.name for month in months]
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _unlike(base: Figure, current: Figure) -> str:
    """Return why two figures cannot be compared like for like, or "".

    A window missing a month inside it (one never supplied, or not available) is not
    comparable with any other: neither a full window nor one missing another month.
    """
    if base.value is None or current.value is None or (base.complete and current.complete):
        return ""
    short = current if not current.complete else base
    return (
        f"Change not shown: {short.period.label} is built from {short.months_present} of its "
        f"{short.months_required} months, so it is not compared like for like"
    )


def _coverage_footnotes(figure: Figure) -> list[str]:
    if figure.months_present == 0:
        return [f"No data available for {figure.period.label}"]
    if not figure.complete:
        return [
            f"{figure.period.label} figure covers {figure.months_present} of "
            f"{figure.months_required} months"
        ]
    return []


@dataclass(frozen=True)
class YearToDateRow:
    """One financial year's year-to-date figure and its change from the year before."""

    financial_year: int
    label: str
    figure: Figure
    change: Decimal | None
    change_pct: Decimal | None


@dataclass(frozen=True)
class YearToDate:
    """The same financial-year-to-date window across several years, oldest first."""

    rows: list[YearToDateRow]
    footnotes: tuple[str, ...]
    window_end: Month

    @property
    def heading(self) -> str:
        """Return the window without years, e.g. "1st April - 31st December"."""
        return self.rows[-1].figure.period.day_range_label


def year_to_date(
    series: SeriesLike,
    end_month: Month,
    *,
    years: int,
    aggregation: str,
    figure: FigureReader | None = None,
) -> YearToDate:
    """Return the financial year to date ending `end_month` and the same window in earlier years.

    When the latest months of this year's window have no data yet, every year's window is
    cut to the same shorter length so the years stay comparable.
    """
    if years < 1:
        raise ValueError("A year-to-date table needs at least one year.")
    _check_choice("aggregation", aggregation, AGGREGATIONS)
    latest_window = Period.financial_year_to_date(end_month)
    gap = _missing_months(series, latest_window)
    footnotes: list[str] = []
    windows = [latest_window.shift(-12 * back) for back in reversed(range(years))]
    if gap:
        windows = [_cut(window, gap) for window in windows]
        footnotes.append(
            f"Data {windows[-1].day_range_label} in each year as "
            f"{_missing(latest_window, gap)}'s data isn't yet available"
        )

    read = figure or _reader(series, aggregation)
    rows: list[YearToDateRow] = []
    previous: Figure | None = None
    for window in windows:
        current = read(window)
        footnotes += _coverage_footnotes(current)
        base_value = previous.value if previous is not None else None
        if previous is not None and _unlike(previous, current):
            footnotes.append(_unlike(previous, current))
            base_value = None
        rows.append(
            YearToDateRow(
                financial_year=window.start.financial_year,
                label=str(window.start.year),
                figure=current,
                change=change(base_value, current.value),
                change_pct=change_pct(base_value, current.value),
            )
        )
        previous = current
    return YearToDate(rows=rows, footnotes=tuple(footnotes), window_end=windows[-1].end)


def _reader(series: SeriesLike, aggregation: str) -> FigureReader:
    if not isinstance(series, Series):
        raise TypeError("Pass `figure=` to read figures from anything but a Series.")
    return lambda period: figure_for(series, period, aggregation)


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"Unknown {name} {value!r}; use one of {', '.join(choices)}.")
