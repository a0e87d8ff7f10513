"""A failure halfway through a write leaves nothing half written (issue 6, Reliability).

Each test injects a failure into an inner step of saving a return, moving it through the
workflow, importing values or publishing the report — after some rows have already been
written in the same transaction — and then checks that every table in the database is
exactly as it was before: values, their history, headlines, returns and their events,
pending recomputes, published reports and versions.

Each injected failure first checks that the write it interrupts really is half done, so a
test cannot pass because the failure came before anything was written.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import pytest
from django.apps import apps
from django.db import OperationalError, connection
from simple_history.manager import HistoryManager

from measures.arithmetic.periods import parse_period
from measures.importing.values import values_import
from measures.models import Headline, Plan, Return, ReturnEvent, Value
from measures.returns import services
from measures.returns.services import ValueEntry
from reports.models import PublishedReport, ReportVersion
from reports.publishing import report_publish

Q3 = parse_period("2022/23-Q3")


class Injected(Exception):
    """The failure a test injects."""


def database_state() -> dict[str, list[tuple]]:
    """Every row of every table the project's models (and their history) map, by table."""
    state = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in state:
            continue
        rows = model._base_manager.order_by("pk").values_list()
        state[meta.db_table] = [
            tuple(bytes(c) if isinstance(c, memoryview) else c for c in row) for row in rows
        ]
    return state


def assert_unchanged(before: dict[str, list[tuple]]) -> None:
    after = database_state()
    changed = [table for table in before if before[table] != after[table]]
    assert not changed, f"half-written tables: {', '.join(changed)}"


def fail_after(check):
    """A side effect that checks the write is half done, then fails."""

    def side_effect(*args, **kwargs):
        check()
        raise Injected("injected failure")

    return side_effect


def entry(code: str, month: str, value) -> ValueEntry:
    return ValueEntry(code, parse_period(month), None if value is None else Decimal(value))


# --- returns ---------------------------------------------------------------------------------


@pytest.fixture
def people(small_plan):
    from tests.conftest import _person

    return _person("alice", "lead", ["dept-a"]), _person("charlie", "reviewer")


@pytest.fixture
def return_a(people):
    reporting = services.reporting_period_open(
        plan=Plan.objects.get(code="test-plan"), period=Q3, deadline=datetime.date(2023, 1, 20)
    )
    return Return.objects.get(reporting_period=reporting, department__code="dept-a")


def save(ret: Return, actor, values=(10, 11, 12), headline="Assaults fell.") -> Return:
    months = ("2022-10", "2022-11", "2022-12")
    return services.return_save(
        return_id=ret.pk,
        version=ret.version,
        entries=[entry("t-assaults", m, v) for m, v in zip(months, values, strict=True)],
        headlines={"violence": headline},
        actor=actor,
    )


def test_saving_a_return_that_fails_after_its_values_are_written_writes_nothing(return_a, people):
    alice, _ = people
    before = database_state()

    def values_written():
        assert Value.objects.filter(measure__code="t-assaults").count() == 3
        assert Value.history.filter(history_change_reason__startswith="return").count() == 3

    with (
        patch("measures.returns.services._event", side_effect=fail_after(values_written)),
        pytest.raises(Injected),
    ):
        save(return_a, alice)

    assert_unchanged(before)
    ret = Return.objects.get(pk=return_a.pk)
    assert (ret.status, ret.version) == (Return.Status.DRAFT, 1)


def test_saving_a_return_that_fails_between_two_values_writes_nothing(return_a, people):
    alice, _ = people
    before = database_state()
    real_save = Value.save
    saved = []

    def second_save_fails(value, *args, **kwargs):
        if saved:
            assert Value.objects.filter(pk=saved[0].pk).exists()  # the first is written
            raise OperationalError("injected: the connection was lost")
        real_save(value, *args, **kwargs)
        saved.append(value)

    with (
        patch.object(Value, "save", autospec=True, side_effect=second_save_fails),
        pytest.raises(OperationalError),
    ):
        save(return_a, alice)

    assert_unchanged(before)


def test_saving_a_return_that_fails_writing_its_headlines_writes_nothing(return_a, people):
    alice, _ = people
    before = database_state()

    def values_written():
        assert Value.objects.count() == 3

    with (
        patch(
            "measures.returns.services._write_headlines", side_effect=fail_after(values_written)
        ),
        pytest.raises(Injected),
    ):
        save(return_a, alice)

    assert_unchanged(before)


