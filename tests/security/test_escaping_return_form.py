"""Script typed into the return form by a lead is stored as text and shown escaped: in the
form itself (note and headline boxes), on the measure page, in the review and in the API
(JSON, not HTML). The demo-based test_escaping covers the other pages, exports and PDF."""

from __future__ import annotations

import pytest
from django.urls import reverse

from measures.models import Headline, Value
from tests.returns import alice_figures, form_data, key, open_quarter, return_of
from tests.security import ESCAPED, PAYLOAD

NOTE = f"Checked {PAYLOAD}"
HEADLINE = f"Assaults are down. {PAYLOAD}"


@pytest.fixture
def saved(client, alice, small_plan):
    """Alice's return with a note and a headline typed in through the form."""
    open_quarter()
    ret = return_of("dept-a")
    client.force_login(alice)
    url = reverse("returns:detail", args=[ret.pk])
    typed = {
        **alice_figures(),
        f"note-{key('t-assaults', '2022-12')}": NOTE,
        "headline-violence": HEADLINE,
    }
    response = client.post(url, {**form_data(client.get(url), **typed), "action": "save"})
    assert response.status_code == 302
    return ret


def test_the_text_is_stored_exactly_as_typed(saved):
    assert Value.objects.get(measure__code="t-assaults", start="2022-12-01").note == NOTE
    assert Headline.objects.get(priority__code="violence").text == HEADLINE


def test_the_return_form_shows_it_escaped(client, saved):
    html = client.get(reverse("returns:detail", args=[saved.pk])).content.decode()

    assert "<script>alert" not in html
    assert NOTE.replace(PAYLOAD, ESCAPED) in html
    assert HEADLINE.replace(PAYLOAD, ESCAPED) in html


def test_the_measure_page_and_the_review_show_it_escaped(client, saved, charlie):
    client.force_login(charlie)
    measure_page = client.get(reverse("reports:measure", args=["t-assaults"]), {"area": "force"})
    review = client.get(reverse("returns:detail", args=[saved.pk]))

    for response in (measure_page, review):
        assert response.status_code == 200
        html = response.content.decode()
        assert "<script>alert" not in html
        assert NOTE.replace(PAYLOAD, ESCAPED) in html


def test_the_api_returns_it_as_json_text(client, saved):
    response = client.get(reverse("api:return-detail", args=[saved.pk]))

    assert response["Content-Type"] == "application/json"
    rows = response.json()["rows"]
    assert NOTE in [row["note"] for row in rows]
