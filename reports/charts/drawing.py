"""Server-rendered SVG charts, the same in the HTML report and in its WeasyPrint PDF.

Four kinds, each a pure function over plain data (no ORM): monthly values with previous
financial years overlaid, several monthly series over the years with their total on a
right-hand axis, the XmR (individuals) chart with its limits and signals (limits
worked out afresh after each break in series, which is marked with its reason), and
year-to-date bars. Each returns a `Chart`: the SVG, a title, a text alternative and the
data table the chart shows (for screen readers and for CSV).

The SVG keeps to plain SVG 1.1 elements (svg, g, title, desc, rect, line, polyline, text)
styled with presentation attributes only, because WeasyPrint has no JavaScript and no
access to the page's CSS inside the PDF. Output is deterministic: the same input gives
byte-identical SVG, so published snapshots and PDFs are reproducible.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from measures.arithmetic import periods
from measures.arithmetic.figures import change_pct
from measures.arithmetic.formatting import format_change_pct, format_change_pp, format_value
from measures.arithmetic.spc import MIN_POINTS, SIGNAL_TEXT, Limits, Segment, Signal

__all__ = [
    "Chart",
    "grouped_bars",
    "monthly_by_financial_year",
    "monthly_lines",
    "monthly_with_total",
    "xmr",
    "year_to_date_bars",
]

WIDTH = 720
PLOT_HEIGHT = 240
PADDING = 12
# 13 units, so that text stays above 11px when the 720-unit-wide chart is scaled down to
# the 17cm (643px) text width of an A4 page.
FONT_SIZE = 13
FONT_FAMILY = "sans-serif"
# A rough average glyph width of a sans-serif face at FONT_SIZE, for laying out legends
# and margins; the layout leaves slack rather than measuring real fonts.
CHAR_WIDTH = 7.2
LEGEND_ROW = 20
LEGEND_SAMPLE = 28
X_LABEL_SPACE = 26

# Every colour that carries meaning has at least 3:1 contrast against white (WCAG 1.4.11).
TEXT = "#1a1a1a"
AXIS = "#595959"
# Gridlines are decorative (the tick labels carry the values), so they may be faint.
GRID = "#d0d0d0"
LATEST = "#0b3c5d"
# Previous financial years, the most recent first; each also has its own dash pattern so
# that years are told apart without colour.
PREVIOUS = ["#d55e00", "#0072b2", "#009e73", "#cc79a7", "#8c8c8c"]
PREVIOUS_DASHES = ["", "7 4", "2 3", "10 3 2 3", "4 4"]
SIGNAL_FILL = "#c05600"
# A break in series: a dotted purple line, unlike any limit (dashed grey) or value line.
BREAK_STYLE = {"stroke": "#6a3d9a", "stroke-width": 2, "stroke-dasharray": "2 3"}
EARLIER_BAR = "#5b7fa6"

# Financial-year order, April first.
MONTH_ABBRS = [*periods.MONTH_ABBREVIATIONS[3:], *periods.MONTH_ABBREVIATIONS[:3]]
MONTH_NAMES = [*periods.MONTH_NAMES[3:], *periods.MONTH_NAMES[:3]]
FINANCIAL_YEAR = re.compile(r"^(\d{4})/\d{2}$")
ID_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")

# When a point breaks several run rules its marker shows the most telling one; the order
# is also the legend's.
SIGNAL_ORDER = [
    Signal.BEYOND_LIMITS,
    Signal.TREND_UP,
    Signal.TREND_DOWN,
    Signal.RUN_ABOVE,
    Signal.RUN_BELOW,
]


@dataclass(frozen=True)
class Chart:
    svg: SafeString
    title: str
    description: str
    table: list[list[str]]
    # Where its figures come from, as the report cites them under the chart: the names
    # measures give their sources, and then (once the report has read them) the sources
    # themselves, with their full names and links (`measures.Source`).
    source_names: tuple[str, ...] = ()
    sources: tuple[Any, ...] = ()

    @property
    def header(self) -> list[str]:
        return self.table[0] if self.table else []

    @property
    def rows(self) -> list[list[str]]:
        return self.table[1:]


def _chart(
    *,
    id_prefix: str,
    title: str,
    description: str,
    height: float,
    body: list[str],
    table: list[list[str]],
) -> Chart:
    """Return the chart drawn from its body, with its text description and data table."""
    svg = _svg(id_prefix=id_prefix, title=title, description=description, height=height, body=body)
    # Safe: _svg() and its parts escape every text and attribute value.
    return Chart(svg=mark_safe(svg), title=title, description=description, table=table)


# ---------------------------------------------------------------------------------------
# Drawing primitives. Every piece of text goes through escape(); numbers through _n().


def _n(number: float) -> str:
    """Return a coordinate with one decimal place, never "-0.0"."""
    text = f"{number:.1f}"
    return "0.0" if text == "-0.0" else text


def _attrs(attributes: Mapping[str, object]) -> str:
    return "".join(
        f' {name}="{escape(str(value))}"' for name, value in attributes.items() if value != ""
    )


def _text(x: float, y: float, content: str, *, anchor: str = "start", **extra: object) -> str:
    attributes: dict[str, object] = {
        "x": _n(x),
        "y": _n(y),
        "font-family": FONT_FAMILY,
        "font-size": FONT_SIZE,
        "fill": TEXT,
        "text-anchor": anchor,
        **extra,
    }
    return f"<text{_attrs(attributes)}>{escape(content)}</text>"


def _line(x1: float, y1: float, x2: float, y2: float, **extra: object) -> str:
    attributes = {"x1": _n(x1), "y1": _n(y1), "x2": _n(x2), "y2": _n(y2), **extra}
    return f"<line{_attrs(attributes)}/>"


def _polyline(points: Sequence[tuple[float, float]], **extra: object) -> str:
    coordinates = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
    return f'<polyline points="{coordinates}"{_attrs({"fill": "none", **extra})}/>'


def _rect(x: float, y: float, width: float, height: float, **extra: object) -> str:
    attributes = {"x": _n(x), "y": _n(y), "width": _n(width), "height": _n(height), **extra}
    return f"<rect{_attrs(attributes)}/>"


def _svg(*, id_prefix: str, title: str, description: str, height: float, body: list[str]) -> str:
    if not ID_PREFIX.match(id_prefix):
        raise ValueError(f"id_prefix must be a letter then letters, digits, - or _: {id_prefix!r}")
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    attributes = {
        "xmlns": "http://www.w3.org/2000/svg",
        "version": "1.1",
        "viewBox": f"0 0 {WIDTH} {_n(height)}",
        "width": "100%",
        "role": "img",
        "aria-labelledby": f"{title_id} {desc_id}",
        "class": "chart",
        "font-family": FONT_FAMILY,
    }
    return "".join(
        [
            f"<svg{_attrs(attributes)}>",
            f'<title id="{title_id}">{escape(title)}</title>',
            f'<desc id="{desc_id}">{escape(description)}</desc>',
            *body,
            "</svg>",
        ]
    )


def _text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


# A legend sample draws itself in a LEGEND_SAMPLE-wide box whose vertical middle is y.
Sample = Callable[[float, float], str]


def _line_sample(**style: object) -> Sample:
    return lambda x, y: _line(x, y, x + LEGEND_SAMPLE, y, **style)


def _legend(items: Sequence[tuple[Sample, str]], *, top: float) -> tuple[list[str], float]:
    """Return the legend, laid out left to right and wrapped, and its height."""
    parts = ['<g class="legend">']
    x, row = float(PADDING), 0
    for sample, label in items:
        width = LEGEND_SAMPLE + 6 + _text_width(label)
        if x > PADDING and x + width > WIDTH - PADDING:
            x, row = float(PADDING), row + 1
        y = top + row * LEGEND_ROW + LEGEND_ROW / 2
        parts.append(sample(x, y))
        parts.append(_text(x + LEGEND_SAMPLE + 6, y + 4, label))
        x += width + 18
    parts.append("</g>")
    return parts, (row + 1) * LEGEND_ROW if items else 0


# ---------------------------------------------------------------------------------------
# Scales and axes.


def _nice_ticks(low: Decimal, high: Decimal, *, whole: bool) -> list[Decimal]:
    """Return 4 to 6 evenly spaced round ticks from at or below `low` to at or above `high`.

    Steps are 1, 2, 2.5 or 5 times a power of ten (whole numbers only when `whole`, as a
    count of 2.5 incidents makes no sense).
    """
    if high <= low:
        pad = abs(high) / 10 or Decimal(1)
        low, high = (low, low + pad) if low == 0 else (low - pad, high + pad)
    span = high - low
    magnitude = Decimal(1).scaleb(span.adjusted() - 1)
    steps = [m * magnitude * 10**k for k in range(3) for m in (1, 2, Decimal("2.5"), 5)]
    if whole:
        steps = [s for s in steps if s == s.to_integral_value()] or [Decimal(1)]
    for step in steps:
        first = (low / step).to_integral_value(rounding=ROUND_FLOOR)
        last = (high / step).to_integral_value(rounding=ROUND_CEILING)
        if last - first <= 5:
            break
    # Too few intervals (a short span away from zero): widen towards zero, never across it.
    while last - first < 3:
        if first > 0:
            first -= 1
        elif last < 0 or low >= 0:
            last += 1
        else:
            first -= 1
    # normalize() drops trailing zeros ("0.50"); + 0 then turns "2E+4" back into "20000".
    return [((first + i) * step).normalize() + 0 for i in range(int(last - first) + 1)]


def _decimals_of(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _starts_at_zero(unit: str, values: Sequence[Decimal]) -> bool:
    """Return whether the value axis should include zero.

    Counts always start at zero, so that a line's height reads as a volume. Other units
    (a 60–95% service level) start at zero only when that wastes less than half the plot.
    """
    if unit == "count" or not values:
        return True
    low, high = min(values), max(values)
    return low <= 0 <= high or (low > 0 and low <= high / 2) or (high < 0 and high >= low / 2)


@dataclass(frozen=True)
class _Scale:
    ticks: list[Decimal]
    top: float
    bottom: float

    @classmethod
    def for_values(
        cls, values: Sequence[Decimal], *, unit: str, top: float, bottom: float, zero: bool
    ) -> _Scale:
        low = min(values, default=Decimal(0))
        high = max(values, default=Decimal(0))
        if zero:
            low, high = min(low, Decimal(0)), max(high, Decimal(0))
        ticks = _nice_ticks(low, high, whole=unit == "count")
        return cls(ticks=ticks, top=top, bottom=bottom)

    @property
    def low(self) -> Decimal:
        return self.ticks[0]

    @property
    def high(self) -> Decimal:
        return self.ticks[-1]

    def contains(self, value: Decimal) -> bool:
        return self.low <= value <= self.high

    def y(self, value: Decimal) -> float:
        fraction = float((value - self.low) / (self.high - self.low))
        return self.bottom - fraction * (self.bottom - self.top)

    def labels(self, unit: str) -> list[str]:
        decimals = _decimals_of(self.ticks[1] - self.ticks[0])
        return [format_value(tick, unit, decimals) for tick in self.ticks]


def _y_axis_width(scale: _Scale, unit: str) -> float:
    return PADDING + 8 + max(_text_width(label) for label in scale.labels(unit))


def _y_axis(scale: _Scale, *, left: float, right: float, unit: str) -> list[str]:
    """Return gridlines and tick labels, and a darker line at zero (the baseline)."""
    parts = ['<g class="y-axis">']
    for tick, label in zip(scale.ticks, scale.labels(unit), strict=True):
        y = scale.y(tick)
        parts.append(_line(left, y, right, y, stroke=GRID, **{"stroke-width": 1, "class": "grid"}))
        parts.append(_text(left - 8, y + 4, label, anchor="end", **{"class": "tick"}))
    baseline = Decimal(0) if scale.contains(Decimal(0)) else scale.low
    y = scale.y(baseline)
    parts.append(_line(left, y, right, y, stroke=AXIS, **{"stroke-width": 1.5}))
    parts.append("</g>")
    return parts


def _x_labels(positions: Iterable[tuple[float, str]], *, y: float) -> list[str]:
    parts = ['<g class="x-axis">']
    parts.extend(_text(x, y, label, anchor="middle") for x, label in positions)
    parts.append("</g>")
    return parts


def _segments(points: Sequence[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Split a line at its gaps: a missing value is never bridged."""
    segments: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            if segments[-1]:
                segments.append([])
        else:
            segments[-1].append(point)
    return [s for s in segments if s]


