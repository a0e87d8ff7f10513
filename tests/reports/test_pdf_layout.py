"""The published report's PDF fits the page and reads like a document (issue 13).

The demo's report is published and laid out by WeasyPrint once for the module; the tests
read the layout boxes of its pages: nothing runs past a page's content area, no page ends
with a heading, a caption or a table header, no table row is split across pages. Then the
document's parts: cover, contents with page numbers, running header and footer, the front
matter's word on approval in place of a status column, one label per group, links on the
site's real address. Made-up tables show the layouts the demo does not need: a long table
(its header repeated on every page) and one too wide for a portrait page (landscape).

A few pages are rendered to PNG (when poppler's `pdftoppm` is installed) in the test's tmp
directory and copied to test-artifacts/report-pdf/ for a person to look at.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.test import override_settings
from django.urls import reverse
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.formatting_structure import boxes

from measures.accounts import user_provision
from measures.arithmetic.periods import MONTH_ABBREVIATIONS
from measures.models import Source
from reports.figure_tables import TableData
from reports.pdf import report_contents, report_document, static_only_fetcher
from reports.tables import MonthlyTable, ScorecardTable
from reports.templatetags.published import LANDSCAPE_FROM, printed
from tests.factories import published_seed_report

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "report-pdf"
SITE = "https://pcp.example.police.uk"
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6", "caption", "thead"}
TOLERANCE = 0.5  # CSS px: rounding in the layout, not a box running off the page


# --- reading the layout --------------------------------------------------------------------


def _walk(box, ancestors=()):
    yield box, ancestors
    for child in getattr(box, "children", ()):
        yield from _walk(child, (*ancestors, box))


def page_flow(page):
    """Yield (box, ancestors) for a page's content, its header and footer (margin boxes) aside.

    `Page._page_box` is WeasyPrint's own name for the page's box tree; there is no public one.
    """
    for child in page._page_box.children:
        if not isinstance(child, boxes.MarginBox):
            yield from _walk(child)


def margin_text(page) -> str:
    """Return the text of a page's running header and footer."""
    return " ".join(
        box.text
        for child in page._page_box.children
        if isinstance(child, boxes.MarginBox)
        for box, _ in _walk(child)
        if isinstance(box, boxes.TextBox)
    )


def content_area(page) -> tuple[float, float, float, float]:
    box = page._page_box
    left, top = box.content_box_x(), box.content_box_y()
    return left, top, left + box.width, top + box.height


def overflows(document) -> list[str]:
    """Return each box that extends past its page's content area."""
    found = []
    for number, page in enumerate(document.pages, 1):
        left, top, right, bottom = content_area(page)
        for box, _ in page_flow(page):
            x, y = box.border_box_x(), box.border_box_y()
            width, height = box.border_width(), box.border_height()
            if (
                x < left - TOLERANCE
                or y < top - TOLERANCE
                or x + width > right + TOLERANCE
                or y + height > bottom + TOLERANCE
            ):
                text = getattr(box, "text", "")
                found.append(
                    f"page {number}: {type(box).__name__} <{box.element_tag}> {text!r} at "
                    f"x {x:.0f}–{x + width:.0f}, y {y:.0f}–{y + height:.0f}; content area "
                    f"x {left:.0f}–{right:.0f}, y {top:.0f}–{bottom:.0f}"
                )
    return found


def _is_heading(ancestors) -> bool:
    for box in ancestors:
        if box.element_tag in HEADINGS:
            return True
        element = box.element
        if box.element_tag == "tr" and "group" in (element.get("class") or "").split():
            return True
    return False


def pages_ending_with_a_heading(document) -> list[str]:
    """Return each page whose last line (or image) is a heading, caption, table header or a
    table's group label: something that belongs with what follows it."""
    found = []
    for number, page in enumerate(document.pages, 1):
        last = None
        for box, ancestors in page_flow(page):
            if isinstance(box, boxes.LineBox | boxes.ReplacedBox):
                last = (box, ancestors)
        if last and _is_heading(last[1]):
            text = " ".join(b.text for b, _ in _walk(last[0]) if isinstance(b, boxes.TextBox))
            found.append(f"page {number} ends with {text!r}")
    return found