def test_revising_a_draft_that_fails_halfway_keeps_the_previous_figures(return_a, people):
    """Changed, cleared and re-worded figures all come back as they were."""
    alice, _ = people
    ret = save(return_a, alice)
    before = database_state()

    def revision_written():
        assert not Value.objects.filter(start="2022-11-01").exists()  # cleared
        assert Value.objects.get(start="2022-10-01").value == 13
        assert Headline.objects.get().text == "Assaults rose."

    with (
        patch("measures.returns.services._event", side_effect=fail_after(revision_written)),
        pytest.raises(Injected),
    ):
        save(ret, alice, values=(13, None, 12), headline="Assaults rose.")

    assert_unchanged(before)
    assert Return.objects.get(pk=ret.pk).version == ret.version


@pytest.fixture
def submitted(return_a, people):
    alice, _ = people
    save(return_a, alice)
    return services.return_submit(return_id=return_a.pk, actor=alice)


def test_submitting_that_fails_after_the_status_change_writes_nothing(return_a, people):
    alice, _ = people
    ret = save(return_a, alice)
    before = database_state()

    def submitted_values():
        assert Return.objects.get(pk=ret.pk).status == Return.Status.SUBMITTED
        assert set(Value.objects.values_list("status", flat=True)) == {"submitted"}

    with (
        patch("measures.returns.services._event", side_effect=fail_after(submitted_values)),
        pytest.raises(Injected),
    ):
        services.return_submit(return_id=ret.pk, actor=alice)

    assert_unchanged(before)


def test_approving_that_fails_after_the_values_are_approved_writes_nothing(submitted, people):
    _, charlie = people
    before = database_state()

    def approved_values():
        assert set(Value.objects.values_list("status", flat=True)) == {"approved"}
        assert Value.history.filter(history_change_reason__endswith="approved").count() == 3

    with (
        patch("measures.returns.services._event", side_effect=fail_after(approved_values)),
        pytest.raises(Injected),
    ):
        services.return_approve(return_id=submitted.pk, actor=charlie)

    assert_unchanged(before)
    ret = Return.objects.get(pk=submitted.pk)
    assert (ret.status, ret.version) == (submitted.status, submitted.version)
    assert not ReturnEvent.objects.filter(kind=ReturnEvent.Kind.APPROVED).exists()


def test_approving_that_fails_between_values_and_headlines_writes_nothing(submitted, people):
    """_set_status approves values then headlines; the second bulk update fails."""
    _, charlie = people
    before = database_state()
    real = services.bulk_update_with_history
    calls = []

    def headlines_fail(rows, model, *args, **kwargs):
        calls.append(model)
        if model is Headline:
            assert set(Value.objects.values_list("status", flat=True)) == {"approved"}
            raise Injected("injected failure")
        return real(rows, model, *args, **kwargs)

    with (
        patch("measures.returns.services.bulk_update_with_history", side_effect=headlines_fail),
        pytest.raises(Injected),
    ):
        services.return_approve(return_id=submitted.pk, actor=charlie)

    assert calls == [Value, Headline]
    assert_unchanged(before)


def test_approving_that_fails_at_the_last_step_writes_nothing(submitted, people):
    _, charlie = people
    before = database_state()

    def everything_else_written():
        assert ReturnEvent.objects.filter(kind=ReturnEvent.Kind.APPROVED).exists()

    with (
        patch(
            "measures.returns.services.recompute_mark",
            side_effect=fail_after(everything_else_written),
        ),
        pytest.raises(Injected),
    ):
        services.return_approve(return_id=submitted.pk, actor=charlie)

    assert_unchanged(before)


def test_reopening_that_fails_halfway_leaves_the_return_approved(submitted, people):
    _, charlie = people
    services.return_approve(return_id=submitted.pk, actor=charlie)
    before = database_state()

    def unlocked():
        assert set(Value.objects.values_list("status", flat=True)) == {"draft"}

    with (
        patch("measures.returns.services._event", side_effect=fail_after(unlocked)),
        pytest.raises(Injected),
    ):
        services.return_reopen(return_id=submitted.pk, actor=charlie, reason="revise")

    assert_unchanged(before)
    assert Return.objects.get(pk=submitted.pk).status == Return.Status.APPROVED


# --- imports ---------------------------------------------------------------------------------


def values_file(tmp_path: Path, rows: int = 24, value: int = 5) -> Path:
    """`rows` monthly figures from 2020-01, all for the force."""
    month = parse_period("2020-01").start
    lines = ["measure,area,period,value\n"]
    for i in range(rows):
        lines.append(f"t-assaults,force,{month.shift(i).iso},{value + i}\n")
    path = tmp_path / f"values-{rows}-{value}.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def stored(small_plan, tmp_path):
    """12 draft figures (2020) to be changed, with their history."""
    values_import(path=values_file(tmp_path, rows=12, value=1))


@pytest.fixture
def row_by_row():
    """Import on the row-by-row path, whose inner steps these tests interrupt; the COPY path
    that PostgreSQL takes for good CSV files is interrupted in
    tests/measures/test_import_values_copy.py."""
    with patch("measures.importing.values_copy.values_import_copy", return_value=None):
        yield


