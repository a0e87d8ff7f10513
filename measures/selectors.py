"""Reads that are more than a filter: series of values and the figures computed from them.

Every page and API answer gets its numbers through here, in a fixed number of queries
whatever the number of measures or areas (one query for all the values involved).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from django.db import connection
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet
from psycopg.types.string import TextLoader

from measures.access import MissingReader, Reader
from measures.arithmetic import figures
from measures.arithmetic.periods import Month, Period
from measures.arithmetic.significance import count_change_significance
from measures.models import (
    Area,
    DerivedFigure,
    Headline,
    Measure,
    PendingRecompute,
    Plan,
    ReportingPeriod,
    Return,
    SeriesBreak,
    UnavailableFigure,
    Value,
)


class MonthlySeries(Protocol):
    """What pages, charts and checks ask of one measure's figures in one area.

    Two implementations answer it: `DerivedSeries` (monthly series, from the materialised
    figures) and `MeasureSeries` (series with values stored for longer periods, from the
    values themselves). Callers never ask which one they have.
    """

    measure: Measure
    area: Area

    def __len__(self) -> int: ...

    def monthly(self, since: Month | None = None) -> dict[Month, figures.Observation]: ...

    def values_by_index(self, since: Month) -> dict[int, Decimal | None]:
        """The monthly values from `since` on, by month index (what charts work through)."""
        ...

    def stored(self, period: Period) -> figures.Observation | None: ...

    def latest_month(self, on_or_before: Month | None = None) -> Month | None: ...

    def figure(self, period: Period) -> figures.Figure: ...

    def compare(self, base: Period, current: Period) -> figures.Comparison: ...

    def year_to_date(self, end_month: Month, *, years: int) -> figures.YearToDate: ...

    def is_provisional(self, *periods: Period) -> bool: ...

    def plan_comparison(self, month: Month) -> PlanComparison | None: ...

    def spc(self, month: Month) -> dict | None: ...


@dataclass(frozen=True)
class StandardComparisons:
    """The two comparisons every measure is judged by: rolling 12 months and financial year
    to date, each against the same window a year earlier."""

    rolling_12_months: figures.Comparison
    year_to_date: figures.Comparison


def standard_comparisons(series: MonthlySeries, month: Month) -> StandardComparisons:
    """Return the rolling 12 months and the financial year to date ending with `month`,
    each compared with the year before."""
    rolling = Period.rolling_twelve(month)
    ytd = Period.financial_year_to_date(month)
    return StandardComparisons(
        rolling_12_months=series.compare(rolling.shift(-12), rolling),
        year_to_date=series.compare(ytd.shift(-12), ytd),
    )


@dataclass
class MeasureSeries:
    """One measure's values in one area, with the status of each stored value."""

    measure: Measure
    area: Area
    series: figures.Series
    statuses: dict[Period, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.series)

    def monthly(self, since: Month | None = None) -> dict[Month, figures.Observation]:
        return self.series.monthly(since)

    def values_by_index(self, since: Month) -> dict[int, Decimal | None]:
        return {m.index: o.value for m, o in self.series.monthly(since).items()}

    def stored(self, period: Period) -> figures.Observation | None:
        return self.series.stored(period)

    def figure(self, period: Period) -> figures.Figure:
        return figures.figure_for(self.series, period, self.measure.aggregation)

    def latest_month(self, on_or_before: Month | None = None) -> Month | None:
        return self.series.latest_month(on_or_before)

    def spc(self, month: Month) -> dict | None:
        """Return None: control limits are materialised for monthly series only."""
        return None

    def compare(self, base: Period, current: Period) -> figures.Comparison:
        return figures.compare(
            self.series,
            base,
            current,
            aggregation=self.measure.aggregation,
            unit=self.measure.unit,
            polarity=self.measure.polarity,
        )

    def year_to_date(self, end_month: Month, *, years: int) -> figures.YearToDate:
        return figures.year_to_date(
            self.series, end_month, years=years, aggregation=self.measure.aggregation
        )

    def plan_comparison(self, month: Month) -> PlanComparison | None:
        """Return the plan baseline against the window of its length ending with `month`."""
        baseline = self.measure.priority.plan.baseline
        if baseline is None:
            return None
        window = Period.range(month.shift(1 - baseline.length), month)
        base, current = self.figure(baseline), self.figure(window)
        difference = figures.change(base.value, current.value)
        return PlanComparison(
            baseline=baseline,
            base=base.value,
            current=current.value,
            change_pct=figures.change_pct(base.value, current.value),
            change_pp=difference if self.measure.is_percent else None,
            direction=figures.direction(difference, self.measure.polarity),
        )

    def is_provisional(self, *periods: Period) -> bool:
        """Return whether any value inside the periods is not yet approved."""
        for stored, status in self.statuses.items():
            if status == Value.Status.APPROVED:
                continue
            if any(p.start <= stored.start and stored.end <= p.end for p in periods):
                return True
        return False


def _required(reader: Reader | None) -> Reader:
    if not isinstance(reader, Reader):
        raise MissingReader(f"Figures must be read for a Reader, not {reader!r}.")
    return reader