def split_rows(document) -> list[str]:
    """Return each table body row laid out on more than one page."""
    pages_of: dict[int, tuple[str, set[int]]] = {}
    for number, page in enumerate(document.pages, 1):
        for box, ancestors in page_flow(page):
            if isinstance(box, boxes.TableRowBox) and not any(
                getattr(a, "is_header", False) for a in ancestors
            ):
                text = " ".join(b.text for b, _ in _walk(box) if isinstance(b, boxes.TextBox))[:60]
                pages_of.setdefault(id(box.element), (text, set()))[1].add(number)
    return [f"{text!r} on pages {sorted(p)}" for text, p in pages_of.values() if len(p) > 1]


def page_text(page) -> str:
    return " ".join(b.text for b, _ in page_flow(page) if isinstance(b, boxes.TextBox))


def page_of_element(document, element_id: str) -> int:
    for number, page in enumerate(document.pages, 1):
        for box, _ in page_flow(page):
            if box.element is not None and box.element.get("id") == element_id:
                return number
    raise AssertionError(f"no element #{element_id} in the document")


def lay_out(html: str):
    return HTML(string=html, base_url="file:///", url_fetcher=static_only_fetcher()).render()


def print_page(*figure_tables) -> str:
    """Return a document of the report's print stylesheet with the tables as a published
    report's section (`reports/report_body.html`)."""
    section = SimpleNamespace(
        code="made-up", title="Made-up tables", charts=[], headlines=[], sources=[], definitions=[]
    )
    body = render_to_string(
        "reports/report_body.html",
        {"sections": [(section, list(figure_tables))], "published": True},
    )
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        '<link rel="stylesheet" href="file:///static/css/report-print.css"></head>'
        f"<body>{body}</body></html>"
    )


# --- the demo's published report -----------------------------------------------------------


@pytest.fixture(scope="module")
def version(demo, django_db_blocker):
    with django_db_blocker.unblock():
        admin, _ = user_provision(
            username="pdf-admin",
            role="admin",
            department_codes=[],
            password="pdf-layout-2026",
            validate=False,
        )
        published = published_seed_report(admin)
        published.report.plan  # noqa: B018  (read while the database is open to us)
        return published


