"""Table pages: login required, filters, exports, and query counts that do not grow with rows."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from measures.engine import derived as engine
from measures.models import Area, Department, Measure, Priority, Value
from tests.factories import monthly_values, table_pages

PAGES = table_pages()


def add_monthly_values(measure: Measure, area: Area, start: str = "2019-01", months: int = 48):
    monthly_values(measure, [area], start=start, months=months)


@pytest.fixture
def figures(small_plan):
    force = Area.objects.get(code="force")
    add_monthly_values(Measure.objects.get(code="t-assaults"), force)
    engine.recompute()
    return force


def extra_measures(count: int, area: Area) -> None:
    priority = Priority.objects.get(code="violence")
    owner = Department.objects.get(code="dept-a")
    first = Measure.objects.filter(code__startswith="extra-").count()
    for i in range(first, first + count):
        measure = Measure.objects.create(
            priority=priority,
            code=f"extra-{i}",
            name=f"Extra {i}",
            owner=owner,
            year_to_date_table=True,
            monthly_table=True,
            scorecard_group="Group",
        )
        add_monthly_values(measure, area)
    engine.recompute()


@pytest.mark.parametrize("name", PAGES)
def test_every_table_page_requires_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", PAGES)
def test_every_table_page_renders_and_exports_csv_and_xlsx(client, alice, figures, name):
    client.force_login(alice)

    page = client.get(reverse(name), {"period": "2022-12"})
    as_csv = client.get(reverse(name), {"period": "2022-12", "export": "csv"})
    as_xlsx = client.get(reverse(name), {"period": "2022-12", "export": "xlsx"})

    assert page.status_code == 200
    assert b"<caption>" in page.content
    assert as_csv["Content-Type"].startswith("text/csv")
    header = next(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert header, "the CSV starts with the table's header"
    workbook = load_workbook(io.BytesIO(as_xlsx.content))
    assert workbook.worksheets[0].max_row >= 1


@pytest.mark.parametrize("name", PAGES)
def test_a_bad_period_filter_says_what_is_accepted(client, alice, figures, name):
    client.force_login(alice)
    response = client.get(reverse(name), {"period": "Q5-2022"})
    assert response.status_code == 200
    assert b"is not a period" in response.content
    assert b"2022/23-Q3" in response.content


@pytest.mark.parametrize("name", PAGES)
def test_query_count_does_not_grow_with_rows(client, alice, figures, name):
    client.force_login(alice)
    url = reverse(name)
    force = Area.objects.get(code="force")
    extra_measures(1, force)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, {"period": "2022-12"}).status_code == 200
    extra_measures(15, force)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url, {"period": "2022-12"}).status_code == 200

    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    assert len(few) <= 16


def test_viewers_see_approved_figures_only_by_default(client, viewer, figures):
    Value.objects.filter(start="2022-12-01").update(status=Value.Status.DRAFT, value=1000)
    engine.recompute()
    client.force_login(viewer)

    response = client.get(reverse("reports:performance"), {"period": "2022-12"})

    assert response.context["filter"].form.cleaned_data["status"] == "approved"
    assert b"1,0" not in response.content


def test_provisional_figures_are_marked(client, alice, figures):
    Value.objects.filter(start="2022-12-01").update(status=Value.Status.DRAFT)
    engine.recompute()
    client.force_login(alice)

    response = client.get(reverse("reports:performance"), {"period": "2022-12"})

    assert b"status-provisional" in response.content


def test_filters_by_priority_and_measure(client, alice, figures):
    client.force_login(alice)
    force = Area.objects.get(code="force")
    extra_measures(2, force)

    response = client.get(reverse("reports:performance"), {"measure": "extra-1"})

    shown = [row["measure"].code for row in response.context["figure_tables"][0].data.data]
    assert shown == ["extra-1"]


@pytest.mark.parametrize(
    ("person", "most"),
    [
        # session, user with profile, areas, measures, targets, figures, figures marked not
        # available, and the reporting periods with their returns approved (the reporting
        # line above the table)
        ("admin_user", 8),
        ("charlie", 8),
        ("viewer", 8),
        # and the departments a lead answers for
        ("alice", 9),
    ],
)
def test_the_performance_page_reads_in_a_fixed_handful_of_queries(
    client, request, figures, person, most
):
    client.force_login(request.getfixturevalue(person))
    url = reverse("reports:performance")
    force = Area.objects.get(code="force")
    violence = Priority.objects.get(code="violence")
    extra_measures(2, force)
    with CaptureQueriesContext(connection) as few:
        page = client.get(url, {"period": "2022-12", "area": "force", "plan": "test-plan"})
    extra_measures(20, force)
    with CaptureQueriesContext(connection) as many:
        client.get(url, {"period": "2022-12", "area": "force", "plan": "test-plan"})
    with CaptureQueriesContext(connection) as filtered:
        one = client.get(url, {"period": "2022-12", "priority": violence.pk, "measure": "extra-3"})

    assert page.status_code == one.status_code == 200
    assert len(page.context["figure_tables"][0].data.data) == 3
    assert [r["measure"].code for r in one.context["figure_tables"][0].data.data] == ["extra-3"]
    assert len(few) == len(many) == len(filtered) <= most, [
        q["sql"][:80] for q in many.captured_queries
    ]


def test_filters_name_unknown_choices_without_reading_them_one_by_one(client, alice, figures):
    client.force_login(alice)

    response = client.get(
        reverse("reports:performance"), {"plan": "no-such-plan", "area": "nowhere"}
    )

    assert response.status_code == 200
    errors = response.context["filter"].errors
    assert "'no-such-plan' is not one of the choices" in errors["plan"][0]
    assert "'nowhere' is not one of the choices" in errors["area"][0]
    assert not response.context["figure_tables"]


@pytest.mark.parametrize("value", ["", "b&c", "2", None])
def test_the_fast_select_renders_what_djangos_select_renders(value):
    from django import forms
    from django.test.html import parse_html

    from reports.filters import FastSelect

    choices = [("", "All <areas>"), ("b&c", 'B & "C"'), (2, "Two")]
    attrs = {"id": "id_area", "aria-describedby": "hint", "required": True}
    fast = FastSelect(choices=choices).render("area", value, attrs=attrs)
    django = forms.Select(choices=choices).render("area", value, attrs=attrs)

    assert parse_html(fast) == parse_html(django)
