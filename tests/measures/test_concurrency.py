"""Races on a return, on PostgreSQL with real concurrent connections (SPEC §5).

Each thread uses its own database connection, as two web workers would.
"""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from measures.arithmetic.periods import parse_period
from measures.importing.plan import plan_import
from measures.models import Plan, Return, ReturnEvent, Value
from measures.returns import services
from measures.returns.services import ValueEntry
from tests.conftest import SMALL_PLAN, _person

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


@pytest.fixture
def setting(transactional_db):
    plan_import(data=SMALL_PLAN)
    alice = _person("alice", "lead", ["dept-a"])
    admin = _person("dana", "admin")
    charlie = _person("charlie", "reviewer")
    period = services.reporting_period_open(
        plan=Plan.objects.get(code="test-plan"),
        period=parse_period("2022/23-Q3"),
        deadline=datetime.date(2023, 1, 20),
    )
    ret = Return.objects.get(reporting_period=period, department__code="dept-a")
    return ret, alice, admin, charlie


def run_together(functions):
    """Run the functions at once in threads; return what each returned or raised."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def runner(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as exc:  # the outcome is what the test inspects
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_concurrent_saves_of_one_version_let_exactly_one_through(setting):
    ret, alice, _, _ = setting

    def save(n):
        return lambda: services.return_save(
            return_id=ret.pk,
            version=1,
            entries=[ValueEntry("t-assaults", parse_period("2022-10"), Decimal(n))],
            actor=alice,
        )

    results = run_together([save(n) for n in range(1, 21)])

    winners = [r for r in results if isinstance(r, Return)]
    conflicts = [r for r in results if isinstance(r, services.ReturnConflict)]
    assert (len(winners), len(conflicts)) == (1, 19), results
    stored = Value.objects.get(measure__code="t-assaults", start="2022-10-01")
    saved = ReturnEvent.objects.get(return_obj=ret, kind="saved")
    # No lost update: the stored figure is the winner's, as its audit record says.
    assert saved.changes[0]["new"] == format(stored.value.normalize(), "f")
    assert Return.objects.get(pk=ret.pk).version == 2


def test_an_edit_racing_an_approval_never_lands_after_it(setting):
    ret, alice, _, charlie = setting
    return_id = ret.pk
    entries = [
        ValueEntry("t-assaults", parse_period(f"2022-{m}"), Decimal(10))
        for m in ("10", "11", "12")
    ]
    ret = services.return_save(return_id=return_id, version=1, entries=entries, actor=alice)
    ret = services.return_submit(return_id=return_id, actor=alice)

    for attempt in range(5):
        # Reopen between rounds so that each round races an approval against an edit.
        if attempt:
            ret = services.return_reopen(return_id=ret.pk, actor=charlie, reason="again")
            ret = services.return_submit(return_id=ret.pk, actor=alice)
        version = ret.version
        edit = lambda v=version, a=attempt: services.return_save(  # noqa: E731
            return_id=return_id,
            version=v,
            entries=[ValueEntry("t-assaults", parse_period("2022-10"), Decimal(100 + a))],
            actor=alice,
        )
        approve = lambda: services.return_approve(return_id=return_id, actor=charlie)  # noqa: E731
        results = run_together([edit, approve])
        ret = Return.objects.get(pk=ret.pk)
        # The return is submitted, so the edit must always be refused, before or after.
        assert isinstance(results[0], services.ReturnLocked | services.ReturnConflict), results
        assert ret.status == Return.Status.APPROVED
        value = Value.objects.get(measure__code="t-assaults", start="2022-10-01")
        assert value.value == 10 and value.status == Value.Status.APPROVED


def test_an_edit_of_a_draft_racing_a_submission_is_serialised(setting):
    ret, alice, admin, _ = setting
    entries = [
        ValueEntry("t-assaults", parse_period(f"2022-{m}"), Decimal(10))
        for m in ("10", "11", "12")
    ]
    ret = services.return_save(return_id=ret.pk, version=1, entries=entries, actor=alice)
    edit = lambda: services.return_save(  # noqa: E731
        return_id=ret.pk,
        version=ret.version,
        entries=[ValueEntry("t-assaults", parse_period("2022-10"), Decimal(11))],
        actor=admin,
    )
    submit = lambda: services.return_submit(  # noqa: E731
        return_id=ret.pk, actor=alice, version=ret.version
    )

    results = run_together([edit, submit])

    ret = Return.objects.get(pk=ret.pk)
    succeeded = [r for r in results if isinstance(r, Return)]
    assert len(succeeded) == 1, results
    value = Value.objects.get(measure__code="t-assaults", start="2022-10-01")
    if ret.status == Return.Status.SUBMITTED:
        assert value.value == 10 and value.status == Value.Status.SUBMITTED
    else:
        assert value.value == 11 and value.status == Value.Status.DRAFT
