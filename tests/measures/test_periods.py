"""Months, periods, their SPEC §3 notation and seed-style labels."""

from __future__ import annotations

from datetime import date, datetime
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from measures.arithmetic.periods import (
    ACCEPTED_FORMS,
    Month,
    Period,
    PeriodError,
    PeriodKind,
    ordinal,
    parse_month,
    parse_period,
)

# Leave room inside 1900-2999 for a 60-month range shifted by up to 240 months either way.
FIRST_INDEX = Month(1921, 1).index
LAST_INDEX = Month(2970, 12).index

months = st.integers(FIRST_INDEX, LAST_INDEX).map(Month.from_index)
years = st.integers(1921, 2970)
quarters = st.integers(1, 4)


@st.composite
def ranges(draw: st.DrawFn, max_length: int = 60) -> Period:
    start = draw(months)
    length = draw(st.integers(1, max_length))
    return Period.range(start, start.shift(length - 1))


periods = st.one_of(
    months.map(Period.month),
    ranges(),
    st.builds(Period.calendar_quarter, years, quarters),
    years.map(Period.financial_year),
    st.builds(Period.financial_quarter, years, quarters),
    years.map(Period.calendar_year),
    months.map(Period.rolling_twelve),
    months.map(Period.financial_year_to_date),
)


def assert_lists_every_form(error: PeriodError, text: str) -> None:
    message = str(error)
    assert repr(text) in message
    for form in ACCEPTED_FORMS:
        assert form in message


class TestMonth:
    def test_it_orders_by_year_then_month(self) -> None:
        assert Month(2021, 12) < Month(2022, 1) < Month(2022, 2)

    @pytest.mark.parametrize("month", [0, 13, -1])
    def test_it_refuses_a_month_number_outside_1_to_12(self, month: int) -> None:
        with pytest.raises(PeriodError, match=f"no month {month}"):
            Month(2022, month)

    @pytest.mark.parametrize("year", [1899, 3000])
    def test_it_refuses_a_year_outside_1900_to_2999(self, year: int) -> None:
        with pytest.raises(PeriodError, match=str(year)):
            Month(year, 1)

    def test_it_is_a_value_error_so_callers_can_catch_it_generally(self) -> None:
        with pytest.raises(ValueError):
            Month(2022, 13)

    def test_its_index_counts_months_from_year_zero(self) -> None:
        assert Month(2022, 12).index == 2022 * 12 + 11
        assert Month(2023, 1).index == Month(2022, 12).index + 1

    @given(months)
    def test_from_index_inverts_index(self, month: Month) -> None:
        assert Month.from_index(month.index) == month

    def test_from_date_takes_the_month_of_a_date_or_datetime(self) -> None:
        assert Month.from_date(date(2022, 12, 31)) == Month(2022, 12)
        assert Month.from_date(datetime(2023, 1, 1, 0, 30)) == Month(2023, 1)

    def test_shift_crosses_year_ends_both_ways(self) -> None:
        assert Month(2022, 12).shift(1) == Month(2023, 1)
        assert Month(2023, 1).shift(-1) == Month(2022, 12)
        assert Month(2022, 12).shift(-11) == Month(2022, 1)
        assert Month(2022, 12).shift(-24) == Month(2020, 12)

    @given(months, st.integers(-240, 240))
    def test_shifting_back_undoes_shifting_forward(self, month: Month, n: int) -> None:
        assert month.shift(n).shift(-n) == month

    @given(months, st.integers(-240, 240))
    def test_months_until_measures_a_shift(self, month: Month, n: int) -> None:
        assert month.months_until(month.shift(n)) == n

    def test_months_until_is_negative_for_an_earlier_month(self) -> None:
        assert Month(2022, 12).months_until(Month(2022, 9)) == -3

    @pytest.mark.parametrize(
        ("month", "last_day"),
        [
            (Month(2022, 12), date(2022, 12, 31)),
            (Month(2022, 9), date(2022, 9, 30)),
            (Month(2022, 2), date(2022, 2, 28)),
            (Month(2024, 2), date(2024, 2, 29)),
            (Month(1900, 2), date(1900, 2, 28)),
            (Month(2000, 2), date(2000, 2, 29)),
        ],
    )
    def test_last_day_is_the_real_last_day_of_the_month(
        self, month: Month, last_day: date
    ) -> None:
        assert month.first_day == date(month.year, month.month, 1)
        assert month.last_day == last_day

    @given(months)
    def test_the_day_after_the_last_day_is_in_the_next_month(self, month: Month) -> None:
        if month.index < LAST_INDEX:
            next_day = date.fromordinal(month.last_day.toordinal() + 1)
            assert Month.from_date(next_day) == month.shift(1)

    def test_it_writes_itself_as_the_seed_does(self) -> None:
        month = Month(2022, 12)
        assert month.iso == "2022-12"
        assert str(month) == "2022-12"
        assert month.short_label == "Dec 2022"
        assert month.long_label == "December 2022"
        assert month.name == "December"
        assert Month(2022, 9).short_label == "Sep 2022"
        assert Month(1905, 3).iso == "1905-03"

    @pytest.mark.parametrize(
        ("month", "financial_year"),
        [
            (Month(2022, 4), 2022),
            (Month(2022, 12), 2022),
            (Month(2023, 1), 2022),
            (Month(2023, 3), 2022),
            (Month(2023, 4), 2023),
        ],
    )
    def test_financial_year_starts_in_april(self, month: Month, financial_year: int) -> None:
        assert month.financial_year == financial_year

    @given(months)
    def test_its_financial_year_contains_it(self, month: Month) -> None:
        assert Period.financial_year(month.financial_year).contains(month)


