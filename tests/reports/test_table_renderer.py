"""One renderer for table cells, checked against django-tables2's own for every table.

The pages and the published snapshot render cells with `FigureTable.cell_rows` (and
`row_html`, built from it) instead of tables2's BoundRow, for speed; this proves the cells
are the same, for every table class, on the demo's real rows.
"""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils.html import conditional_escape

from measures.arithmetic.periods import parse_month
from measures.models import Measure, Plan
from reports.figure_tables import performance
from reports.report_sections import report_sections
from reports.selectors import reporting_area
from reports.tables import TABLE_CLASSES, FigureTable, PerformanceTable
from tests.factories import reviewer_book

pytestmark = pytest.mark.usefixtures("demo")


def _every_table() -> list[FigureTable]:
    plan = Plan.objects.get(code="pcp-2021-25")
    area = reporting_area()
    month = parse_month("2022-12")
    book = reviewer_book()
    found: list[FigureTable] = [
        TABLE_CLASSES[kind](data)
        for section in report_sections(plan=plan, area=area, month=month, book=book)
        for kind, data in section.tables
    ]
    # A book of its own, as the table page has: the report's reads only what it shows.
    found.append(
        PerformanceTable(
            performance(
                measures=Measure.objects.all(), areas=[area], month=month, book=reviewer_book()
            )
        )
    )
    return found


def test_every_table_class_renders_the_cells_django_tables2_would(db):
    tables = _every_table()
    classes = {type(t) for t in tables if t.data.data}

    assert classes == {*TABLE_CLASSES.values(), PerformanceTable}
    for table in tables:
        ours = [[str(cell) for cell, _ in row] for row in table.cell_rows()]
        # As tables2's template prints them: `{{ cell }}`, escaped unless marked safe.
        theirs = [
            [str(conditional_escape(row.get_cell(c.name))) for c in table.columns]
            for row in table.rows
        ]
        assert ours == theirs, table.caption


def test_the_page_rows_are_the_rendered_cells_in_order(db):
    for table in _every_table():
        for html, cells in zip(table.row_html(), table.cell_rows(), strict=True):
            position = 0
            for cell, _ in cells:
                position = html.index(str(cell), position) + len(str(cell))


def test_a_table_prints_its_sources_under_it_live_and_published(db):
    """The report's tables carry their group and sources from their rows' measures; the
    live table (tables2's template) and the printed one both end with the source line."""
    tables = [t for t in _every_table() if getattr(t, "group", "") == "Adult Rape"]
    (rape,) = tables
    (source,) = rape.source_systems

    live = rape.as_html(RequestFactory().get("/"))
    printed = render_to_string("reports/_report_table.html", {"table": rape, "published": True})

    line = (
        f'<p class="sources table-sources">Source: <a href="{source.url}">'
        "Criminal Justice System Delivery Data Dashboard - GOV.UK</a></p>"
    )
    for html in (live, printed):
        assert line in html
        assert html.index("</table>") < html.index(line)
    assert "status" not in printed.split("<thead>")[1].split("</thead>")[0].lower()
    # A table no report section built (a table page's) names no source.
    assert all(t.source_systems == [] for t in _every_table() if isinstance(t, PerformanceTable))
