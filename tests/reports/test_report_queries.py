"""The report page reads its figures set-based (issue 14): the same number of queries
whatever the number of sections, tables and charts — no read per section or per chart."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from measures.models import Measure, Plan, Priority
from reports.models import ReportChart, ReportChartMeasure, ReportSection

pytestmark = pytest.mark.usefixtures("demo")


def report_queries(client) -> tuple[int, bytes]:
    client.get(reverse("reports:report"))  # sessions and caches warm
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("reports:report"))
    assert response.status_code == 200
    return len(captured), response.content


def declare(section: ReportSection, kind: str, codes: list[str], title: str) -> None:
    chart = ReportChart.objects.create(
        section=section, kind=kind, title=title, position=section.charts.count() + 10
    )
    for position, code in enumerate(codes):
        ReportChartMeasure.objects.create(
            chart=chart, measure=Measure.objects.get(code=code), position=position
        )


@pytest.mark.django_db
def test_more_sections_and_charts_cost_no_more_queries(client, admin_user):
    client.force_login(admin_user)
    before, page = report_queries(client)
    assert page.count(b"<svg") >= 4, "the demo report draws its charts"

    plan = Plan.objects.get()
    sections = list(ReportSection.objects.filter(plan=plan).order_by("position"))
    # Two more quarter charts (each reads stored values), a monthly-lines chart, and a new
    # priority, which the report shows as a section of its own.
    declare(sections[1], "quarter", ["all-crime-outcome-rate"], "Outcome rate this quarter")
    declare(sections[4], "quarter", ["101-abandonment-rate"], "Abandonment this quarter")
    declare(sections[2], "monthly_lines", ["999-service-level"], "999 service level")
    Priority.objects.create(plan=plan, code="extra", name="An extra priority", position=99)
    after, page = report_queries(client)

    assert b"Outcome rate this quarter" in page and b"Abandonment this quarter" in page
    assert b"An extra priority" in page
    assert after == before, f"{after} queries with more sections and charts, {before} before"