@pytest.fixture(scope="module")
def document(version, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(SITE_URL=SITE):
        return report_document(version)


@pytest.fixture(scope="module")
def pdf(document) -> bytes:
    return document.write_pdf()


def test_no_box_runs_past_the_content_area_of_its_page(document):
    assert overflows(document) == []


def test_no_page_ends_with_a_heading_a_caption_or_a_table_header(document):
    assert pages_ending_with_a_heading(document) == []


def test_no_table_row_is_split_across_pages(document):
    assert split_rows(document) == []


def test_the_monthly_table_prints_every_month_to_december_inside_the_page(document):
    compact = [
        (number, box)
        for number, page in enumerate(document.pages, 1)
        for box, _ in page_flow(page)
        if isinstance(box, boxes.TableBox) and "figures-compact" in box.element.get("class")
    ]
    assert len(compact) == 1, "the DVPN/DVPO table, a measure and twelve months"
    number, table = compact[0]
    _, _, right, _ = content_area(document.pages[number - 1])
    headers = [b.text for b, _ in _walk(table) if isinstance(b, boxes.TextBox)][:13]
    assert headers == ["Measure", *MONTH_ABBREVIATIONS]
    assert table.border_box_x() + table.border_width() <= right + TOLERANCE


def test_the_cover_names_the_organisation_report_plan_quarter_version_and_date(document, version):
    cover = " ".join(page_text(document.pages[0]).split()).lower()
    published_on = f"{version.published_at:%-d %B %Y}"
    for words in (
        "Office of the Police and Crime Commissioner for Lancashire",
        "Progress Against Police and Crime Plan Priorities 2021-2025",
        "Police and Crime Plan 2021-2025",
        "Quarter 3 2022/23, October – December 2022",
        "Version 1",
        f"Published {published_on}",
        f"Read online {SITE}{version.get_absolute_url()}",
    ):
        assert words.lower() in cover, words
    assert margin_text(document.pages[0]).strip() == "", "the cover has no header or footer"


def test_the_contents_give_each_section_the_page_it_starts_on(document, version):
    sections = report_contents(version.html)
    assert [s.title for s in sections][:2] == ["National Picture", "National CJS Delivery Data"]
    listed = {}
    for box, ancestors in page_flow(document.pages[1]):
        in_contents = any(a.element.get("class") == "contents" for a in ancestors)
        if box.element_tag == "li" and in_contents and isinstance(box, boxes.BlockBox):
            text = " ".join(b.text for b, _ in _walk(box) if isinstance(b, boxes.TextBox))
            listed[box.element[0].get("href")[1:]] = text
    assert set(listed) >= {s.anchor for s in sections} | {"about"}
    for anchor, text in listed.items():
        page = re.search(r"(\d+)\s*$", text)
        assert page, f"no page number for {anchor}: {text!r}"
        assert int(page.group(1)) == page_of_element(document, anchor), text


def test_every_page_after_the_cover_has_the_running_header_and_footer(document):
    count = len(document.pages)
    for number, page in enumerate(document.pages[1:], 2):
        running = margin_text(page)
        assert "Progress Against Police and Crime Plan Priorities 2021-2025" in running
        assert "Oct–Dec 2022" in running
        assert f"Page {number} of {count}" in running
        assert "Version 1, published" in running
    section_page = page_of_element(document, "section-organised-crime")
    assert "Disrupting and Dismantling Organised Crime" in margin_text(
        document.pages[section_page - 1]
    )


def test_the_status_column_is_left_out_and_the_front_matter_says_why_once(
    client, document, version, viewer
):
    for left_out in ("status-approved", ">Status<", ">Approved<"):
        assert left_out not in version.html, left_out
    text = " ".join(page_text(page) for page in document.pages)
    assert text.count("Every figure in this report was approved before it was published") == 1

    client.force_login(viewer)
    live = client.get(reverse("reports:scorecard"), {"period": "2022-12"})
    assert ">Status<" in live.content.decode(), "the live tables keep their status column"


def test_a_group_label_is_printed_once_for_its_group(version):
    scorecard = version.html[version.html.index("Activity Oct–Dec 2022") :]
    scorecard = scorecard[: scorecard.index("</table>")]
    assert scorecard.count("Pursuing offenders: reducing their capability") == 1
    assert scorecard.count("Preventing &amp; protecting: serious organised crime") == 1
    assert scorecard.count('scope="rowgroup"') == 2
    # The National Picture's targets already read once per group: they stay a column.
    picture = version.html[: version.html.index("</table>")]
    assert ">Target</th>" in picture and 'scope="rowgroup"' not in picture


def test_links_in_the_pdf_use_the_site_address(pdf, version):
    links = [
        annotation.get_object()["/A"]["/URI"]
        for page in PdfReader(io.BytesIO(pdf)).pages
        for annotation in page.get("/Annots", [])
        if "/URI" in annotation.get_object().get("/A", {})
    ]
    # Sources link to their own sites ("Source: Criminal Justice System Delivery Data
    # Dashboard - GOV.UK"); every other link is to this site, at its public address.
    sources = set(Source.objects.exclude(url="").values_list("url", flat=True))
    assert sources & set(links)
    assert f"{SITE}{version.get_absolute_url()}" in links
    own = [link for link in links if link not in sources]
    assert own and all(link.startswith(f"{SITE}/reports/published/") for link in own), own


def test_pages_render_to_png_for_a_person_to_look_at(pdf, document, tmp_path):
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) is not installed: no PNGs")
    report = tmp_path / "report.pdf"
    report.write_bytes(pdf)
    compact = page_of_element(document, "section-domestic-abuse-sexual-violence")
    scorecard = page_of_element(document, "section-organised-crime")
    pages = sorted({1, 2, 3, scorecard, compact})
    for number in pages:
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", f"{number}", "-l", f"{number}", report, "page"],
            cwd=tmp_path,
            check=True,
            timeout=60,
        )

    written = sorted(tmp_path.glob("*.png"))
    assert len(written) == len(pages)
    assert all(png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for png in written)
    # A copy where people look (test runs may overwrite each other's: nothing is checked there).
    shutil.copytree(tmp_path, ARTIFACTS, dirs_exist_ok=True)


