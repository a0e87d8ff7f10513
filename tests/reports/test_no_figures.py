"""A period with no figures says so in one sentence, not a table of dashes (issue 12).

The demo's figures end early in 2023; the table pages and the report preview are asked,
through their period filter, for October to December 2023.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from reports.figure_tables import TableData, period_without_figures
from tests.factories import table_pages

pytestmark = pytest.mark.usefixtures("demo")

PAGES = table_pages()
FUTURE = "2023/24-Q3"
NOT_APPROVED = "No figures have been approved for Oct–Dec 2023 yet."
NONE_AT_ALL = "There are no figures for Oct–Dec 2023 yet."


@pytest.mark.parametrize("name", PAGES)
def test_a_table_page_for_a_period_without_figures_says_so_instead(client, viewer, name):
    client.force_login(viewer)

    response = client.get(reverse(name), {"period": FUTURE})

    text = response.content.decode()
    assert response.status_code == 200
    assert text.count(NOT_APPROVED) == 1
    assert 'class="figures"' not in text
    assert "export=csv" not in text  # nothing to download but dashes


@pytest.mark.parametrize("name", PAGES)
def test_a_table_page_for_a_period_with_figures_shows_the_table(client, viewer, name):
    client.force_login(viewer)

    response = client.get(reverse(name), {"period": "2022/23-Q3"})

    text = response.content.decode()
    assert 'class="figures"' in text
    assert "No figures have been approved" not in text


def test_with_provisional_figures_included_the_sentence_does_not_say_approved(client, admin_user):
    client.force_login(admin_user)

    response = client.get(reverse("reports:monthly"), {"period": FUTURE, "status": "all"})

    assert NONE_AT_ALL in response.content.decode()


def test_the_export_of_a_period_without_figures_still_gives_its_rows(client, viewer):
    client.force_login(viewer)

    response = client.get(reverse("reports:scorecard"), {"period": FUTURE, "export": "csv"})

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert response.status_code == 200
    assert len(rows) > 1


def test_the_report_preview_for_a_period_without_figures_says_so_instead(client, admin_user):
    client.force_login(admin_user)

    response = client.get(reverse("reports:report"), {"period": FUTURE})

    text = response.content.decode()
    assert text.count(NONE_AT_ALL) == 1
    assert 'class="report-section"' not in text


def test_the_report_preview_for_a_period_with_figures_shows_its_sections(client, admin_user):
    client.force_login(admin_user)

    response = client.get(reverse("reports:report"), {"period": "2022/23-Q3"})

    text = response.content.decode()
    assert 'class="report-section"' in text
    assert "There are no figures" not in text


def test_a_table_without_rows_says_nothing_about_the_period():
    """No rows: none of its measures applies (no target, no national figure)."""
    empty, dashes, figures = TableData([]), TableData([{}]), TableData([{}], has_figures=True)

    assert period_without_figures([dashes])
    assert period_without_figures([empty, dashes])
    assert not period_without_figures([empty])
    assert not period_without_figures([dashes, figures])