def series_for(
    *,
    measures: Iterable[Measure],
    areas: Iterable[Area],
    reader: Reader,
) -> dict[tuple[int, int], MeasureSeries]:
    """Return the series of every (measure, area) pair, keyed by their ids, in one query.

    Only the values the reader may see are read (SPEC §1): a lead does not see another
    department's unapproved figures, the public sees approved ones only.
    """
    reader = _required(reader)
    measures = list(measures)
    areas = list(areas)
    by_id_measure = {m.pk: m for m in measures}
    by_id_area = {a.pk: a for a in areas}
    observations: dict[tuple[int, int], list] = defaultdict(list)
    statuses: dict[tuple[int, int], dict[Period, str]] = defaultdict(dict)
    rows = (
        reader.values()
        .filter(measure_id__in=by_id_measure, area_id__in=by_id_area)
        .values_list(
            "measure_id", "area_id", "start", "end", "value", "numerator", "denominator", "status"
        )
    )
    for measure_id, area_id, start, end, value, numerator, denominator, status in rows:
        period = Period.range(Month.from_date(start), Month.from_date(end))
        key = (measure_id, area_id)
        observations[key].append((period, figures.Observation(value, numerator, denominator)))
        statuses[key][period] = status
    return {
        (m.pk, a.pk): MeasureSeries(
            measure=m,
            area=a,
            series=figures.Series(observations.get((m.pk, a.pk), [])),
            statuses=statuses.get((m.pk, a.pk), {}),
        )
        for m in measures
        for a in areas
    }


def latest_data_month(*, plan: Plan | None = None, reader: Reader) -> Month | None:
    """Return the latest month any value of the plan that the reader sees covers.

    The default reporting month depends only on what the reader may see: another
    department's drafts for a later month do not move it (issue 10).
    """
    qs = _required(reader).values()
    if plan is not None:
        qs = qs.filter(measure__priority__plan=plan)
    latest = qs.aggregate(latest=Max("end"))["latest"]
    return Month.from_date(latest) if latest else None


@dataclass(frozen=True)
class QuarterProgress:
    """How far a reporting period's returns have got: "Jan–Mar 2023: 1 of 7 approved"."""

    period: Period
    approved: int
    returns: int

    @property
    def complete(self) -> bool:
        return self.returns > 0 and self.approved == self.returns

    @property
    def text(self) -> str:
        unit = "department" if self.returns == 1 else "departments"
        return f"{self.period.label}: {self.approved} of {self.returns} {unit} approved"


@dataclass(frozen=True)
class ReportingState:
    """The period pages show by default, and the later quarters still in progress.

    `quarter` is the reporting quarter (SPEC §4): the latest reporting period whose returns
    are all approved. Before any is, `month` falls back to the latest month the reader sees
    a figure for (a plan loaded without returns), and `quarter` is None.
    """

    month: Month | None
    quarter: Period | None
    later: tuple[QuarterProgress, ...] = ()


def reporting_state(*, plan: Plan | None, reader: Reader, fallback: bool = True) -> ReportingState:
    """Return the reporting quarter of the plan and the progress of the quarters after it.

    It depends on which returns are approved, which every reader may know, and (before any
    quarter is complete) on the figures this reader may see: never on anyone's drafts.
    Without `fallback` (a page showing a chosen period) no month is looked for then.
    """
    periods = []
    if plan is not None:
        periods = [
            QuarterProgress(
                period=rp.period,
                approved=rp.approved,
                returns=rp.total,
            )
            for rp in ReportingPeriod.objects.filter(plan=plan)
            .annotate(
                total=Count("returns"),
                approved=Count("returns", filter=Q(returns__status=Return.Status.APPROVED)),
            )
            .order_by("end")
        ]
    complete = [p for p in periods if p.complete]
    if complete:
        quarter = complete[-1].period
        later = tuple(p for p in periods if p.period.end > quarter.end)
        return ReportingState(month=quarter.end, quarter=quarter, later=later)
    month = latest_data_month(plan=plan, reader=reader) if fallback else None
    return ReportingState(month=month, quarter=None, later=tuple(periods))


def release_months(
    *, reader: Reader, measures: Iterable[Measure], area: Area
) -> dict[tuple[int, Month], Month]:
    """Return when each figure of a periodic release the reader sees was published, by
    (measure id, last month of its window)."""
    ids = [m.pk for m in measures if m.frequency == Measure.Frequency.RELEASE]
    if not ids:
        return {}
    rows = _required(reader).values(
        Value.objects.filter(measure_id__in=ids, area=area, released_on__isnull=False)
    )
    return {
        (measure_id, Month.from_date(end)): Month.from_date(released)
        for measure_id, end, released in rows.values_list("measure_id", "end", "released_on")
        if released is not None
    }


