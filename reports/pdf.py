"""The published report as a PDF (WeasyPrint), made from the frozen HTML.

Static files and charts are read from disk, never over HTTP: the URL fetcher serves
/static/ from the project's static folders and refuses everything else, so a PDF cannot
be made to fetch from the network (and cannot hang on it).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string


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


def report_pdf(version) -> bytes:
    """Return the PDF of a published report version."""
    from weasyprint import HTML

    html = render_to_string(
        "reports/report_pdf.html",
        {"version": version, "report": version.report, "site_url": settings.SITE_URL},
    )
    return HTML(string=html, base_url="file:///", url_fetcher=static_only_fetcher()).write_pdf()
