"""Which charts a report section or a measure page shows, drawn from its series.

The adapter between the figures (series read for a reader through a `SeriesBook`) and the
pure drawing code in `reports.charts.drawing`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from measures.arithmetic import spc
from measures.arithmetic.periods import EN_DASH, Month, Period
from measures.models import Measure, SeriesBreak, Source
from measures.selectors import MonthlySeries, SeriesBook
from reports import selectors
from reports.charts import drawing as charts
from reports.models import CHARTED_AGGREGATIONS, ReportChart

FINANCIAL_YEARS = 4
# Enough for every monthly measure of the seed's sections that no table or declared chart
# shows (the efficient-policing section has digital demand and a service level).
MONTHLY_CHARTS_PER_SECTION = 5
XMR_MONTHS = 36
# How many months further back an XmR chart may start, so that a segment before a break in
# series has limits of its own (`_reach_back`).
XMR_REACH_BACK = 12
XMR_CHARTS_PER_SECTION = 2
# How far back a declared chart reaches when it gives neither a first month nor years:
# years of months for lines, financial years overlaid, or the same quarter in years.
DEFAULT_YEARS = {
    ReportChart.Kind.MONTHLY_WITH_TOTAL: 5,
    ReportChart.Kind.FINANCIAL_YEARS: FINANCIAL_YEARS,
    ReportChart.Kind.QUARTER: 4,
    ReportChart.Kind.MONTHLY_LINES: 2,
}


@dataclass
class SectionCharts:
    """A section's charts: those printed before its tables, and those after them."""

    before: list[charts.Chart] = field(default_factory=list)
    after: list[charts.Chart] = field(default_factory=list)


def _chart_id(*parts: str) -> str:
    return "chart-" + "-".join(p.replace("/", "-") for p in parts)


def by_financial_year(
    measure: Measure,
    series: MonthlySeries,
    month: Month,
    *,
    years: int = FINANCIAL_YEARS,
    title: str = "",
    id_prefix: str = "",
) -> charts.Chart | None:
    """Return the measure's months in each of the last `years` financial years, overlaid
    (titled "<measure> per month, by financial year" unless given a title)."""
    monthly = series.monthly()
    if not monthly:
        return None
    last = month.financial_year
    lines: dict[str, list[Decimal | None]] = {}
    for year in range(last - years + 1, last + 1):
        months = Period.financial_year(year).months
        values = [monthly[m].value if m in monthly else None for m in months if m <= month]
        if any(v is not None for v in values):
            lines[f"{year}/{(year + 1) % 100:02d}"] = values
    if not lines:
        return None
    return charts.monthly_by_financial_year(
        title=title or f"{measure.name} per month, by financial year",
        unit=measure.unit,
        series=lines,
        decimals=measure.decimals,
        id_prefix=id_prefix or _chart_id("fy", measure.code),
    )


def year_to_date_chart(measure: Measure, data) -> charts.Chart:
    return charts.year_to_date_bars(
        title=f"{measure.name}: {data.labels.get('window', 'year to date')}",
        unit=measure.unit,
        bars=[(row["year"], row["value"]) for row in data.rows],
        decimals=measure.decimals,
        id_prefix=_chart_id("ytd", measure.code),
    )


@dataclass(frozen=True)
class Control:
    """A measure's months as its XmR chart shows them: cut at breaks in series, with the
    limits of each segment and the run rules each month breaks."""

    months: list[Month]
    values: list[Decimal | None]
    segments: list[spc.Segment]
    signals: list[set[spc.Signal]]

    @property
    def latest_signalled(self) -> bool:
        return bool(self.signals[-1])


def xmr_control(
    measure: Measure,
    series: MonthlySeries,
    month: Month,
    breaks: Iterable[SeriesBreak] = (),
) -> Control | None:
    """Return the measure's last three years of months to its latest value on or before
    `month`, judged by XmR limits; None when no segment has limits.

    Limits are worked out afresh after each break in series, and the run rules restart
    there; they never pass what the measure can take (a count's lower limit is at least 0).
    Only months up to `month` count, so a report's charts do not change when later months
    arrive.
    """
    end = series.latest_month(month)
    if end is None:
        return None
    # Month indexes throughout: only the months the chart can show or reach back to.
    values_at = series.values_by_index(end.shift(1 - XMR_MONTHS - XMR_REACH_BACK))
    breaks = list(breaks)
    start = _reach_back(
        end.index + 1 - XMR_MONTHS, [b.month.index for b in breaks], values_at.keys()
    )
    first = next(i for i in range(start, end.index + 1) if i in values_at)
    window = range(first, end.index + 1)
    values = [values_at.get(i) for i in window]
    cuts = {b.month.index - first: b.reason for b in breaks if b.month.index in window}
    parts = spc.segments(values, cuts, bounds=spc.unit_bounds(measure.unit))
    if all(part.limits is None for part in parts):
        return None
    months = [Month.from_index(i) for i in window]
    return Control(months, values, parts, spc.segment_signals(values, parts))