def unavailable_figures(
    *, reader: Reader, measures: Iterable[Measure], areas: Iterable[Area]
) -> dict[tuple[int, int], list[tuple[Period, str]]]:
    """Return, by (measure id, area id), the figures the reader sees marked not available
    (with the reason) and not supplied since: the gaps tables footnote. One query when
    there are none, two when there are."""
    ids, area_ids = [m.pk for m in measures], [a.pk for a in areas]
    gaps = list(
        reader.unavailable(
            UnavailableFigure.objects.filter(measure_id__in=ids, area_id__in=area_ids)
        ).values_list("measure_id", "area_id", "start", "end", "reason")
    )
    if not gaps:
        return {}
    supplied = set(
        reader.values(
            Value.objects.filter(
                measure_id__in={g[0] for g in gaps},
                area_id__in={g[1] for g in gaps},
                start__in={g[2] for g in gaps},
                end__in={g[3] for g in gaps},
            )
        ).values_list("measure_id", "area_id", "start", "end")
    )
    found: dict[tuple[int, int], list[tuple[Period, str]]] = defaultdict(list)
    for measure_id, area_id, start, end, reason in gaps:
        if (measure_id, area_id, start, end) not in supplied:
            period = Period.range(Month.from_date(start), Month.from_date(end))
            found[(measure_id, area_id)].append((period, reason))
    return dict(found)


def reporting_area(areas: Iterable[Area] | None = None) -> Area | None:
    """Return the area the reports and returns are about: the force (the first one made).

    Given `areas` (already read), choose among them without a query. None when there is no
    force area: nothing is reported until one is added.
    """
    if areas is None:
        return Area.objects.filter(kind=Area.Kind.FORCE).order_by("pk").first()
    forces = sorted((a for a in areas if a.kind == Area.Kind.FORCE), key=lambda a: a.pk)
    return forces[0] if forces else None


def measure_values(*, reader: Reader, measure: Measure, area: Area | None) -> QuerySet[Value]:
    """Return the measure's stored values in the area that the reader sees, latest first."""
    if area is None:
        return Value.objects.none()
    return _required(reader).values(
        Value.objects.filter(measure=measure, area=area).order_by("-end", "-start")
    )


def measure_areas(*, reader: Reader, measure: Measure) -> QuerySet[Area]:
    """Return the areas with a value of the measure that the reader sees."""
    seen = _required(reader).values(Value.objects.filter(measure=measure))
    return Area.objects.filter(pk__in=seen.values("area_id"))


def measure_history(*, reader: Reader, measure: Measure, limit: int = 50):
    """Return the latest changes to the measure's values, or None for a reader who may not
    see its drafts (the history shows drafts' old and new figures)."""
    if not _required(reader).sees_unapproved(measure):
        return None
    return (
        Value.history.filter(measure_id=measure.pk)
        .select_related("history_user", "area")
        .order_by("-history_date")[:limit]
    )


def values_list_for(reader: Reader) -> QuerySet[Value]:
    """Return every value the reader sees, with measure and area, in a stable order."""
    return _required(reader).values(
        Value.objects.select_related("measure", "area").order_by(
            "measure__code", "area__code", "start", "end"
        )
    )


def headlines_for(*, reader: Reader, plan: Plan, quarter: Period) -> QuerySet[Headline]:
    """Return the quarter's Key Headlines of the plan that the reader sees."""
    return _required(reader).headlines(
        Headline.objects.filter(
            priority__plan=plan, start=quarter.start.first_day, end=quarter.end.first_day
        )
    )


def unapproved_values(
    *, measure_ids: Iterable[int], areas: Iterable[Area], until: Month
) -> list[tuple[int, Period]]:
    """Return (measure id, period) of each value not yet approved up to a month: what a
    report read for the public would leave out. Statuses and periods only, no figures."""
    pending = (
        Value.objects.filter(measure_id__in=list(measure_ids), area__in=list(areas))
        .filter(end__lte=until.first_day)
        .exclude(status=Value.Status.APPROVED)
        .order_by("measure_id", "start")
        .values_list("measure_id", "start", "end")
    )
    return [
        (measure_id, Period.range(Month.from_date(start), Month.from_date(end)))
        for measure_id, start, end in pending
    ]


def unapproved_headlines(*, plan: Plan, quarter: Period) -> QuerySet[Headline]:
    """Return the quarter's Key Headlines not yet approved (who wrote them; not their text)."""
    return (
        Headline.objects.filter(
            priority__plan=plan, start=quarter.start.first_day, end=quarter.end.first_day
        )
        .exclude(status=Headline.Status.APPROVED)
        .select_related("department", "priority")
        .order_by("priority__position", "department__name")
    )


def stored_longer() -> Exists:
    """Return an expression for a measure annotation: whether any value of the measure covers
    more than a month (only such measures need their values read beside derived figures)."""
    return Exists(Value.objects.filter(measure=OuterRef("pk")).exclude(start=F("end")))


def measures_of(*, plan: Plan | None = None) -> QuerySet[Measure]:
    qs = Measure.objects.select_related("priority", "priority__plan", "owner")
    if plan is not None:
        qs = qs.filter(priority__plan=plan)
    return qs.order_by("priority__position", "position", "name")


