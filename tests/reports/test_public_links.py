"""Public pages link only to public pages (issue 12).

Every page of reports/public_urls.py is filled with a real published report, opened without
signing in, and every link on it is followed, and the links of the pages they lead to, until
no new page turns up. No link may end at the sign-in page, a refusal or a missing page; a
link within the page must name an element of it. The list is generated, so a new public
page or a new link is checked the day it is added.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import reverse

from reports import public_urls
from tests import site_walk
from tests.factories import published_seed_report

pytestmark = pytest.mark.usefixtures("demo")


class Links(HTMLParser):
    """Collect the href of every link and the id of every element of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("href") is not None:
            self.hrefs.append(attributes["href"])


def links_of(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    parser.close()
    return parser


@pytest.fixture
def published(admin_user):
    return published_seed_report(admin_user)


def public_pages(published) -> list[str]:
    """Return the URL of every pattern in reports/public_urls.py, filled from `published`."""
    report = published.report
    samples = {
        "plan": report.plan.code,
        "period": report.slug,
        "number": str(published.number),
        "export_format": "csv",
    }

    def sample(parameter: str, prefix: str) -> str:
        assert parameter in samples, f"public URL parameter {parameter!r} has no sample value"
        return samples[parameter]

    mount = reverse("public:list").lstrip("/")
    pages = site_walk.every_page(sample, public_urls.urlpatterns, mount, "public")
    return [page.url for page in pages]


def _sends_to_login(response) -> bool:
    login = (reverse("login"), reverse("admin:login"))
    return response.status_code in (301, 302) and response["Location"].startswith(login)


def test_the_walk_covers_every_public_pattern(published):
    assert len(public_pages(published)) == len(public_urls.urlpatterns)


def test_every_link_of_a_public_page_opens_without_signing_in(client, published):
    start = [*public_pages(published), reverse("login")]
    to_visit, visited, broken = list(start), set(start), []
    linked_within = 0
    while to_visit:
        url = to_visit.pop()
        response = client.get(url)
        if _sends_to_login(response) or response.status_code in (403, 404):
            broken.append(f"{url}: {response.status_code} {response.get('Location', '')}")
            continue
        assert response.status_code == 200, f"{url}: {response.status_code}"
        if "text/html" not in response["Content-Type"]:
            continue
        page = links_of(response.content.decode())
        for href in page.hrefs:
            target = urlsplit(urljoin(url, href))
            if target.scheme in ("http", "https") and target.netloc != "testserver":
                continue  # another site's page: not ours to check
            if href.startswith("#"):
                linked_within += 1
                if href[1:] not in page.ids:
                    broken.append(f"{url}: {href} names no element of the page")
                continue
            path = target.path + (f"?{target.query}" if target.query else "")
            if path not in visited:
                visited.add(path)
                to_visit.append(path)

    assert broken == []
    assert reverse("public:list") in visited  # the sign-in page offers the published reports
    assert linked_within > 0  # measure names link to their definitions in the report


def test_a_published_measure_name_links_to_its_definition(client, published):
    response = client.get(published.get_absolute_url())
    page = links_of(response.content.decode())

    assert "measure-homicides" in page.ids
    assert "#measure-homicides" in page.hrefs
    assert not [href for href in page.hrefs if href.startswith("/measures/")]


def test_the_report_preview_still_links_measures_to_their_pages(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("reports:report"), {"period": "2022/23-Q3"})

    page = links_of(response.content.decode())

    assert reverse("reports:measure", args=["homicides"]) in page.hrefs
