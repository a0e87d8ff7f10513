"""No draft figure reaches a reader or the public (issue 10): a generated leak test.

Every URL the resolver knows (the admin's, the API's and the public pages included), each
with the query variants its view reads, is fetched as a viewer, as the lead of another
department (by session, and by API token for the API) and anonymously — before and after
six departments save drafts carrying distinctive marker values, notes and Key Headlines,
and again after the drafts' derived figures are recomputed. Nothing may change, byte for
byte (once the per-request CSRF token is set aside), and no marker may appear in any
HTML, JSON, CSV, unzipped XLSX or PDF text. The API's own schema is walked too, so an
endpoint the URL list would miss, or a required query parameter no variant supplies,
fails the test.

A report published while the drafts exist must equal the one published before them, and
the pre-publish check must name every drafted measure the report would contain, including
those shown only in charts.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from pypdf import PdfReader
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from measures.accounts import user_provision
from measures.arithmetic.periods import parse_period
from measures.engine.recompute import recompute_run
from measures.models import Measure, Plan, Return
from measures.returns import services
from measures.returns.rows import return_priorities, return_rows
from reports.models import ReportVersion
from reports.publishing import (
    NothingChanged,
    PublishBlocked,
    report_build,
    report_html,
    report_publish,
    snapshot_of,
)
from tests import site_walk
from tests.conftest import PASSWORD
from tests.factories import published_seed_report
from tests.site_walk import admin_sample

pytestmark = [pytest.mark.usefixtures("demo"), pytest.mark.postgres]

SEED_QUARTER = parse_period("2022/23-Q3")
NEXT_QUARTER = parse_period("2022/23-Q4")
# Every department but the other lead's saves drafts for the quarter after the seed's.
DRAFTING = ["analysis", "cjs", "fcr", "ppc", "roads", "soc"]
OTHER = "ppu"
NOTE = "XYZZY-DRAFT-NOTE"
HEADLINE = "XYZZY-DRAFT-HEADLINE"
MARKERS = (NOTE, HEADLINE, "987654", "987,654", "98.76")

TABLE_VARIANTS = [
    "",
    "?status=approved",
    "?status=all",
    "?export=csv",
    "?export=xlsx",
    "?period=2023-03",
    "?period=2023-01&status=all",
    "?period=2023-03&status=all&export=csv",
    "?period=2023-03&export=xlsx",
]
# The query strings each view reads; a view not named here is fetched without one.
VARIANTS = {
    "reports:national-picture": TABLE_VARIANTS,
    "reports:national-comparison": TABLE_VARIANTS,
    "reports:year-to-date": [*TABLE_VARIANTS, "?measure=calls-999&period=2023-03"],
    "reports:monthly": [*TABLE_VARIANTS, "?measure=calls-999&period=2023-03"],
    "reports:scorecard": TABLE_VARIANTS,
    "reports:performance": TABLE_VARIANTS,
    "reports:report": ["", "?period=2023-03", "?status=approved", "?period=2023-02&status=all"],
    "reports:measure": ["", "?area=ew"],
    "reports:publish": ["", "?period=2022/23-Q4"],
    "api:value-list": [
        "",
        "?period=2023-01/2023-03",
        "?status=draft",
        "?measure=calls-999",
        "?page=2",
    ],
    "api:measure-compare": [
        "?area=lancs&base=2022-01/2022-03&current=2023-01/2023-03",
        "?area=lancs&base=2021-04/2021-12&current=2022-04/2022-12&approved_only=true",
        "?area=lancs&base=2022-03&current=2023-03&approved_only=false",
    ],
    "api:return-list": ["", "?status=draft"],
}


def _entry(row) -> services.ValueEntry:
    """Return a valid draft figure for the row that is easy to spot wherever it shows."""
    measure = row.measure
    if measure.unit == Measure.Unit.PERCENT:
        parts = {}
        if measure.aggregation == Measure.Aggregation.RATIO:
            parts = {"numerator": Decimal(9876), "denominator": Decimal(10000)}
        return services.ValueEntry(measure.code, row.period, Decimal("98.76"), note=NOTE, **parts)
    return services.ValueEntry(measure.code, row.period, Decimal(987654), note=NOTE)


def save_drafts(drafter, *, late_figures: bool = True) -> list[int]:
    """Save a marked draft in every row and Key Headline of the drafting departments'
    returns for the next quarter; return the measures changed. Without `late_figures`, the
    rows for periods ending in the seed quarter or before (asked for late) are left alone."""
    changed = set()
    returns = Return.objects.filter(
        department__code__in=DRAFTING,
        reporting_period__start=NEXT_QUARTER.start.first_day,
    )
    assert returns.count() == len(DRAFTING)
    for ret in returns:
        rows = [
            row
            for row in return_rows(ret, with_context=False)
            if late_figures or row.period.end > SEED_QUARTER.end
        ]
        assert rows or not late_figures, ret
        services.return_save(
            return_id=ret.pk,
            version=ret.version,
            entries=[_entry(row) for row in rows],
            headlines={p.code: HEADLINE for p in return_priorities(ret)},
            actor=drafter,
        )
        changed |= {row.measure.pk for row in rows}
    return sorted(changed)


@pytest.fixture
def published(admin_user):
    site_walk.admin_rows(admin_user)
    return published_seed_report(admin_user)


@pytest.fixture
def drafter(db):
    user, _ = user_provision(
        username="drafter",
        role="lead",
        department_codes=DRAFTING,
        password=PASSWORD,
        validate=False,
    )
    return user


@pytest.fixture
def other_lead(db):
    user, _ = user_provision(
        username="olive", role="lead", department_codes=[OTHER], password=PASSWORD, validate=False
    )
    return user


def _sample_sets(published) -> list[dict[str, str]]:
    """Path parameters to fill the URLs with: a drafting department's return and a charted
    measure of it, the other lead's own return and a table measure, an approved return."""

    def next_return(code: str) -> str:
        return str(
            Return.objects.get(
                department__code=code, reporting_period__start=NEXT_QUARTER.start.first_day
            ).pk
        )

    seed_return = Return.objects.get(
        department__code="analysis", reporting_period__start=SEED_QUARTER.start.first_day
    )
    common = {
        "plan": published.report.plan.code,
        "period": published.report.slug,
        "number": str(published.number),
        "app_label": "measures",
        "url": "no-such-admin-page/",
    }
    return [
        {**common, "pk": next_return("fcr"), "code": "calls-999", "export_format": "csv"},
        {**common, "pk": next_return(OTHER), "code": "all-crime", "export_format": "xlsx"},
        {**common, "pk": str(seed_return.pk), "code": "homicides", "export_format": "csv"},
        {**common, "pk": next_return("soc"), "code": "arrests", "export_format": "csv"},
    ]


