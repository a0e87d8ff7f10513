"""Refused access is logged (ASVS 16.3.2): who, what path, which status and why, on the
"pcp.security" logger, whichever layer refused (the access module's 403/404, DRF, a view's
own refusal page, CSRF), and log lines cannot be forged through the URL (ASVS 16.4.1)."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from tests.returns import open_quarter, return_of


@pytest.fixture
def quarter(small_plan):
    return open_quarter()


@pytest.fixture
def refusals(caplog):
    """The access_refused records written during the test."""
    caplog.set_level(logging.INFO, logger="pcp.security")

    def collect():
        return [
            record
            for record in caplog.records
            if record.name == "pcp.security"
            and getattr(record, "security_event", "") == "access_refused"
        ]

    return collect


def only(records):
    assert len(records) == 1, [r.getMessage() for r in records]
    return records[0]


def test_a_return_hidden_by_the_access_layer_is_logged_as_a_404(
    client, alice, bob, quarter, refusals
):
    alices = return_of("dept-a")
    client.force_login(bob)

    response = client.get(reverse("returns:detail", args=[alices.pk]))

    assert response.status_code == 404
    record = only(refusals())
    assert record.levelno == logging.WARNING
    assert (record.status, record.user, record.path) == (404, "bob", response.request["PATH_INFO"])
    assert record.reason == "No such return"
    assert "user=bob" in record.getMessage()


def test_a_forbidden_action_is_logged_as_a_403_with_its_reason(
    client, viewer, small_plan, refusals
):
    client.force_login(viewer)

    response = client.post(reverse("reports:publish"), {"period": "2022/23-Q3"})

    assert response.status_code == 403
    record = only(refusals())
    assert record.levelno == logging.WARNING
    assert (record.status, record.user, record.path) == (403, "victor", reverse("reports:publish"))
    assert record.reason == "Only admins may do this."


def test_a_refusal_page_rendered_by_a_view_is_logged_too(client, viewer, refusals):
    client.force_login(viewer)

    response = client.get(reverse("returns:list"))

    assert response.status_code == 403
    record = only(refusals())
    assert (record.status, record.user, record.path) == (403, "victor", reverse("returns:list"))
    assert record.reason


def test_api_refusals_are_logged_with_the_apis_reason(client, alice, bob, quarter, refusals):
    alices = return_of("dept-a")
    anonymous = client.get(reverse("api:return-list"))
    client.force_login(bob)
    hidden = client.get(reverse("api:return-detail", args=[alices.pk]))

    assert anonymous.status_code in (401, 403)
    assert hidden.status_code == 404
    first, second = refusals()
    assert (first.user, first.path) == ("anonymous", reverse("api:return-list"))
    assert "credentials were not provided" in first.reason
    assert (second.status, second.user) == (404, "bob")
    assert second.levelno == logging.WARNING


def test_allowed_requests_are_not_logged_as_refusals(client, alice, quarter, refusals):
    client.force_login(alice)

    assert client.get(reverse("returns:detail", args=[return_of("dept-a").pk])).status_code == 200
    assert client.get(reverse("returns:list")).status_code == 200
    assert refusals() == []


def test_an_unknown_url_is_logged_at_info(client, refusals):
    response = client.get("/wp-admin/setup.php")

    assert response.status_code == 404
    record = only(refusals())
    assert record.levelno == logging.INFO
    assert record.reason == "no such URL"


def test_a_url_cannot_forge_a_log_line(client, refusals):
    """A newline in the path (%0A) would start a fake log entry; it is written escaped."""
    client.get("/nothing%0A2024-01-01 WARNING refused 403 user=admin%0D/")

    record = only(refusals())
    message = record.getMessage()
    assert "\n" not in message and "\r" not in message
    assert "\\n2024-01-01" in record.path
