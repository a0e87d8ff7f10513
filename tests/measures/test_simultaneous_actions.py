"""Two people acting on one return at the same moment, through the real pages (SPEC §5).

One wins; the other is told that someone else changed the return, and nothing fails with a
server error. Runs on PostgreSQL (row locks) and on SQLite (immediate transactions and a
busy timeout, pcp/settings.py). On SQLite the test runs on a database file, as a
deployment does: the test database is in memory, shared between threads, where SQLite
locks tables instead of waiting on the busy timeout, which would test something else.
"""

from __future__ import annotations

import datetime
import sqlite3
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from measures.arithmetic.periods import parse_period
from measures.importing.plan import plan_import
from measures.models import Plan, Return, ReturnEvent, Value
from measures.returns import services
from measures.returns.services import ValueEntry
from tests.conftest import SMALL_PLAN, _person
from tests.measures.test_concurrency import run_together
from tests.returns import MONTHS, assaults, form_data

CONFLICT = "Someone else changed this return after you opened it"


@pytest.fixture
def database_file(transactional_db, tmp_path):
    """On SQLite, move the test onto a copy of the (empty, migrated) test database in a file.

    The in-memory database stays open, set aside, and comes back when the test ends.
    """
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    path = tmp_path / "race.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(path) as copy:
        connection.connection.backup(copy)
    in_memory, name = connection.connection, connection.settings_dict["NAME"]
    # New threads open their connections from this same settings dict.
    connection.connection, connection.settings_dict["NAME"] = None, str(path)
    try:
        yield
    finally:
        connection.close()
        connection.connection, connection.settings_dict["NAME"] = in_memory, name


@pytest.fixture
def scene(database_file):
    """A submitted-ready draft of department A's return, two leads and two reviewers."""
    plan_import(data=SMALL_PLAN)
    people = {
        "alice": _person("alice", "lead", ["dept-a"]),
        "amir": _person("amir", "lead", ["dept-a"]),
        "charlie": _person("charlie", "reviewer"),
        "carol": _person("carol", "reviewer"),
    }
    reporting = services.reporting_period_open(
        plan=Plan.objects.get(code="test-plan"),
        period=parse_period("2022/23-Q3"),
        deadline=datetime.date(2023, 1, 20),
    )
    ret = Return.objects.get(reporting_period=reporting, department__code="dept-a")
    entries = [ValueEntry("t-assaults", parse_period(month), Decimal(10)) for month in MONTHS]
    services.return_save(return_id=ret.pk, version=1, entries=entries, actor=people["alice"])
    return Return.objects.get(pk=ret.pk), people


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_together(posts):
    """Post each (client, url, data) at the same moment; follow the redirect to the page."""
    return run_together(
        [lambda c=client, u=url, d=data: c.post(u, d, follow=True) for client, url, data in posts]
    )


def outcome(response) -> str:
    if isinstance(response, Exception):
        return f"raised {response!r}"
    page = response.content.decode()
    if response.status_code == 200 and "Submitted for review." in page:
        return "submitted"
    if response.status_code == 200 and "Approved. Its figures are now locked" in page:
        return "approved"
    if response.status_code in (200, 409) and CONFLICT in page:
        return "conflict"
    return f"status {response.status_code}"


def test_two_simultaneous_submits_give_one_submission_and_one_conflict(scene):
    ret, people = scene
    url = reverse("returns:submit", args=[ret.pk])
    posts = [
        (signed_in(people[name]), url, {"version": ret.version}) for name in ("alice", "amir")
    ]

    results = post_together(posts)

    assert sorted(map(outcome, results)) == ["conflict", "submitted"], results
    ret.refresh_from_db()
    assert (ret.status, ret.version) == (Return.Status.SUBMITTED, 3)
    assert ret.events.filter(kind=ReturnEvent.Kind.SUBMITTED).count() == 1


def test_two_simultaneous_saves_and_submits_of_the_form_give_one_submission(scene):
    ret, people = scene
    url = reverse("returns:detail", args=[ret.pk])
    posts = []
    for name, typed in (("alice", {}), ("amir", {assaults(m): "11" for m in MONTHS})):
        client = signed_in(people[name])
        page = client.get(url)  # both pages show the same version
        posts.append((client, url, {**form_data(page, **typed), "action": "submit"}))

    results = post_together(posts)

    assert sorted(map(outcome, results)) == ["conflict", "submitted"], results
    ret.refresh_from_db()
    assert ret.status == Return.Status.SUBMITTED
    assert ret.events.filter(kind=ReturnEvent.Kind.SUBMITTED).count() == 1
    stored = set(Value.objects.values_list("value", flat=True))
    assert stored in ({10}, {11}), "all of one person's figures, none of the other's"


def test_two_simultaneous_approvals_give_one_approval_and_one_conflict(scene):
    ret, people = scene
    ret = services.return_submit(return_id=ret.pk, actor=people["alice"])
    url = reverse("returns:approve", args=[ret.pk])
    posts = [
        (signed_in(people[name]), url, {"version": ret.version}) for name in ("charlie", "carol")
    ]

    results = post_together(posts)

    assert sorted(map(outcome, results)) == ["approved", "conflict"], results
    ret.refresh_from_db()
    assert ret.status == Return.Status.APPROVED
    assert ret.events.filter(kind=ReturnEvent.Kind.APPROVED).count() == 1


def test_two_simultaneous_approvals_without_a_version_give_one_approval_and_one_refusal(scene):
    ret, people = scene
    ret = services.return_submit(return_id=ret.pk, actor=people["alice"])

    results = run_together(
        [
            lambda who=who: services.return_approve(return_id=ret.pk, actor=people[who])
            for who in ("charlie", "carol")
        ]
    )

    approved = [r for r in results if isinstance(r, Return)]
    refused = [r for r in results if not isinstance(r, Return)]
    assert len(approved) == 1 and len(refused) == 1, results
    # Allowed people, wrong state: the refusal the pages and the API show as a conflict.
    assert "Only a submitted return can be approved" in str(refused[0])
    assert Return.objects.get(pk=ret.pk).status == Return.Status.APPROVED


def test_an_approval_from_a_page_approved_meanwhile_says_who_approved_it(scene):
    ret, people = scene
    ret = services.return_submit(return_id=ret.pk, actor=people["alice"])
    url = reverse("returns:approve", args=[ret.pk])
    carols_page_version = ret.version
    services.return_approve(return_id=ret.pk, actor=people["charlie"])

    response = signed_in(people["carol"]).post(url, {"version": carols_page_version}, follow=True)

    assert outcome(response) == "conflict"
    assert "charlie (" in response.content.decode()
    assert ret.events.filter(kind=ReturnEvent.Kind.APPROVED).count() == 1
