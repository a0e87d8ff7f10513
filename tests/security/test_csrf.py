"""Every state-changing POST needs a CSRF token (ASVS 3.5.1): a forged form from another site
changes nothing. Each refusal is paired with the same request carrying the token, so the
403 is shown to come from the missing token and not from something else."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from measures.models import Return, ReturnEvent, Value
from measures.returns import services
from reports.models import ReportVersion
from tests.conftest import PASSWORD
from tests.returns import alice_figures, assaults, form_data, open_quarter, return_of


@pytest.fixture
def quarter(small_plan):
    return open_quarter()


@pytest.fixture
def strict():
    """A browser whose requests are checked for CSRF tokens like a real one's."""
    return Client(enforce_csrf_checks=True)


def token(client: Client) -> str:
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def submitted(client, alice) -> Return:
    """Department A's return, filled in and submitted by Alice (with a token)."""
    ret = return_of("dept-a")
    client.force_login(alice)
    page = client.get(reverse("returns:detail", args=[ret.pk]))
    data = {**form_data(page, **alice_figures()), "action": "submit"}
    assert client.post(reverse("returns:detail", args=[ret.pk]), data).status_code == 302
    ret.refresh_from_db()
    assert ret.status == Return.Status.SUBMITTED
    return ret


def test_the_return_form_refuses_a_post_without_a_token(strict, alice, quarter):
    ret = return_of("dept-a")
    strict.force_login(alice)
    url = reverse("returns:detail", args=[ret.pk])
    data = {**form_data(strict.get(url), **{assaults("2022-12"): "42"}), "action": "save"}
    events = ReturnEvent.objects.count()

    forged = strict.post(url, data)

    assert forged.status_code == 403
    ret.refresh_from_db()
    assert ret.version == 1
    assert ReturnEvent.objects.count() == events
    assert not Value.objects.filter(measure__code="t-assaults").exists()
    # The same form with the token is accepted.
    accepted = strict.post(url, {**data, "csrfmiddlewaretoken": token(strict)})
    assert accepted.status_code == 302
    assert Value.objects.get(measure__code="t-assaults", start="2022-12-01").value == 42


def test_submitting_refuses_a_post_without_a_token(strict, alice, quarter):
    ret = return_of("dept-a")
    strict.force_login(alice)
    strict.get(reverse("returns:detail", args=[ret.pk]))

    forged = strict.post(reverse("returns:submit", args=[ret.pk]))

    assert forged.status_code == 403
    ret.refresh_from_db()
    assert ret.status == Return.Status.DRAFT


@pytest.mark.parametrize(
    ("action", "data"),
    [("approve", {}), ("send-back", {"reason": "December looks low"})],
)
def test_review_decisions_refuse_a_post_without_a_token(
    client, strict, alice, charlie, quarter, action, data
):
    ret = submitted(client, alice)
    strict.force_login(charlie)
    strict.get(reverse("returns:detail", args=[ret.pk]))
    url = reverse(f"returns:{action}", args=[ret.pk])

    forged = strict.post(url, data)

    assert forged.status_code == 403
    ret.refresh_from_db()
    assert ret.status == Return.Status.SUBMITTED
    accepted = strict.post(url, {**data, "csrfmiddlewaretoken": token(strict)})
    assert accepted.status_code == 302
    ret.refresh_from_db()
    assert ret.status != Return.Status.SUBMITTED


def test_reopening_refuses_a_post_without_a_token(client, strict, alice, charlie, quarter):
    ret = submitted(client, alice)
    services.return_approve(return_id=ret.pk, actor=charlie)
    strict.force_login(charlie)
    strict.get(reverse("returns:detail", args=[ret.pk]))
    url = reverse("returns:reopen", args=[ret.pk])

    forged = strict.post(url, {"reason": "Late crimes recorded"})

    assert forged.status_code == 403
    ret.refresh_from_db()
    assert ret.status == Return.Status.APPROVED


def test_publishing_refuses_a_post_without_a_token(strict, admin_user, small_plan):
    strict.force_login(admin_user)
    url = reverse("reports:publish")
    strict.get(url)

    forged = strict.post(url, {"period": "2022/23-Q3"})

    assert forged.status_code == 403
    assert not ReportVersion.objects.exists()


def test_signing_in_refuses_a_post_without_a_token(strict, alice):
    credentials = {"username": "alice", "password": PASSWORD}

    forged = strict.post(reverse("login"), credentials)

    assert forged.status_code == 403
    assert "_auth_user_id" not in strict.session
    strict.get(reverse("login"))
    accepted = strict.post(reverse("login"), {**credentials, "csrfmiddlewaretoken": token(strict)})
    assert accepted.status_code == 302
    assert strict.session["_auth_user_id"] == str(alice.pk)


def test_signing_out_refuses_a_post_without_a_token(strict, alice):
    strict.force_login(alice)
    strict.get(reverse("home"))

    forged = strict.post(reverse("logout"))

    assert forged.status_code == 403
    assert strict.get(reverse("home")).status_code == 200  # still signed in
    accepted = strict.post(reverse("logout"), {"csrfmiddlewaretoken": token(strict)})
    assert accepted.status_code == 302
    assert strict.get(reverse("home")).status_code == 302  # signed out


def test_the_api_refuses_a_session_post_without_a_token(strict, alice, quarter):
    """Programs use tokens; a browser session calling the API needs the CSRF token too."""
    ret = return_of("dept-a")
    strict.force_login(alice)

    forged = strict.post(
        reverse("api:return-values", args=[ret.pk]),
        {"version": 1, "values": []},
        content_type="application/json",
    )

    assert forged.status_code == 403
    assert "CSRF" in forged.json()["detail"]
    ret.refresh_from_db()
    assert ret.version == 1


def test_a_csrf_refusal_is_a_page_in_the_site_layout_and_is_logged(strict, alice, caplog):
    strict.force_login(alice)
    caplog.set_level(logging.INFO, logger="pcp.security")

    forged = strict.post(reverse("logout"))

    assert forged.status_code == 403
    page = forged.content.decode()
    assert 'class="site-header"' in page  # our layout, not Django's page with inline CSS
    assert "This form has expired or was not sent from this site" in page
    refusals = [r for r in caplog.records if getattr(r, "security_event", "") == "access_refused"]
    assert len(refusals) == 1
    assert refusals[0].status == 403
    assert refusals[0].user == "alice"
    assert refusals[0].path == reverse("logout")
    assert refusals[0].reason.startswith("CSRF verification failed")
