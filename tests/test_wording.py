"""No internal wording reaches the people who use the site (issue 12).

Each demo role (admin, reviewer, lead, viewer) signs in and opens every page the URL
resolver knows, the admin's included, with its parameters filled from the demo's rows and
the table pages asked for a period with figures, one without and one mistyped; anyone
opens every public page of a published report. The text a reader sees must not show
Python's None as a value, a period as two ISO months joined by a dash ("2023-03–2023-03"
where "Mar 2023" is meant) or a reference to the specification ("SPEC §3"). Form fields'
values and URLs are not text a reader sees, so they are left out.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import override_settings

from measures.models import Measure, Return
from tests import site_walk
from tests.factories import published_seed_report, table_pages

pytestmark = pytest.mark.usefixtures("demo")

ROLES = ["admin", "reviewer", "lead", "viewer"]
TABLE_QUERIES = ["", "?period=2022/23-Q3", "?period=2030-Q1", "?period=2022-13"]
QUERIES = {
    **dict.fromkeys(table_pages(), TABLE_QUERIES),
    "reports:report": TABLE_QUERIES,
    "reports:measure": ["", "?area=ew"],
    "reports:publish": ["", "?period=2022/23-Q4"],
    # A PDF's text is compressed, and is made from the published HTML, which is walked.
    "public:pdf": [],
}

ISO_RANGE = re.compile(r"\b\d{4}-\d{2}[–-]\d{4}-\d{2}\b")
# "None" standing for a value: alone, or before punctuation ("Decided at: None →"). A word
# after it ("None available") or a colon ("None: no return asks for this figure") makes
# it English.
NONE_VALUE = re.compile(r"(?<![\w'])None(?!\s*[\w:])")


class VisibleText(HTMLParser):
    """Collect the text a reader sees, one piece per run of text between two tags."""

    hidden = {"script", "style", "textarea", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.hidden:
            self._hidden_depth += 1

    def handle_endtag(self, tag):
        if tag in self.hidden and self._hidden_depth:
            self._hidden_depth -= 1

    def handle_data(self, data):
        if not self._hidden_depth and data.strip():
            self.pieces.append(data.strip())


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return parser.pieces


def wording_problems(url: str, content_type: str, body: bytes) -> list[str]:
    """Return what the page shows a reader that is internal wording."""
    if "html" not in content_type:
        # Exports, PDFs, the API's answers and schema: only the specification's name.
        return [f"{url}: SPEC"] if b"SPEC" in body else []
    problems = []
    for piece in visible_text(body.decode()):
        if NONE_VALUE.search(piece):
            problems.append(f"{url}: None in {piece[:80]!r}")
        if ISO_RANGE.search(piece):
            problems.append(f"{url}: ISO months in {piece[:80]!r}")
        if "SPEC" in piece:
            problems.append(f"{url}: SPEC in {piece[:80]!r}")
    return problems


@pytest.fixture
def published(admin_user):
    site_walk.admin_rows(admin_user)
    return published_seed_report(admin_user)


@pytest.fixture
def demo_users(db):
    """The demo's log-ins, made by the command `make run` uses (it runs in development only)."""
    with override_settings(DEBUG=True):
        call_command("create_demo_users", stdout=io.StringIO())
    return {user.username: user for user in get_user_model().objects.filter(username__in=ROLES)}


def site_urls(published) -> list[str]:
    """Return every URL of the site, filled from the demo's rows, with its query variants."""
    report = published.report
    samples = {
        "pk": lambda: str(Return.objects.order_by("pk").first().pk),
        "code": lambda: "homicides",
        "plan": lambda: report.plan.code,
        "period": lambda: report.slug,
        "number": lambda: str(published.number),
        "export_format": lambda: "csv",
        "app_label": lambda: "measures",
        "content_type_id": lambda: str(ContentType.objects.get_for_model(Measure).pk),
        "url": lambda: "no-such-admin-page/",
        "object_id": lambda: str(Measure.objects.get(code="homicides").pk),  # "view on site"
    }

    def sample(parameter: str, prefix: str) -> str:
        found = site_walk.admin_sample(parameter, prefix)
        if found is not None:
            return found
        assert parameter in samples, f"URL parameter {parameter!r} has no sample value"
        return samples[parameter]()

    return [
        page.url + query
        for page in site_walk.every_page(sample)
        for query in QUERIES.get(page.name, [""])
    ]


def _walk(client, urls: list[str]) -> tuple[int, list[str]]:
    opened, problems = 0, []
    for url in urls:
        response = client.get(url)
        if response.status_code != 200:
            continue  # refused, a redirect or a POST-only URL: nothing shown to read
        opened += 1
        body = b"".join(response.streaming_content) if response.streaming else response.content
        problems += wording_problems(url, response.get("Content-Type", ""), body)
    return opened, problems


@pytest.mark.parametrize("role", ROLES)
def test_no_page_shows_a_role_internal_wording(client, published, demo_users, role):
    client.force_login(demo_users[role])

    opened, problems = _walk(client, site_urls(published))

    assert opened > 20
    assert problems == []


def test_no_public_page_shows_internal_wording(client, published):
    opened, problems = _walk(client, site_urls(published))

    assert opened >= 5  # sign-in, the list, the report and its version, PDF, tables
    assert problems == []


def test_the_check_sees_what_it_looks_for():
    page = (
        "<table><tr><td>None</td><td>2023-03–2023-03</td></tr></table>"
        "<p>Notation as in SPEC §3.</p><p>None available</p>"
        '<input value="2022-04-2022-12"><textarea>None</textarea>'
    )

    found = wording_problems("/page/", "text/html; charset=utf-8", page.encode())

    assert [problem.split(" ")[1] for problem in found] == ["None", "ISO", "SPEC"]
