"""The engine equals the pure functions on every column, exactly (issue 15).

`figures.figure_for` and `spc.month_checks` are the authority. Generated series are built to
hit what an engine gets wrong when it is only close: values on their mean (a run must break
there), trends of exactly six months, gaps at a window's start, series shorter than the XmR
window, breaks in series, late starts and early stops, drafts, ratio months missing a part,
all four aggregations and plan baselines of 12, 1, 24 and no months; fourteen-digit values
(the engine's Python-integer path) and release-based measures are cases of their own.
Values have up to four decimal places (54.9, 0.1, 33.3333), which binary floating point
cannot hold, so an engine averaging in floating point fails here. Runs on PostgreSQL and
SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from measures.access import Reader
from measures.arithmetic import figures, spc
from measures.arithmetic.periods import Month, Period, parse_period
from measures.engine import derived as engine
from measures.models import Area, DerivedFigure, Measure, Plan, SeriesBreak, Value
from measures.selectors import MeasureSeries, SeriesBook

D = Decimal
FIRST = Month(2018, 1)
MONTHS = 60  # Jan 2018 .. Dec 2022: five financial-year boundaries
BASELINES = {  # the plan's baseline: 12, 1 and 24 months, or none
    "12": "2020-01/2020-12",
    "1": "2020-06",
    "24": "2019-04/2021-03",
    "none": None,
}
# Few distinct values, so that windows often average exactly to a value of theirs.
POOL = [D(v) for v in ("0", "0.1", "0.2", "0.3", "12.5", "54.8", "54.9", "55", "33.3333", "100")]
DENOMINATORS = [0, 1, 3, 7, 10, 50, 99, 100, 250]


@dataclass
class Case:
    aggregation: str
    unit: str
    polarity: str
    baseline: str
    # One entry per month from FIRST: None, or (value, numerator, denominator, approved).
    months: list[tuple[Decimal, Decimal | None, Decimal | None, bool] | None]
    breaks: set[int] = field(default_factory=set)


def ratio_month(numerator: int, denominator: int, parts: str = "both", approved: bool = True):
    value = (D(numerator) / D(denominator) * 100).quantize(D("0.0001")) if denominator else D(0)
    return (
        value,
        None if parts == "no numerator" else D(numerator),
        None if parts == "no denominator" else D(denominator),
        approved,
    )


@st.composite
def cases(draw) -> Case:
    aggregation = draw(st.sampled_from(["sum", "ratio", "mean", "latest"]))
    unit = "percent" if aggregation == "ratio" else draw(st.sampled_from(["count", "percent"]))
    start = draw(st.integers(0, 18))  # a late start
    stop = draw(st.integers(start + 1, MONTHS))  # an early stop, or a short series
    months: list = [None] * MONTHS
    i = start
    while i < stop:
        kind = draw(st.sampled_from(["level", "trend", "noise", "gap"]))
        if kind == "gap":
            i += draw(st.integers(1, 4))
            continue
        length = {
            "level": draw(st.integers(3, 30)),
            "trend": draw(st.integers(5, 7)),  # a trend of six, and either side of six
            "noise": draw(st.integers(1, 8)),
        }[kind]
        if aggregation == "ratio":
            denominator = draw(st.sampled_from(DENOMINATORS))
            numerator = draw(st.integers(0, denominator))
            step = draw(st.sampled_from([-1, 1]))
        else:
            level = draw(st.sampled_from(POOL))
            step = draw(st.sampled_from([D(-1), D("0.1"), D(2)]))
        for n in range(length):
            if i >= stop:
                break
            approved = draw(st.integers(0, 4)) > 0
            if aggregation == "ratio":
                if kind == "noise":
                    denominator = draw(st.sampled_from(DENOMINATORS))
                    numerator = draw(st.integers(0, denominator))
                elif kind == "trend":
                    numerator = min(max(numerator + step, 0), denominator)
                parts = draw(st.sampled_from(["both"] * 6 + ["no numerator", "no denominator"]))
                months[i] = ratio_month(numerator, denominator, parts, approved)
            else:
                if kind == "noise":
                    level = draw(st.sampled_from(POOL))
                value = level + step * n if kind == "trend" else level
                value = min(max(value, D(0)), D(100))
                months[i] = (value, None, None, approved)
            i += 1
    return Case(
        aggregation=aggregation,
        unit=unit,
        polarity=draw(st.sampled_from(["lower_is_better", "higher_is_better", "neutral"])),
        baseline=draw(st.sampled_from(list(BASELINES))),
        months=months,
        breaks=draw(st.sets(st.integers(-2, MONTHS + 2), max_size=2)),
    )


def constant(value: str, count: int = 40, start: int = 0) -> list:
    after = MONTHS - start - count
    return [None] * start + [(D(value), None, None, True)] * count + [None] * after


def store(case: Case) -> tuple[Measure, Area]:
    measure = Measure.objects.get(code="t-assaults")
    measure.aggregation, measure.unit, measure.polarity = (
        case.aggregation,
        case.unit,
        case.polarity,
    )
    measure.save()
    baseline = BASELINES[case.baseline]
    period = parse_period(baseline) if baseline else None
    Plan.objects.update(
        baseline_start=period.start.first_day if period else None,
        baseline_end=period.end.first_day if period else None,
    )
    area = Area.objects.get(code="force")
    Value.objects.filter(measure=measure).delete()
    Value.objects.bulk_create(
        Value(
            measure=measure,
            area=area,
            start=FIRST.shift(i).first_day,
            end=FIRST.shift(i).first_day,
            value=month[0],
            numerator=month[1],
            denominator=month[2],
            status="approved" if month[3] else "draft",
        )
        for i, month in enumerate(case.months)
        if month is not None
    )
    SeriesBreak.objects.filter(measure=measure).delete()
    SeriesBreak.objects.bulk_create(
        SeriesBreak(measure=measure, start=FIRST.shift(i).first_day, reason=f"break {i}")
        for i in case.breaks
    )
    return measure, area


def same(stored: Decimal | None, exact: Decimal | None) -> bool:
    """Stored to six decimal places (a last-place rounding apart), or both missing."""
    if stored is None or exact is None:
        return stored is None and exact is None
    return abs(D(stored) - exact) <= D("0.000001") + abs(exact) * D("1e-12")


def check_engine_equals_pure_functions(case: Case) -> None:
    measure, area = store(case)
    engine.recompute([measure.pk])
    baseline = BASELINES[case.baseline]
    plan_baseline = parse_period(baseline) if baseline else None
    bounds = spc.unit_bounds(case.unit)
    agg = case.aggregation

    for scope in ("all", "approved"):
        kept = {
            i: month
            for i, month in enumerate(case.months)
            if month is not None and (scope == "all" or month[3])
        }
        rows = {
            row.month_index - FIRST.index: row
            for row in DerivedFigure.objects.filter(measure=measure, area=area, scope=scope)
        }
        if not kept:
            assert not rows
            continue
        first, last = min(kept), max(kept)
        # A row for every month from the first value to eleven months after the last.
        assert sorted(rows) == list(range(first, last + 12)), scope
        series = figures.Series(
            (Period.month(FIRST.shift(i)), figures.Observation(m[0], m[1], m[2]))
            for i, m in kept.items()
        )
        drafts = {i for i, m in kept.items() if not m[3]}
        values = [kept[i][0] if i in kept else None for i in range(first, last + 12)]
        checks = spc.month_checks(values, breaks=[b - first for b in case.breaks], bounds=bounds)

        def provisional(period: Period, drafts: set[int] = drafts) -> bool:
            return any(period.start.index <= FIRST.index + i <= period.end.index for i in drafts)

        for i, row in rows.items():
            month = FIRST.shift(i)
            where = (scope, str(month))
            assert row.month == month.first_day
            value = kept[i][0] if i in kept else None
            assert same(row.value, value), where
            assert row.value_approved == (None if value is None else i not in drafts), where

            rolling = Period.rolling_twelve(month)
            ytd = Period.financial_year_to_date(month)
            pairs = {
                "r12": (rolling.shift(-12), rolling),
                "fytd": (ytd.shift(-12), ytd),
            }
            if plan_baseline is not None:
                pairs["plan"] = (
                    plan_baseline,
                    Period.range(month.shift(1 - plan_baseline.length), month),
                )
            for prefix, (base_period, current_period) in pairs.items():
                base = figures.figure_for(series, base_period, agg)
                current = figures.figure_for(series, current_period, agg)
                change = figures.change(base.value, current.value)
                names = {
                    "r12": ("r12_value", "r12_months", "r12_base_value", "r12_base_months"),
                    "fytd": ("fytd_value", "fytd_months", "fytd_base_value", "fytd_base_months"),
                    "plan": (
                        "plan_current_value",
                        "plan_current_months",
                        "plan_base_value",
                        "plan_base_months",
                    ),
                }[prefix]
                got = [getattr(row, name) for name in names]
                assert same(got[0], current.value), (where, prefix, got[0], current)
                assert got[1] == current.months_present, (where, prefix, got[1], current)
                assert same(got[2], base.value), (where, prefix, got[2], base)
                assert (got[3] or 0) == base.months_present, (where, prefix, got[3], base)
                assert same(getattr(row, f"{prefix}_change"), change), (where, prefix)
                assert same(
                    getattr(row, f"{prefix}_change_pct"),
                    figures.change_pct(base.value, current.value),
                ), (where, prefix)
                assert same(
                    getattr(row, f"{prefix}_change_pp"), change if case.unit == "percent" else None
                ), (where, prefix)
                assert getattr(row, f"{prefix}_direction") == figures.direction(
                    change, case.polarity
                ), (where, prefix, base, current)
                if prefix == "r12":
                    assert same(row.r12_numerator, current.numerator), where
                    assert same(row.r12_denominator, current.denominator), where
                if prefix == "fytd":
                    assert row.fytd_required == current.months_required, where
            if plan_baseline is None:
                assert row.plan_base_value is row.plan_current_value is row.plan_change is None
                assert row.plan_base_months is row.plan_current_months is None
                assert row.plan_direction is None
            assert row.approved == (not provisional(rolling) and not provisional(ytd)), where

            check = checks[i - first]
            limits = check.limits
            assert same(row.spc_centre, limits and limits.centre), (where, limits)
            assert same(row.spc_lower, limits and limits.lower), (where, limits)
            assert same(row.spc_upper, limits and limits.upper), (where, limits)
            found = {s for s in row.spc_signals.split(",") if s}
            assert found == {str(s) for s in check.signals}, (where, found, check.signals)


EXACT = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@EXACT
@given(case=cases())
# A constant 54.9 or 0.1 is on its own mean every month: no run, however long (floating
# point puts 0.1 a hair below the mean of twenty-four 0.1s).
@example(case=Case("mean", "percent", "neutral", "12", constant("54.9")))
@example(case=Case("sum", "count", "lower_is_better", "24", constant("0.1", 50, start=3)))
# Trends of exactly six months, rising then falling, after enough history for limits.
@example(
    case=Case(
        "latest",
        "count",
        "higher_is_better",
        "1",
        [(D(v), None, None, True) for v in [5, 6] * 6 + [1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1]]
        + [None] * (MONTHS - 23),
    )
)
# Gaps, one at the start of a window, and a series shorter than the XmR window.
@example(
    case=Case(
        "sum",
        "count",
        "neutral",
        "none",
        [
            (D(v), None, None, True) if v is not None else None
            for v in [0, 40, None, 10, 12, None, None, 11, 13, 10, 12, 11, 13, 10, 30, None, 12]
        ]
        + [None] * (MONTHS - 17),
        breaks={9},
    )
)
# Ratio months missing a part do not count towards the window (figure_for).
@example(
    case=Case(
        "ratio",
        "percent",
        "higher_is_better",
        "12",
        [
            ratio_month(3, 10, ["both", "no numerator", "no denominator"][i % 3], i % 4 > 0)
            for i in range(36)
        ]
        + [None] * (MONTHS - 36),
    )
)
def test_the_engine_equals_the_pure_functions_on_every_column(small_plan, case):
    check_engine_equals_pure_functions(case)


def test_a_value_on_its_mean_breaks_a_run(small_plan):
    # 24 months of 0.1 and 0.3 alternately (mean exactly 0.2), then six months below the
    # mean, one on it, and six more below: two runs of six, neither of them seven.
    history = ["0.1", "0.3"] * 12
    tail = ["0.15"] * 6
    case = Case(
        "sum",
        "count",
        "neutral",
        "none",
        [(D(v), None, None, True) for v in history]
        + [(D(v), None, None, True) for v in tail]
        + [None] * (MONTHS - 30),
    )
    measure, _ = store(case)
    engine.recompute([measure.pk])
    row = DerivedFigure.objects.get(
        measure=measure, scope="all", month_index=FIRST.shift(24).index
    )
    assert row.spc_centre == D("0.2")
    check_engine_equals_pure_functions(case)


def test_a_trend_of_six_marks_all_six_months(small_plan):
    rising = [1, 2, 3, 4, 5, 6]
    case = Case(
        "sum",
        "count",
        "neutral",
        "none",
        [(D(v), None, None, True) for v in [9] * 8 + rising + [6] * 3 + [1, 2, 3, 4, 5]]
        + [None] * (MONTHS - 22),
    )
    measure, _ = store(case)
    engine.recompute([measure.pk])
    marked = {
        row.month_index - FIRST.index
        for row in DerivedFigure.objects.filter(measure=measure, scope="all")
        if "trend_up" in row.spc_signals
    }
    # The six rising months are marked; the five that follow rise too, but only five.
    assert marked == set(range(8, 14))
    check_engine_equals_pure_functions(case)


def test_limits_skip_a_gap_and_leave_out_the_range_into_the_window(small_plan):
    # Month 30's window is months 6..29: it starts with a value whose range from month 5's
    # value is not the window's, and its gap at 20 is skipped (13 to 11 is a range of 2).
    numbers: list[int | None] = [100] * 6 + [10, 12, 11, 13] * 6 + [12]
    numbers[20] = None
    assert len(numbers) == 31
    case = Case(
        "sum",
        "count",
        "neutral",
        "none",
        [(D(v), None, None, True) if v is not None else None for v in numbers]
        + [None] * (MONTHS - 31),
    )
    measure, _ = store(case)
    engine.recompute([measure.pk])
    row = DerivedFigure.objects.get(
        measure=measure, scope="all", month_index=FIRST.shift(30).index
    )
    window = [D(v) for v in numbers[6:30] if v is not None]
    limits = spc.xmr_limits(window, bounds=spc.unit_bounds("count"))
    assert limits is not None
    assert same(row.spc_centre, limits.centre) and same(row.spc_upper, limits.upper)
    check_engine_equals_pure_functions(case)


def test_a_ratio_window_counts_only_months_with_both_parts(small_plan):
    months = [ratio_month(1, 4)] * 12 + [ratio_month(1, 4, "no denominator")] * 2
    case = Case("ratio", "percent", "neutral", "none", months + [None] * (MONTHS - 14))
    measure, _ = store(case)
    engine.recompute([measure.pk])
    row = DerivedFigure.objects.get(
        measure=measure, scope="all", month_index=FIRST.shift(13).index
    )
    assert (row.r12_value, row.r12_months, row.r12_numerator, row.r12_denominator) == (
        25,
        10,
        10,
        40,
    )
    check_engine_equals_pure_functions(case)


def test_the_engine_reads_values_to_their_four_decimal_places():
    # The SQLite engine counts ten-thousandths (engine.SCALE): the model must agree.
    assert 10 ** Value._meta.get_field("value").decimal_places == engine.SCALE
    assert 10 ** Value._meta.get_field("numerator").decimal_places == engine.SCALE
    assert 10 ** Value._meta.get_field("denominator").decimal_places == engine.SCALE


@pytest.mark.postgres  # SQLite stores decimals as binary floating point: 18 digits do not fit
def test_values_too_large_for_64_bit_products_are_still_exact(small_plan):
    # Fourteen-digit values with four decimals (the largest a value field holds): their
    # products overflow 64-bit integers, so the engine computes them in Python integers.
    large = [D("98765432109876.5432"), D("12345678901234.0001"), D("55555555555555.5555")]
    months = [(large[i % 3] + i, None, None, i % 5 != 0) for i in range(40)]
    for aggregation, polarity in (("sum", "lower_is_better"), ("mean", "neutral")):
        check_engine_equals_pure_functions(
            Case(aggregation, "count", polarity, "12", months + [None] * (MONTHS - 40))
        )
    ratio = [
        (D(n * 100) / D(d), D(n * 10**9), D(d * 10**9), True)
        for n, d in ((7, 9), (1, 3), (5, 7), (2, 3)) * 10
    ]
    ratio = [(v.quantize(D("0.0001")), n, d, ok) for v, n, d, ok in ratio]
    check_engine_equals_pure_functions(
        Case("ratio", "percent", "higher_is_better", "24", ratio + [None] * (MONTHS - 40))
    )


def test_release_based_figures_leave_the_monthly_figures_as_they_are(small_plan, admin_user):
    # A release-based measure (SPEC §2): figures for 12 months to a quarter end, stored for
    # that period with the month of their release, beside monthly values that arrived late
    # (a release month of their own). The engine materialises monthly values only, and
    # equals the pure functions on them; the release's figures are read from the values.
    case = Case("sum", "count", "lower_is_better", "12", constant("5", count=30, start=6))
    check_engine_equals_pure_functions(case)  # the monthly values alone
    measure = Measure.objects.get(code="t-assaults")
    area = Area.objects.get(code="force")
    columns = [c for c in engine.COLUMN_NAMES if c != "computed_at"]
    before = sorted(DerivedFigure.objects.filter(measure=measure).values_list(*columns))

    measure.frequency = Measure.Frequency.RELEASE
    measure.save()
    Value.objects.filter(measure=measure, start__gte=FIRST.shift(30).first_day).update(
        released_on=FIRST.shift(38).first_day
    )
    Value.objects.create(
        measure=measure,
        area=area,
        start=FIRST.shift(12).first_day,
        end=FIRST.shift(23).first_day,
        value=D("45"),
        released_on=FIRST.shift(28).first_day,
        status="approved",
    )
    engine.recompute([measure.pk])
    # The same monthly figures, equal to the pure functions as checked above.
    assert sorted(DerivedFigure.objects.filter(measure=measure).values_list(*columns)) == before

    series = SeriesBook(Reader.of(admin_user)).fetch([measure], [area])[(measure.pk, area.pk)]
    assert isinstance(series, MeasureSeries)  # read from its values, the release included
    release = Period(FIRST.shift(12), FIRST.shift(23))
    assert series.figure(release).value == D("45")
