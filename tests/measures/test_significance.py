"""Significance of changes (Poisson) and SPC limits and run rules, against known answers."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from measures.arithmetic.significance import count_change_significance, poisson_rates_p_value
from measures.arithmetic.spc import Signal, signals, xmr_limits


def binomial_two_sided(k: int, n: int) -> float:
    """Brute force with exact integers, for p = 1/2: the reference the fast path must match."""
    pmf = [math.comb(n, i) for i in range(n + 1)]
    return min(1.0, sum(x for x in pmf if x <= pmf[k]) / 2**n)


@given(st.integers(0, 200), st.integers(0, 200))
def test_the_poisson_p_value_equals_the_exact_binomial_test(base, current):
    assert poisson_rates_p_value(base, current) == pytest.approx(
        binomial_two_sided(current, base + current), rel=1e-9, abs=1e-12
    )


@given(st.integers(0, 500), st.integers(0, 500))
def test_the_p_value_is_symmetric_and_a_probability(base, current):
    p = poisson_rates_p_value(base, current)
    assert 0 <= p <= 1
    assert p == pytest.approx(poisson_rates_p_value(current, base), rel=1e-9)


def test_equal_counts_are_no_evidence_of_change():
    assert poisson_rates_p_value(100, 100) == pytest.approx(1.0)


def test_homicides_23_to_14_are_small_numbers_within_normal_variation():
    result = count_change_significance(23, 14)
    assert result is not None
    assert result.p_value == pytest.approx(0.188, abs=0.001)
    assert not result.significant
    assert result.small_numbers
    assert result.caution == "Small numbers: treat the change with caution"


def test_neighbourhood_crime_16127_to_15627_is_a_real_fall():
    result = count_change_significance(16127, 15627)
    assert result is not None and result.significant and not result.small_numbers
    assert result.p_value < 0.01
    assert result.caution == ""


def test_firearms_44_to_79_is_significant_despite_modest_numbers():
    result = count_change_significance(44, 79)
    assert result is not None and result.significant and not result.small_numbers


def test_large_totals_use_the_normal_approximation_consistently():
    exact = poisson_rates_p_value(24_000, 24_500)
    approx = poisson_rates_p_value(240_000, 245_000)
    assert 0 < approx < exact < 1


def test_a_non_count_cannot_be_tested():
    assert count_change_significance(Decimal("69.8"), Decimal("70.2")) is None
    assert count_change_significance(None, 3) is None


def test_xmr_limits_are_mean_plus_minus_2_66_mean_moving_range():
    values = [Decimal(v) for v in (10, 12, 11, 13, 12, 14)]
    limits = xmr_limits(values)
    assert limits is not None
    assert limits.centre == Decimal(72) / 6
    mean_mr = Decimal(2 + 1 + 2 + 1 + 2) / 5
    assert limits.upper == limits.centre + Decimal("2.66") * mean_mr
    assert limits.lower == limits.centre - Decimal("2.66") * mean_mr


def test_too_short_a_series_has_no_limits():
    assert xmr_limits([Decimal(1)] * 5) is None


def test_run_rules_flag_a_point_beyond_limits_a_run_of_seven_and_a_trend_of_six():
    flat = [Decimal(v) for v in (10, 11, 10, 11, 10, 11, 10, 11)]
    limits = xmr_limits(flat)
    assert limits is not None
    series = [Decimal(v) for v in (10, 11, 10, 30)]
    assert Signal.BEYOND_LIMITS in signals(series, limits)[3]

    above = [Decimal(v) for v in (9, 11, 11, 11, 11, 11, 11, 11, 9)]
    marks = signals(above, limits)
    assert all(Signal.RUN_ABOVE in marks[i] for i in range(1, 8))
    assert Signal.RUN_ABOVE not in marks[0] and Signal.RUN_ABOVE not in marks[8]

    six_above = [Decimal(v) for v in (9, 11, 11, 11, 11, 11, 11, 9)]
    assert not any(Signal.RUN_ABOVE in m for m in signals(six_above, limits))

    rising = [Decimal(v) for v in (10, 10.1, 10.2, 10.3, 10.4, 10.5, 10.4)]
    marks = signals(rising, limits)
    assert all(Signal.TREND_UP in marks[i] for i in range(0, 6))
    assert Signal.TREND_UP not in marks[6]
    five_rising = [Decimal(v) for v in (10, 10.1, 10.2, 10.3, 10.4, 10.3)]
    assert not any(Signal.TREND_UP in m for m in signals(five_rising, limits))