# --- layouts the demo does not need ---------------------------------------------------------


def _measure(number: int):
    return SimpleNamespace(
        name=f"Activity number {number}",
        code=f"a{number}",
        unit="count",
        decimals=0,
        definition="",
    )


def test_a_table_too_wide_for_a_portrait_page_gets_a_landscape_page():
    months = [f"{year}-{month:02d}" for year in (2021, 2022) for month in range(1, 13)]
    names = ["January", "February", "March", "April", "May", "June", "July", "August"]
    names += ["September", "October", "November", "December"]
    data = TableData(
        rows=[
            {"measure": _measure(n), "status": "approved"}
            | {month: Decimal(1000 + n) for month in months}
            for n in range(3)
        ],
        labels={"measure": "Measure"} | dict(zip(months, names * 2, strict=True)),
        caption="Monthly figures, January 2021 – December 2022",
    )
    layout = printed(MonthlyTable(data))
    assert layout.width == 25 >= LANDSCAPE_FROM and layout.layout == "landscape"

    document = lay_out(print_page(MonthlyTable(data)))

    # The section is printed landscape, its heading with its table on one page.
    assert len(document.pages) == 1 and document.pages[0].width > document.pages[0].height
    assert pages_ending_with_a_heading(document) == []
    assert overflows(document) == []


def test_a_long_table_repeats_its_header_on_every_page_and_breaks_between_rows():
    groups = ["Pursuing offenders", "Preventing and protecting", "Partnership work"]
    data = TableData(
        rows=[
            {
                "group": groups[n // 50],
                "measure": _measure(n),
                "value": Decimal(n),
                "previous": Decimal(n + 1),
                "change_pct": Decimal("-1.5"),
                "marks": "",
                "status": "approved",
            }
            for n in range(150)
        ],
        labels={"value": "Oct–Dec 2022", "previous": "Jul–Sep 2022"},
        caption="Activity Oct–Dec 2022, a long made-up scorecard",
    )
    document = lay_out(print_page(ScorecardTable(data)))

    assert len(document.pages) >= 4
    for number, page in enumerate(document.pages, 1):
        text = page_text(page)
        assert "Activity" in text and "Oct–Dec 2022" in text, f"no header on page {number}"
    assert split_rows(document) == []
    assert pages_ending_with_a_heading(document) == []
    assert overflows(document) == []


def test_the_layout_checks_find_what_they_look_for():
    planted = """<html><head><style>
      @page { size: A6; margin: 10mm }
      table { border-collapse: collapse } td { border: 1px solid }
    </style></head><body>
      <table><tr><td><div style="width: 200mm">wider than the page</div></td></tr></table>
      <div style="height: 95mm"></div>
      <h2 style="font-size: 10pt">A heading at the foot</h2>
      <div style="height: 120mm; break-inside: avoid"><p>the section it heads</p></div>
      <table><tr><td>ROW</td></tr></table>
    </body></html>""".replace("ROW", "a row's line<br>" * 60)

    document = HTML(string=planted).render()

    assert overflows(document)
    assert [found.split(" ends ")[1] for found in pages_ending_with_a_heading(document)] == [
        "with 'A heading at the foot'"
    ]
    assert split_rows(document)