def _line_with_gaps(
    points: Sequence[tuple[float, float] | None], *, dot: float | None, **style: object
) -> list[str]:
    """Return a polyline per run of values; a lone value between gaps shows as a dot.

    With `dot` None lone values are left to the caller, which marks every point anyway.
    """
    parts = []
    for segment in _segments(points):
        if len(segment) > 1:
            parts.append(_polyline(segment, **style))
        elif dot is not None:
            (x, y) = segment[0]
            parts.append(
                _rect(x - dot / 2, y - dot / 2, dot, dot, rx=_n(dot / 2), fill=style["stroke"])
            )
    return parts


def _present(values: Iterable[Decimal | None]) -> list[Decimal]:
    return [v for v in values if v is not None]


# ---------------------------------------------------------------------------------------
# 1. Monthly values by financial year.


def _year_style(age: int) -> dict[str, object]:
    """Return the line style of a year `age` years before the latest (0 = the latest)."""
    if age == 0:
        return {"stroke": LATEST, "stroke-width": 3}
    style: dict[str, object] = {
        "stroke": PREVIOUS[(age - 1) % len(PREVIOUS)],
        "stroke-width": 1.75,
        "stroke-dasharray": PREVIOUS_DASHES[(age - 1) % len(PREVIOUS_DASHES)],
    }
    return style


