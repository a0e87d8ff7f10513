"""Malformed query strings never cause a server error (ASVS 1.5, 2.2): 500 random query
strings from a seeded generator (random and known keys; unicode, very long, SQL-ish, bad
periods and ids, repeated parameters, broken percent-encoding) spread over every list page
and API list endpoint, plus a fixed set of the nastiest cases sent to every one of them.
Nothing may answer 5xx, and no HTML page may reflect the script it was sent.

Set SECURITY_FUZZ_SEED to explore other seeds, SECURITY_FUZZ_CASES for a longer run.
"""

from __future__ import annotations

import os
import random
from urllib.parse import quote

import pytest
from django.db import transaction
from django.urls import reverse

from measures.engine import derived as engine
from measures.models import Area, Measure
from tests.factories import monthly_values, table_pages
from tests.returns import open_quarter
from tests.security import PAYLOAD

SEED = int(os.environ.get("SECURITY_FUZZ_SEED", "20230201"))
CASES = int(os.environ.get("SECURITY_FUZZ_CASES", "500"))

PAGES = [
    "home",
    *table_pages(),
    "reports:report",
    "reports:publish",
    "returns:list",
    "returns:review-queue",
    "returns:periods",
    "public:list",
    "api:measure-list",
    "api:area-list",
    "api:value-list",
    "api:return-list",
]
# Pages with path arguments that read query parameters too.
PAGES_WITH_ARGS = [
    ("reports:measure", ["t-assaults"]),
    ("api:measure-compare", ["t-assaults"]),
]

KNOWN_KEYS = [
    "plan", "priority", "measure", "area", "period", "status", "target_status", "export",
    "page", "per_page", "sort", "limit", "offset", "ordering", "format", "department",
    "reporting_period", "base", "current", "code", "search", "q", "version", "next",
]  # fmt: skip
NASTY_VALUES = [
    "", " ", "0", "-1", "1.5", "1e999", "NaN", "Infinity", "null", "None", "true", "[]", "{}",
    "99999999999999999999999999999", "-99999999999999999999", "0x1F", "١٢٣",
    "2022-13", "2022-00", "0000-01", "9999-12", "2022/24", "2022/23-Q5", "2022-Q0",
    "Q5-2022", "2022-04/2021-01", "2022-04/", "/2022-04", "2022/23-Q3/2022-12",
    "12 months to Dec 2022", "2022-12-01", "20221", "2022--12",
    "' OR 1=1 --", "1; DROP TABLE measures_value; --", '" OR ""="', "1 UNION SELECT NULL--",
    "%", "%%", "%zz", "%00", "\x00", "a\x00b", "\r\n", "\t", "\u202e", "🙂", "ü", "漢字",
    "\ud7ff", "../../etc/passwd", "<svg onload=alert(1)>", PAYLOAD, "{{7*7}}", "${7*7}",
    "csv", "xlsx", "pdf", "json", "api", "approved", "all", "draft", "-code", "name__gt",
    "t-assaults", "force", "nation", "test-plan", "violence", "dept-a",
]  # fmt: skip
FIXED = [
    "period=2022-13",
    "period=" + "9" * 10000,
    "area=" + "x" * 5000 + "&measure=" + "y" * 5000,
    "priority=99999999999999999999999",
    "priority=-1&plan=%00&area=%00",
    "measure=%00&period=%00&status=%00",
    "status=nonsense&target_status=nonsense",
    "export=pdf",
    "export=csv&period=2022-13",
    "export=xlsx&area=nowhere",
    "page=-1&per_page=0",
    "page=abc&sort=-nonexistent",
    "limit=-5&offset=-5",
    "limit=99999999999999999999&offset=1e99",
    "base=2022-13&current=Q5",
    "base=2021/22&current=2022/23&area=%00",
    "department=1;DROP TABLE measures_value&reporting_period=' OR 1=1",
    "period=2022-12&period=2022-13&period=&period=" + quote(PAYLOAD),
    "&&&==&=&a=b=c&;&%zz=%zz&%",
    quote("🙂") + "=" + quote("\u202e漢字") * 200,
    "next=https://evil.example/&format=api",
    "format=xml",
]


