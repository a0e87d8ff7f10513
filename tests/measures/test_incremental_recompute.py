"""The default recompute redoes only the measures whose inputs changed (issue 14).

Each change below is written straight to the database, past the services, so no recompute
mark is set: what finds the stale measure is the fingerprint of its inputs, or for values
the database's own log of their changes (`engine.changes`). The
default run must recompute exactly the measures the change concerns, and leave every figure
as a forced full rebuild (`recompute --all`) would.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from measures.engine import columns
from measures.engine.recompute import recompute_run
from measures.importing.plan import plan_import
from measures.models import (
    Area,
    DerivedFigure,
    DerivedFingerprint,
    Measure,
    PendingRecompute,
    Plan,
    RecomputeRun,
    SeriesBreak,
    Target,
    Value,
)
from tests.factories import monthly_values

FIELDS = [
    f.attname
    for f in DerivedFigure._meta.concrete_fields
    if f.attname not in ("id", "computed_at")
]
OTHER_PLAN = {
    "plan": {"code": "other-plan", "name": "Other plan", "baseline": "2019-04/2020-03"},
    "departments": [{"code": "dept-o", "name": "Department O"}],
    "areas": [{"code": "force", "name": "Force", "kind": "force"}],
    "priorities": [
        {
            "code": "other",
            "name": "Other",
            "measures": [{"code": "o-stops", "name": "Stops", "unit": "count", "owner": "dept-o"}],
        }
    ],
}


@pytest.fixture
def measures(small_plan):
    """Three measures with values in two plans, every figure computed by a full rebuild."""
    plan_import(data=OTHER_PLAN)
    areas = list(Area.objects.filter(code__in=["force", "nation"]))
    by_code = {m.code: m for m in Measure.objects.all()}
    monthly_values(
        by_code["t-assaults"], areas, value=lambda i, area: Decimal(10 + (i * 7 + area.pk) % 11)
    )
    monthly_values(by_code["o-stops"], areas[:1], value=lambda i, area: Decimal(30 + i % 5))
    Value.objects.bulk_create(
        Value(
            measure=by_code["t-satisfied"],
            area=areas[0],
            start=datetime.date(2019 + i // 12, i % 12 + 1, 1),
            end=datetime.date(2019 + i // 12, i % 12 + 1, 1),
            value=(Decimal(40 + i % 9) / Decimal(60) * 100).quantize(Decimal("0.0001")),
            numerator=Decimal(40 + i % 9),
            denominator=Decimal(60),
            status="approved" if i % 6 else "draft",
        )
        for i in range(48)
    )
    run = recompute_run(None, full=True)
    assert run.measures_recomputed == Measure.objects.count() == 4
    return by_code


def figures() -> list[tuple]:
    return list(
        DerivedFigure.objects.order_by(
            "measure_id", "area_id", "scope", "month_index"
        ).values_list(*FIELDS)
    )


def figures_of(measure: Measure) -> list[tuple]:
    return [row for row in figures() if row[FIELDS.index("measure_id")] == measure.pk]


def recomputed_by(run: RecomputeRun) -> set[str]:
    """The codes of the measures whose fingerprint the run stored."""
    return set(
        DerivedFingerprint.objects.filter(computed_at__gte=run.started_at).values_list(
            "measure__code", flat=True
        )
    )


def one_value(measure: Measure, month: str = "2021-06") -> Value:
    return Value.objects.get(measure=measure, area__code="force", start=f"{month}-01")


# Each change, written past the services, and the measures it concerns.
CHANGES = {
    "a value": (
        lambda m: Value.objects.filter(pk=one_value(m["t-assaults"]).pk).update(
            value=F("value") + 5
        ),
        {"t-assaults"},
    ),
    "a value's status": (
        lambda m: Value.objects.filter(pk=one_value(m["t-satisfied"]).pk).update(status="draft"),
        {"t-satisfied"},
    ),
    "a value deleted": (
        lambda m: Value.objects.filter(pk=one_value(m["o-stops"], "2020-02").pk).delete(),
        {"o-stops"},
    ),
    "a value added": (
        lambda m: Value.objects.create(
            measure=m["o-stops"],
            area=Area.objects.get(code="nation"),
            start="2022-12-01",
            end="2022-12-01",
            value=7,
            status="approved",
        ),
        {"o-stops"},
    ),
    "the measure's aggregation": (
        lambda m: Measure.objects.filter(code="t-assaults").update(aggregation="mean"),
        {"t-assaults"},
    ),
    "the measure's polarity": (
        lambda m: Measure.objects.filter(code="o-stops").update(polarity="higher_is_better"),
        {"o-stops"},
    ),
    "the measure's unit": (
        lambda m: Measure.objects.filter(code="t-assaults").update(unit="percent"),
        {"t-assaults"},
    ),
    "the measure's frequency": (
        lambda m: Measure.objects.filter(code="o-stops").update(frequency="quarterly"),
        {"o-stops"},
    ),
    "a target": (
        lambda m: Target.objects.filter(measure=m["t-assaults"]).update(target_value=5),
        {"t-assaults"},
    ),
    "a target deleted": (
        lambda m: Target.objects.filter(measure=m["t-assaults"]).delete(),
        {"t-assaults"},
    ),
    # The plan's baseline is every one of its measures' input, and only theirs.
    "the plan's baseline": (
        lambda m: Plan.objects.filter(code="test-plan").update(
            baseline_start="2021-04-01", baseline_end="2021-09-01"
        ),
        {"t-assaults", "t-satisfied", "t-cash"},
    ),
    "a break in series": (
        lambda m: SeriesBreak.objects.create(
            measure=m["t-assaults"], start="2021-01-01", reason="new recording rules"
        ),
        {"t-assaults"},
    ),
}
# Changes that do not alter any stored derived row (targets are read by the pages, a
# quarterly measure's monthly figures are computed alike): recomputed, figures unchanged.
NO_FIGURE_CHANGE = {"a target", "a target deleted", "the measure's frequency"}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_the_default_run_recomputes_exactly_the_measures_a_change_concerns(measures, change):
    write, concerned = CHANGES[change]
    before = {code: figures_of(m) for code, m in measures.items()}
    write(measures)
    assert not PendingRecompute.objects.exists()  # past the services: no mark to go by

    run = recompute_run(None)

    assert recomputed_by(run) == concerned
    assert run.measures_recomputed == len(concerned) and not run.full
    after = {code: figures_of(m) for code, m in measures.items()}
    for code in set(measures) - concerned:
        assert after[code] == before[code]
    if change not in NO_FIGURE_CHANGE:
        assert any(after[code] != before[code] for code in concerned)
    # Exactly the figures a forced full rebuild writes.
    incremental = figures()
    assert recompute_run(None, full=True).measures_recomputed == 4
    assert figures() == incremental
    # And now nothing is left to do.
    assert recompute_run(None).measures_recomputed == 0


def test_an_unchanged_run_writes_nothing(measures):
    stored = list(DerivedFigure.objects.order_by("pk").values_list("pk", "computed_at"))
    prints = list(DerivedFingerprint.objects.order_by("pk").values_list("pk", "computed_at"))

    with CaptureQueriesContext(connection) as queries:
        run = recompute_run(None)

    assert (run.outcome, run.rows, run.measures_recomputed) == ("done", 0, 0)
    assert list(DerivedFigure.objects.order_by("pk").values_list("pk", "computed_at")) == stored
    assert list(DerivedFingerprint.objects.order_by("pk").values_list("pk", "computed_at")) == (
        prints
    )
    writes = [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().split()[0].upper() in {"INSERT", "UPDATE", "DELETE", "CREATE"}
    ]
    # Only the run's own record, and the deletes of marks and logged changes (there are none).
    assert all(
        "measures_recomputerun" in sql
        or sql.startswith(
            ("DELETE FROM measures_pendingrecompute", "DELETE FROM measures_valuechange")
        )
        for sql in writes
    ), writes


def test_a_marked_measure_is_recomputed_though_its_inputs_are_unchanged(measures):
    PendingRecompute.objects.create(measure=measures["t-satisfied"])

    run = recompute_run(None)

    assert recomputed_by(run) == {"t-satisfied"}
    assert not PendingRecompute.objects.exists()


def test_a_new_version_of_the_engine_recomputes_every_measure(measures, monkeypatch):
    before = figures()
    # A different SPC window is a different engine: every figure may differ.
    monkeypatch.setattr(columns, "HISTORY_MONTHS", 12)

    run = recompute_run(None)

    assert recomputed_by(run) == set(measures) and run.measures_recomputed == 4
    assert figures() != before
    incremental = figures()
    recompute_run(None, full=True)
    assert figures() == incremental


def test_a_run_for_named_measures_stores_their_fingerprints(measures):
    Value.objects.filter(pk=one_value(measures["t-assaults"]).pk).update(value=F("value") + 1)
    Value.objects.filter(pk=one_value(measures["o-stops"]).pk).update(value=F("value") + 1)

    named = recompute_run([measures["t-assaults"].pk])
    assert recomputed_by(named) == {"t-assaults"} and named.measure_ids == [
        measures["t-assaults"].pk
    ]

    # The nightly run then has only the other change left.
    assert recomputed_by(recompute_run(None)) == {"o-stops"}


def test_the_command_is_incremental_and_rebuilds_everything_with_all(measures, capsys):
    Value.objects.filter(pk=one_value(measures["t-assaults"]).pk).update(status="draft")

    call_command("recompute")
    assert "of 1 measure(s)" in capsys.readouterr().out
    call_command("recompute")
    assert "recomputed 0 derived figures of 0 measure(s)" in capsys.readouterr().out

    call_command("recompute", "--all")
    assert "of 4 measure(s)" in capsys.readouterr().out
    assert RecomputeRun.objects.filter(full=True).count() == 2  # the fixture's and this


@pytest.mark.parametrize("batch", [1, 50, 10**9])
def test_batches_of_measures_change_no_figure(measures, monkeypatch, batch):
    """The engine computes whole measures a batch at a time (derived.BATCH_VALUES): one
    measure per batch, a few, or all at once, from scratch and merged, the figures are the
    same."""
    from measures.engine import derived

    expected = figures()
    monkeypatch.setattr(derived, "BATCH_VALUES", batch)

    DerivedFigure.objects.all().delete()  # from scratch: straight into the table
    assert recompute_run(None, full=True).rows == len(expected)
    assert figures() == expected
    DerivedFigure.objects.filter(scope="approved").delete()  # merged with what is there
    recompute_run(None, full=True)
    assert figures() == expected


def test_the_command_recomputes_a_named_measure_whole(measures, capsys):
    Value.objects.filter(pk=one_value(measures["t-assaults"]).pk).update(value=F("value") + 1)

    call_command("recompute", "t-assaults")

    run = RecomputeRun.objects.latest("pk")
    assert (run.full, run.measures_recomputed, run.series_recomputed) == (True, 1, 0)
    assert "of 1 measure(s)" in capsys.readouterr().out
    # The change's log entry went with it: nothing is left for the nightly run.
    assert recompute_run(None).measures_recomputed == 0