def _month_of(year: str, index: int) -> str:
    """Return "April 2019" for month `index` (0 = April) of financial year "2019/20"."""
    match = FINANCIAL_YEAR.match(year)
    if not match:
        return f"{MONTH_NAMES[index]} {year}"
    calendar_year = int(match.group(1)) + (1 if index >= 9 else 0)
    return f"{MONTH_NAMES[index]} {calendar_year}"


def _compare_years(latest: str, previous: str, pairs: list[tuple[Decimal, Decimal]]) -> str:
    """Return e.g. "2022/23 is lower than 2021/22 in every month so far."."""
    counts = [
        ("lower than", "lower", sum(1 for a, b in pairs if a < b)),
        ("higher than", "higher", sum(1 for a, b in pairs if a > b)),
        ("the same as", "the same", sum(1 for a, b in pairs if a == b)),
    ]
    # The most common comparison leads; sorted() is stable, so ties keep the order above.
    (lead, _, lead_count), *rest = sorted((c for c in counts if c[2]), key=lambda c: -c[2])
    so_far = " so far" if len(pairs) < 12 else ""
    if not rest:
        months = "every month" if len(pairs) > 1 else "the one month"
        return f"{latest} is {lead} {previous} in {months}{so_far}."
    others = ", ".join(f"{short} in {count}" for _, short, count in rest)
    return (
        f"{latest} is {lead} {previous} in {lead_count} of {len(pairs)} months{so_far}, {others}."
    )


def monthly_by_financial_year(
    *,
    title: str,
    unit: str,
    series: Mapping[str, Sequence[Decimal | None]],
    decimals: int = 0,
    id_prefix: str = "chart",
) -> Chart:
    """Return a line per financial year, April to March, the latest year boldest.

    `series` maps financial years ("2021/22") to up to 12 monthly values from April; a
    None is a month without data and breaks that year's line.
    """
    years = sorted(series)
    months: dict[str, list[Decimal | None]] = {}
    for year in years:
        values = list(series[year])
        if len(values) > 12:
            raise ValueError(f"{year} has {len(values)} monthly values; a year has 12.")
        months[year] = values + [None] * (12 - len(values))
    with_data = [year for year in years if _present(months[year])]
    all_values = [v for year in with_data for v in _present(months[year])]

    # Legend first: its height depends on how many rows it wraps to.
    legend_items: list[tuple[Sample, str]] = [
        (_line_sample(**_year_style(len(with_data) - 1 - i)), year)
        for i, year in enumerate(with_data)
    ]
    legend, legend_height = _legend(legend_items, top=PADDING)
    top = PADDING + legend_height + 10
    bottom = top + PLOT_HEIGHT
    zero = _starts_at_zero(unit, all_values)
    scale = _Scale.for_values(all_values, unit=unit, top=top, bottom=bottom, zero=zero)
    left, right = _y_axis_width(scale, unit), WIDTH - PADDING
    slot = (right - left) / 12

    def x(index: int) -> float:
        return left + (index + 0.5) * slot

    body = _y_axis(scale, left=left, right=right, unit=unit)
    body += _x_labels(((x(i), m) for i, m in enumerate(MONTH_ABBRS)), y=bottom + 18)
    # Oldest first, so the latest year is drawn on top.
    for i, year in enumerate(with_data):
        style = _year_style(len(with_data) - 1 - i)
        points = [None if v is None else (x(m), scale.y(v)) for m, v in enumerate(months[year])]
        body.append(f'<g class="series"{_attrs({"data-year": year})}>')
        body.append(f"<title>{escape(year)}</title>")
        body += _line_with_gaps(points, dot=6, **{**style, "stroke-linejoin": "round"})
        body.append("</g>")
    body += legend

    description = _monthly_description(title, with_data, months)
    table = [["Month", *with_data]] + [
        [MONTH_NAMES[m], *(format_value(months[year][m], unit, decimals) for year in with_data)]
        for m in range(12)
    ]
    return _chart(
        id_prefix=id_prefix,
        title=title,
        description=description,
        height=bottom + X_LABEL_SPACE,
        body=body,
        table=table,
    )


def _monthly_description(
    title: str, years: list[str], months: dict[str, list[Decimal | None]]
) -> str:
    if not years:
        return f"{title}. No data yet."
    first, latest = years[0], years[-1]
    first_month = next(i for i, v in enumerate(months[first]) if v is not None)
    last_month = max(i for i, v in enumerate(months[latest]) if v is not None)
    sentences = [f"{title}, {_month_of(first, first_month)} to {_month_of(latest, last_month)}."]
    if len(years) > 1:
        previous = years[-2]
        pairs = [
            (a, b)
            for a, b in zip(months[latest], months[previous], strict=True)
            if a is not None and b is not None
        ]
        if pairs:
            sentences.append(_compare_years(latest, previous, pairs))
    return " ".join(sentences)


# ---------------------------------------------------------------------------------------
# 2. XmR chart.


