"""The published report as a PDF (WeasyPrint), made from the frozen HTML.

The PDF reads like a document: a cover (organisation, report, plan, quarter, version and
publication date), a contents list with page numbers, a front matter that says once that
every figure is approved, then the report's sections, each from a new page, under a
running header and footer (`static/css/report-print.css`). Links printed in it are the
site's real address (`settings.SITE_URL`), since a PDF is read away from the site.

Static files and charts are read from disk, never over HTTP: the URL fetcher serves
/static/ from the project's static folders and refuses everything else, so a PDF cannot
be made to fetch from the network (and cannot hang on it).
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse

from measures.arithmetic.periods import (
    EN_DASH,
    FINANCIAL_YEAR_START_MONTH,
    Period,
    financial_year_notation,
)
from reports import selectors


class RefusedFetch(ValueError):
    pass


def static_only_fetcher():
    """Return a WeasyPrint fetcher that reads /static/ from disk and refuses anything else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            prefix = "file:///static/"
            if url.startswith(prefix):
                found = finders.find(url[len(prefix) :])
                if found:
                    return URLFetcherResponse(
                        url,
                        body=Path(found).read_bytes(),
                        headers={"Content-Type": _mime(found)},
                    )
            raise RefusedFetch(f"refusing to fetch {url!r} while making a PDF")

    return StaticOnlyFetcher(fail_on_errors=False)


def _mime(path: str) -> str:
    return {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}.get(
        Path(path).suffix, "application/octet-stream"
    )


@dataclass(frozen=True)
class ContentsEntry:
    anchor: str  # the id of the heading in the document
    title: str


class _SectionHeadings(HTMLParser):
    """Collect the report's section headings (`<h2 id="section-…">`) from its HTML."""

    def __init__(self):
        super().__init__()
        self.entries: list[ContentsEntry] = []
        self._anchor: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        anchor = dict(attrs).get("id") or ""
        if tag == "h2" and anchor.startswith("section-"):
            self._anchor, self._text = anchor, []

    def handle_data(self, data):
        if self._anchor is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "h2" and self._anchor is not None:
            title = " ".join("".join(self._text).split())
            self.entries.append(ContentsEntry(self._anchor, title))
            self._anchor = None


def report_contents(html: str) -> list[ContentsEntry]:
    """Return the sections of a published report's HTML, in order, for its contents list."""
    parser = _SectionHeadings()
    parser.feed(html)
    parser.close()
    return parser.entries


def quarter_label(period: Period) -> str:
    """Return the period as a cover names it: "Quarter 3 2022/23, October – December 2022"
    for a financial quarter, else its months written out."""
    start, end = period.start, period.end
    if period.length == 1:
        return end.long_label
    if start.year == end.year:
        months = f"{start.name} {EN_DASH} {end.name} {end.year}"
    else:
        months = f"{start.long_label} {EN_DASH} {end.long_label}"
    if period.length == 3 and (start.month - FINANCIAL_YEAR_START_MONTH) % 3 == 0:
        quarter = (start.month - FINANCIAL_YEAR_START_MONTH) % 12 // 3 + 1
        return f"Quarter {quarter} {financial_year_notation(start.financial_year)}, {months}"
    return months


def site_address(path: str) -> str:
    """Return the path on the site's real address (`SITE_URL`), as a PDF must print it."""
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def report_organisation(version) -> str:
    """Return who publishes the report: the plan's organisation, else the name of the area
    the version reports on (its force)."""
    if version.report.plan.organisation:
        return version.report.plan.organisation
    try:
        return selectors.area_by_code(version.snapshot.get("area", "")).name
    except Http404:
        return ""


def report_pdf_html(version) -> str:
    """Return the HTML that WeasyPrint lays out as the version's PDF."""
    report = version.report
    args = [report.plan.code, report.slug, version.number]
    return render_to_string(
        "reports/report_pdf.html",
        {
            "version": version,
            "report": report,
            "organisation": report_organisation(version),
            "quarter": quarter_label(report.period),
            "contents": report_contents(version.html),
            "web_address": site_address(version.get_absolute_url()),
            "pdf_address": site_address(reverse("public:pdf", args=args)),
            "csv_address": site_address(reverse("public:tables", args=[*args, "csv"])),
            "xlsx_address": site_address(reverse("public:tables", args=[*args, "xlsx"])),
        },
    )


def report_document(version):
    """Return the version's PDF laid out (a WeasyPrint Document: pages of layout boxes)."""
    from weasyprint import HTML

    return HTML(
        string=report_pdf_html(version), base_url="file:///", url_fetcher=static_only_fetcher()
    ).render()


def report_pdf(version) -> bytes:
    """Return the PDF of a published report version."""
    return report_document(version).write_pdf()
