"""The quarterly report's sections: one per priority, with its tables, charts and headlines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from measures.arithmetic.periods import Month, Period
from measures.models import Area, Headline, Measure
from measures.selectors import SeriesBook, Stretch, headlines_for
from reports import selectors
from reports.charts.series_charts import (
    FINANCIAL_YEARS,
    XMR_MONTHS,
    XMR_REACH_BACK,
    cite_sources,
    declared_first_month,
    declared_reads,
    section_charts,
)
from reports.figure_tables import (
    YEAR_TO_DATE_YEARS,
    TableData,
    in_group,
    monthly_table,
    national_comparison,
    national_picture,
    release_note,
    scorecard,
    table_groups,
    table_sources,
    year_to_date_tables,
)


@dataclass
class Section:
    """One priority's part of the quarterly report: tables, charts, headlines and notes."""

    priority: Any
    tables: list[tuple[str, TableData]]
    headlines: list[Any] = field(default_factory=list)
    title: str = ""
    sources: list[str] = field(default_factory=list)  # names, as tables and charts cite them
    definitions: list[Any] = field(default_factory=list)  # its measures that have one
    charts: list[Any] = field(default_factory=list)  # after its tables
    charts_before: list[Any] = field(default_factory=list)  # declared before its tables
    measures: list[Any] = field(default_factory=list)
    # From the section's layout (`ReportSection`): what it prints besides its figures.
    part_heading: str = ""
    headlines_first: bool = False
    note: str = ""
    activities: list[Any] = field(default_factory=list)
    # Generated: the release its released figures come from ("Data was updated in …"), and
    # its sources with their full names and links, in the order cited.
    release_note: str = ""
    source_systems: list[Any] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.priority.code


def report_sections(*, plan, area: Area, month: Month, book: SeriesBook) -> list[Section]:
    """Return the report's sections, one per priority: every table its measures call for,
    its charts and its Key Headlines.

    Everything is read for the book's reader (`Reader.public()` when publishing), so the
    figures, charts and headlines of a section are what that reader may see; values are read
    once for the whole plan, whatever the number of sections and tables.
    """
    reader = book.reader
    layout = selectors.report_layout(plan)
    measures = selectors.plan_measures(plan)
    national = area.national()
    targets = selectors.baseline_targets(measures)
    # Series, not-available figures, releases and breaks of every measure in one go: the
    # sections' tables and charts then read nothing per section. Of the series, only the
    # months the report shows or works from are read (`report_months`).
    breaks = book.breaks(measures)
    book.prepare(
        measures,
        [area] + ([national] if national and national != area else []),
        rows=report_months(month, area=area, layout=layout, targets=targets, broken=breaks),
    )
    quarter = Period.range(month.shift(-2), month)
    headline_qs = headlines_for(reader=reader, plan=plan, quarter=quarter)
    headlines: dict[int, list[Headline]] = {}
    for headline in headline_qs.select_related("department").order_by("department__name"):
        headlines.setdefault(headline.priority_id, []).append(headline)
    with_targets = {target.measure_id for target in targets}
    declared_reads(layout, area=area, book=book)
    sections = []
    kwargs: dict[str, Any] = {"area": area, "month": month, "book": book}
    for placed in layout:
        priority = placed.priority
        own = [m for m in measures if m.priority_id == priority.pk]
        tables: list[tuple[str, TableData]] = []
        comparisons: list[TableData] = []
        for group, grouped in table_groups(own):
            built = section_tables(grouped, with_targets=with_targets, **kwargs)
            tables += [(kind, in_group(data, group=group, area=area)) for kind, data in built]
            comparisons += [data for kind, data in built if kind == "national-comparison"]
        for _, data in tables:
            data.sources = table_sources(data)
        shown = {row["measure"].pk for _, data in tables for row in data.rows}
        in_tables = [m for m in own if m.pk in shown]
        section = Section(
            priority=priority,
            title=placed.title or priority.name,
            tables=tables,
            headlines=headlines.get(priority.pk, []),
            sources=sorted({m.source for m in in_tables if m.source}),
            definitions=[m for m in in_tables if m.definition],
            measures=in_tables,
            part_heading=placed.part_heading,
            headlines_first=placed.headlines_first,
            note=placed.note,
            activities=list(placed.activities.all()) if placed.pk else [],
            release_note=release_note(
                TableData(rows=[row for data in comparisons for row in data.rows])
            ),
        )
        declared = list(placed.charts.all()) if placed.pk else []
        drawn = section_charts(section, measures=own, breaks=breaks, declared=declared, **kwargs)
        section.charts_before, section.charts = drawn.before, drawn.after
        sections.append(section)
    # Once charts have added theirs: every section's and table's sources in one read.
    names = [name for section in sections for name in section.sources]
    cited = {source.name: source for source in selectors.source_systems(names)}
    for section in sections:
        under_tables = set()
        for _, data in section.tables:
            data.source_systems = [cited[name] for name in data.sources]
            under_tables.update(data.sources)
        section.charts_before = cite_sources(section.charts_before, cited)
        section.charts = cite_sources(section.charts, cited)
        for chart in section.charts_before + section.charts:
            under_tables.update(chart.source_names)
        # Printed under their tables and charts already: the section's list gives only the
        # others.
        section.source_systems = [
            cited[name] for name in section.sources if name not in under_tables
        ]
    return sections