def site_urls(published) -> list[tuple[str, str]]:
    """Return (URL name, URL with query) for every page and variant, without repeats."""
    found: dict[str, str] = {}
    for samples in _sample_sets(published):

        def sample(parameter: str, prefix: str, samples=samples) -> str:
            from_admin = admin_sample(parameter, prefix)
            if from_admin is not None:
                return from_admin
            if parameter == "object_id":  # the admin's "view on site" shortcut
                return str(Measure.objects.get(code=samples["code"]).pk)
            if parameter == "content_type_id":
                from django.contrib.contenttypes.models import ContentType

                return str(ContentType.objects.get_for_model(Measure).pk)
            assert parameter in samples, f"URL parameter {parameter!r} has no sample value"
            return samples[parameter]

        for page in site_walk.every_page(sample):
            for query in VARIANTS.get(page.name, [""]):
                found.setdefault(page.url + query, page.name)
    return [(name, url) for url, name in found.items()]


def _schema_operations() -> list[tuple[str, str, dict]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, method.upper(), operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_api_operation_is_walked_with_its_required_parameters(published):
    urls = site_urls(published)
    walked = {name for name, _ in urls}
    missing = []
    for path, method, operation in _schema_operations():
        concrete = re.sub(r"\{(\w+)\}", lambda m: {"code": "homicides"}.get(m[1], "1"), path)
        name = resolve(concrete).view_name
        if name not in walked:
            missing.append(f"{method} {path}: {name} is not walked")
            continue
        if method != "GET":
            continue
        required = [
            p["name"]
            for p in operation.get("parameters", [])
            if p.get("in") == "query" and p.get("required")
        ]
        queries = [url for n, url in urls if n == name]
        for parameter in required:
            if not any(f"{parameter}=" in url for url in queries):
                missing.append(f"GET {path}: no variant gives {parameter}")

    assert missing == []


CSRF = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]+(")')
XLSX_TIMES = re.compile(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>")


def _normalised(response) -> bytes:
    """Return the response's status, type and body, with per-request randomness set aside."""
    content_type = response.get("Content-Type", "")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if "spreadsheetml" in content_type:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            body = b"".join(
                name.encode() + b"\n" + XLSX_TIMES.sub(b"", archive.read(name))
                for name in sorted(archive.namelist())
            )
    else:
        body = CSRF.sub(rb"\1-\2", body)
    location = response.get("Location", "")
    return f"{response.status_code} {content_type} {location}\n".encode() + body


def _text(normalised: bytes) -> str:
    """Return what a reader could read in a normalised response (PDF text extracted)."""
    head, _, body = normalised.partition(b"\n")
    if b"application/pdf" in head and body.startswith(b"%PDF"):
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    return body.decode("utf-8", "replace")


def _readers(viewer, other_lead) -> dict[str, Client]:
    anonymous = Client()
    as_viewer = Client()
    as_viewer.force_login(viewer)
    as_lead = Client()
    as_lead.force_login(other_lead)
    by_token = APIClient()
    token, _ = Token.objects.get_or_create(user=other_lead)
    by_token.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return {
        "anonymous": anonymous,
        "viewer": as_viewer,
        "other lead": as_lead,
        "other lead (token)": by_token,
    }


def snapshot(readers: dict[str, Client], urls) -> dict[tuple[str, str], bytes]:
    seen = {}
    for who, client in readers.items():
        for _name, url in urls:
            if who.endswith("(token)") and not url.startswith("/api/"):
                continue
            seen[(who, url)] = _normalised(client.get(url))
    return seen


def _differences(before: dict, after: dict) -> list[str]:
    found = []
    for key, was in before.items():
        now = after[key]
        if now != was:
            at = next(
                (i for i, (a, b) in enumerate(zip(was, now, strict=False)) if a != b),
                min(len(was), len(now)),
            )
            found.append(
                f"{key[0]} {key[1]}: {was[max(0, at - 60) : at + 60]!r} "
                f"became {now[max(0, at - 60) : at + 60]!r}"
            )
    return found


def _markers(seen: dict) -> list[str]:
    found = []
    for (who, url), normalised in seen.items():
        text = _text(normalised)
        found += [f"{who} {url}: {m}" for m in MARKERS if m in text]
    return found


def test_no_draft_reaches_a_viewer_another_lead_or_the_public(
    published, drafter, other_lead, viewer
):
    readers = _readers(viewer, other_lead)
    urls = site_urls(published)
    before = snapshot(readers, urls)
    assert _markers(before) == [], "the markers must be new to the site"
    assert len(before) > 300

    changed = save_drafts(drafter)
    saved = snapshot(readers, urls)
    assert _differences(before, saved) == []
    assert _markers(saved) == []

    recompute_run(changed)
    recomputed = snapshot(readers, urls)
    assert _differences(before, recomputed) == []
    assert _markers(recomputed) == []


def test_the_drafts_do_reach_the_people_who_may_see_them(published, drafter, charlie):
    """The other side of the leak test: the markers are real, so their absence means
    something. The drafting lead and a reviewer see them in the tables and the report."""
    changed = save_drafts(drafter)
    recompute_run(changed)
    for person in (drafter, charlie):
        client = Client()
        client.force_login(person)
        for url in (
            "/report/?period=2023-03",
            "/tables/monthly/?period=2023-03&status=all&measure=calls-999",
        ):
            text = client.get(url).content.decode()
            assert "987,654" in text, (person, url)
        assert HEADLINE in client.get("/report/?period=2023-03").content.decode()


def _published_text(client: Client, version: ReportVersion) -> dict[str, bytes]:
    base = version.get_absolute_url()
    return {
        "html": _normalised(client.get(base)),
        "pdf": _normalised(client.get(f"{base}report.pdf")),
        "csv": _normalised(client.get(f"{base}tables.csv")),
        "xlsx": _normalised(client.get(f"{base}tables.xlsx")),
    }


def test_a_report_published_while_drafts_exist_equals_the_one_published_before(
    published, drafter, admin_user
):
    """Drafts change nothing a publication reads, so publishing again is refused as
    unchanged; the report it would have published equals the one published before the
    drafts, byte for byte, and that version and its downloads stay as they were."""
    client = Client()
    before = _published_text(client, published)
    # A late figure for a month of the published quarter is in its window, and blocks
    # publishing until approved (the test after next); the quarter's own drafts are not.
    changed = save_drafts(drafter, late_figures=False)
    recompute_run(changed)
    plan = published.report.plan

    with pytest.raises(NothingChanged) as caught:
        report_publish(plan=plan, period=SEED_QUARTER, actor=admin_user)

    assert f"Nothing has changed since version {published.number} " in caught.value.message
    assert list(ReportVersion.objects.filter(report=published.report)) == [published]
    stored = ReportVersion.objects.get(pk=published.pk)
    assert (stored.snapshot, stored.html) == (published.snapshot, published.html)
    # What publishing would freeze now, drafts and all, is what was frozen before them.
    built = report_build(plan=plan, period=SEED_QUARTER)
    assert json.loads(json.dumps(snapshot_of(built))) == stored.snapshot
    assert report_html(built) == stored.html
    after = _published_text(client, stored)
    assert _markers({("public", k): v for k, v in after.items()}) == []
    assert after == before


def test_publishing_a_quarter_with_drafts_names_every_drafted_measure_it_would_contain(
    drafter, admin_user
):
    save_drafts(drafter)
    plan = Plan.objects.get(code="pcp-2021-25")

    with pytest.raises(PublishBlocked) as caught:
        report_publish(plan=plan, period=NEXT_QUARTER, actor=admin_user)

    texts = [p.text for p in caught.value.problems]
    provisional = " ".join(p.text for p in caught.value.problems if p.kind == "provisional")
    # Measures shown only in charts are named too (SPEC §7; issue 10).
    for code in ("calls-999", "calls-101", "digital-demand", "rtc-fatalities"):
        assert Measure.objects.get(code=code).name in provisional, code
    assert any("Key Headlines" in t and "not approved" in t for t in texts)
    assert all(NOTE not in t and "987654" not in t for t in texts)


def test_a_reopened_charted_figure_blocks_publishing_and_stays_out_of_the_report(
    published, admin_user, charlie, django_capture_on_commit_callbacks
):
    """The issue's path: a reviewer reopens an approved return, the lead types a new draft
    figure for a measure the report only charts, an admin publishes."""
    fcr = Return.objects.get(
        department__code="fcr", reporting_period__start=SEED_QUARTER.start.first_day
    )
    lead, _ = user_provision(
        username="fiona", role="lead", department_codes=["fcr"], password=PASSWORD, validate=False
    )
    services.return_reopen(return_id=fcr.pk, actor=charlie, reason="999 calls revised")
    fcr.refresh_from_db()
    row = next(
        r
        for r in return_rows(fcr, with_context=False)
        if r.measure.code == "calls-999" and r.period == parse_period("2022-12")
    )
    services.return_save(return_id=fcr.pk, version=fcr.version, entries=[_entry(row)], actor=lead)
    recompute_run(None)

    with pytest.raises(PublishBlocked) as caught:
        report_publish(plan=published.report.plan, period=SEED_QUARTER, actor=admin_user)

    blocking = [p for p in caught.value.problems if "999" in p.text]
    assert blocking and not any(p.overridable for p in blocking)
    client = Client()
    client.force_login(admin_user)
    page = client.get("/report/publish/?period=2022/23-Q3").content.decode()
    assert "987,654" not in page and "987654" not in page
    assert Measure.objects.get(code="calls-999").name in page
