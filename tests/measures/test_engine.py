"""The derived-figures engine gives exactly the figures of the pure functions (SPEC §4, §6)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from measures.arithmetic import figures
from measures.arithmetic.periods import Month, Period, parse_period
from measures.engine import derived as engine
from measures.models import Area, DerivedFigure, Measure, Plan, Value

FIRST = Month(2019, 1)
MONTHS = 48  # 2019-01 .. 2022-12: four financial-year boundaries


def close(a: Decimal | None, b: Decimal | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(Decimal(a) - Decimal(b)) < Decimal("0.0001")


series_strategy = st.lists(
    st.one_of(st.none(), st.integers(0, 50)), min_size=MONTHS, max_size=MONTHS
)


def store(measure: Measure, area: Area, values: list[int | None], *, ratio: bool) -> None:
    Value.objects.filter(measure=measure).delete()
    rows = []
    for i, number in enumerate(values):
        if number is None:
            continue
        month = FIRST.shift(i)
        denominator = Decimal(number + 50) if ratio else None
        numerator = Decimal(number) if ratio else None
        value = (
            (numerator / denominator * 100).quantize(Decimal("0.0001"))
            if ratio
            else Decimal(number)
        )
        rows.append(
            Value(
                measure=measure,
                area=area,
                start=month.first_day,
                end=month.first_day,
                value=value,
                numerator=numerator,
                denominator=denominator,
                status="approved" if i % 5 else "draft",
            )
        )
    Value.objects.bulk_create(rows)


def pure_series(measure: Measure, area: Area, *, approved_only: bool) -> figures.Series:
    qs = Value.objects.filter(measure=measure, area=area)
    if approved_only:
        qs = qs.filter(status="approved")
    return figures.Series(
        (v.period, figures.Observation(v.value, v.numerator, v.denominator)) for v in qs
    )


@pytest.mark.parametrize("aggregation", ["sum", "ratio", "mean", "latest"])
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    values=series_strategy,
    polarity=st.sampled_from(["lower_is_better", "higher_is_better", "neutral"]),
    # The plan's baseline: a calendar year, half a financial year, one month, none.
    baseline=st.sampled_from(["2020-01/2020-12", "2021-04/2021-09", "2020-06", None]),
)
def test_engine_matches_the_pure_functions(small_plan, aggregation, values, polarity, baseline):
    measure = Measure.objects.get(code="t-assaults")
    measure.aggregation = aggregation
    measure.unit = "percent" if aggregation == "ratio" else "count"
    measure.polarity = polarity
    measure.save()
    plan_baseline = parse_period(baseline) if baseline else None
    Plan.objects.update(
        baseline_start=plan_baseline.start.first_day if plan_baseline else None,
        baseline_end=plan_baseline.end.first_day if plan_baseline else None,
    )
    area = Area.objects.get(code="force")
    store(measure, area, values, ratio=aggregation == "ratio")

    engine.recompute([measure.pk])

    for scope in ("all", "approved"):
        series = pure_series(measure, area, approved_only=scope == "approved")
        rows = DerivedFigure.objects.filter(measure=measure, area=area, scope=scope)
        present = sorted(series.monthly())
        # One row per month from the first value to eleven after the last, gaps included:
        # every window of up to twelve months that holds a value ends on a row.
        expected = present[0].months_until(present[-1]) + 1 + 11 if present else 0
        assert rows.count() == expected
        for row in rows:
            month = Month.from_index(row.month_index)
            assert row.month == month.first_day
            rolling = Period.rolling_twelve(month)
            ytd = Period.financial_year_to_date(month)
            r12 = figures.figure_for(series, rolling, aggregation)
            r12_base = figures.figure_for(series, rolling.shift(-12), aggregation)
            fytd = figures.figure_for(series, ytd, aggregation)
            fytd_base = figures.figure_for(series, ytd.shift(-12), aggregation)
            assert close(row.r12_value, r12.value), (month, row.r12_value, r12)
            assert row.r12_months == r12.months_present
            assert close(row.fytd_value, fytd.value), (month, row.fytd_value, fytd)
            assert (row.fytd_months, row.fytd_required) == (
                fytd.months_present,
                fytd.months_required,
            )
            assert close(row.r12_base_value, r12_base.value), (month, row.r12_base_value)
            assert (row.r12_base_months or 0) == r12_base.months_present
            assert close(row.r12_change_pct, figures.change_pct(r12_base.value, r12.value))
            assert close(row.fytd_base_value, fytd_base.value), (month, row.fytd_base_value)
            assert close(row.fytd_change_pct, figures.change_pct(fytd_base.value, fytd.value))
            for prefix, base, current in (("r12", r12_base, r12), ("fytd", fytd_base, fytd)):
                difference = figures.change(base.value, current.value)
                assert getattr(row, f"{prefix}_direction") == figures.direction(
                    difference, polarity
                ), (prefix, month)
                assert close(
                    getattr(row, f"{prefix}_change_pp"),
                    difference if measure.unit == "percent" else None,
                )
            if plan_baseline is None:
                assert row.plan_base_value is row.plan_current_value is row.plan_change is None
                assert row.plan_base_months is row.plan_current_months is None
                continue
            plan_base = figures.figure_for(series, plan_baseline, aggregation)
            window = Period.range(month.shift(1 - plan_baseline.length), month)
            plan_now = figures.figure_for(series, window, aggregation)
            assert close(row.plan_base_value, plan_base.value), (month, row.plan_base_value)
            assert row.plan_base_months == plan_base.months_present
            assert close(row.plan_current_value, plan_now.value), (month, plan_now)
            assert row.plan_current_months == plan_now.months_present, (month, plan_now)
            difference = figures.change(plan_base.value, plan_now.value)
            assert close(row.plan_change, difference)
            assert close(row.plan_change_pct, figures.change_pct(plan_base.value, plan_now.value))
            assert row.plan_direction == figures.direction(difference, polarity), month


def test_a_zero_base_gives_no_percentage_change(small_plan):
    measure = Measure.objects.get(code="t-assaults")
    area = Area.objects.get(code="force")
    store(measure, area, [0] * 12 + [3] * 12 + [None] * 24, ratio=False)

    engine.recompute([measure.pk])

    row = DerivedFigure.objects.get(
        measure=measure, scope="all", month_index=Month(2020, 12).index
    )
    assert (row.r12_base_value, row.r12_value, row.r12_change) == (0, 36, 36)
    assert row.r12_change_pct is None


def test_the_financial_year_restarts_on_1_april(small_plan):
    measure = Measure.objects.get(code="t-assaults")
    area = Area.objects.get(code="force")
    store(measure, area, [1] * MONTHS, ratio=False)

    engine.recompute([measure.pk])

    def fytd(year, month):
        row = DerivedFigure.objects.get(
            measure=measure, scope="all", month_index=Month(year, month).index
        )
        return row.fytd_value, row.fytd_required

    assert fytd(2021, 3) == (12, 12)
    assert fytd(2021, 4) == (1, 1)
    assert fytd(2021, 12) == (9, 9)


def test_recompute_is_idempotent_and_replaces_rows(small_plan):
    measure = Measure.objects.get(code="t-assaults")
    area = Area.objects.get(code="force")
    store(measure, area, [2] * MONTHS, ratio=False)

    first = engine.recompute([measure.pk])
    snapshot = list(DerivedFigure.objects.order_by("pk").values_list("month_index", "r12_value"))
    second = engine.recompute([measure.pk])

    # The approved scope starts a month later (the first value is a draft); each scope
    # has eleven rows after its last value.
    assert first == second == DerivedFigure.objects.count() == 2 * (MONTHS + 11) - 1
    again = list(DerivedFigure.objects.order_by("pk").values_list("month_index", "r12_value"))
    assert sorted(again) == sorted(snapshot)


def test_recompute_issues_the_same_few_queries_whatever_the_size(small_plan):
    measure = Measure.objects.get(code="t-assaults")
    area = Area.objects.get(code="force")
    store(measure, area, [2] * 6 + [None] * (MONTHS - 6), ratio=False)
    # A first run copies the figures straight into the empty table; later runs merge.
    with CaptureQueriesContext(connection) as first:
        engine.recompute()
    store(measure, area, [2] * 7 + [None] * (MONTHS - 7), ratio=False)
    with CaptureQueriesContext(connection) as small:
        engine.recompute()
    store(measure, area, [2] * MONTHS, ratio=False)
    with CaptureQueriesContext(connection) as large:
        engine.recompute()
    assert len(small) == len(large) <= 10
    assert len(first) <= len(small)


def test_spc_flags_a_spike_beyond_the_limits(small_plan):
    measure = Measure.objects.get(code="t-assaults")
    area = Area.objects.get(code="force")
    values = [10, 11] * 15 + [40] + [None] * (MONTHS - 31)
    store(measure, area, values, ratio=False)

    engine.recompute([measure.pk])

    spike = DerivedFigure.objects.get(
        measure=measure, scope="all", month_index=FIRST.shift(30).index
    )
    assert "beyond_limits" in spike.spc_signals
    assert spike.spc_lower < 10 < 11 < spike.spc_upper < 40
    calm = DerivedFigure.objects.get(
        measure=measure, scope="all", month_index=FIRST.shift(29).index
    )
    assert "beyond_limits" not in calm.spc_signals


def test_windows_ending_after_a_series_stops_read_the_same_as_the_pure_functions(small_plan):
    from measures.selectors import series_for
    from tests.factories import reviewer_book, reviewer_reader

    measure = Measure.objects.get(code="t-assaults")
    area = Area.objects.get(code="force")
    store(measure, area, [3] * 30 + [None] * (MONTHS - 30), ratio=False)  # stops 2021-06
    engine.recompute([measure.pk])
    derived = reviewer_book().fetch([measure], [area])[(measure.pk, area.pk)]
    pure = series_for(measures=[measure], areas=[area], reader=reviewer_reader())[
        (measure.pk, area.pk)
    ]

    for end in (Month(2021, 9), Month(2022, 5), Month(2022, 6), Month(2022, 12)):
        rolling = Period.rolling_twelve(end)
        a = derived.compare(rolling.shift(-12), rolling)
        b = pure.compare(rolling.shift(-12), rolling)
        assert (a.current.value, a.current.months_present) == (
            b.current.value,
            b.current.months_present,
        ), end
        assert a.footnotes == b.footnotes, end
        assert derived.is_provisional(rolling) == pure.is_provisional(rolling), end
    # Five months after the last value the window still holds seven of its months.
    late = derived.figure(Period.rolling_twelve(Month(2021, 11)))
    assert (late.value, late.months_present) == (21, 7)


def test_a_recompute_writes_only_the_rows_whose_figures_changed(small_plan):
    measure = Measure.objects.get(code="t-assaults")
    area = Area.objects.get(code="force")
    store(measure, area, [2] * 24 + [None] * (MONTHS - 24), ratio=False)  # 2019-01 .. 2020-12
    # Without a plan baseline, whose figure every month of the series compares against.
    Plan.objects.update(baseline_start=None, baseline_end=None)
    engine.recompute([measure.pk])
    before = {
        (r.scope, r.month_index): (r.pk, r.computed_at, r.r12_value)
        for r in DerivedFigure.objects.all()
    }

    # One value changes; the last one goes; a new one arrives.
    Value.objects.filter(start="2020-06-01").update(value=20)
    Value.objects.filter(start="2020-12-01").delete()
    engine.recompute([measure.pk])
    after = {
        (r.scope, r.month_index): (r.pk, r.computed_at, r.r12_value)
        for r in DerivedFigure.objects.all()
    }

    june, december = Month(2020, 6).index, Month(2020, 12).index
    untouched = [k for k in before if k[1] < june]
    assert untouched and all(after[k] == before[k] for k in untouched), "same pk, same time"
    assert after[("all", june)][0] == before[("all", june)][0], "updated in place"
    assert after[("all", june)][1] > before[("all", june)][1]
    assert after[("all", june)][2] == before[("all", june)][2] + 18
    # Rows now end eleven months after November 2020, the new last value.
    assert max(k[1] for k in after if k[0] == "all") == december - 1 + 11
    assert ("all", december + 11) in before and ("all", december + 11) not in after
    assert engine.recompute([measure.pk]) == DerivedFigure.objects.count()