class DerivedSeries:
    """A measure's monthly series read from its materialised figures (`engine`).

    It answers the same questions as `MeasureSeries` — figures, comparisons, year to date,
    provisional or not — from the stored rows, so pages never recompute a window; the
    comparison rules themselves (partial data, footnotes) are those of
    `measures.arithmetic.figures`.
    """

    def __init__(
        self,
        measure: Measure,
        area: Area,
        rows: list[tuple],
        fallback,
        *,
        sparse: bool = False,
        omitted: frozenset[str] = frozenset(),
    ):
        self.measure, self.area = measure, area
        self.sparse = sparse
        self._omitted = omitted
        self._rows = {row[Col.month_index]: row for row in rows}
        self._valued = sorted(i for i, row in self._rows.items() if row[Col.value] is not None)
        self._fallback = fallback

    def __len__(self) -> int:
        return len(self._valued)

    def monthly(self, since: Month | None = None) -> dict[Month, figures.Observation]:
        valued = self._valued[bisect_left(self._valued, since.index) :] if since else self._valued
        rows = self._rows
        return {
            Month.from_index(i): figures.Observation(_number(rows[i][Col.value])) for i in valued
        }

    def values_by_index(self, since: Month) -> dict[int, Decimal | None]:
        rows = self._rows
        return {
            i: _number(rows[i][Col.value])
            for i in self._valued[bisect_left(self._valued, since.index) :]
        }

    def stored(self, period: Period) -> figures.Observation | None:
        if period.length != 1:
            return None
        row = self._rows.get(period.start.index)
        if row is None or row[Col.value] is None:
            return None
        return figures.Observation(_number(row[Col.value]))

    def latest_month(self, on_or_before: Month | None = None) -> Month | None:
        limit = on_or_before.index if on_or_before else None
        position = bisect_right(self._valued, limit) if limit is not None else len(self._valued)
        return Month.from_index(self._valued[position - 1]) if position else None

    def figure(self, period: Period) -> figures.Figure:
        row = self._rows.get(period.end.index)
        if period.length == 1:
            value = _number(row[Col.value]) if row else None
            present = int(value is not None)
            return figures.Figure(period, value, present, 1, stored=bool(present))
        if period.length == 12:
            if row is None:
                return figures.Figure(period, None, 0, 12, stored=False)
            return figures.Figure(
                period,
                _number(row[Col.r12_value]),
                row[Col.r12_months],
                12,
                stored=False,
                numerator=_number(row[Col.r12_numerator]),
                denominator=_number(row[Col.r12_denominator]),
            )
        if period.start.month == 4 and period.end.financial_year == period.start.financial_year:
            if row is None:
                return figures.Figure(period, None, 0, period.length, stored=False)
            return figures.Figure(
                period,
                _number(row[Col.fytd_value]),
                row[Col.fytd_months],
                period.length,
                stored=False,
            )
        # Windows the engine does not materialise (a quarter, say) come from the values.
        return self._fallback(self.measure, self.area).figure(period)

    def compare(self, base: Period, current: Period) -> figures.Comparison:
        return figures.compare(
            self,
            base,
            current,
            aggregation=self.measure.aggregation,
            unit=self.measure.unit,
            polarity=self.measure.polarity,
            figure=self.figure,
        )

    def year_to_date(self, end_month: Month, *, years: int) -> figures.YearToDate:
        return figures.year_to_date(
            self, end_month, years=years, aggregation=self.measure.aggregation, figure=self.figure
        )

    def is_provisional(self, *periods: Period) -> bool:
        """Return whether any value inside the periods is not yet approved.

        A sparse series (read through `Anchored`) has only the rows at its windows' ends;
        each row says whether every value of its rolling 12 months and year to date is
        approved, which covers the 12-month and year-to-date windows ending there.
        """
        if self.sparse:
            return any(
                self._rows[p.end.index][Col.approved] is False
                if p.length > 1
                else self._rows[p.end.index][Col.value_approved] is False
                for p in periods
                if p.end.index in self._rows
            )
        return any(
            self._rows[i][Col.value_approved] is False
            for p in periods
            for i in range(p.start.index, p.end.index + 1)
            if i in self._rows
        )

    def plan_comparison(self, month: Month) -> PlanComparison | None:
        """Return the stored comparison of the plan baseline with the window of its length
        ending with `month` (None when the plan has no baseline or the month no row)."""
        self._require("plan_base_value")
        baseline = self.measure.priority.plan.baseline
        row = self._rows.get(month.index)
        if baseline is None or row is None:
            return None
        return PlanComparison(
            baseline=baseline,
            base=_number(row[Col.plan_base_value]),
            current=_number(row[Col.plan_current_value]),
            change_pct=_number(row[Col.plan_change_pct]),
            change_pp=_number(row[Col.plan_change_pp]),
            direction=row[Col.plan_direction],
        )

    def _require(self, field: str) -> None:
        if field in self._omitted:
            raise LookupError(f"{field} was not read for this page (see `Stretch.omitted`)")

    def spc(self, month: Month) -> dict | None:
        """Return the month's XmR centre, limits and signals, if it has any."""
        self._require("spc_centre")
        row = self._rows.get(month.index)
        if row is None or row[Col.spc_centre] is None:
            return None
        return {
            "centre": _number(row[Col.spc_centre]),
            "lower": _number(row[Col.spc_lower]),
            "upper": _number(row[Col.spc_upper]),
            "signals": [s for s in row[Col.spc_signals].split(",") if s],
        }