def xmr_chart(
    measure: Measure,
    series: MonthlySeries,
    month: Month,
    breaks: Iterable[SeriesBreak] = (),
) -> charts.Chart | None:
    """Return the XmR chart of `xmr_control`, if the measure has limits."""
    control = xmr_control(measure, series, month, breaks)
    return None if control is None else _draw_xmr(measure, control)


def _draw_xmr(measure: Measure, control: Control) -> charts.Chart:
    first, last = control.months[0].short_label, control.months[-1].short_label
    return charts.xmr(
        title=f"{measure.name}: XmR chart, {first} to {last}",
        unit=measure.unit,
        points=[(m.short_label, v) for m, v in zip(control.months, control.values, strict=True)],
        segments=control.segments,
        signals=[{str(s) for s in found} for found in control.signals],
        decimals=measure.decimals,
        id_prefix=_chart_id("xmr", measure.code),
    )


def _reach_back(start: int, breaks: list[int], valued: Collection[int]) -> int:
    """Return where an XmR chart starting at month index `start` should start so that the
    months before the first break it shows have limits of their own: up to a year earlier,
    never past an earlier break. `valued` holds the indexes of the months with a value."""
    first_break = min((b for b in breaks if b > start), default=None)
    if first_break is None:
        return start
    earlier_break = max((b for b in breaks if b <= start), default=None)
    have = sum(1 for i in range(start, first_break) if i in valued)
    reached = start
    for _ in range(XMR_REACH_BACK):
        if have >= spc.MIN_POINTS:
            return reached
        previous = reached - 1
        if earlier_break is not None and previous < earlier_break:
            break
        reached = previous
        have += previous in valued
    return reached if have >= spc.MIN_POINTS else start


def declared_reads(layout: Iterable, *, area, book: SeriesBook) -> None:
    """Read at once what the layout's declared charts read besides the materialised months:
    the stored values of every quarter chart's measures (a quarter's ratio needs its
    numerators), so the charts cost one query whatever their number."""
    stored = [
        measure
        for section in layout
        if section.pk
        for chart in section.charts.all()
        if chart.kind == ReportChart.Kind.QUARTER
        for measure in chart.shown_measures()
    ]
    if stored:
        book.stored(stored, [area])


def section_charts(
    section,
    *,
    measures: Sequence[Measure],
    breaks: Mapping[int, list[SeriesBreak]],
    declared: Sequence[ReportChart] = (),
    area,
    month: Month,
    book: SeriesBook,
) -> SectionCharts:
    """Return a section's charts: those its layout declares (`ReportChart`, in order, before
    or after its tables), then its automatic ones after its tables — a bar chart per
    year-to-date table, XmR charts of signals, and monthly charts by financial year for its
    monthly measures that no table shows. A measure a declared chart shows gets no automatic
    chart: it is not charted twice.

    `measures` are the section's priority's, in report order, and `breaks` their breaks in
    series by measure id, both read once for the whole report.
    Every chart names its sources (`Chart.source_names`), which the section's sources include.
    """
    found = SectionCharts()
    declared_measures: dict[int, Measure] = {}
    for row in declared:
        chart = declared_chart(row, area=area, month=month, book=book)
        if chart is None:
            continue
        (found.before if row.placed_before else found.after).append(chart)
        declared_measures.update((m.pk, m) for m in row.shown_measures())
    after = found.after
    for kind, data in section.tables:
        if kind == "year-to-date" and data.rows:
            measure = data.rows[0]["measure"]
            if measure.pk not in declared_measures:
                after.append(_cited(year_to_date_chart(measure, data), [measure]))
    after += signal_charts(
        section, area=area, month=month, book=book, skip=declared_measures.keys(), breaks=breaks
    )
    in_tables = {m.pk for m in section.measures}
    shown = in_tables | set(declared_measures)
    candidates = [m for m in monthly_charted(measures) if m.pk not in shown]
    candidates = candidates[:MONTHLY_CHARTS_PER_SECTION]
    if candidates:
        series = book.fetch(candidates, [area])
        for measure in candidates:
            chart = by_financial_year(measure, series[(measure.pk, area.pk)], month)
            if chart is not None:
                after.append(_cited(chart, [measure]))
                section.measures.append(measure)
    # Charted measures are the report's too: publishing checks that their figures are
    # approved (`reports.publishing.report_measures`).
    section.measures += [m for pk, m in declared_measures.items() if pk not in in_tables]
    for chart in found.before + found.after:
        for name in chart.source_names:
            if name not in section.sources:
                section.sources.append(name)
    return found


