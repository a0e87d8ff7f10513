"""The returns workflow services: transitions, four-eyes, locking, conflicts, audit, e-mail."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import Http404

from measures.arithmetic.periods import parse_period
from measures.importing.rules import ImportRejected
from measures.importing.values import values_import
from measures.models import ApprovedLocked, Headline, Plan, Return, ReturnEvent, Value
from measures.returns import services
from measures.returns.rows import return_rows
from measures.returns.services import ValueEntry

Q3 = parse_period("2022/23-Q3")


def entry(code: str, month: str, value, *, numerator=None, denominator=None, note=""):
    def number(x):
        return None if x is None else Decimal(str(x))

    return ValueEntry(
        code, parse_period(month), number(value), number(numerator), number(denominator), note
    )


@pytest.fixture
def period(small_plan):
    return services.reporting_period_open(
        plan=Plan.objects.get(code="test-plan"), period=Q3, deadline=datetime.date(2023, 1, 20)
    )


@pytest.fixture
def return_a(period, alice):
    return Return.objects.get(reporting_period=period, department__code="dept-a")


@pytest.fixture
def return_b(period, bob):
    return Return.objects.get(reporting_period=period, department__code="dept-b")


def fill_a(ret, actor, values=(10, 11, 12)):
    entries = [
        entry("t-assaults", f"2022-{m}", v)
        for m, v in zip(("10", "11", "12"), values, strict=True)
    ]
    return services.return_save(
        return_id=ret.pk,
        version=ret.version,
        entries=entries,
        headlines={"violence": "- **Assaults** fell."},
        actor=actor,
    )


def test_opening_a_period_creates_one_return_per_department_with_its_rows(period, return_a):
    assert sorted(period.returns.values_list("department__code", flat=True)) == [
        "dept-a",
        "dept-b",
    ]
    rows = return_rows(return_a)
    assert [(r.measure.code, r.period.notation) for r in rows] == [
        ("t-assaults", "2022-10"),
        ("t-assaults", "2022-11"),
        ("t-assaults", "2022-12"),
    ]
    opened = ReturnEvent.objects.get(return_obj=return_a)
    assert opened.kind == ReturnEvent.Kind.OPENED


def test_opening_the_same_period_again_creates_nothing(period):
    again = services.reporting_period_open(
        plan=period.plan, period=Q3, deadline=datetime.date(2023, 1, 20)
    )
    assert again.pk == period.pk
    assert Return.objects.count() == 2


def test_quarterly_measures_get_one_row_for_the_quarter(return_b):
    rows = return_rows(return_b)
    assert ("t-cash", "2022/23-Q3") in [(r.measure.code, r.period.notation) for r in rows]


def test_a_lead_saves_drafts_and_every_change_is_audited(return_a, alice):
    ret = fill_a(return_a, alice)

    assert ret.version == 2
    assert ret.status == Return.Status.DRAFT
    values = Value.objects.filter(measure__code="t-assaults").order_by("start")
    assert [v.value for v in values] == [10, 11, 12]
    assert {v.status for v in values} == {Value.Status.DRAFT}
    saved = ret.events.get(kind=ReturnEvent.Kind.SAVED)
    assert saved.actor == alice
    assert {(c["period"], c["new"]) for c in saved.changes if c["field"] == "value"} == {
        ("2022-10", "10"),
        ("2022-11", "11"),
        ("2022-12", "12"),
    }
    assert values[0].history.first().history_change_reason == f"return {ret.pk} saved"
    assert values[0].updated_by == alice
    assert values[0].history.first().history_user == alice


def test_hard_errors_block_the_whole_save(return_b, bob):
    with pytest.raises(services.ReturnInvalid) as caught:
        services.return_save(
            return_id=return_b.pk,
            version=return_b.version,
            entries=[
                entry("t-satisfied", "2022-10", 101, numerator=101, denominator=100),
                entry("t-cash", "2022-10/2022-12", -5),
            ],
            actor=bob,
        )
    messages = " ".join(m for ms in caught.value.errors.values() for m in ms)
    assert "greater than denominator" in messages
    assert "between 0 and 100" in messages
    assert "negative" in messages
    assert not Value.objects.exists()


def test_a_figure_outside_the_return_is_refused(return_a, alice):
    with pytest.raises(services.ReturnInvalid) as caught:
        services.return_save(
            return_id=return_a.pk,
            version=return_a.version,
            entries=[entry("t-cash", "2022-10/2022-12", 5)],
            actor=alice,
        )
    assert "not part of this return" in str(caught.value.errors)


def test_a_stale_version_is_refused_showing_what_changed(return_a, alice, admin_user):
    loaded_version = return_a.version
    fill_a(return_a, admin_user)

    with pytest.raises(services.ReturnConflict) as caught:
        services.return_save(
            return_id=return_a.pk,
            version=loaded_version,
            entries=[entry("t-assaults", "2022-10", 99)],
            actor=alice,
        )

    assert any("dana" in c and "Oct 2022 value: (blank) → 10" in c for c in caught.value.changes)
    assert Value.objects.get(start="2022-10-01").value == 10


def test_another_departments_lead_cannot_see_or_save_a_return(return_a, bob):
    with pytest.raises(Http404):
        fill_a(return_a, bob)


def test_a_viewer_cannot_save(return_a, viewer):
    with pytest.raises(Http404):
        fill_a(return_a, viewer)


def test_submission_needs_every_required_figure(return_a, alice):
    services.return_save(
        return_id=return_a.pk,
        version=1,
        entries=[entry("t-assaults", "2022-10", 10)],
        actor=alice,
    )
    with pytest.raises(services.ReturnInvalid) as caught:
        services.return_submit(return_id=return_a.pk, actor=alice)
    assert "Nov 2022: enter a figure" in str(caught.value.errors)


def test_an_unusual_figure_needs_a_note_before_submission(return_a, alice):
    fill_a(return_a, alice, values=(10, 11, 90))  # +718% on November
    with pytest.raises(services.ReturnInvalid) as caught:
        services.return_submit(return_id=return_a.pk, actor=alice)
    assert "add a note explaining it" in str(caught.value.errors)

    ret = Return.objects.get(pk=return_a.pk)
    services.return_save(
        return_id=ret.pk,
        version=ret.version,
        entries=[entry("t-assaults", "2022-12", 90, note="Op Limit arrests recorded as assaults")],
        actor=alice,
    )
    assert services.return_submit(return_id=ret.pk, actor=alice).status == "submitted"


@pytest.fixture
def submitted(return_a, alice, charlie):
    fill_a(return_a, alice)
    mail.outbox.clear()
    return services.return_submit(return_id=return_a.pk, actor=alice)


def test_submission_notifies_reviewers(
    return_a, alice, charlie, django_capture_on_commit_callbacks
):
    charlie.email = "charlie@example.org"
    charlie.save()
    fill_a(return_a, alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.return_submit(return_id=return_a.pk, actor=alice)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["charlie@example.org"]
    assert "submitted" in mail.outbox[0].subject.lower()


def test_approval_locks_values_and_headlines_and_notifies_the_lead(
    submitted, alice, charlie, django_capture_on_commit_callbacks
):
    alice.email = "alice@example.org"
    alice.save()
    with django_capture_on_commit_callbacks(execute=True):
        ret = services.return_approve(return_id=submitted.pk, actor=charlie)

    assert ret.status == Return.Status.APPROVED
    assert set(Value.objects.values_list("status", flat=True)) == {"approved"}
    assert set(Headline.objects.values_list("status", flat=True)) == {"approved"}
    assert mail.outbox[-1].to == ["alice@example.org"]
    assert "approved" in mail.outbox[-1].subject


def test_the_submitter_can_never_approve_their_own_return(submitted, alice):
    with pytest.raises(PermissionDenied):
        services.return_approve(return_id=submitted.pk, actor=alice)


def test_a_reviewer_who_edited_the_return_cannot_approve_it(return_a, admin_user, alice):
    fill_a(return_a, admin_user)
    services.return_submit(return_id=return_a.pk, actor=alice)
    with pytest.raises(PermissionDenied) as caught:
        services.return_approve(return_id=return_a.pk, actor=admin_user)
    assert "someone else must approve" in str(caught.value)


def test_sending_back_needs_a_reason_and_reaches_the_lead(
    submitted, charlie, alice, django_capture_on_commit_callbacks
):
    alice.email = "alice@example.org"
    alice.save()
    with pytest.raises(services.ReturnInvalid):
        services.return_send_back(return_id=submitted.pk, actor=charlie, reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        ret = services.return_send_back(
            return_id=submitted.pk, actor=charlie, reason="December looks low"
        )
    assert ret.status == Return.Status.RETURNED
    assert "December looks low" in mail.outbox[-1].body
    event = ret.events.get(kind=ReturnEvent.Kind.RETURNED)
    assert (event.actor, event.reason) == (charlie, "December looks low")
    # Editing a returned return moves it back to draft.
    ret = services.return_save(
        return_id=ret.pk,
        version=ret.version,
        entries=[entry("t-assaults", "2022-12", 13)],
        actor=alice,
    )
    assert ret.status == Return.Status.DRAFT


@pytest.fixture
def approved(submitted, charlie):
    return services.return_approve(return_id=submitted.pk, actor=charlie)


def test_an_approved_return_refuses_edits(approved, alice):
    with pytest.raises(services.ReturnLocked):
        services.return_save(
            return_id=approved.pk,
            version=approved.version,
            entries=[entry("t-assaults", "2022-10", 1)],
            actor=alice,
        )
    assert Value.objects.get(start="2022-10-01").value == 10


def test_an_approved_value_cannot_be_changed_or_deleted_through_the_model(approved):
    value = Value.objects.get(start="2022-10-01")
    value.value = 1
    with pytest.raises(ApprovedLocked):
        value.save()
    with pytest.raises(ApprovedLocked):
        Value.objects.get(start="2022-10-01").delete()
    headline = Headline.objects.get()
    headline.text = "changed"
    with pytest.raises(ApprovedLocked):
        headline.save()


def test_an_import_cannot_change_or_add_figures_in_an_approved_return(approved, tmp_path):
    path = tmp_path / "values.csv"
    path.write_text("measure,area,period,value\nt-assaults,force,2022-10,1\n")
    with pytest.raises(ImportRejected) as caught:
        values_import(path=path)
    assert "approved" in str(caught.value.errors[0])


def test_an_import_cannot_add_a_figure_to_a_submitted_return(submitted, tmp_path):
    Value.objects.filter(start="2022-12-01").update(status="draft")
    Value.objects.filter(start="2022-12-01").delete()
    path = tmp_path / "values.csv"
    path.write_text("measure,area,period,value\nt-assaults,force,2022-12,5\n")
    with pytest.raises(ImportRejected) as caught:
        values_import(path=path)
    assert "under review" in str(caught.value.errors[0])
    assert not Value.objects.filter(start="2022-12-01").exists()


def test_reopening_needs_a_reason_and_unlocks(approved, charlie, alice):
    with pytest.raises(services.ReturnInvalid):
        services.return_reopen(return_id=approved.pk, actor=charlie, reason="")
    ret = services.return_reopen(return_id=approved.pk, actor=charlie, reason="Revised robbery")
    assert ret.status == Return.Status.REOPENED
    assert set(Value.objects.values_list("status", flat=True)) == {"draft"}
    ret = services.return_save(
        return_id=ret.pk,
        version=ret.version,
        entries=[entry("t-assaults", "2022-10", 9)],
        actor=alice,
    )
    assert Value.objects.get(start="2022-10-01").value == 9


def test_a_lead_cannot_reopen(approved, alice):
    with pytest.raises(PermissionDenied):
        services.return_reopen(return_id=approved.pk, actor=alice, reason="mine")


def test_the_audit_trail_replays_to_the_current_figures(approved, charlie, alice):
    ret = services.return_reopen(return_id=approved.pk, actor=charlie, reason="revise")
    ret = services.return_save(
        return_id=ret.pk,
        version=ret.version,
        entries=[entry("t-assaults", "2022-10", 9), entry("t-assaults", "2022-11", None)],
        headlines={"violence": "Revised text"},
        actor=alice,
    )

    replayed: dict[tuple[str, str], str | None] = {}
    for event in ret.events.order_by("at", "pk"):
        for change in event.changes:
            key = (change.get("measure") or change.get("priority"), change.get("period", ""))
            if change["field"] in ("value", "text"):
                replayed[key] = change["new"]
    current = {
        (v.measure.code, v.period.notation): format(v.value.normalize(), "f")
        for v in Value.objects.select_related("measure")
    }
    current.update({(h.priority.code, ""): h.text for h in Headline.objects.all()})
    assert {k: v for k, v in replayed.items() if v is not None} == current
    kinds = list(ret.events.order_by("at", "pk").values_list("kind", flat=True))
    assert kinds == ["opened", "saved", "submitted", "approved", "reopened", "saved"]


def test_reminders_go_to_due_and_overdue_returns_once_a_day(
    return_a, alice, return_b, bob, django_capture_on_commit_callbacks
):
    alice.email, bob.email = "alice@example.org", "bob@example.org"
    alice.save()
    bob.save()
    due_soon = datetime.date(2023, 1, 18)

    with django_capture_on_commit_callbacks(execute=True):
        sent = services.return_reminders_send(today=due_soon)
        again = services.return_reminders_send(today=due_soon)

    assert (sent, again) == (2, 0)
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.org", "bob@example.org"]
    assert "Due soon" in mail.outbox[0].subject
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.return_reminders_send(today=datetime.date(2023, 1, 25)) == 2
    assert all("Overdue" in m.subject for m in mail.outbox)


def test_no_reminder_for_a_submitted_return_or_a_distant_deadline(
    submitted, return_b, bob, django_capture_on_commit_callbacks
):
    bob.email = "bob@example.org"
    bob.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.return_reminders_send(today=datetime.date(2023, 1, 1)) == 0
        assert services.return_reminders_send(today=datetime.date(2023, 1, 19)) == 1
    assert mail.outbox[-1].to == ["bob@example.org"]


def test_the_beat_task_opens_the_quarter_that_has_just_ended(small_plan):
    opened = services.reporting_period_open_due(today=datetime.date(2023, 1, 5))
    assert [r.period.notation for r in opened] == ["2022/23-Q3"]
    assert opened[0].deadline == datetime.date(2023, 1, 21)
    assert services.reporting_period_open_due(today=datetime.date(2023, 1, 6)) == []


def test_the_admin_site_cannot_change_or_delete_an_approved_value(approved, client, admin_user):
    value = Value.objects.get(start="2022-10-01")
    client.force_login(admin_user)
    change_url = f"/admin/measures/value/{value.pk}/change/"

    page = client.get(change_url)
    posted = client.post(change_url, {"value": "1"})
    deleted = client.post(f"/admin/measures/value/{value.pk}/delete/", {"post": "yes"})

    assert page.status_code == 200 and b'name="value"' not in page.content  # read-only view
    assert posted.status_code == 403
    assert deleted.status_code == 403
    assert Value.objects.get(pk=value.pk).value == 10
