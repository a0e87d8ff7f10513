"""The first recompute is linear whatever the table's statistics say (issues 14, 15; PostgreSQL).

With statistics saying `measures_derivedfigure` is empty (analysed right after `migrate`, or
after a wipe), a merge written as `INSERT … WHERE NOT EXISTS (SELECT … FROM the table)` was
planned as a nested loop re-reading the table it was filling, once per row: on 356k values
the first recompute had written 160k of 808k rows after twelve minutes. Every statement of a
recompute that reads the table is explained here, in the state the recompute runs it in.
Since issue 14 a first run copies its figures straight into the empty table and reads
nothing of it; the runs after it merge.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Max, Min

from measures.arithmetic.periods import Month
from measures.engine import derived as engine
from measures.models import Area, DerivedFigure, Measure, Value

pytestmark = pytest.mark.postgres

TABLE = DerivedFigure._meta.db_table
FIRST = Month(2014, 1)
MEASURES, AREAS, MONTHS = 40, 6, 120  # 28,800 values
# Generous: about five seconds on the CI machine; the quadratic plan took minutes.
BOUND_SECONDS = 90


def generate_values() -> int:
    template = Measure.objects.get(code="t-assaults")
    Measure.objects.bulk_create(
        Measure(
            priority=template.priority,
            owner=template.owner,
            code=f"gen-{m}",
            name=f"Generated {m}",
            unit="percent" if m % 4 == 1 else "count",
            aggregation=["sum", "ratio", "mean", "latest"][m % 4],
        )
        for m in range(MEASURES)
    )
    nation = Area.objects.get(code="nation")
    Area.objects.bulk_create(
        Area(code=f"gen-{a}", name=f"Area {a}", kind="force", parent=nation) for a in range(AREAS)
    )
    measures = Measure.objects.filter(code__startswith="gen-")
    areas = list(Area.objects.filter(code__startswith="gen-"))
    rows = []
    for measure in measures:
        ratio = measure.aggregation == "ratio"
        for area in areas:
            for i in range(MONTHS):
                seed = (measure.pk * 7919 + area.pk * 104729 + i * 31) % 97
                denominator = Decimal(100 + seed) if ratio else None
                numerator = Decimal(seed) if ratio else None
                value = (
                    (Decimal(seed) / (100 + seed) * 100).quantize(Decimal("0.0001"))
                    if ratio
                    else Decimal(seed) / 10
                )
                month = FIRST.shift(i)
                rows.append(
                    Value(
                        measure=measure,
                        area=area,
                        start=month.first_day,
                        end=month.first_day,
                        value=value,
                        numerator=numerator,
                        denominator=denominator,
                        status="draft" if seed % 11 == 0 else "approved",
                    )
                )
    Value.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def scans_of_the_table(plan: dict) -> list[str]:
    """Return the node types that read the table in an EXPLAIN (FORMAT JSON) plan."""

    def walk(node: dict) -> list[str]:
        found = [node["Node Type"]] if node.get("Relation Name") == TABLE else []
        for child in node.get("Plans", []):
            found += walk(child)
        return found

    return walk(plan["Plan"])


def nested_loops_over_the_table(plan: dict) -> list[str]:
    """Return the nested loops of an EXPLAIN (FORMAT JSON) plan that read the table."""

    def relations(node: dict) -> set[str]:
        found = {node["Relation Name"]} if "Relation Name" in node else set()
        for child in node.get("Plans", []):
            found |= relations(child)
        return found

    loops = []

    def walk(node: dict) -> None:
        if node["Node Type"] == "Nested Loop" and TABLE in relations(node):
            loops.append(f"{node.get('Join Type', '')} nested loop over {TABLE}")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return loops


def recompute_explaining(
    measure_ids: list[int] | None = None,
) -> tuple[float, list[tuple[str, dict]]]:
    """Run a recompute; explain each statement reading the table just before it runs."""
    plans: list[tuple[str, dict]] = []

    def explain(execute, sql, params, many, context):
        statement = sql.lstrip()
        writes = statement.upper().startswith(("WITH", "INSERT", "UPDATE", "DELETE"))
        if TABLE in statement and writes:
            cursor = context["cursor"].cursor
            cursor.execute(f"EXPLAIN (FORMAT JSON) {statement}", params)
            plans.append((statement, cursor.fetchone()[0][0]))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain):
        start = time.perf_counter()
        engine.recompute(measure_ids)
        elapsed = time.perf_counter() - start
    return elapsed, plans


def say_the_table_is_empty() -> None:
    """Give the table the statistics of an empty one, whatever it holds now: reltuples 0
    over its pages, a density of nothing (as an ANALYZE of it while empty leaves it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE pg_class SET reltuples = 0, relpages = GREATEST(relpages, 1) "
            "WHERE oid = %s::regclass",
            [TABLE],
        )


def test_the_first_recompute_never_reads_the_table_it_fills_in_a_nested_loop(small_plan):
    values = generate_values()
    assert values >= 25_000
    DerivedFigure.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {TABLE}")
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [TABLE])
        assert cursor.fetchone()[0] == 0  # the statistics say the table is empty

    elapsed, plans = recompute_explaining()

    # The table holds none of the figures: they are copied straight in, and no statement
    # reads the table it fills.
    assert not plans, plans
    assert elapsed < BOUND_SECONDS, elapsed
    assert DerivedFigure.objects.filter(measure__code__startswith="gen-").count() == (
        expected_rows()
    )

    # The next recompute, with one value changed and one gone, and the statistics
    # still saying the table is empty: updates and deletes by primary key are no nested
    # loop either.
    changed = Value.objects.filter(measure__code="gen-0").order_by("pk")
    Value.objects.filter(pk=changed[0].pk).update(value=Decimal("99.5"))
    Value.objects.filter(pk=changed[1].pk).delete()
    say_the_table_is_empty()

    elapsed, plans = recompute_explaining()

    assert plans
    for statement, plan in plans:
        assert not nested_loops_over_the_table(plan), (statement, plan)
    assert elapsed < BOUND_SECONDS, elapsed

    # With the statistics true again, recomputing one measure (the task after an approval)
    # reads that measure's rows by index, never the whole table.
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {TABLE}")
    _, plans = recompute_explaining([Measure.objects.get(code="gen-3").pk])
    assert plans
    for statement, plan in plans:
        assert "Seq Scan" not in scans_of_the_table(plan), (statement, plan)


def expected_rows() -> int:
    """A row per month from each series' first value to eleven months after its last, in
    each scope."""
    rows = 0
    for scope in ("all", "approved"):
        values = Value.objects.filter(measure__code__startswith="gen-")
        if scope == "approved":
            values = values.filter(status="approved")
        spans = values.values("measure_id", "area_id").annotate(lo=Min("start"), hi=Max("start"))
        for span in spans:
            first = Month(span["lo"].year, span["lo"].month)
            last = Month(span["hi"].year, span["hi"].month)
            rows += first.months_until(last) + 1 + engine.TRAILING_MONTHS
    return rows
