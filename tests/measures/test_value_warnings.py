"""Soft warnings on a typed figure (SPEC §5) respect small numbers (SPEC §4, significance).

A count below 30 (`significance.SMALL_COUNT`) in either figure is flagged only when its change
is more than 50 % and beyond normal variation by the Poisson test; from 30 up the plain
±50 % rule applies. Other units keep the ±50 % rule and the XmR limits.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from measures.arithmetic.significance import SMALL_COUNT, count_change_significance
from measures.returns.validation import value_warnings

small_counts = st.integers(0, SMALL_COUNT - 1)
large_counts = st.integers(SMALL_COUNT, 100_000)


def warnings_of(
    value, previous=None, last_year=None, history=(), unit: str | None = "count"
) -> list[str]:
    def number(x):
        return None if x is None else Decimal(x)

    return value_warnings(
        value=Decimal(value),
        history=[Decimal(h) for h in history],
        previous=number(previous),
        same_period_last_year=number(last_year),
        unit=unit,
    )


def test_one_homicide_then_two_is_not_unusual():
    assert warnings_of(2, previous=1, last_year=1) == []
    assert warnings_of(1, previous=2, last_year=3) == []


def test_a_jump_from_100_to_300_is_flagged():
    assert warnings_of(300, previous=100) == ["+200% against the previous period (100)"]


def test_from_30_up_the_plain_50_per_cent_rule_applies_even_within_chance():
    # 30 -> 46 is within Poisson noise (p ~ 0.08), but large enough for the rule of SPEC §5.
    assert not count_change_significance(30, 46).significant
    assert warnings_of(46, previous=30) == ["+53% against the previous period (30)"]
    assert warnings_of(45, previous=30) == []


def test_a_small_count_far_beyond_chance_is_still_flagged():
    # 10 -> 30 assaults: +200 %, p ~ 0.002.
    assert warnings_of(30, last_year=10) == ["+200% against the same period last year (10)"]


def test_a_count_from_nothing_is_flagged_only_beyond_chance():
    assert warnings_of(3, previous=0) == []
    assert warnings_of(12, previous=0) == ["12 against 0 in the previous period"]


@given(small_counts, small_counts)
def test_no_change_between_two_small_counts_is_flagged_by_the_50_per_cent_rule_alone(
    base, current
):
    flagged = warnings_of(current, previous=base, last_year=base)
    significance = count_change_significance(base, current)
    assert significance is not None and significance.small_numbers
    if not significance.significant:
        assert flagged == []
    if flagged:
        # Whatever is flagged is beyond normal variation, not merely more than 50 %.
        assert significance.significant


@given(large_counts, large_counts)
def test_between_large_counts_the_50_per_cent_rule_decides(base, current):
    flagged = warnings_of(current, previous=base)
    assert bool(flagged) == (abs(current - base) / base > 0.5)


@given(st.integers(10, 10_000), st.integers(3, 10))
def test_a_count_that_triples_or_more_from_ten_up_is_always_flagged(base, times):
    assert warnings_of(base * times, previous=base)
    assert warnings_of(base, previous=base * times)


def test_months_of_no_events_do_not_make_one_event_unusual():
    # The XmR limits of a run of zeros are 0 to 0; one homicide is not beyond chance.
    assert warnings_of(1, history=[0] * 24) == []
    assert warnings_of(2, history=[1] * 24) == []
    assert warnings_of(4, history=[0, 1] * 12) == []


def test_a_count_far_beyond_a_small_series_is_outside_its_usual_range():
    assert warnings_of(12, history=[0, 1] * 12) == [
        "outside the usual range of its last 24 values (-2.2 to 3.2)"
    ]


def test_a_large_count_outside_its_xmr_limits_is_flagged():
    history = [1000, 1010, 990, 1005, 995, 1000]
    assert warnings_of(1200, history=history)[0].startswith("outside the usual range")


def test_percentages_keep_the_50_per_cent_rule_and_the_limits():
    assert warnings_of("4.2", previous="2", unit="percent") == [
        "+110% against the previous period (2)"
    ]
    assert warnings_of("70.1", previous="69.8", unit="percent") == []
    history = ["70.1", "69.8", "70.4", "70.0", "69.9", "70.2"]
    assert warnings_of("60.0", history=history, unit="percent")[0].startswith("outside")


def test_days_are_not_counts_of_events():
    assert warnings_of(16, previous=10, unit="days") == ["+60% against the previous period (10)"]


def test_a_figure_of_unknown_unit_is_judged_as_a_count_when_it_is_whole():
    assert warnings_of(2, previous=1, unit=None) == []
    assert warnings_of("2.5", previous="1.2", unit=None) == [
        "+108% against the previous period (1.2)"
    ]