def monthly_charted(measures: Iterable[Measure]) -> list[Measure]:
    """Return the monthly measures whose months chart as a line, in their order: counts and
    sums, ratios (a month's rate: outcome rates, service levels) and means. A `latest`
    measure holds figures for fixed windows, not months, and is left out."""
    return [
        m
        for m in measures
        if m.frequency == Measure.Frequency.MONTHLY and m.aggregation in CHARTED_AGGREGATIONS
    ]


def _cited(chart: charts.Chart, measures: Iterable[Measure], source: str = "") -> charts.Chart:
    """Return the chart naming its sources: `source` if given, else its measures' own."""
    names = [source] if source else [m.source for m in measures if m.source]
    return replace(chart, source_names=tuple(dict.fromkeys(names)))


def cite_sources(found: Iterable[charts.Chart], cited: Mapping[str, Source]) -> list[charts.Chart]:
    """Return the charts with their sources (full name and link) for the names they give;
    `cited` maps each name to its source, as `reports.selectors.source_systems` reads it."""
    return [
        replace(chart, sources=tuple(cited[name] for name in chart.source_names))
        for chart in found
    ]


def declared_chart(
    row: ReportChart, *, area, month: Month, book: SeriesBook
) -> charts.Chart | None:
    """Return the chart a section's layout declares, to `month`, or None when its measures
    no longer suit its kind or it has nothing to show."""
    measures = row.shown_measures()
    if ReportChart.measure_problems(row.kind, measures):
        return None
    years = _declared_years(row, month)
    id_prefix = _chart_id(row.kind.replace("_", "-"), *(m.code for m in measures))
    chart: charts.Chart | None
    if row.kind == ReportChart.Kind.FINANCIAL_YEARS:
        (measure,) = measures
        chart = by_financial_year(
            measure,
            book.fetch([measure], [area])[(measure.pk, area.pk)],
            month,
            years=years,
            title=row.title,
            id_prefix=id_prefix,
        )
    elif row.kind == ReportChart.Kind.QUARTER:
        chart = quarter_chart(
            row.title,
            measures,
            area=area,
            month=month,
            book=book,
            years=years,
            id_prefix=id_prefix,
        )
    else:
        start = declared_first_month(row, month)
        assert start is not None
        months = list(Period.range(start, month).months) if start <= month else []
        chart = monthly_chart(
            row, measures, area=area, months=months, book=book, id_prefix=id_prefix
        )
    return None if chart is None else _cited(chart, measures, row.source)


def _declared_years(row: ReportChart, month: Month) -> int:
    """Return how many years a declared chart reaches back: its own, or from its first month
    (financial years overlaid), or its kind's default."""
    if row.kind == ReportChart.Kind.FINANCIAL_YEARS and row.start_month is not None:
        return month.financial_year - row.start_month.financial_year + 1
    return row.years or DEFAULT_YEARS[ReportChart.Kind(row.kind)]


def declared_first_month(row: ReportChart, month: Month) -> Month | None:
    """Return the first month a declared chart to `month` draws from the materialised
    months (None for a quarter chart, drawn from the stored values)."""
    if row.kind == ReportChart.Kind.QUARTER:
        return None
    years = _declared_years(row, month)
    if row.kind == ReportChart.Kind.FINANCIAL_YEARS:
        return Period.financial_year(month.financial_year - years + 1).start
    return row.start_month or month.shift(1 - 12 * years)


