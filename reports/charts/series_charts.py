"""Which charts a report section or a measure page shows, drawn from its series.

The adapter between the figures (series read for a reader through a `SeriesBook`) and the
pure drawing code in `reports.charts.drawing`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from measures.arithmetic import spc
from measures.arithmetic.periods import Month, Period
from measures.models import Measure, SeriesBreak
from measures.selectors import MonthlySeries, SeriesBook
from reports import selectors
from reports.charts import drawing as charts

FINANCIAL_YEARS = 4
# Enough for every monthly measure of the seed's sections that no table shows (the
# efficient-policing section has call volumes, digital demand, a service level and an
# abandonment rate).
MONTHLY_CHARTS_PER_SECTION = 5
XMR_MONTHS = 36
XMR_CHARTS_PER_SECTION = 2
# Year-to-date measures whose months the seed also overlays by financial year, under their
# table ("ASB Incidents Recorded – Lancashire, 2018/19 to present"), five years back to
# 2018/19. Named here because the plan has no field for it yet (measures/models.py).
OVERLAID_UNDER_YEAR_TO_DATE = ("asb-incidents",)
OVERLAID_FINANCIAL_YEARS = 5
# The seed's "Call volumes per month 2018 – present (total refers to right axis)": the
# calls presented, from January 2018, with their total. Named for the same reason.
CALL_VOLUMES = ("calls-999", "calls-101")
CALL_VOLUMES_FROM = Month(2018, 1)


def _chart_id(*parts: str) -> str:
    return "chart-" + "-".join(p.replace("/", "-") for p in parts)


def by_financial_year(
    measure: Measure, series: MonthlySeries, month: Month, *, years: int = FINANCIAL_YEARS
) -> charts.Chart | None:
    """Return the measure's months in each of the last `years` financial years, overlaid."""
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
        title=f"{measure.name} per month, by financial year",
        unit=measure.unit,
        series=lines,
        decimals=measure.decimals,
        id_prefix=_chart_id("fy", measure.code),
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
    monthly = series.monthly()
    end = series.latest_month(month)
    if end is None:
        return None
    breaks = list(breaks)
    start = _reach_back(end.shift(1 - XMR_MONTHS), [b.month for b in breaks], monthly)
    window = list(Period.range(start, end).months)
    window = window[next(i for i, m in enumerate(window) if m in monthly) :]
    values = [monthly[m].value if m in monthly else None for m in window]
    index = {m: i for i, m in enumerate(window)}
    cuts = {index[b.month]: b.reason for b in breaks if b.month in index}
    parts = spc.segments(values, cuts, bounds=spc.unit_bounds(measure.unit))
    if all(part.limits is None for part in parts):
        return None
    return Control(window, values, parts, spc.segment_signals(values, parts))


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


def _reach_back(start: Month, breaks: list[Month], monthly) -> Month:
    """Return where an XmR chart starting at `start` should start so that the months before
    the first break it shows have limits of their own: up to a year earlier, never past an
    earlier break."""
    first_break = min((b for b in breaks if b > start), default=None)
    if first_break is None:
        return start
    earlier_break = max((b for b in breaks if b <= start), default=None)
    have = sum(1 for m in Period.range(start, first_break.shift(-1)).months if m in monthly)
    reached = start
    for _ in range(12):
        if have >= spc.MIN_POINTS:
            return reached
        previous = reached.shift(-1)
        if earlier_break is not None and previous < earlier_break:
            break
        reached = previous
        have += previous in monthly
    return reached if have >= spc.MIN_POINTS else start


def section_charts(section, *, area, month: Month, book: SeriesBook) -> list:
    """Return a section's charts: the seed's call volumes with their total, a bar chart per
    year-to-date table (with the seed's financial-year overlay under ASB's), XmR charts of
    signals, and monthly charts by financial year for its monthly measures that no table
    shows (as the seed's call volumes).
    """
    charted = selectors.monthly_charted(section.priority)
    result = call_volume_charts(section, charted, area=area, month=month, book=book)
    for kind, data in section.tables:
        if kind == "year-to-date" and data.rows:
            result.append(year_to_date_chart(data.rows[0]["measure"], data))
    result += overlaid_under_year_to_date(section, area=area, month=month, book=book)
    result += signal_charts(section, area=area, month=month, book=book)
    shown = {m.pk for m in section.measures}
    candidates = [m for m in charted if m.pk not in shown][:MONTHLY_CHARTS_PER_SECTION]
    if candidates:
        series = book.fetch(candidates, [area])
        for measure in candidates:
            chart = by_financial_year(measure, series[(measure.pk, area.pk)], month)
            if chart is not None:
                result.append(chart)
                section.measures.append(measure)
                if measure.source and measure.source not in section.sources:
                    section.sources.append(measure.source)
    return result


def call_volume_charts(
    section, charted: list[Measure], *, area, month: Month, book: SeriesBook
) -> list:
    """Return the section's call volumes per month from 2018 with their total (right axis),
    when its priority's monthly measures (`charted`) include every one of `CALL_VOLUMES`;
    the months run to `month`."""
    by_code = {m.code: m for m in charted}
    if not all(code in by_code for code in CALL_VOLUMES):
        return []
    measures = [by_code[code] for code in CALL_VOLUMES]
    series = book.fetch(measures, [area])
    months = list(Period.range(CALL_VOLUMES_FROM, month).months)
    lines: dict[str, list[Decimal | None]] = {}
    for measure in measures:
        monthly = series[(measure.pk, area.pk)].monthly()
        lines[measure.name] = [monthly[m].value if m in monthly else None for m in months]
    if not any(v is not None for values in lines.values() for v in values):
        return []
    for measure in measures:
        if measure.source and measure.source not in section.sources:
            section.sources.append(measure.source)
    return [
        charts.monthly_with_total(
            title=f"Call volumes per month, {CALL_VOLUMES_FROM.year} to present",
            unit=measures[0].unit,
            months=months,
            series=lines,
            total_label="Total calls presented",
            decimals=measures[0].decimals,
            id_prefix=_chart_id("calls", *CALL_VOLUMES),
        )
    ]


def overlaid_under_year_to_date(section, *, area, month: Month, book: SeriesBook) -> list:
    """Return, for the section's year-to-date measures that the seed also overlays (as ASB
    incidents), their months by financial year back to 2018/19."""
    measures = [
        data.rows[0]["measure"]
        for kind, data in section.tables
        if kind == "year-to-date"
        and data.rows
        and data.rows[0]["measure"].code in OVERLAID_UNDER_YEAR_TO_DATE
    ]
    if not measures:
        return []
    series = book.fetch(measures, [area])
    found = []
    for measure in measures:
        chart = by_financial_year(
            measure, series[(measure.pk, area.pk)], month, years=OVERLAID_FINANCIAL_YEARS
        )
        if chart is not None:
            found.append(chart)
    return found


def signal_charts(section, *, area, month: Month, book: SeriesBook) -> list:
    """Return XmR charts for the section's measures whose latest month breaks a run rule,
    as the chart itself judges it (its own limits, breaks in series, months to `month`)."""
    monthly = [m for m in section.measures if m.frequency == Measure.Frequency.MONTHLY]
    if not monthly:
        return []
    series = book.fetch(monthly, [area])
    breaks = selectors.series_breaks(monthly)
    found = []
    for measure in monthly:
        control = xmr_control(
            measure, series[(measure.pk, area.pk)], month, breaks.get(measure.pk, [])
        )
        if control is not None and control.latest_signalled:
            found.append(_draw_xmr(measure, control))
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
