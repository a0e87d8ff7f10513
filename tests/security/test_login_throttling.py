"""Login throttling with django-axes (ASVS 6.3.1): 5 wrong passwords for one username from one
address lock that pair out for 30 minutes, even with the right password; nobody else is
locked, the person can still sign in from elsewhere, and the lock-out is logged."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.security import EXPECTED_CSP

ADDRESS = "198.51.100.7"
ELSEWHERE = "203.0.113.9"


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    """Many sign-ins per test: hash the fixtures' passwords cheaply (not what production
    uses; the throttling does not depend on the hasher)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def sign_in(client, username: str, password: str, address: str = ADDRESS):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def signed_in_as(client) -> str | None:
    return client.session.get("_auth_user_id")


def fail_five_times(client, username: str = "alice"):
    responses = [sign_in(client, username, f"wrong-{n}") for n in range(5)]
    assert [r.status_code for r in responses[:4]] == [200] * 4  # the form, with an error
    return responses


def test_the_sixth_attempt_is_refused_even_with_the_right_password(client, alice):
    fail_five_times(client)

    response = sign_in(client, "alice", PASSWORD)

    assert response.status_code == 429
    assert signed_in_as(client) is None
    page = response.content.decode()
    assert "Sign-in locked" in page
    assert "Too many failed sign-in attempts" in page
    assert "for 30 minutes" in page
    assert 'class="site-header"' in page  # extends base.html
    assert response["Content-Security-Policy"] == EXPECTED_CSP
    assert client.get(reverse("home")).status_code == 302  # still not signed in


def test_the_fifth_failure_already_shows_the_lock_out_page(client, alice):
    responses = fail_five_times(client)

    assert responses[4].status_code == 429
    assert "Sign-in locked" in responses[4].content.decode()


def test_four_failures_do_not_lock(client, alice):
    for n in range(4):
        sign_in(client, "alice", f"wrong-{n}")

    assert sign_in(client, "alice", PASSWORD).status_code == 302
    assert signed_in_as(client) == str(alice.pk)


def test_another_person_at_the_same_address_is_not_locked(client, alice, bob):
    fail_five_times(client)

    response = sign_in(client, "bob", PASSWORD)

    assert response.status_code == 302
    assert signed_in_as(client) == str(bob.pk)


def test_the_same_person_at_another_address_is_not_locked(client, alice):
    fail_five_times(client)

    response = sign_in(client, "alice", PASSWORD, address=ELSEWHERE)

    assert response.status_code == 302
    assert signed_in_as(client) == str(alice.pk)


def test_padding_the_username_with_spaces_does_not_dodge_the_lock(client, alice):
    """The sign-in form strips the username, and axes counts the cleaned one."""
    fail_five_times(client)

    assert sign_in(client, " alice ", PASSWORD).status_code == 429
    assert signed_in_as(client) is None


def test_the_admin_sign_in_is_locked_too(client, admin_user):
    for n in range(5):
        client.post(
            reverse("admin:login"),
            {"username": "dana", "password": f"wrong-{n}"},
            REMOTE_ADDR=ADDRESS,
        )

    response = client.post(
        reverse("admin:login"), {"username": "dana", "password": PASSWORD}, REMOTE_ADDR=ADDRESS
    )

    assert response.status_code == 429
    assert signed_in_as(client) is None


def test_the_lock_lifts_after_30_minutes(client, alice):
    fail_five_times(client)
    attempt = AccessAttempt.objects.get(username="alice", ip_address=ADDRESS)

    AccessAttempt.objects.filter(pk=attempt.pk).update(
        attempt_time=attempt.attempt_time - timedelta(minutes=29)
    )
    assert sign_in(client, "alice", PASSWORD).status_code == 429
    AccessAttempt.objects.filter(username="alice").update(
        attempt_time=attempt.attempt_time - timedelta(minutes=31)
    )
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    assert signed_in_as(client) == str(alice.pk)


def test_a_forwarded_for_header_does_not_dodge_the_lock(client, alice):
    """With no trusted proxy configured, X-Forwarded-For is ignored: a new made-up address
    per request does not reset the count."""
    for n in range(5):
        client.post(
            reverse("login"),
            {"username": "alice", "password": f"wrong-{n}"},
            REMOTE_ADDR=ADDRESS,
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        )

    response = client.post(
        reverse("login"),
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR=ADDRESS,
        HTTP_X_FORWARDED_FOR="10.0.0.99",
    )

    assert response.status_code == 429


def test_failures_and_the_lock_out_are_logged(client, alice, caplog):
    caplog.set_level(logging.INFO, logger="pcp.security")
    caplog.set_level(logging.WARNING, logger="axes")

    fail_five_times(client)
    sign_in(client, "alice", PASSWORD)

    events = [getattr(r, "security_event", "") for r in caplog.records if r.name == "pcp.security"]
    assert events.count("login_failed") >= 5
    assert "locked_out" in events
    assert "login" not in events
    lock = next(r for r in caplog.records if getattr(r, "security_event", "") == "locked_out")
    assert "user=alice" in lock.getMessage()
    assert ADDRESS in lock.getMessage()
    # axes' own lock-out warning
    assert any(
        r.name.startswith("axes") and "AXES: Locking out" in r.getMessage() for r in caplog.records
    )
    assert "wrong-" not in caplog.text  # passwords are never logged


def test_a_successful_sign_in_is_logged(client, alice, caplog):
    caplog.set_level(logging.INFO, logger="pcp.security")

    sign_in(client, "alice", PASSWORD)

    login = [r for r in caplog.records if getattr(r, "security_event", "") == "login"]
    assert len(login) == 1
    assert "user=alice" in login[0].getMessage()


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_one_locked(client, alice, settings):
    """With TRUSTED_PROXY_COUNT=1 the address the proxy saw (the right-most X-Forwarded-For
    entry) is locked; what the client itself puts in front of it is ignored."""
    settings.PCP_TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"

    def attempt(password: str, forwarded: str):
        return client.post(
            reverse("login"),
            {"username": "alice", "password": password},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    for n in range(5):
        attempt(f"wrong-{n}", f"203.0.113.{n}, {ADDRESS}")

    assert attempt(PASSWORD, f"anything, {ADDRESS}").status_code == 429
    # Not an address (a request that bypassed the proxy): the socket's address is used.
    assert attempt("wrong", "not-an-address").status_code == 200
    assert attempt(PASSWORD, ELSEWHERE).status_code == 302
