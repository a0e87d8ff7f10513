"""Every figure of every measure is asked for in exactly one return (SPEC §2 "Return").

A figure falls due at its period's end plus the measure's data lag, and each reporting
period asks for the figures that fell due since the one before: late figures included,
nothing asked twice, nothing never asked.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from measures.arithmetic.periods import Month, Period, parse_period
from measures.models import Measure, Plan, ReportingPeriod, Return
from measures.returns import services
from measures.returns.rows import due_month, return_rows, slot_of, slots_due

FREQUENCIES = [choice for choice, _ in Measure.Frequency.choices]


@given(
    frequency=st.sampled_from(FREQUENCIES),
    lag=st.integers(0, 12),
    first=st.integers(2000 * 12, 2040 * 12),
    cuts=st.lists(st.integers(1, 6), min_size=1, max_size=12),
)
def test_windows_that_follow_on_ask_for_every_due_figure_once(frequency, lag, first, cuts):
    measure = Measure(frequency=frequency, data_lag_months=lag)
    start = Month.from_index(first)
    windows, at = [], start
    for length in cuts:
        windows.append(Period.range(at, at.shift(length - 1)))
        at = at.shift(length)
    asked = Counter(slot for window in windows for slot in slots_due(measure, window))
    everything = Period.range(start, at.shift(-1))
    # Every period of the measure that falls due in the whole span, each exactly once.
    expected = {
        slot
        for end in Period.range(start.shift(-lag - 12), at).months
        if (slot := slot_of(frequency, end)) is not None and due_month(measure, slot) in everything
    }
    assert set(asked) == expected
    assert all(count == 1 for count in asked.values())


@pytest.mark.django_db
def test_every_month_of_every_demo_measure_is_asked_for_in_exactly_one_return(demo):
    """From the first reporting period to the reporting quarter's end and beyond: Q3 and Q4
    2022/23 (the demo's) and two more quarters opened here."""
    plan = Plan.objects.get(code="pcp-2021-25")
    for notation in ("2023/24-Q1", "2023/24-Q2"):
        services.reporting_period_open(
            plan=plan, period=parse_period(notation), deadline=date(2023, 12, 1)
        )
    asked = Counter(
        (row.measure.pk, row.period)
        for ret in Return.objects.select_related("reporting_period")
        for row in return_rows(ret, with_context=False)
    )
    periods = ReportingPeriod.objects.filter(plan=plan).order_by("start")
    span = Period.range(
        Month.from_date(periods.first().asks_from), Month.from_date(periods.last().end)
    )
    measures = Measure.objects.filter(priority__plan=plan)
    expected = set()
    for measure in measures:
        for end in Period.range(span.start.shift(-24), span.end).months:
            slot = slot_of(measure.frequency, end)
            if slot is not None and due_month(measure, slot) in span:
                expected.add((measure.pk, slot))
    assert len(expected) > 400, "the demo's measures over four quarters"
    assert set(asked) == expected
    twice = [key for key, count in asked.items() if count > 1]
    assert not twice
