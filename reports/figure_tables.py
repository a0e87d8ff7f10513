"""The figure tables of the seed report: the rows of each, computed from a book of series.

Each builder takes the measures to show (already filtered), an area, the reporting month
and a `SeriesBook` (which knows its reader), reads every series it needs through one
`fetch`, and returns plain rows for the table classes in `reports.tables`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.text import slugify

from measures.arithmetic.periods import Month, Period
from measures.arithmetic.spc import SIGNAL_TEXT, Signal
from measures.arithmetic.targets import target_status
from measures.models import Area, Measure, Target
from measures.selectors import (
    Anchored,
    MonthlySeries,
    SeriesBook,
    comparison_significance,
    standard_comparisons,
)
from reports import selectors

FOOTNOTE_MARKS = ("*", "^", "§", "¶", "#")
# Cautions about a change (small numbers, normal variation) are marked on the change.
CAUTION_MARKS = ("†", "‡")


@dataclass
class Footnotes:
    """Footnote texts in order of first use, each with its mark."""

    marks: dict[str, str] = field(default_factory=dict)

    def mark(self, texts: Iterable[str], symbols: tuple[str, ...] = FOOTNOTE_MARKS) -> str:
        marks = []
        for text in texts:
            if text not in self.marks:
                index = sum(1 for m in self.marks.values() if m[0] in symbols)
                symbol = symbols[index % len(symbols)]
                self.marks[text] = symbol * (index // len(symbols) + 1)
            marks.append(self.marks[text])
        return "".join(dict.fromkeys(marks))

    def caution(self, significance) -> str:
        """Return the mark for a significance caution (empty when there is none)."""
        if significance is None or not significance.caution:
            return ""
        return self.mark([significance.caution], CAUTION_MARKS)

    def as_list(self) -> list[tuple[str, str]]:
        # Data notes first, as printed under the table; cautions after them.
        notes = sorted(self.marks.items(), key=lambda item: item[1][0] in CAUTION_MARKS)
        return [(mark, text) for text, mark in notes]


@dataclass
class TableData:
    rows: list[dict[str, Any]]
    footnotes: Footnotes = field(default_factory=Footnotes)
    labels: dict[str, str] = field(default_factory=dict)
    title: str = ""
    caption: str = ""
    key: str = ""
    # Whether any figure for the reporting period itself is known (its baselines and earlier
    # years aside): with none in any table, a page says so rather than show rows of dashes.
    has_figures: bool = False
    # The measures' table group it shows (`Measure.table_group`; "" for a section's own).
    group: str = ""
    # The sources its rows' measures name, in order of first use; the report prints them
    # under the table, with the full names and links of `source_systems`.
    sources: list[str] = field(default_factory=list)
    source_systems: list[Any] = field(default_factory=list)


def period_without_figures(tables: Iterable[TableData]) -> bool:
    """Return whether the tables have rows but not one figure for the reporting period: a
    page then says so in a sentence rather than show every row with dashes.

    Tables without rows are left as they are ("No figures."): none of their measures
    applies (no target, no national figure), which says nothing about the period.
    """
    tables = list(tables)
    return any(t.rows for t in tables) and not any(t.has_figures for t in tables)


def table_groups(measures: Iterable[Measure]) -> list[tuple[str, list[Measure]]]:
    """Return the measures by table group (`Measure.table_group`), each group in the order
    its first measure comes; the measures without a group are the group "" in its place."""
    groups: dict[str, list[Measure]] = {}
    for measure in measures:
        groups.setdefault(measure.table_group.strip(), []).append(measure)
    return list(groups.items())


# A grouped table's caption and title (its download's sheet name: Excel keeps 31 characters,
# so the group comes first there). The national comparison is titled as the seed's
# "Rolling 12 month comparisons for Lancashire– All Crime".
GROUPED_CAPTIONS = {"national-comparison": "Rolling 12 month comparisons for {area} – {group}"}
GROUPED_TITLES = {"national-comparison": "{group} against national"}


def in_group(data: TableData, *, group: str, area: Area) -> TableData:
    """Return the table marked as its measures' group's: key, title and caption name it."""
    if not group:
        return data
    key = data.key
    data.group = group
    data.key = f"{key}-{slugify(group)}"
    data.caption = GROUPED_CAPTIONS.get(key, "{caption} – {group}").format(
        area=area.name, group=group, caption=data.caption
    )
    data.title = GROUPED_TITLES.get(key, "{group} – {title}").format(group=group, title=data.title)
    return data


def table_sources(data: TableData) -> list[str]:
    """Return the names of the sources the table's measures name, in order of first use."""
    names = (getattr(row.get("measure"), "source", "") for row in data.rows)
    return list(dict.fromkeys(name for name in names if name))


