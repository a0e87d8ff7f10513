"""A figure marked not available (issue 12): submitted with a reason, seen by reviewers,
footnoted in tables, asked for again next quarter as a late figure, and then supplied."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from measures.access import Reader
from measures.arithmetic.periods import Month, Period
from measures.models import Area, Measure, Return, UnavailableFigure, Value
from measures.returns import services
from measures.returns.rows import Group, progress, return_rows
from measures.selectors import SeriesBook
from reports import figure_tables
from tests.returns import open_quarter, return_of

pytestmark = pytest.mark.django_db

OCT, NOV, DEC = (Period.month(Month(2022, m)) for m in (10, 11, 12))
JAN, FEB, MAR = (Period.month(Month(2023, m)) for m in (1, 2, 3))
REASON = "Crime system outage: December not yet extracted"


def entry(period: Period, value=None, unavailable=None) -> services.ValueEntry:
    typed = Decimal(value) if value is not None else None
    return services.ValueEntry("t-assaults", period, typed, unavailable=unavailable)


def _save(ret: Return, lead, *entries) -> Return:
    return services.return_save(
        return_id=ret.pk, version=ret.version, entries=list(entries), actor=lead
    )


def _scorecard_notes(month: Month) -> list[str]:
    data = figure_tables.scorecard(
        measures=Measure.objects.filter(code="t-assaults"),
        area=Area.objects.get(code="force"),
        month=month,
        book=SeriesBook(Reader.public()),
    )
    return list(data.footnotes.marks)


def test_a_figure_not_available_is_explained_footnoted_and_supplied_next_quarter(
    client, alice, charlie
):
    open_quarter()
    ret = _save(
        return_of("dept-a"), alice, entry(OCT, 10), entry(NOV, 12), entry(DEC, None, REASON)
    )
    assert progress(return_rows(ret)) == (3, 3), "a reason answers the row"
    services.return_submit(return_id=ret.pk, actor=alice)

    client.force_login(charlie)
    page = client.get(reverse("returns:detail", args=[ret.pk])).content.decode()
    assert "Not available because:</strong> " + REASON in page
    services.return_approve(return_id=ret.pk, actor=charlie)
    gap = UnavailableFigure.objects.get()
    assert gap.status == UnavailableFigure.Status.APPROVED and gap.period == DEC
    assert f"Dec 2022 not available: {REASON}" in _scorecard_notes(Month(2022, 12))

    # Next quarter asks for December again, as an optional late figure, and holds it.
    open_quarter("2022/23-Q4", deadline=date(2023, 4, 20))
    q4 = return_of("dept-a", "2022/23-Q4")
    late = [row for row in return_rows(q4) if row.group == Group.LATE]
    assert [(row.period, row.required, row.carried.reason) for row in late] == [
        (DEC, False, REASON)
    ]
    q4 = _save(q4, alice, entry(DEC, 11), entry(JAN, 9), entry(FEB, 10), entry(MAR, 11))
    december = Value.objects.get(start=date(2022, 12, 1), measure__code="t-assaults")
    assert [r.pk for r in services.returns_holding_value(december)] == [q4.pk]
    assert Return.objects.get(pk=ret.pk).status == Return.Status.APPROVED, "Q3 stays approved"

    # Once approved with Q4 the footnote goes: the figure is there.
    services.return_submit(return_id=q4.pk, actor=alice)
    services.return_approve(return_id=q4.pk, actor=charlie)
    december.refresh_from_db()
    assert december.status == Value.Status.APPROVED
    assert not any("not available" in note for note in _scorecard_notes(Month(2022, 12)))


def test_a_reason_and_a_figure_together_are_refused(alice):
    open_quarter()
    with pytest.raises(services.ReturnInvalid) as refused:
        _save(return_of("dept-a"), alice, entry(DEC, 11, REASON))
    assert refused.value.errors == {
        "t-assaults--2022-12--2022-12": ["enter a figure or say why it is not available, not both"]
    }
    assert not UnavailableFigure.objects.exists() and not Value.objects.exists()


def test_the_reason_is_required_to_leave_a_figure_out(alice):
    open_quarter()
    ret = _save(return_of("dept-a"), alice, entry(OCT, 10), entry(NOV, 12))
    with pytest.raises(services.ReturnInvalid) as refused:
        services.return_submit(return_id=ret.pk, actor=alice)
    assert "Assaults, Dec 2022: enter a figure" in str(refused.value.errors)
