"""Soft warnings on the return page: small numbers are not unusual, and an approved return
has no warnings waiting for a note (SPEC §5). The rules: tests/measures/test_value_warnings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse

from measures.arithmetic.periods import Month, Period
from measures.models import Measure, Return, SeriesBreak
from measures.returns import services
from measures.returns.rows import ReturnRow, _add_context
from tests.returns import alice_figures, form_data, key, open_quarter, return_of


@pytest.fixture
def quarter(small_plan):
    return open_quarter()


def detail(ret: Return) -> str:
    return reverse("returns:detail", args=[ret.pk])


def save(client, ret: Return, action: str = "save", **typed: str):
    page = client.get(detail(ret))
    return client.post(detail(ret), {**form_data(page, **typed), "action": action})


def test_one_then_two_of_a_count_needs_no_note(client, alice, quarter):
    ret = return_of("dept-a")
    client.force_login(alice)

    response = save(client, ret, "submit", **alice_figures(oct="1", nov="2", dec="1"))

    assert response.status_code == 302
    assert return_of("dept-a").status == Return.Status.SUBMITTED


def test_an_approved_return_shows_no_warnings_waiting_for_a_note(client, alice, charlie, quarter):
    ret = return_of("dept-a")
    client.force_login(alice)
    asked = save(client, ret, "submit", **alice_figures(oct="10", nov="40", dec="35"))
    assert "Needs a note before submission." in asked.content.decode()
    save(client, ret, "submit", **{f"note-{key('t-assaults', '2022-11')}": "A festival"})
    services.return_approve(return_id=ret.pk, actor=charlie)

    for person in (alice, charlie):
        client.force_login(person)
        page = client.get(detail(ret)).content.decode()

        assert "Approved" in page
        assert 'class="warnings"' not in page
        assert "Needs a note" not in page
        assert "A festival" in page, "the note itself is still shown"


def test_a_change_across_a_break_in_series_needs_no_note(client, alice, quarter):
    """A recorded break (a new recording rule from November) explains November's jump: the
    form does not ask for a note comparing it with October, before the break."""
    SeriesBreak.objects.create(
        measure=Measure.objects.get(code="t-assaults"),
        start=date(2022, 11, 1),
        reason="New crime recording rule",
    )
    ret = return_of("dept-a")
    client.force_login(alice)

    response = save(client, ret, "submit", **alice_figures(oct="10", nov="40", dec="35"))

    assert response.status_code == 302, "no warning waited for a note"
    assert return_of("dept-a").status == Return.Status.SUBMITTED


class _Series:
    """A measure's stored months, as the return form reads them (`series.stored/monthly`)."""

    def __init__(self, values: dict[Month, int]):
        self.values = values

    def monthly(self):
        return {m: SimpleNamespace(value=Decimal(v)) for m, v in self.values.items()}

    def stored(self, period: Period):
        value = self.values.get(period.start) if period.length == 1 else None
        return None if value is None else SimpleNamespace(value=Decimal(value))


def test_the_usual_range_starts_at_the_latest_break(small_plan):
    """A year of about 100, then a break and six months of about 20: the usual range comes
    from the months since the break alone, so December's 21 is usual there, and would not
    be against the whole history."""
    months = list(Period.range(Month(2021, 6), Month(2022, 11)).months)
    values = {m: 100 + (i % 3) for i, m in enumerate(months[:-6])}
    values.update({m: 20 + (i % 2) for i, m in enumerate(months[-6:])})  # from the break
    measure = Measure.objects.get(code="t-assaults")
    december = Period.month(Month(2022, 12))

    def judged(breaks):
        row = ReturnRow(
            measure=measure,
            period=december,
            value=SimpleNamespace(value=Decimal(21)),
            required=True,
        )
        _add_context(row, _Series(values), breaks)
        return row

    unbroken, broken = judged([]), judged([months[-6]])

    assert len(unbroken.history) == 18
    assert any("usual range of its last 18 values" in w for w in unbroken.warnings)
    assert broken.history == [Decimal(20 + i % 2) for i in range(6)]
    assert broken.previous == Decimal(21)
    assert broken.same_period_last_year is None, "December 2021 is before the break"
    assert broken.warnings == []
