"""The reviewer's side of returns: the queue, approving, sending back, reopening, four-eyes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from measures.models import Headline, Return, ReturnEvent, Value
from tests.returns import alice_figures, assaults, form_data, open_quarter, return_of


@pytest.fixture
def quarter(small_plan):
    return open_quarter()


def detail(ret: Return) -> str:
    return reverse("returns:detail", args=[ret.pk])


def action(name: str, ret: Return) -> str:
    return reverse(f"returns:{name}", args=[ret.pk])


def save(client, ret: Return, action: str = "save", **typed: str):
    page = client.get(detail(ret))
    response = client.post(detail(ret), {**form_data(page, **typed), "action": action})
    assert response.status_code == 302, response.content.decode()
    return response


def status_of(ret: Return) -> str:
    ret.refresh_from_db()
    return ret.status


def queue_table(client) -> str:
    page = client.get(reverse("returns:review-queue")).content.decode()
    return re.search(r"<table.*?</table>", page, re.S)[0]


def test_a_return_goes_from_draft_to_approved_and_back_with_every_step_in_its_history(
    client, alice, charlie, quarter
):
    ret = return_of("dept-a")

    # Alice opens her return, trips over one figure, fixes it and submits.
    client.force_login(alice)
    assert "Department A" in client.get(reverse("returns:list")).content.decode()
    page = client.get(detail(ret))
    invalid = client.post(
        detail(ret), {**form_data(page, **alice_figures(oct="1O")), "action": "save"}
    )
    assert "Enter a number" in invalid.content.decode()
    assert not Value.objects.exists()
    save(client, ret, "submit", **alice_figures(), **{"headline-violence": "Assaults fell."})
    assert status_of(ret) == Return.Status.SUBMITTED

    # Charlie finds it in his queue and sends it back; an empty reason is refused.
    client.force_login(charlie)
    assert "Department A" in queue_table(client)
    review = client.get(detail(ret)).content.decode()
    assert action("approve", ret) in review
    assert action("send-back", ret) in review
    empty = client.post(action("send-back", ret), {"reason": "   "})
    assert empty.status_code == 200
    assert re.search(
        r'id="id_send_back_reason_error">Give a reason: the lead will see it.',
        empty.content.decode(),
    )
    assert status_of(ret) == Return.Status.SUBMITTED
    sent_back = client.post(action("send-back", ret), {"reason": "December looks low: check"})
    assert sent_back.status_code == 302
    assert status_of(ret) == Return.Status.RETURNED
    assert "Department A" not in queue_table(client)

    # Alice sees why, corrects December and submits again.
    client.force_login(alice)
    page = client.get(detail(ret)).content.decode()
    assert "December looks low: check" in page
    assert "Returned for changes by charlie" in page
    save(client, ret, "submit", **{assaults("2022-12"): "14"})
    assert status_of(ret) == Return.Status.SUBMITTED

    # Charlie approves; the figures are approved and locked.
    client.force_login(charlie)
    assert client.post(action("approve", ret)).status_code == 302
    assert status_of(ret) == Return.Status.APPROVED
    assert set(Value.objects.values_list("status", flat=True)) == {Value.Status.APPROVED}
    assert Headline.objects.get().status == Headline.Status.APPROVED

    # Alice can no longer change them: no form, and a posted one is refused.
    client.force_login(alice)
    locked = client.get(detail(ret))
    assert locked.context["form"] is None
    assert 'name="action"' not in locked.content.decode()
    refused = client.post(detail(ret), {assaults("2022-12"): "99", "version": ret.version})
    assert refused.status_code == 403
    assert "approved and cannot be changed" in refused.content.decode()
    assert Value.objects.get(start__month=12).value == 14

    # Charlie reopens it, with a reason (an empty one is refused).
    client.force_login(charlie)
    assert client.post(action("reopen", ret), {"reason": ""}).status_code == 200
    assert status_of(ret) == Return.Status.APPROVED
    assert (
        client.post(action("reopen", ret), {"reason": "Late crimes recorded"}).status_code == 302
    )
    assert status_of(ret) == Return.Status.REOPENED
    assert set(Value.objects.values_list("status", flat=True)) == {Value.Status.DRAFT}

    # The history lists every step, who took it and why.
    history = client.get(detail(ret)).content.decode().split('id="history-title"')[1]
    steps = re.findall(r"<tr>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>\s*<td>([^<(]*)", history)
    assert [(who, what.strip()) for who, what in steps] == [
        ("the system", "Opened"),
        ("alice", "Saved"),
        ("alice", "Submitted"),
        ("charlie", "Returned for changes"),
        ("alice", "Saved"),
        ("alice", "Submitted"),
        ("charlie", "Approved"),
        ("charlie", "Reopened"),
    ]
    assert "December looks low: check" in history
    assert "Late crimes recorded" in history
    assert "Assaults, Dec 2022 value: 11 → 14" in history
    assert "Key Headlines: Reduce violence text: (blank) → Assaults fell." in history


def test_the_review_queue_lists_submitted_returns_oldest_submission_first(
    client, alice, bob, charlie, quarter
):
    client.force_login(bob)
    rate = "t-satisfied--2022-{0}--2022-{0}"
    save(
        client,
        return_of("dept-b"),
        "submit",
        **{f"value-{rate.format(m)}": "70" for m in ("10", "11", "12")},
        **{"value-t-cash--2022-10--2022-12": "1000"},
    )
    client.force_login(alice)
    save(client, return_of("dept-a"), "submit", **alice_figures())
    # Make Department B's submission the older one whatever the clock's resolution.
    Return.objects.filter(department__code="dept-b").update(
        submitted_at=timezone.now() - timedelta(hours=1)
    )
    client.force_login(charlie)

    table = queue_table(client)

    assert table.index("Department B") < table.index("Department A")
    assert "bob" in table
    assert "alice" in table


def test_the_review_queue_leaves_out_returns_that_are_not_submitted(client, charlie, quarter):
    client.force_login(charlie)

    table = queue_table(client)

    assert "No returns are waiting for review." in table
    assert "Department A" not in table


@pytest.mark.parametrize("persona", ["alice", "viewer"])
def test_leads_and_viewers_have_no_review_queue(client, quarter, persona, request):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse("returns:review-queue"))

    assert response.status_code == 403


def test_someone_who_saved_figures_in_a_return_cannot_approve_it(
    client, alice, admin_user, charlie, quarter
):
    ret = return_of("dept-a")
    client.force_login(admin_user)
    save(client, ret, **alice_figures())
    client.force_login(alice)
    save(client, ret, "submit")

    client.force_login(admin_user)
    page = client.get(detail(ret)).content.decode()
    refused = client.post(action("approve", ret))

    reason = "You entered or submitted figures in this return, so someone else must approve it."
    assert reason in page
    assert action("approve", ret) not in page
    assert action("send-back", ret) in page, "they may still send it back"
    assert refused.status_code == 403
    assert reason in refused.content.decode()
    assert status_of(ret) == Return.Status.SUBMITTED
    client.force_login(charlie)
    assert client.post(action("approve", ret)).status_code == 302
    assert status_of(ret) == Return.Status.APPROVED


def test_only_a_submitted_return_can_be_approved_or_sent_back(client, charlie, quarter):
    ret = return_of("dept-a")
    client.force_login(charlie)

    page = client.get(detail(ret)).content.decode()
    approve = client.post(action("approve", ret))
    send_back = client.post(action("send-back", ret), {"reason": "why not"})

    assert action("approve", ret) not in page
    assert approve.status_code == 403
    assert "Only a submitted return can be approved or returned." in approve.content.decode()
    assert send_back.status_code == 403
    assert status_of(ret) == Return.Status.DRAFT
    assert not ret.events.exclude(kind=ReturnEvent.Kind.OPENED).exists()


def test_a_reviewer_reads_a_return_without_a_form(client, alice, charlie, quarter):
    ret = return_of("dept-a")
    client.force_login(alice)
    save(client, ret, "submit", **alice_figures())
    client.force_login(charlie)

    page = client.get(detail(ret))
    refused = client.post(detail(ret), {"version": 3, "action": "save"})

    assert page.context["form"] is None
    html = page.content.decode()
    assert re.search(r'<td class="num">12</td>', html), "the stored figure as text"
    assert refused.status_code == 403
    assert "Your role (reviewer) may not edit returns." in refused.content.decode()


def test_the_action_urls_answer_only_post(client, alice, charlie, quarter):
    ret = return_of("dept-a")
    client.force_login(alice)
    save(client, ret, "submit", **alice_figures())
    client.force_login(charlie)

    response = client.get(action("approve", ret))

    assert response.status_code == 405
    assert status_of(ret) == Return.Status.SUBMITTED


def test_a_reviewer_reads_key_headlines_as_the_report_renders_them(
    client, alice, charlie, quarter
):
    ret = return_of("dept-a")
    client.force_login(alice)
    text = "Assaults **fell** by a third.\n- fewer at night <script>x</script>\n- fewer in town"
    save(client, ret, "submit", **alice_figures(), **{"headline-violence": text})

    client.force_login(charlie)
    review = client.get(detail(ret)).content.decode()

    assert "Assaults <strong>fell</strong> by a third." in review
    assert "<li>fewer at night &lt;script&gt;x&lt;/script&gt;</li><li>fewer in town</li>" in review
    shown = review.split('<div class="headline">')[1].split("</div>")[0]
    assert "**" not in shown and "- fewer" not in shown
