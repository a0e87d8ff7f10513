"""Soft warnings on the return page: small numbers are not unusual, and an approved return
has no warnings waiting for a note (SPEC §5). The rules: tests/measures/test_value_warnings."""

from __future__ import annotations

import pytest
from django.urls import reverse

from measures.models import Return
from measures.returns import services
from tests.returns import alice_figures, form_data, key, open_quarter, return_of


@pytest.fixture
def quarter(small_plan):
    return open_quarter()


def detail(ret: Return) -> str:
    return reverse("returns:detail", args=[ret.pk])


def save(client, ret: Return, action: str = "save", **typed: str):
    page = client.get(detail(ret))
    return client.post(detail(ret), {**form_data(page, **typed), "action": action})


def test_one_then_two_of_a_count_needs_no_note(client, alice, quarter):
    ret = return_of("dept-a")
    client.force_login(alice)

    response = save(client, ret, "submit", **alice_figures(oct="1", nov="2", dec="1"))

    assert response.status_code == 302
    assert return_of("dept-a").status == Return.Status.SUBMITTED


def test_an_approved_return_shows_no_warnings_waiting_for_a_note(client, alice, charlie, quarter):
    ret = return_of("dept-a")
    client.force_login(alice)
    asked = save(client, ret, "submit", **alice_figures(oct="10", nov="40", dec="35"))
    assert "Needs a note before submission." in asked.content.decode()
    save(client, ret, "submit", **{f"note-{key('t-assaults', '2022-11')}": "A festival"})
    services.return_approve(return_id=ret.pk, actor=charlie)

    for person in (alice, charlie):
        client.force_login(person)
        page = client.get(detail(ret)).content.decode()

        assert "Approved" in page
        assert 'class="warnings"' not in page
        assert "Needs a note" not in page
        assert "A festival" in page, "the note itself is still shown"