@dataclass(frozen=True)
class PlanComparison:
    """A figure against the plan's baseline: the baseline window and the window of the same
    length ending with a month (materialised by the engine for monthly series)."""

    baseline: Period
    base: Decimal | None
    current: Decimal | None
    change_pct: Decimal | None
    change_pp: Decimal | None
    direction: str | None


class Col:
    """Positions of the fields of a materialised row (`DERIVED_FIELDS`): rows are tuples."""

    measure_id = 0
    area_id = 1
    month_index = 2
    value = 3
    value_approved = 4
    approved = 5
    r12_value = 6
    r12_numerator = 7
    r12_denominator = 8
    r12_months = 9
    fytd_value = 10
    fytd_months = 11
    spc_centre = 12
    spc_lower = 13
    spc_upper = 14
    spc_signals = 15
    plan_base_value = 16
    plan_current_value = 17
    plan_change_pct = 18
    plan_change_pp = 19
    plan_direction = 20


DERIVED_FIELDS = tuple(name for name in vars(Col) if not name.startswith("_"))


def _number(value: str | Decimal | None) -> Decimal | None:
    """A stored figure as a Decimal. PostgreSQL reads hand numerics over as text (cheap:
    most of the rows a page reads are never looked at) and this makes the Decimal when one
    is; the text is PostgreSQL's own, so the Decimal is the one psycopg would have made."""
    return Decimal(value) if isinstance(value, str) else value


def _series_list(names: tuple[str, ...], rows: list[tuple]) -> tuple[str, list]:
    """SQL for a list of series (`rows` of ints and a scope, named `names`) as a relation
    `p`, and its parameters: on PostgreSQL arrays unnested (short text, one parameter per
    column), on SQLite a VALUES list of literals (ints and checked scopes only)."""
    if connection.vendor == "postgresql":
        types = ["text" if name == "scope" else "bigint" for name in names]
        columns = [list(column) for column in zip(*rows, strict=True)] or [[] for _ in names]
        arrays = ", ".join(f"%s::{kind}[]" for kind in types)
        return f"p ({', '.join(names)}) AS (SELECT * FROM unnest({arrays}))", columns
    listed = ", ".join(
        "(" + ", ".join(f"'{v}'" if isinstance(v, str) else str(int(v)) for v in row) + ")"
        for row in rows
    )
    return f"p ({', '.join(names)}) AS (VALUES {listed})", []