class TestPeriodConstructors:
    def test_month_is_a_single_month(self) -> None:
        period = Period.month(Month(2022, 12))
        assert period.kind == PeriodKind.MONTH
        assert period.months == (Month(2022, 12),)

    def test_range_of_one_month_is_a_month(self) -> None:
        assert Period.range(Month(2022, 12), Month(2022, 12)).kind == PeriodKind.MONTH
        assert Period.range(Month(2022, 11), Month(2022, 12)).kind == PeriodKind.RANGE

    def test_it_refuses_a_range_that_ends_before_it_starts(self) -> None:
        with pytest.raises(PeriodError, match="ends before it starts"):
            Period.range(Month(2022, 12), Month(2022, 4))

    def test_rolling_twelve_is_the_twelve_months_ending_with_the_month(self) -> None:
        period = Period.rolling_twelve(Month(2022, 12))
        assert (period.start, period.end) == (Month(2022, 1), Month(2022, 12))
        assert Period.rolling_twelve(Month(2022, 11)).start == Month(2021, 12)

    def test_financial_year_runs_april_to_march(self) -> None:
        period = Period.financial_year(2022)
        assert (period.start, period.end) == (Month(2022, 4), Month(2023, 3))
        assert period.kind == PeriodKind.FINANCIAL_YEAR

    @pytest.mark.parametrize(
        ("end", "start"),
        [
            (Month(2022, 12), Month(2022, 4)),
            (Month(2023, 1), Month(2022, 4)),
            (Month(2023, 3), Month(2022, 4)),
            (Month(2023, 4), Month(2023, 4)),
        ],
    )
    def test_financial_year_to_date_starts_on_1_april_of_its_year(
        self, end: Month, start: Month
    ) -> None:
        period = Period.financial_year_to_date(end)
        assert (period.start, period.end) == (start, end)

    def test_financial_year_to_date_to_march_is_the_whole_financial_year(self) -> None:
        period = Period.financial_year_to_date(Month(2023, 3))
        assert period.kind == PeriodKind.FINANCIAL_YEAR
        assert period.label == "2022/23"

    @pytest.mark.parametrize(
        ("quarter", "start", "end"),
        [(1, 1, 3), (2, 4, 6), (3, 7, 9), (4, 10, 12)],
    )
    def test_calendar_quarters(self, quarter: int, start: int, end: int) -> None:
        period = Period.calendar_quarter(2022, quarter)
        assert (period.start, period.end) == (Month(2022, start), Month(2022, end))

    @pytest.mark.parametrize(
        ("quarter", "start", "end"),
        [
            (1, Month(2022, 4), Month(2022, 6)),
            (2, Month(2022, 7), Month(2022, 9)),
            (3, Month(2022, 10), Month(2022, 12)),
            (4, Month(2023, 1), Month(2023, 3)),
        ],
    )
    def test_financial_quarters_run_from_april(
        self, quarter: int, start: Month, end: Month
    ) -> None:
        period = Period.financial_quarter(2022, quarter)
        assert (period.start, period.end) == (start, end)

    @pytest.mark.parametrize("quarter", [0, 5])
    def test_it_refuses_a_quarter_outside_1_to_4(self, quarter: int) -> None:
        with pytest.raises(PeriodError, match=f"no quarter {quarter}"):
            Period.calendar_quarter(2022, quarter)
        with pytest.raises(PeriodError, match=f"no quarter {quarter}"):
            Period.financial_quarter(2022, quarter)

    def test_calendar_year_runs_january_to_december(self) -> None:
        period = Period.calendar_year(2022)
        assert (period.start, period.end) == (Month(2022, 1), Month(2022, 12))

    @pytest.mark.parametrize(
        ("start", "end", "kind"),
        [
            (Month(2022, 1), Month(2022, 2), PeriodKind.MONTH),
            (Month(2022, 2), Month(2022, 4), PeriodKind.CALENDAR_QUARTER),
            (Month(2022, 1), Month(2022, 6), PeriodKind.FINANCIAL_QUARTER),
            (Month(2022, 1), Month(2022, 12), PeriodKind.FINANCIAL_YEAR),
            (Month(2022, 4), Month(2023, 3), PeriodKind.CALENDAR_YEAR),
        ],
    )
    def test_it_refuses_a_kind_the_months_do_not_fit(
        self, start: Month, end: Month, kind: PeriodKind
    ) -> None:
        with pytest.raises(PeriodError, match="are not a"):
            Period(start, end, kind)


