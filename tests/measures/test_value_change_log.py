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
from measures.models import Area, DerivedFigure, Measure, Value, ValueChange
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


def logged_series() -> set[tuple[str, str | None]]:
    codes = dict(Measure.objects.values_list("pk", "code"))
    areas = dict(Area.objects.values_list("pk", "code"))
    return {
        (codes[m], areas.get(a))
        for m, a in ValueChange.objects.values_list("measure_id", "area_id")
    }


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
    written = {
        (m, a) for m, a in Value.objects.values_list("measure__code", "area__code")
    }  # the series before

    action(plan)

    assert logged() == concerned
    now = set(Value.objects.values_list("measure__code", "area__code"))
    # Each entry names a series that was or is there, of a measure concerned.
    assert all(m in concerned and (m, a) in written | now for m, a in logged_series())
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

    def fail(*args, **kwargs):
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
    changed = first(plan["t-assaults"])
    assert changes_take([plan["t-assaults"].pk]) == {plan["t-assaults"].pk: {changed.area_id}}
    assert changes_take(None) == {}


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


def test_a_change_in_one_area_recomputes_that_series_only(plan, monkeypatch):
    from measures.engine import derived

    computed = []
    read = derived.values_read

    def spy(cursor, ids, series=None):
        values = read(cursor, ids, series)
        computed.append(set(zip(values.measure.tolist(), values.area.tolist(), strict=True)))
        return values

    monkeypatch.setattr(derived, "values_read", spy)
    force, nation = Area.objects.get(code="force"), Area.objects.get(code="nation")
    Value.objects.filter(measure=plan["t-assaults"], area=force, start="2021-06-01").update(
        value=F("value") + 50
    )
    assert logged_series() == {("t-assaults", "force")}

    run = recompute_run([plan["t-assaults"].pk])  # as the task after an approval

    assert computed == [{(plan["t-assaults"].pk, force.pk)}]  # not the nation's series
    assert (run.measures_recomputed, run.series_recomputed) == (1, 1)
    by_series = set(figures_now())
    recompute_run(None, full=True)
    assert set(figures_now()) == by_series  # what a rebuild writes
    assert DerivedFigure.objects.filter(measure=plan["t-assaults"], area=nation).exists()


def test_a_value_moved_to_another_area_recomputes_both_series(plan):
    force, nation = Area.objects.get(code="force"), Area.objects.get(code="nation")
    last = Value.objects.filter(measure=plan["t-cash"], area=force).order_by("start").last()
    Value.objects.filter(pk=last.pk).update(area=nation)

    assert logged_series() == {("t-cash", "force"), ("t-cash", "nation")}
    run = recompute_run(None)
    assert run.series_recomputed == 2
    by_series = set(figures_now())
    recompute_run(None, full=True)
    assert set(figures_now()) == by_series


def test_a_series_whose_values_are_all_deleted_loses_its_figures(plan):
    force = Area.objects.get(code="force")
    Value.objects.filter(measure=plan["t-cash"], area=force).delete()

    recompute_run(None)

    assert not DerivedFigure.objects.filter(measure=plan["t-cash"], area=force).exists()
    assert DerivedFigure.objects.filter(measure=plan["t-assaults"], area=force).exists()


def test_a_definition_change_recomputes_every_series_of_the_measure(plan):
    Value.objects.filter(measure=plan["t-assaults"], area__code="force").update(
        value=F("value") + 1
    )
    Measure.objects.filter(pk=plan["t-assaults"].pk).update(aggregation="mean")

    run = recompute_run(None)

    assert (run.measures_recomputed, run.series_recomputed) == (1, 0)  # whole, not one series
    by_series = set(figures_now())
    recompute_run(None, full=True)
    assert set(figures_now()) == by_series


def figures_now() -> list[tuple]:
    fields = [
        f.attname
        for f in DerivedFigure._meta.concrete_fields
        if f.attname not in ("id", "computed_at")
    ]
    return list(DerivedFigure.objects.values_list(*fields))