def _shifted(window: Period, comparison) -> Period:
    """Return `window` moved back as far as the comparison's windows were (partial data)."""
    gap = comparison.current.period.end.months_until(comparison.requested_current.end)
    return window.shift(-gap)


class Gaps:
    """The figures marked not available that a table's windows include, as footnotes."""

    def __init__(self, book: SeriesBook, measures: Iterable[Measure], areas: Iterable[Area]):
        self._found = book.unavailable(measures, areas)

    def notes(self, measure: Measure, area: Area, *windows: Period) -> list[str]:
        return [
            f"{gap.label} not available: {reason}"
            for gap, reason in self._found.get((measure.pk, area.pk), [])
            if any(window.start <= gap.start and gap.end <= window.end for window in windows)
        ]


def _status(series: MonthlySeries, *periods: Period) -> str:
    return "provisional" if series.is_provisional(*periods) else "approved"


def national_picture(
    *,
    measures: Iterable[Measure],
    area: Area,
    month: Month,
    book: SeriesBook,
) -> TableData:
    """Return the National Picture: each target's baseline against the same-length window now."""
    targets = selectors.baseline_targets(measures)
    areas = {t.area or area for t in targets} or {area}
    series = book.fetch({t.measure for t in targets}, areas)
    gaps = Gaps(book, {t.measure for t in targets}, areas)
    data = TableData(rows=[], key="national-picture", title="National Picture")
    base_labels, current_labels = set(), set()
    previous_target = None
    for target in targets:
        baseline = target.baseline
        assert baseline is not None
        current = Period.range(month.shift(1 - baseline.length), month)
        target_area = target.area or area
        measure_series = series[(target.measure.pk, target_area.pk)]
        comparison = measure_series.compare(baseline, current)
        significance = comparison_significance(target.measure, comparison)
        marks = data.footnotes.mark(
            [
                *comparison.footnotes,
                *gaps.notes(
                    target.measure, target_area, comparison.base.period, comparison.current.period
                ),
            ]
        )
        rag = target_status(
            kind=target.kind,
            current=comparison.current.value,
            baseline=comparison.base.value,
            target_value=target.target_value,
            tolerance=target.tolerance,
        )
        base_labels.add(baseline.label)
        current_labels.add(current.label)
        data.rows.append(
            {
                "target": target.name if target.name != previous_target else "",
                "measure": target.measure,
                "area": target_area,
                "base": comparison.base.value,
                "current": comparison.current.value,
                "base_period": comparison.base.period,
                "current_period": comparison.current.period,
                "change": comparison.change,
                "change_pct": comparison.change_pct,
                "change_pp": comparison.change_pp,
                "direction": comparison.direction,
                "marks": marks,
                "change_marks": data.footnotes.caution(significance),
                "rag": rag,
                "p_value": significance.p_value if significance else None,
                "status": _status(
                    measure_series, comparison.base.period, comparison.current.period
                ),
            }
        )
        previous_target = target.name
    data.labels = {
        "base": base_labels.pop() if len(base_labels) == 1 else "Baseline",
        "current": current_labels.pop() if len(current_labels) == 1 else "Latest 12 months",
    }
    data.caption = (
        f"National Picture: {data.labels['base']} compared with {data.labels['current']}"
    )
    data.has_figures = any(row["current"] is not None for row in data.rows)
    return data


YEAR_TO_DATE_YEARS = 4


def year_to_date_tables(
    *,
    measures: Iterable[Measure],
    area: Area,
    month: Month,
    years: int = YEAR_TO_DATE_YEARS,
    book: SeriesBook,
    only_flagged: bool = True,
) -> list[TableData]:
    """Return one year-to-date table per measure: the same April-to-month window in each year."""
    chosen = [m for m in measures if m.year_to_date_table or not only_flagged]
    series = book.fetch(chosen, [area])
    gaps = Gaps(book, chosen, [area])
    tables = []
    for measure in chosen:
        measure_series = series[(measure.pk, area.pk)]
        ytd = measure_series.year_to_date(month, years=years)
        data = TableData(rows=[], key=measure.code, title=measure.name)
        windows = [row.figure.period for row in ytd.rows]
        marks = data.footnotes.mark([*ytd.footnotes, *gaps.notes(measure, area, *windows)])
        for row in ytd.rows:
            data.rows.append(
                {
                    "year": row.label,
                    "financial_year": f"{row.financial_year}/{(row.financial_year + 1) % 100:02d}",
                    "measure": measure,
                    "value": row.figure.value,
                    "change": row.change,
                    "change_pct": row.change_pct,
                    "marks": marks if row is ytd.rows[-1] else "",
                    "status": _status(measure_series, row.figure.period),
                }
            )
        data.labels = {"window": ytd.heading, "total": f"{measure.name} total"}
        data.caption = f"Year-to-date comparison – {measure.name}, {ytd.heading}, {area.name}"
        data.has_figures = bool(ytd.rows) and ytd.rows[-1].figure.value is not None
        tables.append(data)
    return tables


