"""The rows of a return: which figures a department owes for a reporting period.

A return's values are not linked to it by a key: they are the values of the measures the
department owns, in the reporting period's area, for the months (or the quarter) of the
reporting period. That keeps one source of truth for a figure whatever door it came in by.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from measures.access import Reader
from measures.arithmetic.periods import Period
from measures.models import Headline, Measure, Priority, Return, Value
from measures.returns.validation import value_warnings
from measures.selectors import series_for

HISTORY_MONTHS = 24


@dataclass
class ReturnRow:
    """One figure a return asks for, with the context a lead checks it against."""

    measure: Measure
    period: Period
    value: Value | None
    required: bool
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


def slots(measure: Measure, period: Period) -> list[Period]:
    """Return the periods a measure is reported for within a reporting period."""
    if measure.frequency == Measure.Frequency.QUARTERLY:
        return [period]
    return [Period.month(m) for m in period.months]


def is_required(measure: Measure, slot: Period, reporting: Period) -> bool:
    """A month inside the measure's data lag is not yet expected: it may be left blank."""
    available_until = reporting.end.shift(-measure.data_lag_months)
    return slot.end <= available_until


def return_values(ret: Return) -> Q:
    """Return a filter for the stored values that belong to the return."""
    reporting = ret.reporting_period
    return Q(
        measure__owner_id=ret.department_id,
        measure__priority__plan_id=reporting.plan_id,
        area_id=reporting.area_id,
        start__gte=reporting.start,
        end__lte=reporting.end,
    )


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
    stored = {
        (v.measure_id, v.start, v.end): v
        for v in Value.objects.filter(return_values(ret)).select_related("measure")
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
    rows = []
    for measure in measures:
        for slot in slots(measure, reporting):
            row = ReturnRow(
                measure=measure,
                period=slot,
                value=stored.get((measure.pk, slot.start.first_day, slot.end.first_day)),
                required=is_required(measure, slot, reporting),
            )
            if with_context:
                _add_context(row, series[(measure.pk, ret.reporting_period.area_id)])
            rows.append(row)
    return rows


def _add_context(row: ReturnRow, series) -> None:
    length = row.period.length
    before = row.period.shift(-length)
    last_year = row.period.shift(-12)

    def stored_value(period: Period) -> Decimal | None:
        observation = series.stored(period)
        return observation.value if observation else None

    row.previous = stored_value(before)
    row.same_period_last_year = stored_value(last_year)
    if length == 1:
        months = [row.period.start.shift(-i) for i in range(1, 12)]
        monthly = series.monthly()
        # Only a sum has an "implied rolling 12 months" a lead can check while typing.
        summable = row.measure.aggregation == Measure.Aggregation.SUM
        if summable and all(m in monthly and monthly[m].value is not None for m in months):
            row.rolling_before = sum((monthly[m].value for m in months), Decimal(0))
        start = row.period.start.shift(-HISTORY_MONTHS)
        row.history = [
            monthly[m].value
            for m in Period.range(start, row.period.start.shift(-1)).months
            if m in monthly and monthly[m].value is not None
        ]
    if row.value is not None:
        row.warnings = value_warnings(
            value=row.value.value,
            history=row.history,
            previous=row.previous,
            same_period_last_year=row.same_period_last_year,
        )


def return_headline_map(ret: Return) -> dict[int, Headline]:
    return {h.priority_id: h for h in Headline.objects.filter(return_headlines(ret))}


def progress(rows: Iterable[ReturnRow]) -> tuple[int, int]:
    """Return (required rows filled, required rows)."""
    required = [r for r in rows if r.required]
    return sum(1 for r in required if r.value is not None), len(required)
