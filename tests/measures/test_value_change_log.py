"""The database logs every change of values itself (issue 14: the nightly run stays flat).

`engine.changes` installs triggers on the values table; every path that writes values — the
ORM, raw SQL, COPY, TRUNCATE — must leave in `measures_valuechange` exactly the measures
whose values changed, in the writer's transaction, and the nightly run must learn what
changed without reading the values.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from measures.engine.changes import changes_install, changes_take
from measures.engine.recompute import recompute_run
from measures.models import Area, Measure, Value, ValueChange
from tests.factories import monthly_values

VALUES = Value._meta.db_table


@pytest.fixture
def plan(small_plan):
    """Values of two measures, computed, with the log emptied by that recompute."""
    areas = list(Area.objects.filter(code__in=["force", "nation"]))
    by_code = {m.code: m for m in Measure.objects.all()}
    monthly_values(by_code["t-assaults"], areas, value=lambda i, area: Decimal(10 + i % 7))
    monthly_values(by_code["t-cash"], areas[:1], value=lambda i, area: Decimal(100 + i))
    recompute_run(None, full=True)
    assert not ValueChange.objects.exists()
    return by_code


def logged() -> set[str]:
    ids = set(ValueChange.objects.values_list("measure_id", flat=True))
    return set(Measure.objects.filter(pk__in=ids).values_list("code", flat=True))


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def first(measure: Measure) -> Value:
    return Value.objects.filter(measure=measure).order_by("start", "area_id").first()


# Every way a value is written, and the measures whose values it changes.
WRITES = {
    "ORM create": (
        lambda m: Value.objects.create(
            measure=m["t-cash"],
            area=Area.objects.get(code="nation"),
            start="2022-12-01",
            end="2022-12-01",
            value=7,
            status="approved",
        ),
        {"t-cash"},
    ),
    "ORM bulk create in two measures": (
        lambda m: Value.objects.bulk_create(
            Value(
                measure=m[code],
                area=Area.objects.get(code="nation"),
                start=datetime.date(2023, 1, 1),
                end=datetime.date(2023, 1, 1),
                value=3,
                status="draft",
            )
            for code in ("t-cash", "t-satisfied")
        ),
        {"t-cash", "t-satisfied"},
    ),
    "queryset update": (
        lambda m: Value.objects.filter(measure=m["t-assaults"]).update(value=F("value") + 1),
        {"t-assaults"},
    ),
    "a status changed": (
        lambda m: Value.objects.filter(pk=first(m["t-cash"]).pk).update(status="draft"),
        {"t-cash"},
    ),
    "a value moved to another measure": (
        lambda m: Value.objects.filter(pk=first(m["t-cash"]).pk).update(measure=m["t-satisfied"]),
        {"t-cash", "t-satisfied"},
    ),
    "delete": (
        lambda m: Value.objects.filter(pk=first(m["t-assaults"]).pk).delete(),
        {"t-assaults"},
    ),
    "raw UPDATE": (
        lambda m: raw(
            f"UPDATE {VALUES} SET value = value * 2 WHERE measure_id = %s", [m["t-cash"].pk]
        ),
        {"t-cash"},
    ),
    "raw DELETE": (
        lambda m: raw(f"DELETE FROM {VALUES} WHERE measure_id = %s", [m["t-cash"].pk]),
        {"t-cash"},
    ),
    "raw INSERT … SELECT": (
        lambda m: raw(
            f'INSERT INTO {VALUES} (measure_id, area_id, start, "end", value, numerator, '
            "denominator, status, note, source, released_on, updated_at) "
            f'SELECT %s, area_id, start, "end", value, numerator, denominator, status, '
            f"note, source, released_on, updated_at FROM {VALUES} "
            "WHERE measure_id = %s",
            [m["t-satisfied"].pk, m["t-cash"].pk],
        ),
        {"t-satisfied"},
    ),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_every_write_logs_exactly_the_measures_whose_values_changed(plan, write):
    action, concerned = WRITES[write]

    action(plan)

    assert logged() == concerned
    # And the nightly run recomputes them, taking their entries.
    run = recompute_run(None)
    assert run.measures_recomputed == len(concerned)
    assert not ValueChange.objects.exists()


def test_an_update_that_changes_nothing_logs_nothing(plan):
    Value.objects.filter(measure=plan["t-assaults"]).update(value=F("value"), status=F("status"))
    raw(f"UPDATE {VALUES} SET note = note WHERE measure_id = %s", [plan["t-cash"].pk])

    assert not ValueChange.objects.exists()


def test_a_write_rolled_back_logs_nothing(plan):
    with pytest.raises(RuntimeError), transaction.atomic():
        Value.objects.filter(measure=plan["t-cash"]).update(value=F("value") + 1)
        assert logged() == {"t-cash"}  # in the writer's own transaction
        raise RuntimeError("the import failed")

    assert not ValueChange.objects.exists()


def test_a_recompute_rolled_back_leaves_the_entries_for_the_next(plan, monkeypatch):
    from measures.engine import derived

    Value.objects.filter(pk=first(plan["t-cash"]).pk).update(value=F("value") + 1)

    def fail(ids):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(derived, "recompute", fail)
    with pytest.raises(RuntimeError):
        recompute_run(None)
    assert logged() == {"t-cash"}
    monkeypatch.undo()

    assert recompute_run(None).measures_recomputed == 1


def test_a_run_for_named_measures_takes_only_their_entries(plan):
    Value.objects.filter(pk=first(plan["t-cash"]).pk).update(value=F("value") + 1)
    Value.objects.filter(pk=first(plan["t-assaults"]).pk).update(value=F("value") + 1)

    recompute_run([plan["t-cash"].pk])

    assert logged() == {"t-assaults"}
    assert changes_take([plan["t-assaults"].pk]) == {plan["t-assaults"].pk}
    assert changes_take(None) == set()


@pytest.mark.postgres
def test_copy_logs_once_per_statement_whatever_the_rows(plan):
    area = Area.objects.get(code="nation")
    rows = io.StringIO()
    for month in range(1, 13):
        rows.write(f"{plan['t-cash'].pk}\t{area.pk}\t2024-{month:02}-01\t2024-{month:02}-01\t5\t")
        rows.write("approved\t\t\tnow\n")
    rows.seek(0)
    with (
        connection.cursor() as cursor,
        cursor.copy(
            f'COPY {VALUES} (measure_id, area_id, start, "end", value, status, note, source, '
            "updated_at) FROM STDIN"
        ) as copy,
    ):
        copy.write(rows.read())

    # PostgreSQL's triggers run per statement: twelve rows, one entry.
    assert list(ValueChange.objects.values_list("measure_id", flat=True)) == [plan["t-cash"].pk]


@pytest.mark.postgres
def test_truncate_logs_every_measure(plan):
    raw("SET CONSTRAINTS ALL IMMEDIATE")  # the fixture's deferred checks, before a TRUNCATE
    raw(f"TRUNCATE {VALUES} CASCADE")

    assert logged() == set(Measure.objects.values_list("code", flat=True))


def test_migrate_installs_the_triggers_again(plan):
    drop = (
        "DROP TRIGGER IF EXISTS {0}_{1}_logged ON {0}"
        if connection.vendor == "postgresql"
        else "DROP TRIGGER IF EXISTS {0}_{1}_logged"
    )
    for event in ("insert", "update", "delete"):
        raw(drop.format(VALUES, event))
    Value.objects.filter(measure=plan["t-cash"]).update(value=F("value") + 1)
    assert not ValueChange.objects.exists()  # the gap a rebuilt table would leave

    call_command("migrate", verbosity=0)  # as after any migration: post_migrate reinstalls
    changes_install()  # and installing again is harmless

    Value.objects.filter(measure=plan["t-cash"]).update(value=F("value") + 1)
    assert logged() == {"t-cash"}


def test_the_nightly_run_does_not_read_the_values(plan):
    with CaptureQueriesContext(connection) as queries:
        run = recompute_run(None)

    assert run.measures_recomputed == 0
    reads = [q["sql"] for q in queries if f"{VALUES} " in q["sql"] or f'"{VALUES}"' in q["sql"]]
    assert not reads, reads


def test_the_system_check_says_when_the_triggers_are_missing(plan):
    from measures.checks import change_log_check

    assert change_log_check(None, databases=["default"]) == []
    drop = (
        "DROP TRIGGER {0}_delete_logged ON {0}"
        if connection.vendor == "postgresql"
        else "DROP TRIGGER {0}_delete_logged"
    )
    raw(drop.format(VALUES))

    [warning] = change_log_check(None, databases=["default"])
    assert warning.id == "measures.W001"
    assert f"{VALUES}_delete_logged" in warning.msg and "migrate" in warning.hint
    changes_install()
    assert change_log_check(None, databases=["default"]) == []