def monthly_table(
    *,
    measures: Iterable[Measure],
    area: Area,
    month: Month,
    book: SeriesBook,
    only_flagged: bool = True,
) -> TableData:
    """Return the measures' values for each month of the reporting month's calendar year."""
    chosen = [m for m in measures if m.monthly_table or not only_flagged]
    series = book.fetch(chosen, [area])
    months = Period.calendar_year(month.year).months
    data = TableData(rows=[], key="monthly", title=f"Monthly figures {month.year}")
    for measure in chosen:
        measure_series = series[(measure.pk, area.pk)]
        monthly = measure_series.monthly()
        row: dict[str, Any] = {"measure": measure}
        for m in months:
            observation = monthly.get(m)
            row[m.iso] = observation.value if observation else None
        row["status"] = _status(measure_series, Period.calendar_year(month.year))
        data.rows.append(row)
    data.labels = {m.iso: m.name for m in months}
    data.caption = f"Monthly figures, January – December {month.year}, {area.name}"
    data.has_figures = any(row[m.iso] is not None for row in data.rows for m in months)
    return data


def scorecard(
    *,
    measures: Iterable[Measure],
    area: Area,
    month: Month,
    book: SeriesBook,
) -> TableData:
    """Return the activity scorecard: each grouped measure for the quarter ending `month`."""
    chosen = [m for m in measures if m.scorecard_group]
    series = book.fetch(chosen, [area])
    quarter = Period.range(month.shift(-2), month)
    previous = quarter.shift(-3)
    data = TableData(rows=[], key="scorecard", title="Activity scorecard")
    gaps = Gaps(book, chosen, [area])
    for measure in chosen:
        measure_series = series[(measure.pk, area.pk)]
        comparison = measure_series.compare(previous, quarter)
        notes = [*comparison.footnotes, *gaps.notes(measure, area, previous, quarter)]
        data.rows.append(
            {
                "group": measure.scorecard_group,
                "measure": measure,
                "value": comparison.current.value,
                "previous": comparison.base.value,
                "change": comparison.change,
                "change_pct": comparison.change_pct,
                "marks": data.footnotes.mark(notes),
                "status": _status(measure_series, quarter),
            }
        )
    data.labels = {"value": quarter.label, "previous": previous.label}
    data.caption = f"Activity {quarter.label}, {area.name}"
    data.has_figures = any(row["value"] is not None for row in data.rows)
    return data


# The performance and national comparison tables compare rolling 12 months with a window
# up to a year earlier; when the latest months have no data yet the windows move back up to
# eleven months (SPEC §4 partial data). Their figures therefore lie within the 36 months to
# the reporting month, and a series with no value in them has nothing to show.
RECENT_MONTHS = 36


def _recent(series: MonthlySeries, month: Month) -> bool:
    """Return whether the series has a value in the `RECENT_MONTHS` to `month`."""
    latest = series.latest_month(month)
    return latest is not None and latest >= month.shift(1 - RECENT_MONTHS)


def performance_targets(measures: Iterable[Measure]) -> dict[tuple[int, int | None], Target]:
    """Return the measures' targets by (measure id, area id or None for every area)."""
    return {(t.measure_id, t.area_id): t for t in selectors.measure_targets(measures)}


def performance_rows(month: Month, targets: dict[tuple[int, int | None], Target]) -> Anchored:
    """Return the materialised rows the performance table reads for `month` (`Anchored`).

    Its windows end with each series' latest value (or with `month`, when that value is
    more than eleven months back): the rows there and a year earlier, the financial year's
    first month (a year to date cut back to it) and each target's baseline end, which moves
    back with the windows.
    """
    april = Period.financial_year_to_date(month).start.index
    baselines = {t.baseline.end.index for t in targets.values() if t.baseline is not None}
    return Anchored(
        month=month,
        lookback=RECENT_MONTHS,
        offsets=tuple(sorted({0, -12} | {end - month.index for end in baselines})),
        months=tuple(sorted({month.index, month.index - 12, april, april - 12} | baselines)),
    )