def _marker(kind: Signal | None, x: float, y: float) -> str:
    """Return a point's marker: a small dot, or a larger shape naming its signal."""
    if kind is None:
        return _rect(x - 3, y - 3, 6, 6, rx=3, fill=LATEST, **{"class": "marker marker-point"})
    r = 7.0
    shapes = {
        Signal.BEYOND_LIMITS: ("diamond", [(x, y - r), (x + r, y), (x, y + r), (x - r, y)]),
        Signal.TREND_UP: ("triangle-up", [(x, y - r), (x + r, y + r * 0.8), (x - r, y + r * 0.8)]),
        Signal.TREND_DOWN: (
            "triangle-down",
            [(x, y + r), (x + r, y - r * 0.8), (x - r, y - r * 0.8)],
        ),
        Signal.RUN_ABOVE: ("square", _square(x, y, r * 0.8)),
        Signal.RUN_BELOW: ("hollow-square", _square(x, y, r * 0.8)),
    }
    shape, points = shapes[kind]
    # The below-the-mean run is an outline, so the two runs differ in form, not colour.
    fill = "#ffffff" if kind == Signal.RUN_BELOW else SIGNAL_FILL
    return _polyline(
        [*points, points[0]],
        **{
            "fill": fill,
            "stroke": TEXT,
            "stroke-width": 2 if kind == Signal.RUN_BELOW else 1,
            "stroke-linejoin": "miter",
            "class": f"marker marker-signal marker-{shape}",
        },
    )


def _value_sample(x: float, y: float) -> str:
    line = _line(x, y, x + LEGEND_SAMPLE, y, stroke=LATEST, **{"stroke-width": 2})
    return line + _marker(None, x + LEGEND_SAMPLE / 2, y)


def _signal_sample(signal: Signal) -> Sample:
    return lambda x, y: _marker(signal, x + LEGEND_SAMPLE / 2, y)


def _break_sample(x: float, y: float) -> str:
    middle = x + LEGEND_SAMPLE / 2
    return _line(middle, y - 8, middle, y + 8, **BREAK_STYLE)


def _square(x: float, y: float, half: float) -> list[tuple[float, float]]:
    return [(x - half, y - half), (x + half, y - half), (x + half, y + half), (x - half, y + half)]


def _main_signal(found: set[Signal]) -> Signal | None:
    return next((s for s in SIGNAL_ORDER if s in found), None)


def _as_signals(names: AbstractSet[str]) -> set[Signal]:
    try:
        return {Signal(name) for name in names}
    except ValueError as error:
        raise ValueError(f"Unknown signal in {sorted(names)}: {error}") from None


def _ranges(labels: list[str], indexes: list[int], cuts: AbstractSet[int] = frozenset()) -> str:
    """Return "Jan 2021 to Jun 2021, Mar 2022" for the consecutive runs of `indexes`; a run
    never spans a cut (the first index after a break in series)."""
    runs: list[list[int]] = []
    for i in indexes:
        if runs and runs[-1][-1] == i - 1 and i not in cuts:
            runs[-1].append(i)
        else:
            runs.append([i])
    return ", ".join(
        labels[run[0]] if len(run) == 1 else f"{labels[run[0]]} to {labels[run[-1]]}"
        for run in runs
    )


