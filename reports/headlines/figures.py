"""The figures a Key Headline may quote, read for a reader, and the check of its numbers.

The adapter between the series (`SeriesBook`) and the pure sentence checks in
`reports.headlines.checks` (issue 5).
"""

from __future__ import annotations

import re

from measures.arithmetic.periods import Month, Period
from measures.models import Area, Measure
from measures.selectors import MonthlySeries, SeriesBook, standard_comparisons
from reports import selectors
from reports.headlines.checks import MeasureFigures, check_headline


def _quarter_of(month: Month) -> Period:
    """Return the last whole financial quarter ending at or before `month`."""
    end = month
    while end.month not in (3, 6, 9, 12):
        end = end.shift(-1)
    return Period.range(end.shift(-2), end)


def measure_figures(
    measure: Measure, series: MonthlySeries, month: Month, baseline: Period | None
):
    """Return every figure a sentence about the measure may quote, as of the reporting month."""
    pair = standard_comparisons(series, month)
    r12, fytd = pair.rolling_12_months, pair.year_to_date
    vs_baseline = None
    if baseline is not None:
        vs_baseline = series.compare(
            baseline, Period.range(month.shift(1 - baseline.length), month)
        )
    latest = series.latest_month(month)
    quarter = _quarter_of(latest) if latest else None
    quarter_figure = series.figure(quarter) if quarter else None
    latest_figure = series.figure(Period.month(latest)) if latest else None
    return MeasureFigures(
        rolling_12_months=r12.current.value,
        rolling_12_months_change_pct_vs_previous_year=r12.change_pct,
        rolling_12_months_change_pp_vs_previous_year=r12.change_pp,
        rolling_12_months_change_pct_vs_baseline=vs_baseline.change_pct if vs_baseline else None,
        rolling_12_months_change_pp_vs_baseline=vs_baseline.change_pp if vs_baseline else None,
        financial_year_to_date=fytd.current.value,
        financial_year_to_date_change_pct=fytd.change_pct,
        financial_year_to_date_change_pp=fytd.change_pp,
        latest_quarter=quarter_figure.value if quarter_figure else None,
        latest_quarter_number=(quarter.end.month - 4) % 12 // 3 + 1 if quarter else None,
        latest_month=latest_figure.value if latest_figure else None,
        latest_month_name=latest.name if latest else None,
    )


def headline_mismatches(
    sections, *, area: Area, month: Month, book: SeriesBook
) -> list[tuple[str, str]]:
    """Return (override key, problem text) for each headline number the figures contradict,
    checked against the figures the book's reader sees (the public's, when publishing)."""
    other_areas = selectors.other_area_names(area)
    baselines = selectors.target_baselines()
    problems = []
    for section, _tables in sections:
        if not section.headlines:
            continue
        measures = selectors.priority_measures(section.priority)
        series = book.fetch(measures, [area])
        cache: dict[int, MeasureFigures] = {}

        def figures(measure, series=series, cache=cache):
            if measure.pk not in cache:
                cache[measure.pk] = measure_figures(
                    measure, series[(measure.pk, area.pk)], month, baselines.get(measure.pk)
                )
            return cache[measure.pk]

        for headline in section.headlines:
            findings = check_headline(
                headline.text,
                measures,
                figures,
                extra_aliases={m.code: m.aliases for m in measures},
                other_areas=other_areas,
            )
            for finding in findings:
                if finding.matches:
                    continue
                key = re.sub(
                    r"[^a-z0-9]+",
                    "-",
                    f"{section.code} {finding.measure_code} {finding.number_text}".lower(),
                ).strip("-")
                problems.append(
                    (
                        key,
                        f"Key Headlines, {section.title}: “{finding.number_text}” for "
                        f"{finding.measure_name or finding.measure_code}, but the figures give "
                        f"{finding.expected_text}",
                    )
                )
    return problems