def performance(
    *,
    measures: Iterable[Measure],
    areas: Iterable[Area],
    month: Month,
    book: SeriesBook,
    targets: dict[tuple[int, int | None], Target] | None = None,
) -> TableData:
    """Return each measure × area: rolling 12 months and year to date vs a year earlier."""
    measures, areas = list(measures), list(areas)
    if targets is None:
        targets = performance_targets(measures)
    series = book.fetch(measures, areas)
    gaps = Gaps(book, measures, areas)
    data = TableData(rows=[], key="performance", title="Performance")
    baselines: set[str] = set()
    for measure in measures:
        for area in areas:
            measure_series = series[(measure.pk, area.pk)]
            if not _recent(measure_series, month):
                continue
            pair = standard_comparisons(measure_series, month)
            r12, fytd = pair.rolling_12_months, pair.year_to_date
            significance = comparison_significance(measure, r12)
            spc = measure_series.spc(r12.current.period.end)
            plan = measure_series.plan_comparison(r12.current.period.end)
            if plan is not None:
                baselines.add(plan.baseline.label)
            target = targets.get((measure.pk, area.pk)) or targets.get((measure.pk, None))
            rag = None
            if target is not None:
                base = (
                    measure_series.figure(_shifted(target.baseline, r12))
                    if target.baseline
                    else None
                )
                rag = target_status(
                    kind=target.kind,
                    current=r12.current.value,
                    baseline=base.value if base else None,
                    target_value=target.target_value,
                    tolerance=target.tolerance,
                )
            data.rows.append(
                {
                    "priority": measure.priority,
                    "measure": measure,
                    "area": area,
                    "r12_base": r12.base.value,
                    "r12_current": r12.current.value,
                    "r12_change_pct": r12.change_pct,
                    "r12_change_pp": r12.change_pp,
                    "r12_direction": r12.direction,
                    "ytd_base": fytd.base.value,
                    "ytd_current": fytd.current.value,
                    "ytd_change_pct": fytd.change_pct,
                    "ytd_change_pp": fytd.change_pp,
                    "ytd_direction": fytd.direction,
                    "marks": data.footnotes.mark(
                        [
                            *r12.footnotes,
                            *fytd.footnotes,
                            *gaps.notes(measure, area, r12.current.period, fytd.current.period),
                        ]
                    ),
                    "change_marks": data.footnotes.caution(significance),
                    "spc": ", ".join(SIGNAL_TEXT[Signal(x)] for x in spc["signals"])
                    if spc
                    else "",
                    "rag": rag,
                    "plan_base": plan.base if plan else None,
                    "plan_current": plan.current if plan else None,
                    "plan_change_pct": plan.change_pct if plan else None,
                    "plan_change_pp": plan.change_pp if plan else None,
                    "plan_direction": plan.direction if plan else None,
                    "status": _status(
                        measure_series,
                        r12.base.period,
                        r12.current.period,
                        fytd.base.period,
                        fytd.current.period,
                    ),
                }
            )
    rolling = Period.rolling_twelve(month)
    ytd = Period.financial_year_to_date(month)
    data.labels = {
        "r12_current": rolling.label,
        "r12_base": rolling.shift(-12).label,
        "ytd_current": ytd.label,
        "ytd_base": ytd.shift(-12).label,
        "plan": f"Against the plan baseline ({baselines.pop()})"
        if len(baselines) == 1
        else "Against the plan baseline",
    }
    data.caption = f"Performance to {month.long_label}"
    data.has_figures = any(
        row["r12_current"] is not None or row["ytd_current"] is not None for row in data.rows
    )
    return data


def national_comparison_rows(month: Month) -> Anchored:
    """Return the materialised rows the national comparison reads for `month` (`Anchored`):
    each series' rolling 12 months at its latest value and three months before, and the
    national figure for whichever of the last twelve months the area's window ends in."""
    return Anchored(
        month=month,
        lookback=RECENT_MONTHS,
        offsets=(-3, 0),
        months=tuple(range(month.index - 11, month.index + 1)),
    )


