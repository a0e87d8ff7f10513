"""Figures for periods, changes, partial-data comparisons and year-to-date tables (SPEC §4)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from measures.arithmetic.figures import (
    AGGREGATIONS,
    POLARITIES,
    UNITS,
    Comparison,
    Observation,
    Series,
    change,
    change_pct,
    compare,
    direction,
    figure_for,
    year_to_date,
)
from measures.arithmetic.formatting import round_half_up
from measures.arithmetic.periods import Month, Period

D = Decimal
DEC_2020 = Month(2020, 12)
DEC_2022 = Month(2022, 12)


def month_values(start: Month, values: Iterable[int | str | Decimal | None]) -> Series:
    """Return a series of single-month values from `start` onwards (None leaves a gap)."""
    return Series(
        (Period.month(start.shift(offset)), Observation(D(value)))
        for offset, value in enumerate(values)
        if value is not None
    )


def constant_months(first: Month, last: Month, value: int = 1) -> Series:
    """Return a series with `value` in every month from `first` to `last`."""
    return month_values(first, [value] * (first.months_until(last) + 1))


def spread(total: int, months: int) -> list[int]:
    """Return `months` whole numbers summing to `total`."""
    share, remainder = divmod(total, months)
    return [share + (1 if i < remainder else 0) for i in range(months)]


def ytd_series(totals_by_financial_year: dict[int, int], *, last: Month = DEC_2022) -> Series:
    """Return monthly counts whose April-December totals are the given ones.

    January to March of each financial year hold large values so that a window that wrongly
    includes them shows up in the totals.
    """
    pairs = []
    for year, total in totals_by_financial_year.items():
        counts = spread(total, 9) + [99_999] * 3
        for offset, count in enumerate(counts):
            month = Month(year, 4).shift(offset)
            if month <= last:
                pairs.append((Period.month(month), Observation(D(count))))
    return Series(pairs)


# The seed's "Year-to-Date comparison - All Crime", 1st April - 31st December.
ALL_CRIME = {2019: 109_228, 2020: 90_610, 2021: 103_809, 2022: 100_655}


class TestSeries:
    def test_stored_finds_a_value_by_its_months_whatever_their_kind(self) -> None:
        observation = Observation(D(7))
        series = Series({Period.financial_quarter(2022, 3): observation})
        assert series.stored(Period.calendar_quarter(2022, 4)) is observation
        assert series.stored(Period.range(Month(2022, 10), Month(2022, 12))) is observation
        assert series.stored(Period.month(Month(2022, 10))) is None

    def test_it_accepts_pairs_as_well_as_a_mapping(self) -> None:
        pairs = [(Period.month(DEC_2022), Observation(D(1)))]
        assert Series(pairs).stored(Period.month(DEC_2022)) == Series(dict(pairs)).stored(
            Period.month(DEC_2022)
        )

    def test_it_refuses_two_observations_for_the_same_months(self) -> None:
        with pytest.raises(ValueError, match="Two observations for Oct–Dec 2022"):
            Series(
                [
                    (Period.calendar_quarter(2022, 4), Observation(D(1))),
                    (Period.financial_quarter(2022, 3), Observation(D(2))),
                ]
            )

    def test_monthly_holds_only_single_month_observations(self) -> None:
        series = Series(
            {
                Period.month(Month(2022, 11)): Observation(D(1)),
                Period.month(DEC_2022): Observation(D(2)),
                Period.calendar_quarter(2022, 4): Observation(D(3)),
            }
        )
        assert series.monthly() == {
            Month(2022, 11): Observation(D(1)),
            DEC_2022: Observation(D(2)),
        }

    def test_latest_month_is_the_last_month_with_data(self) -> None:
        series = month_values(Month(2022, 1), [1, 2, 3])
        assert series.latest_month() == Month(2022, 3)

    def test_latest_month_looks_no_later_than_asked(self) -> None:
        series = month_values(Month(2022, 1), [1, 2, 3])
        assert series.latest_month(Month(2022, 2)) == Month(2022, 2)
        assert series.latest_month(Month(2021, 12)) is None

    def test_latest_month_counts_a_multi_month_value_at_its_end(self) -> None:
        series = Series({Period.financial_quarter(2022, 3): Observation(D(3))})
        assert series.latest_month() == DEC_2022
        assert series.latest_month(Month(2022, 11)) is None

    def test_latest_month_ignores_observations_without_a_number(self) -> None:
        series = Series(
            {
                Period.month(Month(2022, 11)): Observation(D(1)),
                Period.month(DEC_2022): Observation(None),
            }
        )
        assert series.latest_month() == Month(2022, 11)

    def test_latest_month_of_an_empty_series_is_none(self) -> None:
        assert Series({}).latest_month() is None
        assert len(Series({})) == 0


class TestFigureFor:
    def test_a_value_stored_for_exactly_the_period_wins(self) -> None:
        window = Period.rolling_twelve(DEC_2022)
        series = Series(
            [(window, Observation(D(100)))]
            + [(Period.month(m), Observation(D(10))) for m in window.months]
        )
        figure = figure_for(series, window, "sum")
        assert figure.value == D(100)
        assert figure.stored
        assert (figure.months_present, figure.months_required) == (12, 12)
        assert figure.complete

    def test_a_stored_value_matches_a_period_of_another_kind(self) -> None:
        series = Series({Period.financial_year(2022): Observation(D(5))})
        figure = figure_for(series, Period.rolling_twelve(Month(2023, 3)), "sum")
        assert figure.value == D(5)
        assert figure.stored

    def test_a_stored_empty_value_falls_back_to_the_months(self) -> None:
        quarter = Period.calendar_quarter(2022, 4)
        series = Series(
            [(quarter, Observation(None))]
            + [(Period.month(m), Observation(D(2))) for m in quarter.months]
        )
        figure = figure_for(series, quarter, "sum")
        assert figure.value == D(6)
        assert not figure.stored

    def test_sum_adds_the_monthly_values(self) -> None:
        series = month_values(Month(2022, 10), ["1.5", 2, 3])
        figure = figure_for(series, Period.calendar_quarter(2022, 4), "sum")
        assert figure.value == D("6.5")
        assert not figure.stored
        assert figure.complete
        assert figure.coverage == 1.0

    def test_a_figure_with_missing_months_says_how_many_it_has(self) -> None:
        series = month_values(Month(2022, 10), [1, None, 3])
        figure = figure_for(series, Period.calendar_quarter(2022, 4), "sum")
        assert figure.value == D(4)
        assert (figure.months_present, figure.months_required) == (2, 3)
        assert figure.coverage == pytest.approx(2 / 3)
        assert not figure.complete

    def test_months_outside_the_period_are_left_out(self) -> None:
        series = month_values(Month(2022, 9), [100, 1, 2, 3, 100])
        assert figure_for(series, Period.calendar_quarter(2022, 4), "sum").value == D(6)

    @pytest.mark.parametrize("aggregation", AGGREGATIONS)
    def test_a_period_without_data_has_no_value(self, aggregation: str) -> None:
        series = month_values(Month(2020, 1), [1, 2, 3])
        figure = figure_for(series, Period.calendar_quarter(2022, 4), aggregation)
        assert figure.value is None
        assert figure.months_present == 0
        assert figure.coverage == 0.0

    def test_quarterly_values_add_up_to_a_financial_year(self) -> None:
        series = Series(
            {Period.financial_quarter(2022, q): Observation(D(q * 10)) for q in (1, 2, 3, 4)}
        )
        figure = figure_for(series, Period.financial_year(2022), "sum")
        assert figure.value == D(100)
        assert figure.complete
        assert not figure.stored

    def test_monthly_values_come_first_and_quarters_fill_the_rest(self) -> None:
        pairs = [(Period.month(Month(2022, m)), Observation(D(1))) for m in (4, 5, 6)]
        pairs += [
            (Period.financial_quarter(2022, 1), Observation(D(1000))),  # overlaps the months
            (Period.financial_quarter(2022, 2), Observation(D(20))),
            (Period.financial_quarter(2022, 3), Observation(D(30))),
        ]
        figure = figure_for(Series(pairs), Period.financial_year_to_date(DEC_2022), "sum")
        assert figure.value == D(53)
        assert figure.complete

    def test_a_quarter_partly_covered_by_months_is_not_used(self) -> None:
        series = Series(
            {
                Period.month(Month(2022, 10)): Observation(D(1)),
                Period.calendar_quarter(2022, 4): Observation(D(1000)),
            }
        )
        figure = figure_for(series, Period.calendar_year(2022), "sum")
        assert figure.value == D(1)
        assert figure.months_present == 1

    def test_a_value_reaching_outside_the_period_is_not_used(self) -> None:
        series = Series({Period.calendar_quarter(2022, 4): Observation(D(9))})
        figure = figure_for(series, Period.financial_year_to_date(Month(2022, 11)), "sum")
        assert figure.value is None

    def test_overlapping_stored_values_are_never_counted_twice(self) -> None:
        half = Period.range(Month(2022, 4), Month(2022, 9))
        series = Series(
            {
                half: Observation(D(60)),
                Period.financial_quarter(2022, 1): Observation(D(25)),
                Period.financial_quarter(2022, 2): Observation(D(35)),
                Period.financial_quarter(2022, 3): Observation(D(30)),
            }
        )
        figure = figure_for(series, Period.financial_year_to_date(DEC_2022), "sum")
        assert figure.value == D(90)
        assert figure.months_present == 9

    def test_ratio_divides_the_summed_numerator_by_the_summed_denominator(self) -> None:
        series = Series(
            {
                Period.month(Month(2022, 11)): Observation(D(50), D(1), D(2)),
                Period.month(DEC_2022): Observation(D(90), D(9), D(10)),
            }
        )
        figure = figure_for(series, Period.range(Month(2022, 11), DEC_2022), "ratio")
        # Not the mean of 50% and 90%: the months are weighted by their denominators.
        assert figure.value == D(10) / D(12) * 100
        assert (figure.numerator, figure.denominator) == (D(10), D(12))

    def test_ratio_of_a_zero_denominator_has_no_value(self) -> None:
        series = Series({Period.month(DEC_2022): Observation(None, D(0), D(0))})
        figure = figure_for(series, Period.calendar_quarter(2022, 4), "ratio")
        assert figure.value is None
        assert figure.months_present == 1

    def test_ratio_ignores_a_month_stored_only_as_a_percentage(self) -> None:
        series = Series(
            {
                Period.month(Month(2022, 11)): Observation(D(10)),
                Period.month(DEC_2022): Observation(D(50), D(1), D(2)),
            }
        )
        figure = figure_for(series, Period.range(Month(2022, 11), DEC_2022), "ratio")
        assert figure.value == D(50)
        assert figure.months_present == 1

    def test_ratio_uses_a_percentage_stored_for_exactly_the_period(self) -> None:
        window = Period.rolling_twelve(DEC_2022)
        series = Series({window: Observation(D("70.2"))})
        assert figure_for(series, window, "ratio").value == D("70.2")

    def test_ratio_stored_for_the_period_as_counts_only_is_worked_out(self) -> None:
        window = Period.rolling_twelve(DEC_2022)
        series = Series({window: Observation(None, D(1), D(4))})
        figure = figure_for(series, window, "ratio")
        assert figure.value == D(25)
        assert figure.stored

    def test_mean_averages_the_monthly_values(self) -> None:
        series = month_values(Month(2022, 10), [40, 50, 51])
        assert figure_for(series, Period.calendar_quarter(2022, 4), "mean").value == D(47)

    def test_mean_weights_a_multi_month_value_by_its_length(self) -> None:
        series = Series(
            {
                Period.calendar_quarter(2022, 3): Observation(D(10)),
                Period.month(Month(2022, 10)): Observation(D(50)),
            }
        )
        figure = figure_for(series, Period.range(Month(2022, 7), Month(2022, 10)), "mean")
        assert figure.value == D(20)

    def test_latest_takes_the_value_of_the_last_month(self) -> None:
        series = month_values(Month(2022, 10), [5, 9, 7])
        assert figure_for(series, Period.calendar_quarter(2022, 4), "latest").value == D(7)

    def test_latest_takes_the_latest_ending_value_even_if_stored_for_a_quarter(self) -> None:
        series = Series(
            {
                Period.month(Month(2022, 6)): Observation(D(1)),
                Period.calendar_quarter(2022, 3): Observation(D(2)),
            }
        )
        assert figure_for(series, Period.calendar_year(2022), "latest").value == D(2)

    def test_it_refuses_an_unknown_aggregation(self) -> None:
        with pytest.raises(ValueError, match="aggregation 'median'"):
            figure_for(Series({}), Period.calendar_year(2022), "median")


values = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False)
positive_values = st.decimals(min_value=1, max_value=10**6, places=2, allow_nan=False)
# Keep the windows well inside 1900-2999.
window_ends = st.integers(Month(1950, 1).index, Month(2950, 12).index).map(Month.from_index)


def series_of(start: Month, values_: Sequence[Decimal]) -> Series:
    return month_values(start, values_)


class TestAggregationProperties:
    @given(window_ends, st.lists(values, min_size=2, max_size=36), st.data())
    def test_sum_of_a_window_is_the_sum_of_its_two_halves(
        self, start: Month, values_: list[Decimal], data: st.DataObject
    ) -> None:
        series = series_of(start, values_)
        split = data.draw(st.integers(1, len(values_) - 1))
        end = start.shift(len(values_) - 1)
        first = Period.range(start, start.shift(split - 1))
        second = Period.range(start.shift(split), end)
        whole = figure_for(series, Period.range(start, end), "sum").value
        halves = [figure_for(series, half, "sum").value for half in (first, second)]
        assert whole == sum(halves, D(0))
        assert whole == sum(values_, D(0))

    @given(window_ends, st.lists(st.tuples(values, positive_values), min_size=1, max_size=24))
    def test_ratio_is_the_summed_numerator_over_the_summed_denominator(
        self, start: Month, parts: list[tuple[Decimal, Decimal]]
    ) -> None:
        series = Series(
            (Period.month(start.shift(i)), Observation(None, numerator, denominator))
            for i, (numerator, denominator) in enumerate(parts)
        )
        period = Period.range(start, start.shift(len(parts) - 1))
        numerator = sum((n for n, _ in parts), D(0))
        denominator = sum((d for _, d in parts), D(0))
        figure = figure_for(series, period, "ratio")
        assert figure.value == numerator / denominator * 100
        assert (figure.numerator, figure.denominator) == (numerator, denominator)

    @given(window_ends, st.lists(values, min_size=1, max_size=36))
    def test_mean_lies_between_the_smallest_and_largest_value(
        self, start: Month, values_: list[Decimal]
    ) -> None:
        period = Period.range(start, start.shift(len(values_) - 1))
        mean = figure_for(series_of(start, values_), period, "mean").value
        assert mean is not None
        assert min(values_) <= mean <= max(values_)

    @given(window_ends, st.lists(st.one_of(st.none(), values), min_size=1, max_size=36))
    def test_latest_is_the_last_value_present(
        self, start: Month, values_: list[Decimal | None]
    ) -> None:
        present = [value for value in values_ if value is not None]
        period = Period.range(start, start.shift(len(values_) - 1))
        figure = figure_for(series_of(start, values_), period, "latest")
        assert figure.value == (present[-1] if present else None)
        assert figure.months_present == len(present)

    @given(window_ends, st.lists(st.one_of(st.none(), values), min_size=1, max_size=36))
    def test_coverage_is_the_share_of_months_with_data(
        self, start: Month, values_: list[Decimal | None]
    ) -> None:
        period = Period.range(start, start.shift(len(values_) - 1))
        figure = figure_for(series_of(start, values_), period, "sum")
        present = sum(value is not None for value in values_)
        assert figure.coverage == present / len(values_)
        assert figure.complete == (present == len(values_))

    @given(st.integers(1950, 2950), st.lists(values, min_size=12, max_size=12))
    def test_quarters_built_from_months_give_the_same_year_as_the_months(
        self, year: int, values_: list[Decimal]
    ) -> None:
        quarters = Series(
            (Period.financial_quarter(year, q), Observation(sum(values_[3 * q - 3 : 3 * q], D(0))))
            for q in (1, 2, 3, 4)
        )
        months = series_of(Month(year, 4), values_)
        financial_year = Period.financial_year(year)
        assert (
            figure_for(quarters, financial_year, "sum").value
            == figure_for(months, financial_year, "sum").value
        )


class TestChange:
    def test_change_is_current_minus_base(self) -> None:
        assert change(D(23), D(14)) == D(-9)
        assert change(D("69.8"), D("70.2")) == D("0.4")

    @pytest.mark.parametrize(("base", "current"), [(None, D(1)), (D(1), None), (None, None)])
    def test_change_of_a_missing_figure_is_none(
        self, base: Decimal | None, current: Decimal | None
    ) -> None:
        assert change(base, current) is None
        assert change_pct(base, current) is None

    @pytest.mark.parametrize(
        ("base", "current", "expected"),
        [
            (23, 14, "-39.1"),
            (44, 79, "79.5"),
            (7, 8, "14.3"),
            (110, 87, "-20.9"),
            (16_127, 15_627, "-3.1"),
            (5_744, 6_014, "4.7"),
        ],
    )
    def test_change_pct_matches_the_seed_national_picture(
        self, base: int, current: int, expected: str
    ) -> None:
        pct = change_pct(D(base), D(current))
        assert pct is not None
        assert round_half_up(pct, 1) == D(expected)

    def test_change_pct_from_zero_is_none_not_an_error(self) -> None:
        assert change_pct(D(0), D(5)) is None
        assert change_pct(D(0), D(0)) is None
        assert change(D(0), D(5)) == D(5)

    @given(positive_values, values)
    def test_change_pct_has_the_sign_of_the_change(self, base: Decimal, current: Decimal) -> None:
        pct = change_pct(base, current)
        difference = change(base, current)
        assert pct is not None and difference is not None
        assert (pct > 0) == (difference > 0)
        assert (pct == 0) == (difference == 0)

    @given(positive_values, values)
    def test_change_pct_scales_the_change_by_the_base(
        self, base: Decimal, current: Decimal
    ) -> None:
        pct = change_pct(base, current)
        assert pct is not None
        assert abs(base + base * pct / 100 - current) < D("1e-15")


class TestDirection:
    @pytest.mark.parametrize(
        ("change_", "polarity", "expected"),
        [
            (D(-1), "lower_is_better", "improving"),
            (D(1), "lower_is_better", "worsening"),
            (D(0), "lower_is_better", "no_change"),
            (D(1), "higher_is_better", "improving"),
            (D(-1), "higher_is_better", "worsening"),
            (D(0), "higher_is_better", "no_change"),
            (D(1), "neutral", "up"),
            (D(-1), "neutral", "down"),
            (D(0), "neutral", "no_change"),
            (D("-0.0001"), "lower_is_better", "improving"),
        ],
    )
    def test_direction_follows_the_sign_and_the_polarity(
        self, change_: Decimal, polarity: str, expected: str
    ) -> None:
        assert direction(change_, polarity) == expected

    @pytest.mark.parametrize("polarity", POLARITIES)
    def test_no_change_figure_has_no_direction(self, polarity: str) -> None:
        assert direction(None, polarity) is None

    def test_it_refuses_an_unknown_polarity(self) -> None:
        with pytest.raises(ValueError, match="polarity 'up_is_good'"):
            direction(D(1), "up_is_good")

    @given(st.decimals(allow_nan=False, allow_infinity=False))
    def test_opposite_polarities_disagree_unless_nothing_changed(self, change_: Decimal) -> None:
        lower = direction(change_, "lower_is_better")
        higher = direction(change_, "higher_is_better")
        if change_ == 0:
            assert lower == higher == "no_change"
        else:
            assert {lower, higher} == {"improving", "worsening"}


def compare_counts(series: Series, base: Period, current: Period) -> Comparison:
    return compare(
        series,
        base,
        current,
        aggregation="sum",
        unit="count",
        polarity="lower_is_better",
    )


class TestCompare:
    def test_it_compares_the_seed_firearms_offences(self) -> None:
        base, current = Period.rolling_twelve(DEC_2020), Period.rolling_twelve(DEC_2022)
        series = Series(
            [
                (Period.month(m), Observation(D(v)))
                for m, v in zip(base.months, spread(44, 12), strict=True)
            ]
            + [
                (Period.month(m), Observation(D(v)))
                for m, v in zip(current.months, spread(79, 12), strict=True)
            ]
        )
        comparison = compare(
            series, base, current, aggregation="sum", unit="count", polarity="lower_is_better"
        )
        assert (comparison.base.value, comparison.current.value) == (D(44), D(79))
        assert comparison.change == D(35)
        assert comparison.change_pct is not None
        assert round_half_up(comparison.change_pct, 1) == D("79.5")
        assert comparison.change_pp is None
        assert comparison.direction == "worsening"
        assert comparison.footnotes == ()
        assert not comparison.partial
        assert comparison.base.period == base
        assert comparison.current.period == current

    def test_a_percent_measure_changes_in_percentage_points(self) -> None:
        base, current = Period.rolling_twelve(DEC_2020), Period.rolling_twelve(DEC_2022)
        series = Series({base: Observation(D("69.8")), current: Observation(D("70.2"))})
        comparison = compare(
            series, base, current, aggregation="ratio", unit="percent", polarity="higher_is_better"
        )
        assert comparison.change_pp == D("0.4")
        assert comparison.change == D("0.4")
        assert comparison.change_pct == D("0.4") / D("69.8") * 100
        assert comparison.direction == "improving"

    def test_a_twelve_month_window_moves_back_when_its_last_months_are_missing(self) -> None:
        series = constant_months(Month(2019, 1), Month(2022, 9))
        base, current = Period.rolling_twelve(DEC_2020), Period.rolling_twelve(DEC_2022)
        comparison = compare_counts(series, base, current)
        assert comparison.current.period == Period.range(Month(2021, 10), Month(2022, 9))
        assert comparison.base.period == Period.range(Month(2019, 10), Month(2020, 9))
        assert comparison.requested_current == current
        assert comparison.requested_base == base
        assert comparison.partial
        assert comparison.footnotes == (
            "Data 12 months to end of September 2020 and September 2022 as October, November "
            "and December's data isn't yet available",
        )
        assert comparison.current.complete and comparison.base.complete
        assert comparison.current.value == comparison.base.value == D(12)

    def test_one_missing_month_is_named_alone(self) -> None:
        series = constant_months(Month(2019, 1), Month(2022, 11))
        comparison = compare_counts(
            series, Period.rolling_twelve(DEC_2020), Period.rolling_twelve(DEC_2022)
        )
        assert comparison.footnotes == (
            "Data 12 months to end of November 2020 and November 2022 as December's data "
            "isn't yet available",
        )
        assert comparison.current.period.label == "12 months to Nov 2022"

    def test_two_missing_months_are_joined_with_and(self) -> None:
        series = constant_months(Month(2019, 1), Month(2022, 10))
        comparison = compare_counts(
            series, Period.rolling_twelve(DEC_2020), Period.rolling_twelve(DEC_2022)
        )
        assert comparison.footnotes[0].endswith(
            "as November and December's data isn't yet available"
        )

    def test_a_window_of_several_years_moves_back_too(self) -> None:
        series = constant_months(Month(2015, 1), Month(2022, 11))
        base = Period.range(Month(2017, 1), Month(2018, 12))
        current = Period.range(Month(2021, 1), DEC_2022)
        comparison = compare_counts(series, base, current)
        assert comparison.current.period == Period.range(Month(2020, 12), Month(2022, 11))
        assert comparison.base.period == Period.range(Month(2016, 12), Month(2018, 11))
        assert comparison.footnotes[0].startswith("Data 24 months to end of November 2018 and")

    def test_a_financial_year_to_date_is_cut_short_keeping_its_start(self) -> None:
        series = constant_months(Month(2021, 1), Month(2022, 11))
        base = Period.financial_year_to_date(Month(2021, 12))
        current = Period.financial_year_to_date(DEC_2022)
        comparison = compare_counts(series, base, current)
        assert comparison.current.period == Period.range(Month(2022, 4), Month(2022, 11))
        assert comparison.base.period == Period.range(Month(2021, 4), Month(2021, 11))
        assert comparison.footnotes == (
            "Data 1st April – 30th November 2022 compared with 1st April – 30th November 2021 "
            "as December's data isn't yet available",
        )
        assert comparison.partial
        assert comparison.change == D(0)

    def test_a_quarter_is_cut_short_keeping_its_start(self) -> None:
        series = constant_months(Month(2021, 1), Month(2022, 11))
        comparison = compare_counts(
            series, Period.calendar_quarter(2021, 4), Period.financial_quarter(2022, 3)
        )
        assert comparison.current.period == Period.range(Month(2022, 10), Month(2022, 11))
        assert comparison.footnotes == (
            "Data Oct–Nov 2022 compared with Oct–Nov 2021 as December's data isn't yet available",
        )

    def test_a_value_stored_for_the_current_window_is_used_without_moving(self) -> None:
        current = Period.rolling_twelve(DEC_2022)
        base = Period.rolling_twelve(DEC_2020)
        series = Series(
            {
                current: Observation(D(14)),
                base: Observation(D(23)),
                Period.month(Month(2022, 6)): Observation(D(1)),
            }
        )
        comparison = compare_counts(series, base, current)
        assert comparison.current.period == current
        assert comparison.base.period == base
        assert not comparison.partial
        assert comparison.footnotes == ()
        assert (comparison.base.value, comparison.current.value) == (D(23), D(14))

    def test_a_current_window_without_data_is_not_moved_and_says_so(self) -> None:
        series = constant_months(Month(2019, 1), Month(2020, 12))
        base, current = Period.rolling_twelve(DEC_2020), Period.rolling_twelve(DEC_2022)
        comparison = compare_counts(series, base, current)
        assert comparison.current.period == current
        assert comparison.current.value is None
        assert comparison.change is None
        assert comparison.change_pct is None
        assert comparison.direction is None
        assert not comparison.partial
        assert comparison.footnotes == ("No data available for 12 months to Dec 2022",)

    def test_an_incomplete_base_is_footnoted(self) -> None:
        series = constant_months(Month(2020, 3), Month(2022, 12))
        comparison = compare_counts(
            series, Period.rolling_twelve(DEC_2020), Period.rolling_twelve(DEC_2022)
        )
        assert comparison.base.value == D(10)
        assert comparison.footnotes == (
            "12 months to Dec 2020 figure covers 10 of 12 months",
            "Change not shown: 12 months to Dec 2020 is built from 10 of its 12 months, so it "
            "is not compared like for like",
        )
        assert comparison.change is comparison.change_pct is comparison.direction is None
        assert not comparison.partial

    def test_a_base_without_data_is_footnoted(self) -> None:
        series = constant_months(Month(2022, 1), Month(2022, 12))
        comparison = compare_counts(
            series, Period.rolling_twelve(DEC_2020), Period.rolling_twelve(DEC_2022)
        )
        assert comparison.base.value is None
        assert comparison.change_pct is None
        assert comparison.footnotes == ("No data available for 12 months to Dec 2020",)

    def test_a_gap_inside_the_current_window_is_footnoted_not_moved(self) -> None:
        current = month_values(Month(2022, 1), [1] * 5 + [None] + [1] * 6)
        base = constant_months(Month(2020, 1), DEC_2020)
        series = Series(current.items() + base.items())
        comparison = compare_counts(
            series, Period.rolling_twelve(DEC_2020), Period.rolling_twelve(DEC_2022)
        )
        assert not comparison.partial
        assert comparison.footnotes == (
            "12 months to Dec 2022 figure covers 11 of 12 months",
            "Change not shown: 12 months to Dec 2022 is built from 11 of its 12 months, so it "
            "is not compared like for like",
        )
        assert comparison.change is None and comparison.current.value == D(11)

    def test_quarterly_values_move_back_by_whole_quarters(self) -> None:
        pairs = [
            (Period.financial_quarter(year, q), Observation(D(q)))
            for year in (2019, 2020, 2021)
            for q in (1, 2, 3, 4)
        ]
        pairs += [(Period.financial_quarter(2022, q), Observation(D(q))) for q in (1, 2, 3)]
        comparison = compare_counts(
            Series(pairs), Period.financial_year(2020), Period.financial_year(2022)
        )
        assert comparison.current.period == Period.calendar_year(2022)
        assert comparison.base.period == Period.calendar_year(2020)
        assert comparison.current.value == comparison.base.value == D(10)
        assert comparison.current.complete

    @pytest.mark.parametrize(
        ("argument", "value"),
        [("aggregation", "median"), ("unit", "furlongs"), ("polarity", "sideways")],
    )
    def test_it_refuses_unknown_measure_settings(self, argument: str, value: str) -> None:
        settings = {"aggregation": "sum", "unit": "count", "polarity": "neutral", argument: value}
        with pytest.raises(ValueError, match=f"{argument} '{value}'"):
            compare(
                Series({}),
                Period.rolling_twelve(DEC_2020),
                Period.rolling_twelve(DEC_2022),
                **settings,
            )

    @pytest.mark.parametrize("unit", [u for u in UNITS if u != "percent"])
    def test_only_percent_measures_have_a_change_in_points(self, unit: str) -> None:
        base, current = Period.month(Month(2022, 11)), Period.month(DEC_2022)
        series = month_values(Month(2022, 11), [1, 2])
        comparison = compare(
            series, base, current, aggregation="sum", unit=unit, polarity="neutral"
        )
        assert comparison.change == D(1)
        assert comparison.change_pp is None
        assert comparison.direction == "up"

    @given(
        st.integers(Month(1990, 1).index, Month(2900, 12).index).map(Month.from_index),
        st.integers(1, 36),
        st.integers(1, 5),
        st.integers(0, 40),
    )
    def test_it_never_compares_windows_of_different_lengths(
        self, end: Month, length: int, years_back: int, missing: int
    ) -> None:
        current = Period.range(end.shift(1 - length), end)
        base = current.shift(-12 * years_back)
        last_with_data = end.shift(-missing)
        # Start early enough that a base window moved back by `missing` still has every month.
        series = constant_months(base.start.shift(-48), last_with_data)
        comparison = compare_counts(series, base, current)
        used_base, used_current = comparison.base.period, comparison.current.period
        assert used_base.length == used_current.length
        assume(last_with_data >= current.start)
        assert used_current.end == last_with_data
        assert comparison.partial == (missing > 0)
        assert used_base.end == used_current.end.shift(base.end.months_until(current.end) * -1)
        if length % 12 == 0:
            assert used_current.length == length
        else:
            assert used_current.start == current.start
            assert used_base.start == base.start
        assert comparison.current.complete
        assert comparison.base.complete
        assert comparison.change == 0


class TestYearToDate:
    def test_it_reproduces_the_seed_all_crime_table(self) -> None:
        table = year_to_date(ytd_series(ALL_CRIME), DEC_2022, years=4, aggregation="sum")
        assert [row.label for row in table.rows] == ["2019", "2020", "2021", "2022"]
        assert [row.financial_year for row in table.rows] == [2019, 2020, 2021, 2022]
        assert [row.figure.value for row in table.rows] == [D(v) for v in ALL_CRIME.values()]
        assert table.rows[0].change is None
        assert table.rows[0].change_pct is None
        assert [round_half_up(row.change_pct, 1) for row in table.rows[1:]] == [  # type: ignore[arg-type]
            D("-17.0"),
            D("14.6"),
            D("-3.0"),
        ]
        assert [row.change for row in table.rows[1:]] == [D(-18_618), D(13_199), D(-3_154)]
        assert table.footnotes == ()
        assert table.window_end == DEC_2022
        assert table.heading == "1st April – 31st December"
        assert table.rows[-1].figure.period.label == "1st April – 31st December 2022"

    @pytest.mark.parametrize(
        ("totals", "printed"),
        [
            ({2019: 43_375, 2020: 72_954, 2021: 53_580, 2022: 43_062}, ["68", "-27", "-20"]),
            ({2019: 16_353, 2020: 17_765, 2021: 19_738, 2022: 18_659}, ["9", "11", "-5"]),
            ({2019: 5_565, 2020: 4_255, 2021: 3_830, 2022: 3_701}, ["-24", "-10", "-3"]),
            ({2019: 876, 2020: 669, 2021: 744, 2022: 722}, ["-24", "11", "-3"]),
        ],
    )
    def test_it_reproduces_the_seed_whole_percent_tables(
        self, totals: dict[int, int], printed: list[str]
    ) -> None:
        table = year_to_date(ytd_series(totals), DEC_2022, years=4, aggregation="sum")
        pcts = [row.change_pct for row in table.rows[1:]]
        assert [round_half_up(pct, 0) for pct in pcts if pct is not None] == [
            D(p) for p in printed
        ]

    def test_every_year_is_cut_short_when_the_latest_months_are_missing(self) -> None:
        series = ytd_series(ALL_CRIME, last=Month(2022, 11))
        table = year_to_date(series, DEC_2022, years=4, aggregation="sum")
        assert [row.figure.period for row in table.rows] == [
            Period.range(Month(year, 4), Month(year, 11)) for year in ALL_CRIME
        ]
        assert table.window_end == Month(2022, 11)
        assert table.footnotes == (
            "Data 1st April – 30th November in each year as December's data isn't yet available",
        )
        assert all(row.figure.complete for row in table.rows)

    def test_values_stored_for_the_window_are_used(self) -> None:
        series = Series(
            {
                Period.financial_year_to_date(Month(year, 12)): Observation(D(total))
                for year, total in ALL_CRIME.items()
            }
        )
        table = year_to_date(series, DEC_2022, years=4, aggregation="sum")
        assert all(row.figure.stored for row in table.rows)
        assert table.rows[-1].figure.value == D(100_655)
        assert table.footnotes == ()

    def test_a_window_into_the_new_calendar_year_is_labelled_by_its_starting_year(self) -> None:
        series = constant_months(Month(2020, 4), Month(2023, 1))
        table = year_to_date(series, Month(2023, 1), years=2, aggregation="sum")
        assert [row.label for row in table.rows] == ["2021", "2022"]
        assert [row.figure.value for row in table.rows] == [D(10), D(10)]
        assert table.rows[1].change_pct == D(0)
        assert table.heading == "1st April – 31st January"

    def test_one_year_has_no_change(self) -> None:
        table = year_to_date(ytd_series(ALL_CRIME), DEC_2022, years=1, aggregation="sum")
        assert len(table.rows) == 1
        assert table.rows[0].change is None

    def test_it_refuses_fewer_than_one_year(self) -> None:
        with pytest.raises(ValueError, match="at least one year"):
            year_to_date(Series({}), DEC_2022, years=0, aggregation="sum")

    def test_an_incomplete_earlier_year_is_footnoted(self) -> None:
        series = constant_months(Month(2021, 6), DEC_2022)
        table = year_to_date(series, DEC_2022, years=2, aggregation="sum")
        assert table.rows[0].figure.value == D(7)
        assert table.rows[1].change is None  # 9 months are not set against 7
        assert table.footnotes == (
            "1st April – 31st December 2021 figure covers 7 of 9 months",
            "Change not shown: 1st April – 31st December 2021 is built from 7 of its 9 months, "
            "so it is not compared like for like",
        )

    def test_a_year_without_any_data_says_so_and_is_not_cut(self) -> None:
        series = constant_months(Month(2020, 4), Month(2021, 12))
        table = year_to_date(series, DEC_2022, years=2, aggregation="sum")
        assert table.window_end == DEC_2022
        assert table.rows[1].figure.value is None
        assert table.rows[1].change is None
        assert table.footnotes == ("No data available for 1st April – 31st December 2022",)

    @given(st.integers(1950, 2900), st.integers(1, 12), st.integers(0, 11), st.integers(1, 6))
    def test_every_row_has_the_same_window_in_its_own_year(
        self, year: int, month: int, missing: int, years: int
    ) -> None:
        end = Month(year, month)
        series = constant_months(end.shift(-12 * years - 12), end.shift(-missing))
        table = year_to_date(series, end, years=years, aggregation="sum")
        windows = [row.figure.period for row in table.rows]
        assert len(windows) == years
        assert all(w.start.month == 4 for w in windows)
        assert len({w.length for w in windows}) == 1
        assert [w.start.financial_year for w in windows] == list(
            range(end.financial_year - years + 1, end.financial_year + 1)
        )
        assert all(b.start == a.start.shift(12) for a, b in pairwise(windows))
        if end.shift(-missing) >= Month(end.financial_year, 4):
            assert table.window_end == end.shift(-missing)
            assert all(row.figure.complete for row in table.rows)
        else:
            assert table.window_end == end
