"""Every page but login and the published reports needs a signed-in person (SPEC §1, ASVS 8.2).

The URLs are not listed by hand: every pattern the URL resolver knows (the admin's and the
API's included) is visited with its path arguments filled from the demo's real rows, so a
view that forgot its login check would answer with real data. A new page that is meant to
be public must be added to PUBLIC, a deliberate decision; a new parameter name must be
given a sample in `sample_for`; either way this test fails until someone decides.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import resolve, reverse

from measures.models import Measure, Return
from tests import site_walk
from tests.factories import published_seed_report
from tests.site_walk import Page, admin_sample

pytestmark = pytest.mark.usefixtures("demo")

# The pages anyone may open, by URL name, each with the reason it is public.
PUBLIC = {
    "login": "signing in",
    "logout": "signing out (POST only) reveals and changes nothing for an anonymous person",
    "admin:login": "the admin's sign-in form",
    "admin:logout": "signing out; sends an anonymous person to the admin's sign-in",
    "schema": "the OpenAPI schema is public by design (SPEC §8); the data stays protected",
    "public:list": "published reports (SPEC §1 Public)",
    "public:report": "a published report",
    "public:report-version": "one version of a published report",
    "public:pdf": "a published report's PDF",
    "public:tables": "a published report's tables as CSV/XLSX",
}


@pytest.fixture
def published(db, admin_user, viewer):
    """A published report, and a row for every model the admin manages (the demo has no
    groups, tokens or sign-in records), so that every admin URL gets a real id."""
    site_walk.admin_rows(admin_user)
    return published_seed_report(admin_user)


def sample_for(parameter: str, prefix: str, published) -> str:
    """Return a real value for a URL parameter, from the demo's rows."""
    found = admin_sample(parameter, prefix)
    if found is not None:
        return found
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
    assert parameter in samples, (
        f"URL parameter {parameter!r} under {prefix!r} has no sample value: add one to sample_for"
    )
    return samples[parameter]()


def every_page(published) -> list[Page]:
    return site_walk.every_page(lambda parameter, prefix: sample_for(parameter, prefix, published))


def _sends_to_login(response, path: str) -> bool:
    if response.status_code != 302:
        return False
    login = reverse("admin:login") if path.startswith("/admin/") else reverse("login")
    return response["Location"].startswith(login)


def _refuses(response, path: str) -> bool:
    if path.startswith("/api/"):
        return response.status_code in (401, 403)
    return _sends_to_login(response, path)


def test_every_filled_url_resolves_to_its_own_view(published):
    pages = every_page(published)

    assert len(pages) > 100  # the admin alone has several per model
    for page in pages:
        assert resolve(page.url).func == page.pattern.callback, page


def test_the_public_list_names_only_existing_pages(published):
    names = {page.name for page in every_page(published)}

    assert set(PUBLIC) <= names


def test_every_non_public_url_refuses_anonymous_people(client, published):
    """GET and POST: a view that checks login only for one method is caught too."""
    leaks = []
    for page in every_page(published):
        if page.name in PUBLIC:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(page.url)
            if not _refuses(response, page.url):
                leaks.append(f"{method.upper()} {page.url} ({page.name}): {response.status_code}")

    assert leaks == []


def test_the_public_pages_are_open_to_anyone(client, published):
    pages = {page.name: page.url for page in every_page(published) if page.name in PUBLIC}
    post_only = {"logout", "admin:logout"}

    for name, url in pages.items():
        if name in post_only:
            response = client.post(url)
            assert response.status_code == 302, name
            continue
        response = client.get(url)
        assert response.status_code == 200, f"{name} {url}: {response.status_code}"


def test_no_historical_model_has_admin_pages():
    """simple-history's Historical* models are reachable only through their object's history
    page (read-only for approved figures, see test_audit_history)."""
    registered = [model.__name__ for model in admin.site._registry]

    assert [name for name in registered if name.startswith("Historical")] == []