@pytest.mark.usefixtures("row_by_row")
def test_an_import_that_fails_after_creating_before_updating_writes_nothing(stored, tmp_path):
    """The file changes 12 stored figures and adds 12: the update step fails."""
    before = database_state()

    def created():
        assert Value.objects.count() == 24

    with (
        patch(
            "measures.importing.values.bulk_update_with_history", side_effect=fail_after(created)
        ),
        pytest.raises(Injected),
    ):
        values_import(path=values_file(tmp_path, rows=24, value=50))

    assert_unchanged(before)


@pytest.mark.usefixtures("row_by_row")
def test_an_import_that_fails_writing_history_after_the_values_writes_nothing(stored, tmp_path):
    """simple-history writes the values, then their history rows: the second step fails."""
    before = database_state()

    def values_without_history(manager, objs, *args, **kwargs):
        assert Value.objects.count() == 24
        raise Injected("injected failure")

    with (
        patch.object(
            HistoryManager,
            "bulk_history_create",
            autospec=True,
            side_effect=values_without_history,
        ),
        pytest.raises(Injected),
    ):
        values_import(path=values_file(tmp_path, rows=24, value=50))

    assert_unchanged(before)


@pytest.mark.usefixtures("row_by_row")
def test_an_import_that_fails_after_half_its_batches_writes_nothing(stored, tmp_path):
    """5,000 new figures (three batches of 2,000): the first half is written, then it fails."""
    from measures.importing import values as importers

    real = importers.bulk_create_with_history
    before = database_state()

    def half_then_fail(objs, model, **kwargs):
        half = len(objs) // 2
        real(objs[:half], model, **kwargs)
        assert Value.objects.count() == 12 + half
        raise OperationalError("injected: the server closed the connection")

    path = tmp_path / "many.csv"
    month = parse_period("1900-01").start
    path.write_text(
        "measure,area,period,value\n"
        + "".join(f"t-assaults,nation,{month.shift(i).iso},{i % 50}\n" for i in range(5000)),
        encoding="utf-8",
    )
    with (
        patch("measures.importing.values.bulk_create_with_history", side_effect=half_then_fail),
        pytest.raises(OperationalError),
    ):
        values_import(path=path)

    assert_unchanged(before)


@pytest.mark.parametrize("path", ["row by row", "COPY"])
def test_an_import_that_fails_at_the_last_step_writes_nothing(stored, tmp_path, request, path):
    """The last step of either path (row by row, or COPY on PostgreSQL) fails."""
    if path == "row by row":
        request.getfixturevalue("row_by_row")
        last_step = "measures.importing.values.recompute_mark"
    elif connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")
    else:
        last_step = "measures.importing.values_copy.recompute_mark"
    before = database_state()

    def all_written():
        assert Value.objects.filter(value__gte=50).count() == 24

    with (
        patch(last_step, side_effect=fail_after(all_written)),
        pytest.raises(Injected),
    ):
        values_import(path=values_file(tmp_path, rows=24, value=50), approve=True)

    assert_unchanged(before)


# --- publishing ------------------------------------------------------------------------------


@pytest.mark.usefixtures("demo")
class TestPublishing:
    @pytest.fixture
    def plan(self, db):
        return Plan.objects.get(code="pcp-2021-25")

    def test_publishing_that_fails_after_the_report_row_writes_nothing(self, plan, admin_user):
        """The report row is created first; working out the changes then fails."""
        before = database_state()

        def report_created():
            assert PublishedReport.objects.filter(plan=plan).exists()

        with (
            patch("reports.publishing.snapshot_changes", side_effect=fail_after(report_created)),
            pytest.raises(Injected),
        ):
            report_publish(plan=plan, period=Q3, actor=admin_user)

        assert_unchanged(before)
        assert not PublishedReport.objects.exists()

    def test_a_second_version_that_fails_after_its_row_is_written_leaves_the_first(
        self, plan, admin_user
    ):
        first = report_publish(plan=plan, period=Q3, actor=admin_user)
        # Something to publish: a report equal to the last version is refused before any write.
        Headline.objects.filter(priority__code="organised-crime").update(text="Rewritten")
        real_create = ReportVersion.objects.create
        before = database_state()

        def create_then_fail(**kwargs):
            version = real_create(**kwargs)
            assert version.number == 2
            assert ReportVersion.objects.filter(report=first.report).count() == 2
            raise Injected("injected failure")

        with (
            patch.object(ReportVersion.objects, "create", side_effect=create_then_fail),
            pytest.raises(Injected),
        ):
            report_publish(plan=plan, period=Q3, actor=admin_user)

        assert_unchanged(before)
        assert list(ReportVersion.objects.values_list("number", flat=True)) == [1]