class TestPeriodMonths:
    @given(periods)
    def test_months_has_length_months_in_order(self, period: Period) -> None:
        months_ = period.months
        assert len(months_) == period.length
        assert months_[0] == period.start
        assert months_[-1] == period.end
        assert all(a.shift(1) == b for a, b in pairwise(months_))

    def test_contains_includes_both_ends_only(self) -> None:
        period = Period.range(Month(2022, 4), Month(2022, 12))
        assert period.contains(Month(2022, 4))
        assert period.contains(Month(2022, 12))
        assert not period.contains(Month(2022, 3))
        assert not period.contains(Month(2023, 1))
        assert Month(2022, 6) in period

    @given(periods, months)
    def test_contains_agrees_with_months(self, period: Period, month: Month) -> None:
        assert period.contains(month) == (month in period.months)

    @given(periods, st.integers(-240, 240))
    def test_shift_moves_both_ends_and_keeps_the_length(self, period: Period, n: int) -> None:
        shifted = period.shift(n)
        assert shifted.start == period.start.shift(n)
        assert shifted.end == period.end.shift(n)
        assert shifted.length == period.length

    @given(periods, st.integers(-240, 240))
    def test_shifting_back_undoes_shifting_forward(self, period: Period, n: int) -> None:
        assert period.shift(n).shift(-n) == period

    @given(periods, st.integers(-20, 20))
    def test_shift_by_whole_years_keeps_the_kind(self, period: Period, years_: int) -> None:
        assert period.shift(12 * years_).kind == period.kind

    def test_shift_by_part_of_a_year_leaves_a_range_but_a_month_stays_a_month(self) -> None:
        assert Period.financial_year(2022).shift(-1).kind == PeriodKind.RANGE
        assert Period.financial_quarter(2022, 3).shift(3).kind == PeriodKind.RANGE
        assert Period.month(Month(2022, 12)).shift(-1).kind == PeriodKind.MONTH

    def test_shift_of_a_financial_year_by_a_year_is_the_previous_financial_year(self) -> None:
        assert Period.financial_year(2022).shift(-12).notation == "2021/22"


class TestPeriodEquality:
    def test_the_same_months_are_equal_whatever_their_kind(self) -> None:
        financial = Period.financial_quarter(2022, 3)
        calendar = Period.calendar_quarter(2022, 4)
        plain = Period(Month(2022, 10), Month(2022, 12))
        assert financial == calendar == plain
        assert hash(financial) == hash(calendar) == hash(plain)
        assert len({financial, calendar, plain}) == 1

    def test_a_financial_year_equals_the_rolling_twelve_months_to_march(self) -> None:
        assert Period.financial_year(2022) == Period.rolling_twelve(Month(2023, 3))

    def test_different_months_are_not_equal(self) -> None:
        assert Period.calendar_quarter(2022, 4) != Period.calendar_quarter(2022, 3)
        assert Period.month(Month(2022, 12)) != Month(2022, 12)

    def test_periods_sort_by_start_then_end(self) -> None:
        a = Period.range(Month(2022, 1), Month(2022, 3))
        b = Period.range(Month(2022, 1), Month(2022, 6))
        c = Period.month(Month(2022, 2))
        assert sorted([c, b, a]) == [a, b, c]