def _wrap(text: str, width: float) -> list[str]:
    """Return `text` in lines of at most `width` units, broken between words."""
    lines: list[str] = []
    for word in text.split():
        if lines and _text_width(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def _check_segments(segments: Sequence[Segment], count: int) -> None:
    stops = [0, *(s.stop for s in segments)]
    if (
        [s.start for s in segments] != stops[:-1]
        or stops[-1] != count
        or (count and any(s.start >= s.stop for s in segments))
    ):
        raise ValueError(
            f"Segments must cover the {count} points in order: "
            f"{[(s.start, s.stop) for s in segments]}."
        )


class _Statistics:
    """How an XmR chart writes its means and limits, the same in legend, text and table.

    A mean of counts is rarely whole, so they get at least one decimal place ("Mean 1.5",
    not "Mean 2"), as the measure page writes the engine's mean and limits.
    """

    def __init__(self, unit: str, decimals: int):
        self.unit, self.decimals = unit, max(decimals, 1)

    def __call__(self, value: Decimal | None) -> str:
        return format_value(value, self.unit, self.decimals)

    def limits(self, limits: Limits) -> str:
        return f"{self(limits.lower)} and {self(limits.upper)}"

    def held(self, limits: Limits) -> list[str]:
        """Return a sentence for each limit held at a bound, saying why it is drawn there."""
        kind = {"count": "a count", "percent": "a percentage"}.get(self.unit, "this figure")
        found = []
        if limits.calculated_lower is not None:
            found.append(
                f"Lower limit held at {self(limits.lower)}, as {kind} cannot be lower "
                f"(calculated: {self(limits.calculated_lower)})."
            )
        if limits.calculated_upper is not None:
            found.append(
                f"Upper limit held at {self(limits.upper)}, as {kind} cannot be higher "
                f"(calculated: {self(limits.calculated_upper)})."
            )
        return found


def _span(labels: Sequence[str], segment: Segment) -> str:
    first, last = labels[segment.start], labels[segment.stop - 1]
    return first if first == last else f"{first} to {last}"


def _segment_texts(
    labels: Sequence[str], segments: Sequence[Segment], stat: _Statistics
) -> list[str]:
    """Return a sentence per segment: its span, mean and limits, or why it has none."""
    texts = []
    for segment in segments:
        span = _span(labels, segment)
        if segment.limits is None:
            texts.append(f"{span}: too few months for limits ({MIN_POINTS} needed).")
            continue
        texts.append(
            f"{span}: mean {stat(segment.limits.centre)}, control limits "
            f"{stat.limits(segment.limits)}."
        )
        texts += stat.held(segment.limits)
    return texts


def xmr(
    *,
    title: str,
    unit: str,
    points: Sequence[tuple[str, Decimal | None]],
    segments: Sequence[Segment],
    signals: Sequence[AbstractSet[str]],
    decimals: int = 0,
    id_prefix: str = "chart",
) -> Chart:
    """Return an individuals chart: the values, their mean, dashed limits and signals.

    `segments` (from `measures.arithmetic.spc.segments`) cut the points at breaks in series:
    each is drawn with its own mean and limits, and each break as a vertical marker
    labelled with its reason. `signals[i]` holds the `Signal` values point i is part of
    breaking; a signalled point is drawn as a larger shape that names its signal in the
    legend. A limit held at a bound (a count's lower limit at zero) says so in the chart.
    """
    if len(signals) != len(points):
        raise ValueError(f"{len(points)} points but {len(signals)} sets of signals.")
    _check_segments(segments, len(points))
    labels = [label for label, _ in points]
    values = [value for _, value in points]
    found = [_as_signals(names) for names in signals]
    shown = [
        _main_signal(f) if v is not None else None for f, v in zip(found, values, strict=True)
    ]
    stat = _Statistics(unit, decimals)
    breaks = [s for s in segments if s.start > 0]
    limited = [s for s in segments if s.limits is not None]
    single = limited[0].limits if len(segments) == 1 and limited else None

    mean_label, limits_label = "Mean", "Control limits"
    notes: list[str] = []
    if single is not None:
        mean_label += f" {stat(single.centre)}"
        limits_label += f" {stat.limits(single)}"
        notes = stat.held(single)
    elif segments:
        limits_label += ", worked out afresh after each break"
        notes = _segment_texts(labels, segments, stat)
    legend_items: list[tuple[Sample, str]] = [
        (_value_sample, "Value"),
        (_line_sample(stroke=AXIS, **{"stroke-width": 1.5}), mean_label),
        (
            _line_sample(stroke=AXIS, **{"stroke-width": 1.5, "stroke-dasharray": "6 4"}),
            limits_label,
        ),
    ]
    if breaks:
        legend_items.append((_break_sample, "Break in series"))
    for signal in SIGNAL_ORDER:
        if signal in shown:
            legend_items.append((_signal_sample(signal), SIGNAL_TEXT[signal].capitalize()))
    legend, legend_height = _legend(legend_items, top=PADDING)
    note_lines = [line for note in notes for line in _wrap(note, WIDTH - 2 * PADDING)]
    notes_top = PADDING + legend_height
    body_notes = ['<g class="notes">'] + [
        _text(PADDING, notes_top + i * LEGEND_ROW + LEGEND_ROW / 2 + 4, line)
        for i, line in enumerate(note_lines)
    ]
    body_notes.append("</g>")
    breaks_top = notes_top + len(note_lines) * LEGEND_ROW

    # The plot's width does not depend on the break labels' height, so lay out x first.
    present = _present(values)
    limit_lines = [
        line
        for s in limited
        if s.limits is not None
        for line in (s.limits.centre, s.limits.lower, s.limits.upper)
    ]
    zero = _starts_at_zero(unit, present)
    probe = _Scale.for_values(present + limit_lines, unit=unit, top=0, bottom=1, zero=zero)
    left, right = _y_axis_width(probe, unit), WIDTH - PADDING
    slot = (right - left) / max(len(points), 1)

    def x(index: int) -> float:
        return left + (index + 0.5) * slot

    def edge(index: int) -> float:
        return left + index * slot

    # Each break's reason on rows of its own above the plot, beside its marker line.
    break_labels: list[tuple[Segment, float, list[str], str]] = []
    row = 0
    for segment in breaks:
        at = edge(segment.start)
        text = f"Break from {labels[segment.start]}: {segment.reason}".rstrip(": ")
        room_right, room_left = right - at - 6, at - PADDING - 6
        anchor = "start" if _text_width(text) <= room_right or room_right >= room_left else "end"
        lines = _wrap(text, max(room_right if anchor == "start" else room_left, 120))
        break_labels.append((segment, breaks_top + row * LEGEND_ROW, lines, anchor))
        row += len(lines)
    top = breaks_top + row * LEGEND_ROW + 10
    bottom = top + PLOT_HEIGHT
    scale = _Scale(ticks=probe.ticks, top=top, bottom=bottom)

    every = max(1, math.ceil(len(points) / 10))
    body = _y_axis(scale, left=left, right=right, unit=unit)
    body += _x_labels(((x(i), labels[i]) for i in range(0, len(points), every)), y=bottom + 18)
    body.append('<g class="limits">')
    for segment in limited:
        limits = segment.limits
        assert limits is not None
        start, stop = edge(segment.start), edge(segment.stop)
        y = scale.y(limits.centre)
        body.append(
            _line(start, y, stop, y, stroke=AXIS, **{"stroke-width": 1.5, "class": "centre"})
        )
        for limit, name in ((limits.upper, "upper"), (limits.lower, "lower")):
            y = scale.y(limit)
            style = {"stroke-width": 1.5, "stroke-dasharray": "6 4", "class": f"limit {name}"}
            body.append(_line(start, y, stop, y, stroke=AXIS, **style))
    body.append("</g>")
    body.append('<g class="breaks">')
    for segment, label_top, lines, anchor in break_labels:
        at = edge(segment.start)
        text_x = at + 6 if anchor == "start" else at - 6
        body.append(f"<g><title>{escape(segment.reason)}</title>")
        body.append(_line(at, label_top + 4, at, bottom, **{**BREAK_STYLE, "class": "break"}))
        for i, line in enumerate(lines):
            y = label_top + i * LEGEND_ROW + LEGEND_ROW / 2 + 4
            body.append(_text(text_x, y, line, anchor=anchor, **{"class": "break-label"}))
        body.append("</g>")
    body.append("</g>")
    coordinates = [None if v is None else (x(i), scale.y(v)) for i, v in enumerate(values)]
    body.append('<g class="series">')
    # The line is not drawn across a break: the months either side belong to different
    # processes.
    for segment in segments:
        body += _line_with_gaps(
            coordinates[segment.start : segment.stop],
            dot=None,
            stroke=LATEST,
            **{"stroke-width": 2},
        )
    body.append("</g>")
    body.append('<g class="markers">')
    for i, point in enumerate(coordinates):
        if point is None:
            continue
        texts = [SIGNAL_TEXT[s] for s in SIGNAL_ORDER if s in found[i]]
        tooltip = "; ".join([f"{labels[i]}: {format_value(values[i], unit, decimals)}", *texts])
        body.append(f"<g><title>{escape(tooltip)}</title>{_marker(shown[i], *point)}</g>")
    body.append("</g>")
    body += legend
    body += body_notes

    description = _xmr_description(title, labels, values, found, segments, single, stat)
    table = _xmr_table(labels, values, found, segments, unit, decimals, stat)
    return _chart(
        id_prefix=id_prefix,
        title=title,
        description=description,
        height=bottom + X_LABEL_SPACE,
        body=body,
        table=table,
    )


def _xmr_table(
    labels: list[str],
    values: list[Decimal | None],
    found: list[set[Signal]],
    segments: Sequence[Segment],
    unit: str,
    decimals: int,
    stat: _Statistics,
) -> list[list[str]]:
    """Return the chart's data: each point with the mean and limits it is judged by."""
    breaks = any(s.start > 0 for s in segments)
    header = ["Period", "Value", "Mean", "Lower limit", "Upper limit", "Signals"]
    table = [header + (["Break in series"] if breaks else [])]
    for segment in segments:
        limits = segment.limits
        for i in range(segment.start, segment.stop):
            row = [
                labels[i],
                format_value(values[i], unit, decimals),
                stat(limits.centre if limits else None),
                stat(limits.lower if limits else None),
                stat(limits.upper if limits else None),
                "; ".join(SIGNAL_TEXT[s] for s in SIGNAL_ORDER if s in found[i]),
            ]
            if breaks:
                row.append(segment.reason if i == segment.start and i > 0 else "")
            table.append(row)
    return table


def _xmr_description(
    title: str,
    labels: list[str],
    values: list[Decimal | None],
    found: list[set[Signal]],
    segments: Sequence[Segment],
    single: Limits | None,
    stat: _Statistics,
) -> str:
    if not labels:
        return f"{title}. No data yet."
    span = f"{labels[0]} to {labels[-1]}"
    # The span, unless the title already gives it.
    sentences = [f"{title}." if span in title else f"{title}, {span}."]
    if single is not None:
        sentences.append(f"Mean {stat(single.centre)}; control limits {stat.limits(single)}.")
        sentences += stat.held(single)
    else:
        for segment in segments:
            if segment.start > 0:
                sentences.append(
                    f"Break in series from {labels[segment.start]}: {segment.reason}."
                )
        sentences += _segment_texts(labels, segments, stat)
    cuts = {s.start for s in segments}
    signalled = False
    for signal in SIGNAL_ORDER:
        indexes = [i for i, f in enumerate(found) if signal in f and values[i] is not None]
        if indexes:
            signalled = True
            ranges = _ranges(labels, indexes, cuts)
            sentences.append(f"{SIGNAL_TEXT[signal].capitalize()}: {ranges}.")
    if not signalled:
        sentences.append("No signals: every point is within normal variation.")
    return " ".join(sentences)


# ---------------------------------------------------------------------------------------
# 3. Year-to-date bars.


def _change_text(base: Decimal | None, current: Decimal | None, unit: str) -> str:
    if unit == "percent":
        pp = None if base is None or current is None else current - base
        return format_change_pp(pp)
    return format_change_pct(change_pct(base, current))


def year_to_date_bars(
    *,
    title: str,
    unit: str,
    bars: Sequence[tuple[str, Decimal | None]],
    decimals: int = 0,
    id_prefix: str = "chart",
) -> Chart:
    """Return a bar per financial year ("2019" … "2022"), each labelled with its value."""
    labels = [label for label, _ in bars]
    values = [value for _, value in bars]
    top = PADDING + LEGEND_ROW  # room for the value label above the tallest bar
    bottom = top + PLOT_HEIGHT
    scale = _Scale.for_values(_present(values), unit=unit, top=top, bottom=bottom, zero=True)
    left, right = _y_axis_width(scale, unit), WIDTH - PADDING
    slot = (right - left) / max(len(bars), 1)
    width = min(slot * 0.6, 96)
    zero_y = scale.y(Decimal(0))

    body = _y_axis(scale, left=left, right=right, unit=unit)
    body += _x_labels(((left + (i + 0.5) * slot, b) for i, b in enumerate(labels)), y=bottom + 18)
    body.append('<g class="bars">')
    latest = max((i for i, v in enumerate(values) if v is not None), default=None)
    for i, value in enumerate(values):
        centre = left + (i + 0.5) * slot
        text = format_value(value, unit, decimals)
        if value is None:
            label_y = zero_y - 6
        else:
            y = scale.y(value)
            fill = LATEST if i == latest else EARLIER_BAR
            body.append(
                f"<g><title>{escape(f'{labels[i]}: {text}')}</title>"
                + _rect(
                    centre - width / 2,
                    min(y, zero_y),
                    width,
                    abs(zero_y - y),
                    fill=fill,
                    **{"class": "bar"},
                )
                + "</g>"
            )
            label_y = y - 6 if value >= 0 else y + 16
        body.append(_text(centre, label_y, text, anchor="middle", **{"class": "value-label"}))
    body.append("</g>")

    description = _bars_description(title, labels, values, unit, decimals)
    table = [["Year", "Value", "Change vs previous year"]] + [
        [
            label,
            format_value(value, unit, decimals),
            "" if i == 0 else _change_text(values[i - 1], value, unit),
        ]
        for i, (label, value) in enumerate(bars)
    ]
    return _chart(
        id_prefix=id_prefix,
        title=title,
        description=description,
        height=bottom + X_LABEL_SPACE,
        body=body,
        table=table,
    )


def _bars_description(
    title: str, labels: list[str], values: list[Decimal | None], unit: str, decimals: int
) -> str:
    if not labels:
        return f"{title}. No data yet."
    sentences = [f"{title}, {labels[0]} to {labels[-1]}."]
    known = [(label, v) for label, v in zip(labels, values, strict=True) if v is not None]
    if known:
        label, value = known[-1]
        sentence = f"{label}: {format_value(value, unit, decimals)}"
        if len(known) > 1:
            before, base = known[-2]
            change = _change_text(base, value, unit)
            sentence += f", {change} compared with {before} ({format_value(base, unit, decimals)})"
        sentences.append(sentence + ".")
        if len(known) > 2:
            high_label, high = max(known, key=lambda item: item[1])
            sentences.append(f"Highest: {high_label} ({format_value(high, unit, decimals)}).")
    return " ".join(sentences)


# ---------------------------------------------------------------------------------------
# 4. Several monthly series over the years, with their total on a right-hand axis.


def _total(values: Sequence[Decimal | None]) -> Decimal | None:
    """Return the sum of a month's values; None unless every series has the month, as a
    total of part of the series would read as a fall."""
    present = _present(values)
    if len(present) < len(values):
        return None
    return sum(present, Decimal(0))


def monthly_with_total(
    *,
    title: str,
    unit: str,
    months: Sequence[periods.Month],
    series: Mapping[str, Sequence[Decimal | None]],
    total_label: str = "Total",
    decimals: int = 0,
    id_prefix: str = "chart",
) -> Chart:
    """Return a line per series over `months` (left axis) and their total (right axis).

    `series` maps each series' name to one value per month (None: no data, a gap); the
    total of a month is drawn only when every series has it.
    """
    return _monthly_series(
        title=title,
        unit=unit,
        months=months,
        series=series,
        total_label=total_label,
        decimals=decimals,
        id_prefix=id_prefix,
    )


def monthly_lines(
    *,
    title: str,
    unit: str,
    months: Sequence[periods.Month],
    series: Mapping[str, Sequence[Decimal | None]],
    decimals: int = 0,
    id_prefix: str = "chart",
) -> Chart:
    """Return a line per series over `months` on one axis (several outcome rates, say).

    `series` maps each series' name to one value per month (None: no data, a gap). Up to
    three years of months are labelled by quarter ("Jan 2021", "Apr 2021" …), longer spans
    by year.
    """
    return _monthly_series(
        title=title,
        unit=unit,
        months=months,
        series=series,
        total_label=None,
        decimals=decimals,
        id_prefix=id_prefix,
    )


# Up to this many months a chart of monthly lines labels each quarter's first month.
QUARTER_LABELS_UP_TO = 36


def _monthly_series(
    *,
    title: str,
    unit: str,
    months: Sequence[periods.Month],
    series: Mapping[str, Sequence[Decimal | None]],
    total_label: str | None,
    decimals: int,
    id_prefix: str,
) -> Chart:
    """Return the lines of `monthly_with_total` (a total given) or `monthly_lines` (none)."""
    names = list(series)
    columns = [list(series[name]) for name in names]
    for name, values in zip(names, columns, strict=True):
        if len(values) != len(months):
            raise ValueError(f"{name} has {len(values)} values for {len(months)} months.")
    with_total = total_label is not None
    totals = [_total(month_values) for month_values in zip(*columns, strict=True)]
    if not names:
        totals = [None] * len(months)

    if with_total:
        styles = [_year_style(i + 1) for i in range(len(names))]
    else:
        # No total to stand out: the first series is the boldest, the others dashed.
        styles = [_year_style(i) for i in range(len(names))]
    total_style: dict[str, object] = {"stroke": LATEST, "stroke-width": 3}
    total_name = f"{total_label} (right axis)"
    legend_items: list[tuple[Sample, str]] = [
        (_line_sample(**style), name) for style, name in zip(styles, names, strict=True)
    ]
    if with_total:
        legend_items.append((_line_sample(**total_style), total_name))
    legend, legend_height = _legend(legend_items, top=PADDING)
    top = PADDING + legend_height + 10
    bottom = top + PLOT_HEIGHT
    plotted = [v for column in columns for v in _present(column)]
    zero = True if with_total else _starts_at_zero(unit, plotted)
    scale = _Scale.for_values(plotted, unit=unit, top=top, bottom=bottom, zero=zero)
    right_scale = _Scale.for_values(_present(totals), unit=unit, top=top, bottom=bottom, zero=True)
    left = _y_axis_width(scale, unit)
    right = WIDTH - (_y_axis_width(right_scale, unit) if with_total else PADDING)
    slot = (right - left) / max(len(months), 1)

    def x(index: int) -> float:
        return left + (index + 0.5) * slot

    body = _y_axis(scale, left=left, right=right, unit=unit)
    if with_total:
        body.append('<g class="y-axis-right">')
        for tick, label in zip(right_scale.ticks, right_scale.labels(unit), strict=True):
            y = right_scale.y(tick) + 4
            body.append(_text(right + 8, y, label, **{"class": "tick-right"}))
        body.append(_line(right, top, right, bottom, stroke=AXIS, **{"stroke-width": 1}))
        body.append("</g>")
    body += _x_labels(_month_positions(months, x, by_quarter=not with_total), y=bottom + 18)
    for name, style, column in zip(names, styles, columns, strict=True):
        points = [None if v is None else (x(i), scale.y(v)) for i, v in enumerate(column)]
        body.append(f'<g class="series"{_attrs({"data-series": name})}>')
        body.append(f"<title>{escape(name)}</title>")
        body += _line_with_gaps(points, dot=4, **{**style, "stroke-linejoin": "round"})
        body.append("</g>")
    if with_total:
        points = [None if v is None else (x(i), right_scale.y(v)) for i, v in enumerate(totals)]
        body.append(f'<g class="series total"{_attrs({"data-series": total_label})}>')
        body.append(f"<title>{escape(total_name)}</title>")
        body += _line_with_gaps(points, dot=4, **{**total_style, "stroke-linejoin": "round"})
        body.append("</g>")
    body += legend

    labels = [month.short_label for month in months]
    if total_label is not None:
        description = _with_total_description(
            title, labels, names, columns, totals, total_label, unit, decimals
        )
        table = [["Month", *names, total_label]] + [
            [
                label,
                *(format_value(column[i], unit, decimals) for column in columns),
                format_value(totals[i], unit, decimals),
            ]
            for i, label in enumerate(labels)
        ]
    else:
        description = _lines_description(title, labels, names, columns, unit, decimals)
        table = [["Month", *names]] + [
            [label, *(format_value(column[i], unit, decimals) for column in columns)]
            for i, label in enumerate(labels)
        ]
    return _chart(
        id_prefix=id_prefix,
        title=title,
        description=description,
        height=bottom + X_LABEL_SPACE,
        body=body,
        table=table,
    )


def _month_positions(
    months: Sequence[periods.Month], x: Callable[[int], float], *, by_quarter: bool
) -> list[tuple[float, str]]:
    """Return where the months are labelled: a year under its January (or the first month),
    or, for up to three years of lines, "Jan 2021" under each quarter's first month."""
    if by_quarter and len(months) <= QUARTER_LABELS_UP_TO:
        return [
            (x(i), month.short_label)
            for i, month in enumerate(months)
            if month.month % 3 == 1 or i == 0
        ]
    return [
        (x(i), str(month.year)) for i, month in enumerate(months) if month.month == 1 or i == 0
    ]


def _lines_description(
    title: str,
    labels: list[str],
    names: list[str],
    columns: list[list[Decimal | None]],
    unit: str,
    decimals: int,
) -> str:
    """Return e.g. "T, Jan 2021 to Dec 2022. Dec 2022: A 13.64%, B 22.1%. Highest: A 13.64%
    (Dec 2022), B 24.0% (Jun 2021)."."""
    known = [i for i in range(len(labels)) if any(c[i] is not None for c in columns)]
    if not known:
        return f"{title}. No data yet."
    sentences = [f"{title}, {labels[0]} to {labels[-1]}."]
    last = known[-1]
    latest = [
        f"{name} {format_value(column[last], unit, decimals)}"
        for name, column in zip(names, columns, strict=True)
    ]
    sentences.append(f"{labels[last]}: {', '.join(latest)}.")
    highest = []
    for name, column in zip(names, columns, strict=True):
        present = [i for i, v in enumerate(column) if v is not None]
        if len(present) > 1:
            # The latest month of the highest value, so "highest since" reads true.
            high = max(present, key=lambda i: (column[i], i))
            value = format_value(column[high], unit, decimals)
            highest.append(f"{name} {value} ({labels[high]})")
    if highest:
        sentences.append(f"Highest: {', '.join(highest)}.")
    return " ".join(sentences)


def _with_total_description(
    title: str,
    labels: list[str],
    names: list[str],
    columns: list[list[Decimal | None]],
    totals: list[Decimal | None],
    total_label: str,
    unit: str,
    decimals: int,
) -> str:
    known = [i for i, total in enumerate(totals) if total is not None]
    if not known:
        return f"{title}. No data yet."
    sentences = [f"{title}, {labels[0]} to {labels[-1]}."]
    last = known[-1]
    parts = [
        f"{name} {format_value(column[last], unit, decimals)}"
        for name, column in zip(names, columns, strict=True)
    ]
    total = format_value(totals[last], unit, decimals)
    sentences.append(
        f"{labels[last]}: {', '.join(parts)}; {total_label.lower()} {total} (right axis)."
    )
    if len(known) > 1:
        high = max(known, key=lambda i: totals[i])  # type: ignore[arg-type,return-value]
        high_total = format_value(totals[high], unit, decimals)
        sentences.append(f"Highest {total_label.lower()}: {labels[high]} ({high_total}).")
    return " ".join(sentences)


# ---------------------------------------------------------------------------------------
# 5. Grouped bars: a bar per series in each group (a period), side by side.

BAR_HEIGHT = 16
GROUP_GAP = 12
NO_DATA = "no data"


def _bar_style(index: int) -> dict[str, object]:
    """Return a series' bar style: solid and outlined in turn, so that neighbouring series
    differ in form as well as colour."""
    colour = [LATEST, *PREVIOUS][index % (len(PREVIOUS) + 1)]
    if index % 2 == 0:
        return {"fill": colour}
    return {"fill": "#ffffff", "stroke": colour, "stroke-width": 2}


def _bar_sample(style: Mapping[str, object]) -> Sample:
    return lambda x, y: _rect(x + 4, y - 6, LEGEND_SAMPLE - 8, 12, **style)


def grouped_bars(
    *,
    title: str,
    unit: str,
    groups: Sequence[str],
    series: Mapping[str, Sequence[Decimal | None]],
    decimals: int = 0,
    id_prefix: str = "chart",
) -> Chart:
    """Return horizontal bars: for each group (a period: "Oct–Dec 2019", "Oct 2022") a bar
    per series, in the legend's order, each labelled with its value.

    `series` maps each series' name to one value per group (None: no figure, labelled as
    such). Bars run from zero, so their lengths compare.
    """
    names = list(series)
    columns = [list(series[name]) for name in names]
    for name, values in zip(names, columns, strict=True):
        if len(values) != len(groups):
            raise ValueError(f"{name} has {len(values)} values for {len(groups)} groups.")
    styles = [_bar_style(i) for i in range(len(names))]
    legend, legend_height = _legend(
        [(_bar_sample(style), name) for style, name in zip(styles, names, strict=True)],
        top=PADDING,
    )
    top = PADDING + legend_height + 10
    band = max(len(names), 1) * BAR_HEIGHT + GROUP_GAP
    bottom = top + len(groups) * band
    plotted = [v for column in columns for v in _present(column)]
    texts = [[format_value(v, unit, decimals) for v in column] for column in columns]
    left = PADDING + 8 + max((_text_width(group) for group in groups), default=0)
    right = WIDTH - PADDING - 6 - max((_text_width(t) for c in texts for t in c), default=0)
    # The value axis runs across: a _Scale maps values from its "bottom" (here the left
    # end of the bars) to its "top" (the right end).
    scale = _Scale.for_values(plotted, unit=unit, top=right, bottom=left, zero=True)
    zero_x = scale.y(Decimal(0))

    body = ['<g class="x-axis">']
    for tick, label in zip(scale.ticks, scale.labels(unit), strict=True):
        x = scale.y(tick)
        body.append(_line(x, top, x, bottom, stroke=GRID, **{"stroke-width": 1, "class": "grid"}))
        body.append(_text(x, bottom + 18, label, anchor="middle", **{"class": "tick"}))
    body.append(_line(zero_x, top, zero_x, bottom, stroke=AXIS, **{"stroke-width": 1.5}))
    body.append("</g>")
    body.append('<g class="groups">')
    for g, group in enumerate(groups):
        band_top = top + g * band + GROUP_GAP / 2
        middle = band_top + len(names) * BAR_HEIGHT / 2
        body.append(_text(left - 8, middle + 4, group, anchor="end", **{"class": "group"}))
    body.append("</g>")
    for s, (name, style, column) in enumerate(zip(names, styles, columns, strict=True)):
        body.append(f'<g class="series"{_attrs({"data-series": name})}>')
        for g, value in enumerate(column):
            y = top + g * band + GROUP_GAP / 2 + s * BAR_HEIGHT
            text = texts[s][g]
            if value is None:
                # No bar: say so where the bar would start.
                body.append(
                    _text(zero_x + 6, y + BAR_HEIGHT - 4, NO_DATA, **{"class": "value-label"})
                )
                continue
            end = scale.y(value)
            bar = _rect(
                min(zero_x, end),
                y + 1,
                abs(end - zero_x),
                BAR_HEIGHT - 2,
                **style,
                **{"class": "bar"},
            )
            body.append(f"<g><title>{escape(f'{groups[g]}, {name}: {text}')}</title>{bar}</g>")
            label_x, anchor = (end + 6, "start") if value >= 0 else (end - 6, "end")
            body.append(
                _text(label_x, y + BAR_HEIGHT - 4, text, anchor=anchor, **{"class": "value-label"})
            )
        body.append("</g>")
    body += legend

    description = _grouped_description(title, groups, names, texts)
    table = [["Period", *names]] + [
        [group, *(texts[s][g] for s in range(len(names)))] for g, group in enumerate(groups)
    ]
    return _chart(
        id_prefix=id_prefix,
        title=title,
        description=description,
        height=bottom + X_LABEL_SPACE,
        body=body,
        table=table,
    )


def _grouped_description(
    title: str, groups: Sequence[str], names: list[str], texts: list[list[str]]
) -> str:
    """Return e.g. "T. Oct–Dec 2021: A 20.0%, B –. Oct–Dec 2022: A 6.0%, B 3.0%."."""
    if not groups or not names:
        return f"{title}. No data yet."
    parts = [
        f"{group}: " + ", ".join(f"{name} {texts[s][g]}" for s, name in enumerate(names))
        for g, group in enumerate(groups)
    ]
    return f"{title}. " + ". ".join(parts) + "."