@pytest.fixture
def data(small_plan, admin_user):
    """The small plan with four years of figures (force and nation) and an open quarter."""
    measure = Measure.objects.get(code="t-assaults")
    monthly_values(measure, Area.objects.filter(code__in=["force", "nation"]))
    engine.recompute()
    open_quarter()


def _encode(rng: random.Random, text: str) -> str:
    """Usually percent-encode; sometimes send the text raw, as a careless client would."""
    if rng.random() < 0.15:
        return "".join(ch if ch.isascii() and ch not in " #" else quote(ch) for ch in text)
    return quote(text, safe="")


def _value(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.55:
        return rng.choice(NASTY_VALUES)
    if roll < 0.65:
        return rng.choice(NASTY_VALUES) * rng.randint(50, 2000)  # very long
    if roll < 0.85:
        alphabet = [chr(rng.randint(1, 0x2FFF)) for _ in range(32)] + list("-/Q&=%;'\"")
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
    return str(rng.randint(-(10**20), 10**20))


def _key(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return rng.choice(KNOWN_KEYS)
    return _value(rng)[:50] or "k"


def query_strings(seed: int = SEED, count: int = CASES) -> list[str]:
    rng = random.Random(seed)
    result = []
    for _ in range(count):
        pairs = []
        for _ in range(rng.randint(1, 6)):
            key = _key(rng)
            for _ in range(rng.choice([1, 1, 1, 2, 3])):  # repeated parameters
                pairs.append(f"{_encode(rng, key)}={_encode(rng, _value(rng))}")
        if rng.random() < 0.1:
            pairs.insert(rng.randrange(len(pairs) + 1), rng.choice(["&", "=", "%", "%zz", ";"]))
        result.append("&".join(pairs))
    return result


def _urls() -> list[tuple[str, str]]:
    urls = [(name, reverse(name)) for name in PAGES]
    urls += [(name, reverse(name, args=args)) for name, args in PAGES_WITH_ARGS]
    return urls


def _problem(client, label: str, url: str, query: str) -> str | None:
    try:
        # A savepoint per request: on PostgreSQL one failed query would otherwise poison
        # every later request of the test with "current transaction is aborted".
        with transaction.atomic():
            response = client.get(f"{url}?{query}")
    except Exception as exc:  # the test client re-raises a view's exception
        return f"{label} ?{query[:200]!r}: {type(exc).__name__}: {exc}"[:500]
    if response.status_code >= 500:
        return f"{label} ?{query[:200]!r}: {response.status_code}"
    content_type = response.get("Content-Type", "")
    if content_type.startswith("text/html") and b"<script>alert" in response.content:
        return f"{label} ?{query[:200]!r}: reflects the script unescaped"
    return None


def test_the_generator_makes_500_different_malformed_query_strings():
    strings = query_strings()

    assert len(strings) == CASES
    assert len(set(strings)) > CASES * 0.95
    assert any(len(s) > 5000 for s in strings)
    assert any("%00" in s for s in strings)
    assert query_strings() == strings  # seeded: a failure can be replayed


def test_random_malformed_query_strings_cause_no_server_error(client, admin_user, data):
    client.force_login(admin_user)
    urls = _urls()

    problems = [
        problem
        for index, query in enumerate(query_strings())
        if (problem := _problem(client, *urls[index % len(urls)], query))
    ]

    assert problems == [], f"seed {SEED}: {len(problems)} problems"


def test_the_nastiest_query_strings_cause_no_server_error_anywhere(client, admin_user, data):
    client.force_login(admin_user)

    problems = [
        problem
        for label, url in _urls()
        for query in FIXED
        if (problem := _problem(client, label, url, query))
    ]

    assert problems == []


def test_a_nul_character_is_a_bad_request_not_a_database_error(client, admin_user, data):
    """PostgreSQL refuses NUL in text; the middleware turns it away before any view runs."""
    client.force_login(admin_user)

    for url in [
        "/api/v1/values/",
        "/measures/t-assaults/",
        "/api/v1/measures/t-assaults/compare/",
    ]:
        response = client.get(url, {"area": "force\x00", "base": "2021/22", "current": "2022/23"})
        assert response.status_code == 400, url


def test_the_public_list_survives_anonymous_fuzzing(client, data):
    url = reverse("public:list")
    problems = [
        problem
        for query in query_strings(count=50)
        if (problem := _problem(client, "public:list", url, query))
    ]

    assert problems == []