class TestNotation:
    @pytest.mark.parametrize(
        ("period", "notation"),
        [
            (Period.month(Month(2022, 12)), "2022-12"),
            (Period.range(Month(2022, 4), Month(2022, 12)), "2022-04/2022-12"),
            (Period.calendar_quarter(2022, 3), "2022-Q3"),
            (Period.financial_year(2022), "2022/23"),
            (Period.financial_year(1999), "1999/00"),
            (Period.financial_quarter(2022, 3), "2022/23-Q3"),
            (Period.financial_quarter(2022, 4), "2022/23-Q4"),
            (Period.calendar_year(2022), "2022"),
        ],
    )
    def test_it_writes_the_notation_of_its_kind(self, period: Period, notation: str) -> None:
        assert period.notation == notation
        assert str(period) == notation

    @given(periods)
    def test_parsing_the_notation_gives_back_the_period(self, period: Period) -> None:
        parsed = parse_period(period.notation)
        assert parsed == period
        assert parsed.kind == period.kind

    @pytest.mark.parametrize(
        ("text", "start", "end", "kind"),
        [
            ("2022-12", Month(2022, 12), Month(2022, 12), PeriodKind.MONTH),
            ("2022-04/2022-12", Month(2022, 4), Month(2022, 12), PeriodKind.RANGE),
            ("2022-12/2022-12", Month(2022, 12), Month(2022, 12), PeriodKind.MONTH),
            ("2022-Q3", Month(2022, 7), Month(2022, 9), PeriodKind.CALENDAR_QUARTER),
            ("2022/23", Month(2022, 4), Month(2023, 3), PeriodKind.FINANCIAL_YEAR),
            ("1999/00", Month(1999, 4), Month(2000, 3), PeriodKind.FINANCIAL_YEAR),
            ("2022/23-Q3", Month(2022, 10), Month(2022, 12), PeriodKind.FINANCIAL_QUARTER),
            ("2022/23-Q4", Month(2023, 1), Month(2023, 3), PeriodKind.FINANCIAL_QUARTER),
            ("2022", Month(2022, 1), Month(2022, 12), PeriodKind.CALENDAR_YEAR),
            ("  2022-12 \n", Month(2022, 12), Month(2022, 12), PeriodKind.MONTH),
            ("2022-q3", Month(2022, 7), Month(2022, 9), PeriodKind.CALENDAR_QUARTER),
        ],
    )
    def test_it_parses_every_spec_form(
        self, text: str, start: Month, end: Month, kind: PeriodKind
    ) -> None:
        period = parse_period(text)
        assert (period.start, period.end, period.kind) == (start, end, kind)

    @pytest.mark.parametrize(
        "text",
        [
            "2022-13",
            "2022-00",
            "2022-Q5",
            "2022-Q0",
            "2022/24",
            "2022/22",
            "2022-12/2022-04",
            "",
            "   ",
            "garbage",
            "2022-1",
            "22-12",
            "2022-12-01",
            "2022/2023",
            "2022/23-Q5",
            "2022/23/Q3",
            "Dec 2022",
            "12 months to Dec 2022",
            "2022-04 / 2022-12",
            "1899",
            "3000",
            "2999/00",
            "２０２２",
        ],
    )
    def test_it_refuses_anything_else_listing_every_accepted_form(self, text: str) -> None:
        with pytest.raises(PeriodError) as caught:
            parse_period(text)
        assert_lists_every_form(caught.value, text.strip())

    def test_the_error_reads_as_the_spec_asks(self) -> None:
        with pytest.raises(PeriodError) as caught:
            parse_period("2022-13")
        assert str(caught.value).startswith(
            "'2022-13' is not a period. Use one of: 2022-12 (a month), 2022-04/2022-12 "
            "(a range of months), 2022-Q3 (a calendar quarter), 2022/23 (a financial year), "
            "2022/23-Q3 (a financial quarter), 2022 (a calendar year)."
        )

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("2022-13", "no month 13"),
            ("2022-Q5", "no quarter 5"),
            ("2022/24", "e.g. 2022/23"),
            ("2022-12/2022-04", "ends before it starts"),
        ],
    )
    def test_the_error_says_what_is_wrong_with_nearly_right_text(
        self, text: str, reason: str
    ) -> None:
        with pytest.raises(PeriodError, match=reason):
            parse_period(text)

    @given(st.text(max_size=12))
    def test_arbitrary_text_parses_or_raises_period_error(self, text: str) -> None:
        try:
            period = parse_period(text)
        except PeriodError as error:
            assert_lists_every_form(error, text.strip())
        else:
            assert parse_period(period.notation) == period

    def test_parse_month_reads_year_and_month(self) -> None:
        assert parse_month("2022-12") == Month(2022, 12)
        assert parse_month(" 2023-01 ") == Month(2023, 1)

    @pytest.mark.parametrize("text", ["2022-13", "2022", "2022-Q3", "2022-04/2022-12", "", "x"])
    def test_parse_month_refuses_anything_but_a_month(self, text: str) -> None:
        with pytest.raises(PeriodError, match="is not a month"):
            parse_month(text)


