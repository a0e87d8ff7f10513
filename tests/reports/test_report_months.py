"""The report reads only the months its tables and charts ask about (issue 14), and shows
exactly what it showed when it read every month of every series."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from measures.access import Reader
from measures.models import DerivedFigure, Measure, Plan, SeriesBreak
from measures.selectors import SeriesBook, reporting_area, reporting_state
from reports import report_sections, selectors
from reports.models import ReportChart, ReportChartMeasure, ReportSection

pytestmark = pytest.mark.usefixtures("demo")

CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


def report_page(client, **params) -> bytes:
    response = client.get(reverse("reports:report"), params)
    assert response.status_code == 200
    return CSRF.sub(b"", response.content)


def pages_both_ways(client, monkeypatch, periods: list[dict]) -> tuple[list, list]:
    """Return the report's pages for the periods as it reads them, and as they are when it
    reads every month of every series (as before issue 14)."""
    read_months = [report_page(client, **period) for period in periods]
    with monkeypatch.context() as patched:
        patched.setattr(report_sections, "report_months", lambda *args, **kwargs: None)
        read_all = [report_page(client, **period) for period in periods]
    return read_months, read_all


@pytest.mark.django_db
def test_the_report_shows_what_it_shows_from_every_month(client, admin_user, monkeypatch):
    client.force_login(admin_user)
    plan = Plan.objects.get()
    month = reporting_state(plan=plan, reader=Reader.of(admin_user)).month
    assert month is not None
    # A break in series, which moves an XmR chart's start back.
    measure = Measure.objects.filter(frequency=Measure.Frequency.MONTHLY).first()
    assert measure is not None
    SeriesBreak.objects.create(measure=measure, start=month.shift(-14).first_day, reason="New")
    periods = [{}, {"period": month.shift(-7).iso}, {"period": month.shift(-30).iso}]

    # With the demo's declared charts, and one reaching further back than any table.
    sections = list(ReportSection.objects.filter(plan=plan).order_by("position"))
    chart = ReportChart.objects.create(
        section=sections[0],
        kind=ReportChart.Kind.MONTHLY_LINES,
        title="Ten years of outcomes",
        years=10,
        position=99,
    )
    ReportChartMeasure.objects.create(
        chart=chart, measure=Measure.objects.get(code="all-crime-outcome-rate"), position=0
    )
    read_months, read_all = pages_both_ways(client, monkeypatch, periods)
    assert b"Ten years of outcomes" in read_all[0]
    assert read_months == read_all

    # Without declared charts (the demo's reach five years back): the tables and the
    # automatic charts alone say which months are read.
    ReportChart.objects.all().delete()
    read_months, read_all = pages_both_ways(client, monkeypatch, periods)
    assert b"<svg" in read_all[0]
    assert read_months == read_all


@pytest.mark.django_db
def test_the_report_reads_fewer_rows_than_every_month(admin_user):
    plan = Plan.objects.get()
    reader = Reader.of(admin_user)
    month = reporting_state(plan=plan, reader=reader).month
    assert month is not None
    area = reporting_area()
    assert area is not None
    measures = selectors.plan_measures(plan)
    months = report_sections.report_months(month, area=area, layout=[], targets=[])
    book = SeriesBook(reader)
    book.prepare(measures, [area], rows=months)
    read = [m for s in book.fetch(measures, [area]).values() for m in s.monthly()]
    stored = DerivedFigure.objects.filter(
        measure__in=measures, area=area, scope=DerivedFigure.Scope.ALL, value__isnull=False
    )

    # The demo's series start five years before its reporting month; its tables and
    # automatic charts (its declared charts aside, which reach five years) ask about four.
    assert 0 < len(read) < stored.count()
    assert stored.filter(month_index__lt=min(read).index).exists()


def test_the_report_does_not_read_what_it_never_shows(admin_user):
    # The performance table's XmR and plan columns are left out of the report's read; a
    # series read so refuses those questions rather than answer them with nothing.
    plan = Plan.objects.get()
    reader = Reader.of(admin_user)
    month = reporting_state(plan=plan, reader=reader).month
    area = reporting_area()
    assert month is not None and area is not None
    measures = selectors.plan_measures(plan)
    book = SeriesBook(reader)
    book.prepare(
        measures,
        [area],
        rows=report_sections.report_months(month, area=area, layout=[], targets=[]),
    )
    stored = DerivedFigure.objects.filter(
        measure__in=measures,
        area=area,
        scope=DerivedFigure.Scope.ALL,
        month_index=month.index,
        spc_centre__isnull=False,
    ).first()
    assert stored is not None
    series = book.fetch(measures, [area])[(stored.measure_id, area.pk)]
    with pytest.raises(LookupError, match="spc_centre was not read"):
        series.spc(month)
    with pytest.raises(LookupError, match="plan_base_value was not read"):
        series.plan_comparison(month)
    # Read for the table page, the same series answers: the demo's latest month has limits.
    whole = SeriesBook(reader).fetch(measures, [area])[(stored.measure_id, area.pk)]
    answer = whole.spc(month)
    assert answer is not None and answer["centre"] == stored.spc_centre