def report_months(month: Month, *, area: Area, layout, targets, broken=()) -> Stretch:
    """Return the materialised months the report's tables and charts read to `month`.

    Every window they ask about lies within them, moved back for partial data included
    (at most a window's length less one month); each series' latest value on or before
    `month` is read whatever its age (`Stretch`), which is all the comparison with
    national asks to know whether a series is recent (`figure_tables.RECENT_MONTHS`). For
    the area:
    - the comparison with national: its rolling 12 months and those three months earlier;
    - the year-to-date tables and the charts by financial year: that many financial years;
    - the monthly table: the calendar year (its later months too);
    - declared charts: from their first month;
    - XmR charts: their months worked back from each series' latest value (`reach`), a
      year further for measures with a break in series (`broken`, by measure id).
    For the other areas (the national series beside it):
    - the comparison with national: the national rolling 12 months ending in any of the
      last twelve months.
    For both:
    - the National Picture: each target's baseline, and the window of its length now.
    """
    shared = [month.shift(-11)]
    for target in targets:
        baseline = target.baseline
        if baseline is not None:
            shared.append(baseline.start.shift(1 - baseline.length))
            shared.append(month.shift(2 - 2 * baseline.length))
    years = max(YEAR_TO_DATE_YEARS, FINANCIAL_YEARS)
    own = [
        *shared,
        Period.rolling_twelve(month).shift(-3).start.shift(-11),
        Period.financial_year_to_date(month).start.shift(-12 * (years - 1)),
        Month(month.year, 1),
    ]
    for section in layout:
        for chart in section.charts.all() if section.pk else []:
            first = declared_first_month(chart, month)
            if first is not None:
                own.append(first)
    last = max(month, Month(month.year, 12))
    return Stretch(
        month=month,
        first=min(shared).index,
        last=month.index,
        areas=((area.pk, min(own).index, last.index, XMR_MONTHS + XMR_REACH_BACK - 1),),
        unbroken_reach=XMR_MONTHS - 1,
        broken=frozenset(int(m) for m in broken),
    )


def section_tables(
    measures: list[Measure], *, with_targets: set[int], area: Area, month: Month, book: SeriesBook
) -> list[tuple[str, TableData]]:
    """Return every table the measures call for, by kind: the National Picture of their
    targets, the comparison with national, the scorecard, year-to-date and monthly tables."""
    kwargs: dict[str, Any] = {"area": area, "month": month, "book": book}
    tables: list[tuple[str, TableData]] = []
    if any(m.pk in with_targets for m in measures):
        tables.append(("national-picture", national_picture(measures=measures, **kwargs)))
    comparison = national_comparison(measures=measures, **kwargs)
    if comparison.rows:
        tables.append(("national-comparison", comparison))
    if any(m.scorecard_group for m in measures):
        tables.append(("scorecard", scorecard(measures=measures, **kwargs)))
    for ytd in year_to_date_tables(measures=measures, **kwargs):
        tables.append(("year-to-date", ytd))
    if any(m.monthly_table for m in measures):
        tables.append(("monthly", monthly_table(measures=measures, **kwargs)))
    return tables