class TestLabels:
    @pytest.mark.parametrize(
        ("period", "label"),
        [
            (Period.month(Month(2022, 12)), "Dec 2022"),
            (Period.rolling_twelve(Month(2022, 12)), "12 months to Dec 2022"),
            (Period.rolling_twelve(Month(2020, 12)), "12 months to Dec 2020"),
            (Period.range(Month(2021, 1), Month(2022, 12)), "24 months to Dec 2022"),
            (Period.range(Month(2020, 1), Month(2022, 12)), "36 months to Dec 2022"),
            (Period.financial_year(2022), "2022/23"),
            (Period.calendar_year(2022), "2022"),
            (Period.range(Month(2022, 4), Month(2022, 12)), "1st April – 31st December 2022"),
            (Period.range(Month(2022, 4), Month(2022, 11)), "1st April – 30th November 2022"),
            (Period.range(Month(2022, 4), Month(2022, 9)), "1st April – 30th September 2022"),
            (
                Period.range(Month(2022, 4), Month(2023, 1)),
                "1st April 2022 – 31st January 2023",
            ),
            (
                Period.range(Month(2022, 4), Month(2023, 2)),
                "1st April 2022 – 28th February 2023",
            ),
            (
                Period.range(Month(2023, 4), Month(2024, 2)),
                "1st April 2023 – 29th February 2024",
            ),
            (Period.calendar_quarter(2022, 4), "Oct–Dec 2022"),
            (Period.financial_quarter(2022, 3), "Oct–Dec 2022"),
            (Period.financial_quarter(2022, 4), "Jan–Mar 2023"),
            (Period.financial_quarter(2022, 1), "Apr–Jun 2022"),
            (Period.range(Month(2022, 10), Month(2022, 11)), "Oct–Nov 2022"),
            (Period.range(Month(2022, 11), Month(2023, 1)), "Nov 2022 – Jan 2023"),
            (Period.range(Month(2022, 4), Month(2023, 6)), "Apr 2022 – Jun 2023"),
            (Period.financial_year(2022).shift(1), "12 months to Apr 2023"),
        ],
    )
    def test_it_labels_as_the_seed_does(self, period: Period, label: str) -> None:
        assert period.label == label

    def test_a_single_month_of_any_kind_is_labelled_as_the_month(self) -> None:
        assert Period(Month(2022, 4), Month(2022, 4), PeriodKind.RANGE).label == "Apr 2022"

    @given(months)
    def test_rolling_twelve_is_labelled_twelve_months_to_its_end(self, end: Month) -> None:
        assert Period.rolling_twelve(end).label == f"12 months to {end.short_label}"

    @given(periods)
    def test_every_period_has_a_label_naming_its_last_year(self, period: Period) -> None:
        label = period.label
        assert label
        assert str(period.end.year) in label or period.kind == PeriodKind.FINANCIAL_YEAR

    def test_day_range_label_omits_the_years(self) -> None:
        period = Period.range(Month(2022, 4), Month(2022, 12))
        assert period.day_range_label == "1st April – 31st December"

    @pytest.mark.parametrize(
        ("day", "text"),
        [
            (1, "1st"),
            (2, "2nd"),
            (3, "3rd"),
            (4, "4th"),
            (11, "11th"),
            (12, "12th"),
            (13, "13th"),
            (21, "21st"),
            (22, "22nd"),
            (23, "23rd"),
            (28, "28th"),
            (29, "29th"),
            (30, "30th"),
            (31, "31st"),
        ],
    )
    def test_ordinal_suffixes(self, day: int, text: str) -> None:
        assert ordinal(day) == text
