"""Which charts a report section or a measure page shows, drawn from its series.

The adapter between the figures (series read for a reader through a `SeriesBook`) and the
pure drawing code in `reports.charts.drawing`.
"""

from __future__ import annotations

from decimal import Decimal

from measures.arithmetic.periods import Month, Period
from measures.arithmetic.spc import Limits, signals, xmr_limits
from measures.models import Measure
from measures.selectors import MonthlySeries, SeriesBook
from reports import selectors
from reports.charts import drawing as charts

FINANCIAL_YEARS = 4
MONTHLY_CHARTS_PER_SECTION = 3
XMR_MONTHS = 36
XMR_CHARTS_PER_SECTION = 2


def _chart_id(*parts: str) -> str:
    return "chart-" + "-".join(p.replace("/", "-") for p in parts)


def by_financial_year(
    measure: Measure, series: MonthlySeries, month: Month
) -> charts.Chart | None:
    """Return the measure's months in each of the last four financial years, overlaid."""
    monthly = series.monthly()
    if not monthly:
        return None
    last = month.financial_year
    lines: dict[str, list[Decimal | None]] = {}
    for year in range(last - FINANCIAL_YEARS + 1, last + 1):
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


def xmr_chart(measure: Measure, series: MonthlySeries, month: Month) -> charts.Chart | None:
    """Return the XmR chart of the measure's last three years of months, if it has limits."""
    monthly = series.monthly()
    window = Period.range(month.shift(1 - XMR_MONTHS), month).months
    points = [(m.short_label, monthly[m].value if m in monthly else None) for m in window]
    known = [v for _, v in points if v is not None]
    limits: Limits | None = xmr_limits(known)
    if limits is None:
        return None
    marks = signals([v if v is not None else limits.centre for _, v in points], limits)
    return charts.xmr(
        title=f"{measure.name}: XmR chart, {window[0].short_label} to {window[-1].short_label}",
        unit=measure.unit,
        points=points,
        centre=limits.centre,
        lower=limits.lower,
        upper=limits.upper,
        signals=[
            {str(s) for s in m} if v is not None else set()
            for m, (_, v) in zip(marks, points, strict=True)
        ],
        decimals=measure.decimals,
        id_prefix=_chart_id("xmr", measure.code),
    )


def section_charts(section, *, area, month: Month, book: SeriesBook) -> list:
    """Return a section's charts: a bar chart per year-to-date table, and monthly charts by
    financial year for its monthly measures that no table shows (as the seed's call volumes).
    """
    result = []
    for kind, data in section.tables:
        if kind == "year-to-date" and data.rows:
            result.append(year_to_date_chart(data.rows[0]["measure"], data))
    result += signal_charts(section, area=area, month=month, book=book)
    shown = {m.pk for m in section.measures}
    candidates = [m for m in selectors.monthly_counts(section.priority) if m.pk not in shown][
        :MONTHLY_CHARTS_PER_SECTION
    ]
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


def signal_charts(section, *, area, month: Month, book: SeriesBook) -> list:
    """Return XmR charts for the section's measures whose latest month breaks a run rule."""
    monthly = [m for m in section.measures if m.frequency == Measure.Frequency.MONTHLY]
    if not monthly:
        return []
    series = book.fetch(monthly, [area])
    found = []
    for measure in monthly:
        measure_series = series[(measure.pk, area.pk)]
        latest = measure_series.latest_month(month)
        spc = measure_series.spc(latest) if latest else None
        if spc and spc["signals"] and latest is not None:
            chart = xmr_chart(measure, measure_series, latest)
            if chart is not None:
                found.append(chart)
        if len(found) == XMR_CHARTS_PER_SECTION:
            break
    return found


def measure_charts(measure: Measure, series: MonthlySeries, month: Month) -> list:
    """Return the measure page's charts: by financial year, and its XmR chart."""
    if not len(series) or not series.monthly():
        return []
    found = [by_financial_year(measure, series, month), xmr_chart(measure, series, month)]
    return [c for c in found if c is not None]