def monthly_chart(
    row: ReportChart,
    measures: list[Measure],
    *,
    area,
    months: list[Month],
    book: SeriesBook,
    id_prefix: str,
) -> charts.Chart | None:
    """Return the measures' `months`, a line each, with their total on a right-hand axis
    if the row is of that kind; None when they have no value in those months."""
    series = book.fetch(measures, [area])
    lines: dict[str, list[Decimal | None]] = {}
    for measure in measures:
        monthly = series[(measure.pk, area.pk)].monthly()
        lines[measure.name] = [monthly[m].value if m in monthly else None for m in months]
    if not any(v is not None for values in lines.values() for v in values):
        return None
    unit, decimals = measures[0].unit, max(m.decimals for m in measures)
    if row.kind == ReportChart.Kind.MONTHLY_WITH_TOTAL:
        return charts.monthly_with_total(
            title=row.title,
            unit=unit,
            months=months,
            series=lines,
            total_label=row.total_label or "Total",
            decimals=decimals,
            id_prefix=id_prefix,
        )
    return charts.monthly_lines(
        title=row.title,
        unit=unit,
        months=months,
        series=lines,
        decimals=decimals,
        id_prefix=id_prefix,
    )


def quarter_chart(
    title: str,
    measures: list[Measure],
    *,
    area,
    month: Month,
    book: SeriesBook,
    years: int,
    id_prefix: str,
) -> charts.Chart | None:
    """Return the quarter ending with `month` for each measure, as bars: the same quarter in
    earlier years (`years` in all; those without a figure are left out), the quarter
    before, the quarter itself and each of its months. The title gets the quarter's months
    ("– October to December 2022").

    A quarter's figure is worked out from its months as any period's is (a ratio from its
    summed numerators and denominators); a quarter missing a month shows no figure.
    """
    quarter = Period.range(month.shift(-2), month)
    own = [quarter, *(Period.month(m) for m in quarter.months)]
    earlier = [quarter.shift(-12 * back) for back in range(years - 1, 0, -1)]
    periods = [*earlier, quarter.shift(-3), *own]
    # Values, not the materialised months: a quarter's ratio needs its numerators.
    series = book.stored(measures, [area])
    values: dict[Period, list[Decimal | None]] = {}
    for period in periods:
        found = [series[(m.pk, area.pk)].figure(period) for m in measures]
        values[period] = [f.value if f.complete else None for f in found]
    shown = [p for p in periods if p in own or any(v is not None for v in values[p])]
    if not any(v is not None for p in own for v in values[p]):
        return None
    return charts.grouped_bars(
        title=f"{title} {EN_DASH} {_months_in_words(quarter)}",
        unit=measures[0].unit,
        groups=[p.label for p in shown],
        series={m.name: [values[p][i] for p in shown] for i, m in enumerate(measures)},
        decimals=max(m.decimals for m in measures),
        id_prefix=id_prefix,
    )


def _months_in_words(period: Period) -> str:
    """Return e.g. "October to December 2022", or "November 2022 to January 2023"."""
    start, end = period.start, period.end
    first = start.name if start.year == end.year else start.long_label
    return f"{first} to {end.long_label}"


def signal_charts(
    section,
    *,
    area,
    month: Month,
    book: SeriesBook,
    skip: Collection[int] = (),
    breaks: Mapping[int, list[SeriesBreak]] | None = None,
) -> list:
    """Return XmR charts for the section's measures whose latest month breaks a run rule,
    as the chart itself judges it (its own limits, breaks in series, months to `month`);
    none for the measures in `skip` (their ids: those a declared chart shows). `breaks`,
    by measure id, are read here unless given."""
    monthly = [
        m
        for m in section.measures
        if m.frequency == Measure.Frequency.MONTHLY and m.pk not in skip
    ]
    if not monthly:
        return []
    series = book.fetch(monthly, [area])
    if breaks is None:
        breaks = selectors.series_breaks(monthly)
    found = []
    for measure in monthly:
        control = xmr_control(
            measure, series[(measure.pk, area.pk)], month, breaks.get(measure.pk, [])
        )
        if control is not None and control.latest_signalled:
            found.append(_cited(_draw_xmr(measure, control), [measure]))
        if len(found) == XMR_CHARTS_PER_SECTION:
            break
    return found


def measure_charts(measure: Measure, series: MonthlySeries, month: Month) -> list:
    """Return the measure page's charts: by financial year, and its XmR chart."""
    if not len(series) or not series.monthly():
        return []
    breaks = selectors.series_breaks([measure]).get(measure.pk, [])
    found = [
        by_financial_year(measure, series, month),
        xmr_chart(measure, series, month, breaks),
    ]
    return [c for c in found if c is not None]
