"""Security headers and the Content-Security-Policy (ASVS 3.4), production settings (ASVS 13).

Every HTML page, signed in or not, answers with the same strict policy (no `unsafe-inline`
for scripts or styles, admin included), and no page of the product contains anything that
policy would block, so the policy costs nothing and stays that way.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.authtoken.models import Token

from measures.arithmetic.periods import parse_period
from measures.models import Measure, Plan, Return
from reports.publishing import report_publish
from tests.factories import table_pages
from tests.security import EXPECTED_CSP, csp_directives, inline_code

pytestmark = pytest.mark.usefixtures("demo")

ROOT = Path(__file__).resolve().parents[2]

TABLE_PAGES = table_pages()


@pytest.fixture
def published(db, admin_user):
    plan = Plan.objects.get(code="pcp-2021-25")
    return report_publish(plan=plan, period=parse_period("2022/23-Q3"), actor=admin_user)


def signed_in_pages(published) -> dict[str, str]:
    """Every kind of HTML page a signed-in admin sees, on the demo's real data."""
    draft = Return.objects.filter(status=Return.Status.DRAFT).order_by("pk").first()
    approved = Return.objects.filter(status=Return.Status.APPROVED).order_by("pk").first()
    measure = Measure.objects.get(code="homicides")
    pages = {name: reverse(name) for name in TABLE_PAGES}
    pages.update(
        {
            "home": reverse("home"),
            "report preview": reverse("reports:report"),
            "measure page": measure.get_absolute_url(),
            "returns list": reverse("returns:list"),
            "return form (draft)": reverse("returns:detail", args=[draft.pk]),
            "return (approved)": reverse("returns:detail", args=[approved.pk]),
            "review queue": reverse("returns:review-queue"),
            "reporting periods": reverse("returns:periods"),
            "publish page": reverse("reports:publish") + "?period=2022/23-Q3",
            "published list": reverse("public:list"),
            "published report": published.get_absolute_url(),
            "not found": "/no-such-page/",
        }
    )
    return pages


def anonymous_pages(published) -> dict[str, str]:
    return {
        "login": reverse("login"),
        "published list": reverse("public:list"),
        "published report": published.get_absolute_url(),
        "not found": "/no-such-page/",
    }


def assert_security_headers(response, label: str) -> None:
    assert response["Content-Type"].startswith("text/html"), label
    assert response["Content-Security-Policy"] == EXPECTED_CSP, label
    assert "camera=()" in response["Permissions-Policy"], label
    assert "geolocation=()" in response["Permissions-Policy"], label
    assert response["Cross-Origin-Resource-Policy"] == "same-origin", label
    assert response["X-Frame-Options"] == "DENY", label
    assert response["X-Content-Type-Options"] == "nosniff", label
    assert response["Referrer-Policy"] == "same-origin", label
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", label


def test_every_html_page_has_the_policy_and_the_security_headers(
    client, admin_user, viewer, published
):
    anonymous = {label: client.get(url) for label, url in anonymous_pages(published).items()}
    client.force_login(admin_user)
    signed_in = {label: client.get(url) for label, url in signed_in_pages(published).items()}
    client.force_login(viewer)
    signed_in["refused (403)"] = client.get(reverse("reports:publish"))

    for label, response in [*anonymous.items(), *signed_in.items()]:
        expected = {"not found": 404, "refused (403)": 403}.get(label, 200)
        assert response.status_code == expected, label
        assert_security_headers(response, label)


def test_the_policy_allows_no_inline_script_or_style_and_no_plugins(client):
    policy = csp_directives(client.get(reverse("login"))["Content-Security-Policy"])

    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    every_source = [source for sources in policy.values() for source in sources]
    assert "'unsafe-inline'" not in every_source
    assert "'unsafe-eval'" not in every_source
    assert "*" not in every_source


def test_no_page_has_inline_code_that_the_policy_would_block(client, admin_user, published):
    """A template that adds an inline script, a `style` attribute or an `onclick` fails here
    (with the page and line), instead of silently breaking under the policy in browsers."""
    blocked = {}
    for label, url in anonymous_pages(published).items():
        blocked[f"anonymous {label}"] = inline_code(client.get(url).content.decode())
    client.force_login(admin_user)
    for label, url in signed_in_pages(published).items():
        blocked[label] = inline_code(client.get(url).content.decode())

    assert {label: found for label, found in blocked.items() if found} == {}


def test_the_admin_gets_the_same_strict_policy(client, admin_user):
    """No `unsafe-inline` under /admin/ either: its only inline CSS is cosmetic."""
    client.force_login(admin_user)
    for url in [
        reverse("admin:index"),
        reverse("admin:measures_measure_changelist"),
        reverse("admin:measures_returnevent_changelist"),
        reverse("admin:measures_measure_change", args=[Measure.objects.first().pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_security_headers(response, url)


def test_signed_in_responses_are_never_stored_in_a_cache(client, admin_user, published):
    client.force_login(admin_user)
    responses = {
        "page": client.get(reverse("reports:national-picture")),
        "csv export": client.get(reverse("reports:national-picture"), {"export": "csv"}),
        "xlsx export": client.get(reverse("reports:national-picture"), {"export": "xlsx"}),
        "api (session)": client.get(reverse("api:measure-list")),
        "admin": client.get(reverse("admin:index")),
        "published report": client.get(published.get_absolute_url()),
    }
    client.logout()
    token = Token.objects.create(user=admin_user)
    responses["api (token)"] = client.get(
        reverse("api:value-list"), HTTP_AUTHORIZATION=f"Token {token.key}"
    )

    for label, response in responses.items():
        assert response.status_code == 200, label
        assert response["Cache-Control"] == "no-store", label
        assert response["Cross-Origin-Resource-Policy"] == "same-origin", label


def _production_env() -> dict[str, str]:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(50)),
        "ALLOWED_HOSTS": "pcp.example.org",
        "SITE_URL": "https://pcp.example.org",
    }


def test_the_deploy_check_passes_in_production_mode():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_mode_hardens_sessions_cookies_and_transport():
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ["
        "'DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', "
        "'CSRF_COOKIE_HTTPONLY', 'SESSION_COOKIE_NAME', 'CSRF_COOKIE_NAME', "
        "'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', "
        "'SESSION_COOKIE_AGE', 'X_FRAME_OPTIONS']}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**_production_env(), "DJANGO_SETTINGS_MODULE": "pcp.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    production = json.loads(result.stdout.strip().splitlines()[-1])

    assert production["DEBUG"] is False
    assert production["SESSION_COOKIE_SECURE"] and production["CSRF_COOKIE_SECURE"]
    assert production["SESSION_COOKIE_HTTPONLY"] and production["CSRF_COOKIE_HTTPONLY"]
    assert production["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert production["CSRF_COOKIE_NAME"].startswith("__Host-")
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 31536000
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["SESSION_COOKIE_AGE"] <= 8 * 60 * 60
    assert production["X_FRAME_OPTIONS"] == "DENY"


def test_login_throttling_is_configured_as_required():
    assert "axes" in settings.INSTALLED_APPS
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_COOLOFF_TIME * 60 == 30  # hours → minutes