def _rows_read(sql: str, params: list) -> list[tuple]:
    """The rows of `sql` (selecting `DERIVED_FIELDS`) as tuples, read at once."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.cursor.adapters.register_loader("numeric", TextLoader)
            cursor.execute(sql, params)
            return cursor.fetchall()
    # Through the model, so that SQLite's column converters make decimals of its numbers.
    return [
        tuple(getattr(row, f) for f in DERIVED_FIELDS)
        for row in DerivedFigure.objects.raw(f"SELECT NULL AS id, * FROM ({sql})", params)
    ]


@dataclass(frozen=True)
class Anchored:
    """The materialised rows a table needs, placed around each series' latest value.

    A table of comparisons ending with the reporting month needs, per series, only a few
    rows: those at the end of its windows. When the latest months have no data yet the
    windows move back to the latest value (SPEC §4 partial data), so the rows are given
    as `offsets` from each series' latest month with a value within `lookback` months of
    `month` (the anchor), and as `months` (indexes) wherever that falls. A series with no
    value in the lookback has no rows.
    """

    month: Month
    lookback: int
    offsets: tuple[int, ...] = (0,)
    months: tuple[int, ...] = ()
    sparse = True  # only the rows at windows' ends: see `DerivedSeries.is_provisional`
    omitted: frozenset[str] = frozenset()

    def read(self, scopes: dict[str, list[int]], area_ids: list[int]) -> list[tuple]:
        """Return the rows, as `DERIVED_FIELDS` tuples, in one query.

        Each series finds its anchor by one step back along the table's unique index and
        then reads its few rows by the same index, so the cost follows the rows shown, not
        the length of the series.
        """
        if not area_ids or not any(scopes.values()):
            return []
        table = DerivedFigure._meta.db_table
        valid = set(DerivedFigure.Scope.values)
        series, series_params = _series_list(
            ("measure_id", "area_id", "scope"),
            [
                (int(m), int(a), scope)
                for scope, ids in scopes.items()
                if scope in valid
                for m in ids
                for a in area_ids
            ],
        )
        wanted = ", ".join(
            [f"a.anchor + {int(o)}" for o in self.offsets] + [str(int(m)) for m in self.months]
        )
        columns = ", ".join(f"d.{f}" for f in DERIVED_FIELDS)
        same_series = "d.measure_id = a.measure_id AND d.area_id = a.area_id AND d.scope = a.scope"
        # PostgreSQL would otherwise flatten this into a hash join over the whole table when
        # its estimates are off: a materialised anchor list and LATERAL subqueries that
        # cannot be pulled up (OFFSET 0) keep it to index lookups, one per row wanted (the
        # months listed one by one: given as one IN list it scans each series' rows). SQLite
        # joins by nested loops over the index anyway.
        postgres = connection.vendor == "postgresql"
        rows_of_series = (
            f"CROSS JOIN LATERAL (SELECT DISTINCT unnest(ARRAY[{wanted}]) AS month_index) w "
            f"CROSS JOIN LATERAL (SELECT {columns}, d.id FROM {table} d WHERE {same_series} "
            "AND d.month_index = w.month_index OFFSET 0) d"
            if postgres
            else f"JOIN {table} d ON {same_series} AND d.month_index IN ({wanted})"
        )
        sql = f"""
            WITH {series},
            a AS {"MATERIALIZED" if postgres else ""} (
                SELECT p.measure_id, p.area_id, p.scope, (
                    SELECT x.month_index FROM {table} x
                    WHERE x.measure_id = p.measure_id AND x.area_id = p.area_id
                      AND x.scope = p.scope AND x.value IS NOT NULL
                      AND x.month_index BETWEEN %s AND %s
                    ORDER BY x.month_index DESC LIMIT 1
                ) AS anchor
                FROM p
            )
            SELECT {columns}, d.id FROM a {rows_of_series}
            WHERE a.anchor IS NOT NULL
        """
        return _rows_read(
            sql, [*series_params, self.month.index - self.lookback + 1, self.month.index]
        )


@dataclass(frozen=True)
class Stretch:
    """The materialised rows of every month from `first` to `last` (indexes), for a page
    that asks each series about several windows and charts its recent months (the report).

    A series whose latest value on or before `month` lies less than `reach` months after
    `first` is read from `reach` months before that value instead, so that what is worked
    back from its latest value (an XmR chart's months) is the same as from every month;
    with any `reach`, a series' latest value on or before `month` is always read.
    `areas` gives some areas months of their own: (area id, first, last, reach).
    About any window within its rows a series answers as if all its months were read.
    """

    month: Month
    first: int
    last: int
    reach: int = 0
    areas: tuple[tuple[int, int, int, int], ...] = ()
    # An XmR chart reaches back past its window only to give the months before a break in
    # series limits of their own: measures with no break (all but `broken`, by id) reach
    # back only `unbroken_reach` months, when it is given.
    unbroken_reach: int | None = None
    broken: frozenset[int] = frozenset()
    sparse = False
    # What the report never asks a series (the performance table's XmR and plan columns;
    # `approved` serves sparse reads only): read as NULL, so not converted. Asking for them
    # raises (`DerivedSeries._require`).
    omitted = frozenset(
        {
            "approved",
            "spc_centre",
            "spc_lower",
            "spc_upper",
            "spc_signals",
            "plan_base_value",
            "plan_current_value",
            "plan_change_pct",
            "plan_change_pp",
            "plan_direction",
        }
    )

    def _reach(self, measure_id: int, reach: int) -> int:
        if self.unbroken_reach is None or measure_id in self.broken:
            return reach
        return min(reach, int(self.unbroken_reach))

    def read(self, scopes: dict[str, list[int]], area_ids: list[int]) -> list[tuple]:
        """Return the rows, as `DERIVED_FIELDS` tuples, in one query."""
        if not area_ids or not any(scopes.values()):
            return []
        table = DerivedFigure._meta.db_table
        valid = set(DerivedFigure.Scope.values)
        own = {int(a): (int(f), int(last), int(r)) for a, f, last, r in self.areas}
        default = (int(self.first), int(self.last), int(self.reach))
        months = {int(a): own.get(int(a), default) for a in area_ids}
        series, series_params = _series_list(
            ("measure_id", "area_id", "scope", "first", "last", "reach"),
            [
                (int(m), a, scope, first, last, self._reach(int(m), reach))
                for scope, ids in scopes.items()
                if scope in valid
                for m in ids
                for a, (first, last, reach) in months.items()
            ],
        )
        columns = ", ".join(
            f"NULL AS {f}" if f in self.omitted else f"d.{f}" for f in DERIVED_FIELDS
        )
        # A series' first month: its area's `first`, or earlier when its latest value is
        # near it.
        start = "CASE WHEN a.latest - a.reach < a.first THEN a.latest - a.reach ELSE a.first END"
        same_series = (
            "d.measure_id = a.measure_id AND d.area_id = a.area_id AND d.scope = a.scope "
            f"AND d.month_index BETWEEN {start} AND a.last"
        )
        # As in `Anchored`: a materialised list and a LATERAL subquery that cannot be pulled
        # up keep PostgreSQL to index range scans, one per series.
        postgres = connection.vendor == "postgresql"
        rows_of_series = (
            f"CROSS JOIN LATERAL (SELECT {columns}, d.id FROM {table} d WHERE {same_series} "
            "OFFSET 0) d"
            if postgres
            else f"JOIN {table} d ON {same_series}"
        )
        sql = f"""
            WITH {series},
            a AS {"MATERIALIZED" if postgres else ""} (
                SELECT p.measure_id, p.area_id, p.scope, p.first, p.last, p.reach, (
                    SELECT x.month_index FROM {table} x
                    WHERE x.measure_id = p.measure_id AND x.area_id = p.area_id
                      AND x.scope = p.scope AND x.value IS NOT NULL
                      AND x.month_index <= %s
                    ORDER BY x.month_index DESC LIMIT 1
                ) AS latest
                FROM p
            )
            SELECT {columns}, d.id FROM a {rows_of_series}
        """
        return _rows_read(sql, [*series_params, self.month.index])


class SeriesBook:
    """Series read once and reused: a page that builds several tables reads figures once.

    Monthly series come from the materialised figures; a series with values stored for
    longer periods (a quarter, a 12-month release) is read from its values. A lead reads
    another department's figures in the approved scope only (SPEC §1).
    """

    def __init__(self, reader: Reader, *, rows: Anchored | Stretch | None = None):
        """`reader` says whose figures these are (`measures.access.Reader`); `rows`, if given,
        reads only the materialised rows a table needs (`Anchored`); without it every month
        of every series is read."""
        self.reader = _required(reader)
        self.rows = rows
        self._series: dict[tuple[int, int], MonthlySeries] = {}
        self._raw: dict[tuple[int, int], MeasureSeries] = {}
        self._gaps: dict[tuple[int, int], list[tuple[Period, str]]] = {}
        self._gaps_read: set[tuple[int, int]] = set()
        self._breaks: dict[int, list[SeriesBreak]] = {}
        self._released: dict[tuple[int, int], dict[Month, Month]] = {}

    def prepare(
        self,
        measures: Iterable[Measure],
        areas: Iterable[Area],
        *,
        rows: Anchored | Stretch | None = None,
    ) -> None:
        """Read, in a few set-based queries, everything a report of these measures asks of
        the book: their series, their figures marked not available, their breaks in series
        and when the first area's released figures were published. A page then costs the
        same queries whatever its number of sections.

        `rows`, if given, says which materialised rows of these series to read (a report
        reads its months, `Stretch`, not every month since the series began); later reads
        of other series read the book's own `rows`."""
        measures, areas = list(measures), list(areas)
        missing = {m for m in measures for a in areas if (m.pk, a.pk) not in self._series}
        if missing:
            self._read(sorted(missing, key=lambda m: m.pk), areas, rows=rows or self.rows)
        self.unavailable(measures, areas)
        self.breaks(measures)
        self.released(measures, areas[0])

    def unavailable(
        self, measures: Iterable[Measure], areas: Iterable[Area]
    ) -> dict[tuple[int, int], list[tuple[Period, str]]]:
        """Return `unavailable_figures` for the reader, reading only pairs not yet read."""
        pairs = {(m.pk, a.pk): (m, a) for m in measures for a in areas}
        missing = [pair for pair in pairs if pair not in self._gaps_read]
        if missing:
            found = unavailable_figures(
                reader=self.reader,
                measures={pairs[p][0] for p in missing},
                areas={pairs[p][1] for p in missing},
            )
            for pair in missing:
                self._gaps[pair] = found.get(pair, [])
            self._gaps_read.update(missing)
        return {pair: self._gaps[pair] for pair in pairs if self._gaps[pair]}

    def stored(
        self, measures: Iterable[Measure], areas: Iterable[Area]
    ) -> dict[tuple[int, int], MeasureSeries]:
        """Return the series read from their stored values (`series_for`: what a period's
        figure is worked out from, numerators included), reading only pairs not yet read."""
        measures, areas = list(measures), list(areas)
        missing = {m for m in measures for a in areas if (m.pk, a.pk) not in self._raw}
        if missing:
            self._raw.update(series_for(measures=missing, areas=areas, reader=self.reader))
        return {(m.pk, a.pk): self._raw[(m.pk, a.pk)] for m in measures for a in areas}

    def released(self, measures: Iterable[Measure], area: Area) -> dict[tuple[int, Month], Month]:
        """Return `release_months` for the reader, reading only measures not yet read."""
        measures = list(measures)
        missing = [m for m in measures if (m.pk, area.pk) not in self._released]
        if missing:
            found = release_months(reader=self.reader, measures=missing, area=area)
            for measure in missing:
                self._released[(measure.pk, area.pk)] = {}
            for (measure_id, end), published in found.items():
                self._released[(measure_id, area.pk)][end] = published
        return {
            (m.pk, end): published
            for m in measures
            for end, published in self._released[(m.pk, area.pk)].items()
        }

    def breaks(self, measures: Iterable[Measure]) -> dict[int, list[SeriesBreak]]:
        """Return `series_breaks` of the measures, reading only measures not yet read."""
        measures = list(measures)
        missing = [m for m in measures if m.pk not in self._breaks]
        if missing:
            found = series_breaks(missing)
            for measure in missing:
                self._breaks[measure.pk] = found.get(measure.pk, [])
        return {m.pk: self._breaks[m.pk] for m in measures if self._breaks[m.pk]}

    def scope(self, measure: Measure) -> str:
        if self.reader.sees_unapproved(measure):
            return DerivedFigure.Scope.ALL
        return DerivedFigure.Scope.APPROVED

    def fetch(
        self, measures: Iterable[Measure], areas: Iterable[Area]
    ) -> dict[tuple[int, int], MonthlySeries]:
        """Return the series of every (measure, area) pair, reading only pairs not yet read."""
        measures, areas = list(measures), list(areas)
        missing = {m for m in measures for a in areas if (m.pk, a.pk) not in self._series}
        if missing:
            self._read(sorted(missing, key=lambda m: m.pk), areas, rows=self.rows)
        return {(m.pk, a.pk): self._series[(m.pk, a.pk)] for m in measures for a in areas}

    def _read(
        self, measures: list[Measure], areas: list[Area], *, rows: Anchored | Stretch | None
    ) -> None:
        area_ids = [a.pk for a in areas]
        by_id = {m.pk: m for m in measures}
        # Measures read through `Catalogue` already say whether they have any value stored for
        # a longer period; only those need asking which of their areas do.
        candidates = [
            pk for pk, m in by_id.items() if getattr(m, "stored_longer", True) is not False
        ]
        stored_longer = (
            set(
                self.reader.values()
                .filter(measure_id__in=candidates, area_id__in=area_ids)
                .exclude(start=F("end"))
                .values_list("measure_id", "area_id")
                .distinct()
            )
            if candidates
            else set()
        )
        if stored_longer:
            self._raw.update(
                series_for(
                    measures=[by_id[m] for m in {m for m, _ in stored_longer}],
                    areas=areas,
                    reader=self.reader,
                )
            )
        scopes: dict[str, list[int]] = defaultdict(list)
        for measure in measures:
            scopes[self.scope(measure)].append(measure.pk)
        condition = Q()
        for scope, ids in scopes.items():
            condition |= Q(scope=scope, measure_id__in=ids)
        by_series: dict[tuple[int, int], list[tuple]] = defaultdict(list)
        if rows is not None:
            found = rows.read(scopes, area_ids)
        else:
            found = list(
                DerivedFigure.objects.filter(condition, area_id__in=area_ids).values_list(
                    *DERIVED_FIELDS
                )
            )
        for row in found:
            by_series[(row[Col.measure_id], row[Col.area_id])].append(row)
        for measure in measures:
            for area in areas:
                key = (measure.pk, area.pk)
                if key in stored_longer:
                    self._series[key] = self._raw[key]
                else:
                    self._series[key] = DerivedSeries(
                        measure,
                        area,
                        by_series[key],
                        self._values,
                        sparse=rows is not None and rows.sparse,
                        omitted=rows.omitted if rows is not None else frozenset(),
                    )

    def _values(self, measure: Measure, area: Area) -> MeasureSeries:
        """Return a series read from its values, reading every series of the book at once."""
        key = (measure.pk, area.pk)
        if key not in self._raw:
            # One query for all: a table that needs one unmaterialised window usually needs
            # it for every row.
            pending = [k for k in self._series if k not in self._raw] + [key]
            measures = {k[0]: None for k in pending}
            areas = {k[1]: None for k in pending}
            by_measure = {
                s.measure.pk: s.measure for s in self._series.values() if s.measure.pk in measures
            }
            by_measure[measure.pk] = measure
            by_area = {s.area.pk: s.area for s in self._series.values() if s.area.pk in areas}
            by_area[area.pk] = area
            self._raw.update(
                series_for(
                    measures=by_measure.values(),
                    areas=by_area.values(),
                    reader=self.reader,
                )
            )
        return self._raw[key]


def series_breaks(measures: Iterable[Measure]) -> dict[int, list[SeriesBreak]]:
    """Return each measure's breaks in series, by measure id, oldest first."""
    found: dict[int, list[SeriesBreak]] = {}
    for series_break in SeriesBreak.objects.filter(
        measure_id__in=[m.pk for m in measures]
    ).order_by("start"):
        found.setdefault(series_break.measure_id, []).append(series_break)
    return found


def pending_recompute(measures: Iterable[Measure], *, reader: Reader) -> bool:
    """Return whether figures the reader sees are waiting to be recomputed.

    A mark left by a draft's change concerns only readers who see that measure's drafts.
    Measures read through `Catalogue` carry the answer already; others are asked in one query.
    """
    measures = list(measures)
    if all(hasattr(m, "pending_recompute") for m in measures):
        marks = {m.pk: getattr(m, "pending_recompute") for m in measures}  # noqa: B009
    else:
        marks = dict(
            PendingRecompute.objects.filter(measure__in=measures).values_list(
                "measure_id", "drafts_only"
            )
        )
        marks = {pk: "drafts" if drafts else "approved" for pk, drafts in marks.items()}
    return any(
        marks.get(m.pk) == "approved"
        or (marks.get(m.pk) == "drafts" and reader.sees_unapproved(m))
        for m in measures
    )


def comparison_significance(measure: Measure, comparison: figures.Comparison):
    """Return the Poisson significance of a comparison of counts, or None for other measures."""
    if measure.unit != Measure.Unit.COUNT or measure.aggregation != Measure.Aggregation.SUM:
        return None
    base, current = comparison.base, comparison.current
    if not base.months_present or not current.months_present:
        return None
    return count_change_significance(
        base.value, current.value, exposure_ratio=current.months_present / base.months_present
    )
