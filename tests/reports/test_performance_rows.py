"""The performance and national comparison tables read a few materialised rows per series
(`Anchored`) instead of every month: they must show exactly what reading every month shows.

Generated series with gaps, drafts, partial data at the reporting month, months before the
first value and long after the last, a percent measure and targets with 12-month and
financial-year baselines; a lead, who sees one measure's drafts and the other's approved
figures only.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from measures.access import Reader
from measures.arithmetic.periods import Month
from measures.engine import derived as engine
from measures.models import Area, Measure, Target, Value
from measures.selectors import SeriesBook
from reports import figure_tables as rows
from tests.factories import reviewer_reader

FIRST = Month(2018, 1)
SPAN = 72  # 2018-01 to 2023-12

months = st.sets(st.integers(0, SPAN - 1), max_size=SPAN)
statuses = st.lists(st.booleans(), min_size=SPAN, max_size=SPAN)
counts = st.lists(st.integers(0, 400), min_size=SPAN, max_size=SPAN)


def _store(measure: Measure, area: Area, present: set[int], approved: list[bool], counts):
    Value.objects.filter(measure=measure, area=area).delete()
    values = []
    for i in sorted(present):
        month = FIRST.shift(i)
        if measure.unit == Measure.Unit.PERCENT:
            denominator = Decimal(100 + counts[i] % 50)
            numerator = Decimal(counts[i] % 100)
            value = (numerator / denominator * 100).quantize(Decimal("0.1"))
            extra = {"numerator": numerator, "denominator": denominator}
        else:
            value, extra = Decimal(counts[i]), {}
        values.append(
            Value(
                measure=measure,
                area=area,
                start=month.first_day,
                end=month.first_day,
                value=value,
                status=Value.Status.APPROVED if approved[i] else Value.Status.DRAFT,
                **extra,
            )
        )
    Value.objects.bulk_create(values)


@pytest.fixture
def setting(small_plan, alice):
    force = Area.objects.get(code="force")
    satisfied = Measure.objects.get(code="t-satisfied")
    Target.objects.create(
        measure=satisfied,
        area=None,
        name="Raise satisfaction",
        kind=Target.Kind.INCREASE_VS_BASELINE,
        baseline_start=Month(2019, 4).first_day,
        baseline_end=Month(2019, 9).first_day,
    )
    return force, alice


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    assaults=months,
    satisfied=months,
    national=months,
    approved=statuses,
    numbers=counts,
    reporting=st.lists(st.integers(-6, SPAN + 20), min_size=1, max_size=4),
    approved_only=st.booleans(),
    as_lead=st.booleans(),
)
def test_anchored_rows_give_the_same_tables_as_every_month(
    setting, assaults, satisfied, national, approved, numbers, reporting, approved_only, as_lead
):
    force, lead = setting
    nation = Area.objects.get(code="nation")
    measures = list(Measure.objects.filter(code__in=["t-assaults", "t-satisfied"]))
    by_code = {m.code: m for m in measures}
    _store(by_code["t-assaults"], force, assaults, approved, numbers)
    _store(by_code["t-satisfied"], force, satisfied, approved[::-1], numbers[::-1])
    _store(by_code["t-assaults"], nation, national, [*approved[1:], True], numbers)
    _store(by_code["t-satisfied"], nation, national ^ satisfied, approved, numbers)
    engine.recompute()
    targets = rows.performance_targets(measures)
    if as_lead:
        reader = Reader.of(lead, approved_only=approved_only)
    else:
        reader = Reader.public() if approved_only else reviewer_reader()

    for offset in reporting:
        month = FIRST.shift(offset)
        every = rows.performance(
            measures=measures,
            areas=[force],
            month=month,
            book=SeriesBook(reader),
            targets=targets,
        )
        few = rows.performance(
            measures=measures,
            areas=[force],
            month=month,
            book=SeriesBook(reader, rows=rows.performance_rows(month, targets)),
            targets=targets,
        )
        assert few.rows == every.rows, month
        assert few.footnotes.as_list() == every.footnotes.as_list(), month

        every = rows.national_comparison(
            measures=measures, area=force, month=month, book=SeriesBook(reader)
        )
        few = rows.national_comparison(
            measures=measures,
            area=force,
            month=month,
            book=SeriesBook(reader, rows=rows.national_comparison_rows(month)),
        )
        assert few.rows == every.rows, month
        assert few.footnotes.as_list() == every.footnotes.as_list(), month


def test_a_measure_with_no_value_in_the_three_years_to_the_month_is_left_out(setting):
    force, _ = setting
    assaults = Measure.objects.get(code="t-assaults")
    _store(assaults, force, {0, 1, 2}, [True] * SPAN, [10] * SPAN)
    engine.recompute()
    measures = [assaults]

    def shown(month: Month) -> bool:
        targets = rows.performance_targets(measures)
        book = SeriesBook(Reader.public(), rows=rows.performance_rows(month, targets))
        data = rows.performance(
            measures=measures, areas=[force], month=month, book=book, targets=targets
        )
        return bool(data.rows)

    assert shown(FIRST.shift(2 + 35))
    assert not shown(FIRST.shift(2 + 36))
    assert not shown(FIRST.shift(-1)), "nothing before the first value"