def national_comparison(
    *,
    measures: Iterable[Measure],
    area: Area,
    month: Month,
    book: SeriesBook,
) -> TableData:
    """Return the area's rolling 12 months against the national figure and the previous release."""
    national = area.national()
    measures = list(measures)
    areas = [area] + ([national] if national and national != area else [])
    series = book.fetch(measures, areas)
    released = book.released(measures, area)
    gaps = Gaps(book, measures, [area])
    rolling = Period.rolling_twelve(month)
    data = TableData(rows=[], key="national-comparison", title="Comparison with national")
    for measure in measures:
        local = series[(measure.pk, area.pk)]
        if national is None or national == area:
            continue
        nation = series[(measure.pk, national.pk)]
        if not _recent(nation, month) or not _recent(local, month):
            continue
        latest = local.compare(rolling.shift(-3), rolling)
        used = latest.current.period
        notes = list(latest.footnotes)
        release = None
        if measure.frequency == Measure.Frequency.RELEASE:
            published = released.get((measure.pk, used.end))
            notes = _release_notes(latest, published)
            if latest.current.value is not None:
                release = (used.end, published)
        notes += gaps.notes(measure, area, used)
        national_figure = nation.figure(used)
        gap = None
        if not _compares_with_national(measure):
            notes.append(VOLUME_NOTE.format(area=area.name, national=national.name))
        elif latest.current.value is not None and national_figure.value is not None:
            gap = latest.current.value - national_figure.value
        data.rows.append(
            {
                "measure": measure,
                "current": latest.current.value,
                "current_period": used,
                "national": national_figure.value,
                "difference": gap,
                "previous": latest.base.value,
                "change": latest.change,
                "direction": latest.direction,
                "marks": data.footnotes.mark(notes),
                "status": _status(local, used, latest.base.period),
                # (last month of its window, month published) for a released figure
                "release": release,
            }
        )
    data.labels = {"current": area.name, "national": national.name if national else "National"}
    data.caption = (
        f"Rolling 12 month comparisons for {area.name} against {data.labels['national']}"
    )
    data.has_figures = any(row["current"] is not None for row in data.rows)
    return data


# Areas carry no population, so a volume cannot be put per head: it is shown beside the
# national one and not subtracted from it (214 suspects "−7,606" from 7,820 says nothing).
VOLUME_NOTE = (
    "{area}'s total is shown beside the {national} total, not as a difference: "
    "the two areas differ in size"
)
VOLUME_UNITS = {Measure.Unit.COUNT, Measure.Unit.GBP, Measure.Unit.KG}


def _compares_with_national(measure: Measure) -> bool:
    """Return whether the measure's figure for an area can be set against the national one.

    Rates, percentages and averages can (69.8% against 72.1%); volumes (counts, money,
    weights, and days or years when they add up) depend on the size of the area and cannot.
    """
    if measure.unit in VOLUME_UNITS:
        return False
    return not (
        measure.unit in (Measure.Unit.DAYS, Measure.Unit.YEARS)
        and measure.aggregation == Measure.Aggregation.SUM
    )


def _release_notes(comparison, published: Month | None) -> list[str]:
    """Return a release's footnotes: the release it comes from, not a partial-data window.

    A release's figure is always for the 12 months to its last quarter, so the window moved
    back by the data lag is what it is, not a gap: the footnote names the release instead
    ("Data was updated in February 2023 to include July to September 2022").
    """
    notes = list(comparison.footnotes)
    if comparison.partial:
        notes = notes[1:]  # compare() puts the moved-window footnote first
    window = comparison.current.period
    if comparison.current.value is None:
        return notes
    first, last = window.end.shift(-2), window.end
    when = f" in {published.long_label}" if published else ""
    return [
        f"Data was updated{when} to include {first.name} to {last.name} {last.year}",
        *notes,
    ]


def release_note(data: TableData) -> str:
    """Return the sentence that heads a section of released figures, for the latest release
    its rows come from: "Data was updated in February 2023 to include Quarter 3 of 2022 (July
    to September)." Empty when no row holds a released figure."""
    releases = [row["release"] for row in data.rows if row.get("release")]
    if not releases:
        return ""
    last, published = max(releases, key=lambda r: (r[0], r[1] or r[0]))
    first = last.shift(-2)
    if last.month % 3 == 0:
        included = f"Quarter {last.month // 3} of {last.year} ({first.name} to {last.name})"
    else:
        included = f"{first.name} to {last.name} {last.year}"
    if published is None:
        return f"Data includes {included}."
    return f"Data was updated in {published.long_label} to include {included}."


def as_number(value: Decimal | None) -> float | int | None:
    """Return a Decimal as a JSON/Excel-friendly number (whole numbers as int)."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)
