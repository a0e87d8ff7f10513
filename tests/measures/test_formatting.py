"""Figures written as the seed report writes them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from measures.arithmetic.figures import UNITS, change_pct
from measures.arithmetic.formatting import (
    format_change_pct,
    format_change_pp,
    format_value,
    round_half_up,
)

D = Decimal

decimals = st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False)


class TestRoundHalfUp:
    @pytest.mark.parametrize(
        ("value", "places", "expected"),
        [
            ("0.05", 1, "0.1"),
            ("0.25", 1, "0.3"),  # banker's rounding would give 0.2
            ("-0.25", 1, "-0.3"),
            ("2.5", 0, "3"),
            ("-17.045", 1, "-17.0"),
            ("14.5666", 1, "14.6"),
            ("79.545", 2, "79.55"),
            ("3", 1, "3.0"),
        ],
    )
    def test_it_rounds_halves_away_from_zero(self, value: str, places: int, expected: str) -> None:
        rounded = round_half_up(D(value), places)
        assert rounded == D(expected)
        assert str(rounded) == expected

    @given(decimals, st.integers(0, 4))
    def test_it_moves_the_value_by_at_most_half_a_unit_of_the_last_place(
        self, value: Decimal, places: int
    ) -> None:
        rounded = round_half_up(value, places)
        assert rounded.as_tuple().exponent == -places
        assert abs(rounded - value) <= D("0.5").scaleb(-places)

    @given(decimals, st.integers(0, 4))
    def test_it_is_symmetric_about_zero(self, value: Decimal, places: int) -> None:
        assert round_half_up(-value, places) == -round_half_up(value, places)


class TestFormatValue:
    @pytest.mark.parametrize(
        ("value", "unit", "places", "text"),
        [
            ("16127", "count", 0, "16,127"),
            ("109228", "count", 0, "109,228"),
            ("14", "count", 0, "14"),
            ("1234567.891", "count", 2, "1,234,567.89"),
            ("69.8", "percent", 1, "69.8%"),
            ("70.25", "percent", 1, "70.3%"),
            ("69.8", "percent", 0, "70%"),
            ("30801", "gbp", 0, "£30,801"),
            ("-30801", "gbp", 0, "-£30,801"),
            ("8.8", "kg", 1, "8.8 kg"),
            ("0.6", "kg", 1, "0.6 kg"),
            ("59.4", "years", 1, "59.4 years"),
            ("1", "years", 0, "1 year"),
            ("47", "days", 0, "47 days"),
            ("1", "days", 0, "1 day"),
            ("1.0", "days", 1, "1.0 days"),
            ("1390", "days", 0, "1,390 days"),
            ("12.34", "rate", 1, "12.3"),
            ("-0.4", "count", 0, "0"),
        ],
    )
    def test_it_writes_each_unit_as_the_seed_does(
        self, value: str, unit: str, places: int, text: str
    ) -> None:
        assert format_value(D(value), unit, places) == text

    def test_decimals_default_to_whole_numbers(self) -> None:
        assert format_value(D("47.4"), "days") == "47 days"

    @pytest.mark.parametrize("unit", UNITS)
    def test_a_missing_value_is_an_en_dash_in_every_unit(self, unit: str) -> None:
        assert format_value(None, unit) == "–"

    def test_it_refuses_an_unknown_unit(self) -> None:
        with pytest.raises(ValueError, match="Unknown unit 'furlongs'"):
            format_value(D(1), "furlongs")

    @given(st.decimals(min_value=0, max_value=10**9, places=2), st.integers(0, 3))
    def test_a_count_reads_back_as_the_rounded_value(self, value: Decimal, places: int) -> None:
        text = format_value(value, "count", places)
        assert D(text.replace(",", "")) == round_half_up(value, places)


class TestFormatChange:
    @pytest.mark.parametrize(
        ("base", "current", "text"),
        [
            (23, 14, "-39.1%"),
            (44, 79, "+79.5%"),
            (7, 8, "+14.3%"),
            (110, 87, "-20.9%"),
            (16_127, 15_627, "-3.1%"),
            (5_744, 6_014, "+4.7%"),
            (109_228, 90_610, "-17.0%"),
            (90_610, 103_809, "+14.6%"),
            (103_809, 100_655, "-3.0%"),
            (2_029, 1_979, "-2.5%"),
        ],
    )
    def test_change_pct_prints_the_seed_figures(self, base: int, current: int, text: str) -> None:
        assert format_change_pct(change_pct(D(base), D(current))) == text

    @pytest.mark.parametrize(
        ("pct", "text"),
        [
            ("0", "0.0%"),
            ("-0.04", "0.0%"),
            ("0.04", "0.0%"),
            ("0.05", "+0.1%"),
            ("-0.05", "-0.1%"),
            ("1234.5", "+1,234.5%"),
        ],
    )
    def test_change_pct_signs_only_what_rounds_away_from_zero(self, pct: str, text: str) -> None:
        assert format_change_pct(D(pct)) == text

    def test_change_pct_without_a_base_is_not_applicable(self) -> None:
        assert format_change_pct(None) == "n/a"
        assert format_change_pct(change_pct(D(0), D(5))) == "n/a"

    @pytest.mark.parametrize(
        ("pp", "text"),
        [
            (D("70.2") - D("69.8"), "+0.4 pp"),
            (D("82.5") - D("85.3"), "-2.8 pp"),
            (D(0), "0.0 pp"),
            (None, "n/a"),
        ],
    )
    def test_change_pp_prints_percentage_points(self, pp: Decimal | None, text: str) -> None:
        assert format_change_pp(pp) == text

    @given(decimals)
    def test_change_pct_reads_back_as_the_rounded_change(self, pct: Decimal) -> None:
        text = format_change_pct(pct)
        rounded = round_half_up(pct, 1)
        assert text.endswith("%")
        assert D(text[:-1].replace(",", "")) == rounded
        assert text.startswith("+") == (rounded > 0)
