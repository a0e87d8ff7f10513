"""The rows of a return: which figures a department owes for a reporting period.

A return's values are not linked to it by a key: they are the values of the measures the
department owns, in the reporting period's area, for the figures that fell due in the
reporting period (see "which return asks for which figure" below). That keeps one source of
truth for a figure whatever door it came in by.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import reduce
from operator import or_

from django.db.models import Q

from measures.access import Reader
from measures.arithmetic.periods import Month, Period
from measures.models import (
    Headline,
    Measure,
    Priority,
    ReportingPeriod,
    Return,
    UnavailableFigure,
    Value,
)
from measures.returns.validation import value_warnings
from measures.selectors import series_breaks, series_for

HISTORY_MONTHS = 24
QUARTER_END_MONTHS = (3, 6, 9, 12)


class Group(StrEnum):
    """The parts of a return form, in the order it shows them."""

    QUARTER = "quarter"
    LATE = "late"
    RELEASE = "release"


GROUP_TITLES = {
    Group.QUARTER: "Figures for the quarter",
    Group.LATE: "Late figures for earlier periods",
    Group.RELEASE: "Figures from the latest national release",
}


@dataclass
class ReturnRow:
    """One figure a return asks for, with the context a lead checks it against."""

    measure: Measure
    period: Period
    value: Value | None
    required: bool
    group: Group = Group.QUARTER
    unavailable: UnavailableFigure | None = None
    # Marked not available in the return before; asked for again here, optional.
    carried: UnavailableFigure | None = None
    previous: Decimal | None = None
    same_period_last_year: Decimal | None = None
    rolling_before: Decimal | None = None  # the 11 months before, for the implied rolling 12
    history: list[Decimal] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return row_key(self.measure.code, self.period)

    @property
    def is_ratio(self) -> bool:
        return self.measure.aggregation == Measure.Aggregation.RATIO

    @property
    def is_release(self) -> bool:
        return self.measure.frequency == Measure.Frequency.RELEASE

    @property
    def is_answered(self) -> bool:
        """A value is in, or the lead has said why there is none."""
        return self.value is not None or self.unavailable is not None

    @property
    def rolling_twelve(self) -> Decimal | None:
        if self.value is None or self.rolling_before is None:
            return None
        return self.rolling_before + self.value.value


def row_key(measure_code: str, period: Period) -> str:
    """Return the stable key of a row, used in form field names and API payloads."""
    return f"{measure_code}--{period.start.iso}--{period.end.iso}"


def return_measures(ret: Return) -> list[Measure]:
    return list(
        Measure.objects.filter(
            owner_id=ret.department_id, priority__plan_id=ret.reporting_period.plan_id
        )
        .select_related("priority")
        .order_by("priority__position", "position")
    )


def return_priorities(ret: Return) -> list[Priority]:
    """Return the priorities the department writes Key Headlines for: those it owns measures in."""
    return list(
        Priority.objects.filter(
            plan_id=ret.reporting_period.plan_id, measures__owner_id=ret.department_id
        )
        .distinct()
        .order_by("position")
    )


# --- which return asks for which figure (SPEC §2 "Return") ------------------------------------
#
# A figure of a measure is due at the end of its period plus the measure's data lag. Each
# reporting period asks for the figures that fell due in its due window: from the month after
# the previous reporting period to its own last month. The windows of a plan's periods follow
# on from each other, so every figure is asked for by exactly one return: firearms offences
# (three months' lag) for October–December are asked for in the January–March return.


def slot_of(frequency: str, end: Month) -> Period | None:
    """Return the period a measure of `frequency` reports that ends with `end`, if any."""
    if frequency == Measure.Frequency.MONTHLY:
        return Period.month(end)
    if end.month not in QUARTER_END_MONTHS:
        return None
    if frequency == Measure.Frequency.QUARTERLY:
        first = end.shift(-2)
        return Period.financial_quarter(first.financial_year, (first.month - 4) % 12 // 3 + 1)
    return Period.rolling_twelve(end)  # a release: 12 months to the quarter's end


def due_month(measure: Measure, period: Period) -> Month | None:
    """Return the month a figure falls due (its end plus the data lag), or None when the
    period is not one the measure reports (a quarter of a monthly measure, say)."""
    if slot_of(measure.frequency, period.end) != period:
        return None
    return period.end.shift(measure.data_lag_months)


def due_span(measure: Measure, period: Period) -> Period:
    """Return the months in which a stored figure's months fall due.

    A return holds the figures whose span lies in its due window: its own slots, and any
    figure stored for a longer run of their months (a quarter's total of a monthly measure),
    which the figures it holds would otherwise not decide. A release's 12 months fall due
    together, at its end.
    """
    lag = measure.data_lag_months
    first = period.end if measure.frequency == Measure.Frequency.RELEASE else period.start
    return Period.range(first.shift(lag), period.end.shift(lag))


def slots_due(measure: Measure, window: Period) -> list[Period]:
    """Return the periods of the measure whose figures fall due in `window`, oldest first."""
    lag = measure.data_lag_months
    ends = Period.range(window.start.shift(-lag), window.end.shift(-lag)).months
    return [slot for end in ends if (slot := slot_of(measure.frequency, end)) is not None]


def group_of(measure: Measure, slot: Period, reporting: Period) -> Group:
    if measure.frequency == Measure.Frequency.RELEASE:
        return Group.RELEASE
    return Group.LATE if slot.end < reporting.start else Group.QUARTER


def _previous_window(ret: Return) -> Period | None:
    """Return the due window of the reporting period before the return's, if there is one."""
    reporting = ret.reporting_period
    before = (
        ReportingPeriod.objects.filter(plan_id=reporting.plan_id, end__lt=reporting.asks_from)
        .order_by("-end")
        .first()
    )
    if before is None or Month.from_date(before.end).shift(1) != Month.from_date(
        reporting.asks_from
    ):
        return None
    return before.due_window


@dataclass
class Slots:
    """The figures a return asks for: `due` by measure, and which of them are answered as
    not available here (`unavailable`) or were in the return before (`carried`)."""

    due: dict[Measure, list[Period]]
    unavailable: dict[tuple[int, Period], UnavailableFigure]
    carried: dict[tuple[int, Period], UnavailableFigure]


def return_slots(ret: Return, measures: list[Measure] | None = None) -> Slots:
    """Return what the return asks for: each measure's due figures, and the figures the
    return before marked not available (asked for again here, once)."""
    reporting = ret.reporting_period
    measures = return_measures(ret) if measures is None else measures
    due = {m: slots_due(m, reporting.due_window) for m in measures}
    previous = _previous_window(ret)
    earlier = {m: slots_due(m, previous) for m in measures} if previous else {}
    wanted = {(m.pk, slot) for m, slots in due.items() for slot in slots}
    wanted_before = {(m.pk, slot) for m, slots in earlier.items() for slot in slots}
    unavailable: dict[tuple[int, Period], UnavailableFigure] = {}
    carried: dict[tuple[int, Period], UnavailableFigure] = {}
    if wanted or wanted_before:
        # Gaps are few: read the department's, and keep those of this return and the last.
        for gap in UnavailableFigure.objects.filter(
            measure__in=measures, area_id=reporting.area_id
        ):
            key = (gap.measure_id, gap.period)
            if key in wanted:
                unavailable[key] = gap
            elif key in wanted_before:
                carried[key] = gap
    return Slots(due=due, unavailable=unavailable, carried=carried)


def slot_filter(pairs: Iterable[tuple[int, Period]], area_id: int) -> Q:
    """Return a filter for the stored rows of (measure id, period) pairs in one area."""
    by_period: dict[Period, list[int]] = {}
    for measure_id, period in pairs:
        by_period.setdefault(period, []).append(measure_id)
    clauses = [
        Q(measure_id__in=ids, start=period.start.first_day, end=period.end.first_day)
        for period, ids in by_period.items()
    ]
    return Q(area_id=area_id) & reduce(or_, clauses, Q(pk__in=[]))


def _due_in(measures: Iterable[Measure], window: Period, area_id: int) -> Q:
    """Return a filter for the stored figures of the measures whose due span (due_span) lies
    in `window`: one clause per data lag and kind of measure."""
    groups: dict[tuple[bool, int], list[int]] = {}
    for m in measures:
        release = m.frequency == Measure.Frequency.RELEASE
        groups.setdefault((release, m.data_lag_months), []).append(m.pk)
    clauses = []
    for (release, lag), ids in groups.items():
        first, last = window.start.shift(-lag).first_day, window.end.shift(-lag).first_day
        starts = Q(end__gte=first) if release else Q(start__gte=first)
        clauses.append(Q(measure_id__in=ids, end__lte=last) & starts)
    return Q(area_id=area_id) & reduce(or_, clauses, Q(pk__in=[]))


def return_values(ret: Return, slots: Slots | None = None) -> Q:
    """Return a filter for the stored values that belong to the return: those falling due in
    its due window (bar the figures it marks not available) and the figures carried over
    from the return before."""
    slots = slots or return_slots(ret)
    area_id = ret.reporting_period.area_id
    due = _due_in(slots.due, ret.reporting_period.due_window, area_id)
    if slots.unavailable:
        due &= ~slot_filter(slots.unavailable, area_id)
    if slots.carried:
        due |= slot_filter(slots.carried, area_id)
    return due


def return_unavailable(ret: Return, slots: Slots | None = None) -> Q:
    """Return a filter for the figures the return marks not available."""
    slots = slots or return_slots(ret)
    pairs = [(m.pk, slot) for m, periods in slots.due.items() for slot in periods]
    return slot_filter(pairs, ret.reporting_period.area_id)


def returns_asking(measure: Measure, area_id: int, period: Period) -> Q:
    """Return a filter for the returns that hold a stored figure (return_values, inverted).
    `measure.priority` should be loaded."""
    held = Q(
        department_id=measure.owner_id,
        reporting_period__plan_id=measure.priority.plan_id,
        reporting_period__area_id=area_id,
    )
    span = due_span(measure, period)
    asking = Q(
        reporting_period__asks_from__lte=span.start.first_day,
        reporting_period__end__gte=span.end.first_day,
    )
    due = due_month(measure, period)
    if due is not None and (
        UnavailableFigure.objects.filter(
            measure=measure,
            area_id=area_id,
            start=period.start.first_day,
            end=period.end.first_day,
        ).exists()
    ):
        # Marked not available where it fell due: the next period's return asks for it.
        first = (
            ReportingPeriod.objects.filter(plan_id=measure.priority.plan_id)
            .filter(asks_from__lte=due.first_day, end__gte=due.first_day)
            .first()
        )
        if first is not None:
            asking = Q(reporting_period__asks_from=Month.from_date(first.end).shift(1).first_day)
    return held & asking


def return_headlines(ret: Return) -> Q:
    reporting = ret.reporting_period
    return Q(
        department_id=ret.department_id,
        priority__plan_id=reporting.plan_id,
        start=reporting.start,
        end=reporting.end,
    )


def return_rows(ret: Return, *, with_context: bool = True) -> list[ReturnRow]:
    """Return every row of the return, with its stored value and (optionally) its history."""
    reporting = ret.reporting_period.period
    measures = return_measures(ret)
    slots = return_slots(ret, measures)
    stored = {
        (v.measure_id, v.start, v.end): v
        for v in Value.objects.filter(return_values(ret, slots)).select_related("measure")
    }
    series = (
        # The context beside each row: the department's own figures, drafts included, and
        # everyone else's approved ones — what anyone who may see this return may see.
        series_for(
            measures=measures,
            areas=[ret.reporting_period.area],
            reader=Reader.department(ret.department_id),
        )
        if with_context
        else {}
    )
    breaks = (
        {pk: [b.month for b in found] for pk, found in series_breaks(measures).items()}
        if with_context
        else {}
    )
    by_measure = {m.pk: m for m in measures}
    asked = [(m, slot, False) for m, periods in slots.due.items() for slot in periods]
    asked += [(by_measure[pk], slot, True) for pk, slot in slots.carried]
    rows = []
    for measure, slot, carried in asked:
        key = (measure.pk, slot)
        row = ReturnRow(
            measure=measure,
            period=slot,
            value=stored.get((measure.pk, slot.start.first_day, slot.end.first_day)),
            required=not carried,
            group=Group.LATE if carried else group_of(measure, slot, reporting),
            unavailable=slots.unavailable.get(key),
            carried=slots.carried.get(key),
        )
        if with_context:
            _add_context(
                row, series[(measure.pk, ret.reporting_period.area_id)], breaks.get(measure.pk, [])
            )
        rows.append(row)
    order = list(Group)
    rows.sort(
        key=lambda r: (
            order.index(r.group),
            r.measure.priority.position,
            r.measure.position,
            r.period.start,
        )
    )
    return rows


def _add_context(row: ReturnRow, series, breaks: Iterable[Month] = ()) -> None:
    """Fill the row's history and earlier figures, and judge its value against them.

    A break in series (`breaks`, the measure's months where its process changed) ends the
    history: the usual range is that of the months since the latest break at or before the
    row, and a figure is not compared with one before a break between them — the change
    there is the recorded change of process, not an unusual figure.
    """
    length = row.period.length
    since = max((b for b in breaks if b <= row.period.end), default=None)

    def stored_value(period: Period) -> Decimal | None:
        if since is not None and period.start < since:
            return None
        observation = series.stored(period)
        return observation.value if observation else None

    row.previous = stored_value(row.period.shift(-length))
    row.same_period_last_year = stored_value(row.period.shift(-12))
    if length == 1:
        months = [row.period.start.shift(-i) for i in range(1, 12)]
        monthly = series.monthly()
        # Only a sum has an "implied rolling 12 months" a lead can check while typing.
        summable = row.measure.aggregation == Measure.Aggregation.SUM
        if summable and all(m in monthly and monthly[m].value is not None for m in months):
            row.rolling_before = sum((monthly[m].value for m in months), Decimal(0))
        start = row.period.start.shift(-HISTORY_MONTHS)
        if since is not None:
            start = max(start, since)
        row.history = (
            [
                monthly[m].value
                for m in Period.range(start, row.period.start.shift(-1)).months
                if m in monthly and monthly[m].value is not None
            ]
            if start < row.period.start
            else []
        )
    if row.value is not None:
        row.warnings = value_warnings(
            value=row.value.value,
            history=row.history,
            previous=row.previous,
            same_period_last_year=row.same_period_last_year,
            unit=row.measure.unit,
        )


def return_headline_map(ret: Return) -> dict[int, Headline]:
    return {h.priority_id: h for h in Headline.objects.filter(return_headlines(ret))}


def progress(rows: Iterable[ReturnRow]) -> tuple[int, int]:
    """Return (required rows filled, required rows)."""
    required = [r for r in rows if r.required]
    return sum(1 for r in required if r.is_answered), len(required)
