"""Stored text is data, never markup (ASVS 1.2.1, 1.2.10): `<script>` typed into a measure
name, a value's note and a Key Headline is escaped in every page that shows it, comes out
as the same plain text in CSV/XLSX downloads, is escaped in the frozen published HTML and
is printed as text in the PDF.

On the demo (the seed report), with the text put in by queryset updates: the figures and
the headline are approved, which the models lock against saves.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from measures.arithmetic.periods import parse_period
from measures.models import Headline, Measure, Plan, Return, Value
from reports.publishing import report_publish
from tests.factories import table_pages
from tests.security import ESCAPED, PAYLOAD

pytestmark = pytest.mark.usefixtures("demo")

Q3 = parse_period("2022/23-Q3")
NAME = f"Homicides {PAYLOAD}"
NOTE = f"Checked with the unit {PAYLOAD}"
# Markup the headline formatter adds (bold, bullets) must not let raw markup through either.
IMG = "<img src=x onerror=alert(2)>"
HEADLINE = f"Homicides are down. {PAYLOAD}\n- **{IMG}** bullet"

TABLE_PAGES = table_pages()


@pytest.fixture
def poisoned(db):
    """The homicides measure's name, its December figure's note and its priority's headline
    carry script."""
    Measure.objects.filter(code="homicides").update(name=NAME)
    Value.objects.filter(
        measure__code="homicides", area__code="lancs", start="2022-12-01", end="2022-12-01"
    ).update(note=NOTE)
    updated = Headline.objects.filter(
        priority__code="national-picture", department__code="analysis", start="2022-10-01"
    ).update(text=HEADLINE)
    assert updated == 1
    return Measure.objects.get(code="homicides")


@pytest.fixture
def published(poisoned, admin_user):
    plan = Plan.objects.get(code="pcp-2021-25")
    return report_publish(plan=plan, period=Q3, actor=admin_user)


def assert_escaped(html: str, *texts: str, where: str) -> None:
    assert "<script>alert" not in html, where
    assert IMG not in html, where
    for text in texts:
        assert text.replace(PAYLOAD, ESCAPED) in html, f"{where}: {text!r} not shown escaped"


def analysis_q3_return() -> Return:
    return Return.objects.get(department__code="analysis", reporting_period__start="2022-10-01")


def test_table_pages_escape_the_measure_name(client, admin_user, poisoned):
    client.force_login(admin_user)

    for name in TABLE_PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert_escaped(response.content.decode(), NAME, where=name)


def test_the_report_preview_escapes_name_and_headline(client, admin_user, poisoned):
    client.force_login(admin_user)

    html = client.get(reverse("reports:report"), {"period": Q3.notation}).content.decode()

    assert_escaped(html, NAME, f"Homicides are down. {PAYLOAD}", where="report preview")
    assert "<strong>&lt;img src=x onerror=alert(2)&gt;</strong>" in html


def test_the_measure_page_escapes_name_and_note(client, admin_user, poisoned):
    client.force_login(admin_user)

    response = client.get(poisoned.get_absolute_url())

    assert response.status_code == 200
    assert_escaped(response.content.decode(), NAME, NOTE, where="measure page")


def test_the_return_page_escapes_name_note_and_headline(client, admin_user, poisoned):
    client.force_login(admin_user)

    response = client.get(reverse("returns:detail", args=[analysis_q3_return().pk]))

    assert response.status_code == 200
    assert_escaped(
        response.content.decode(),
        NAME,
        NOTE,
        f"Homicides are down. {PAYLOAD}",
        where="return page",
    )


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_exports_carry_the_name_as_plain_text_in_a_download(
    client, admin_user, poisoned, export_format
):
    """A spreadsheet cell is not HTML: the name comes out exactly as typed (not entity-
    encoded, not a formula), in an attachment the browser will not sniff into a page."""
    client.force_login(admin_user)

    response = client.get(reverse("reports:national-picture"), {"export": export_format})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert not response["Content-Type"].startswith("text/html")
    assert NAME in cells(response.content, export_format)
    assert not any("&lt;" in cell for cell in cells(response.content, export_format))


def cells(content: bytes, export_format: str) -> list[str]:
    if export_format == "csv":
        rows = csv.reader(io.StringIO(content.decode("utf-8-sig")))
        return [cell for row in rows for cell in row]
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return [
        str(cell)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    ]


def test_the_published_report_escapes_name_and_headline(client, published):
    response = client.get(published.get_absolute_url())  # anonymous, as the public reads it

    assert response.status_code == 200
    assert_escaped(
        response.content.decode(), NAME, f"Homicides are down. {PAYLOAD}", where="published"
    )


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_the_published_tables_carry_the_name_as_plain_text(client, published, export_format):
    url = reverse(
        "public:tables",
        kwargs={
            "plan": published.report.plan.code,
            "period": published.report.slug,
            "number": published.number,
            "export_format": export_format,
        },
    )
    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert NAME in cells(response.content, export_format)


def test_the_pdf_prints_the_script_as_text(client, published):
    url = reverse(
        "public:pdf",
        kwargs={
            "plan": published.report.plan.code,
            "period": published.report.slug,
            "number": published.number,
        },
    )
    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "".join(
        "".join(page.extract_text().split())
        for page in PdfReader(io.BytesIO(response.content)).pages
    )
    # Rendered as markup, the tags would vanish from the text; printed, they are there.
    assert "Homicides<script>alert(1)</script>" in text
    assert "Homicidesaredown.<script>alert(1)</script>" in text
    assert "<imgsrc=xonerror=alert(2)>" in text
