"""The nightly recompute on a real Celery worker: incremental by default, full on request.

Skipped unless the database is PostgreSQL and CELERY_BROKER_URL names a reachable Redis
(see conftest.py).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import F

from measures.engine.recompute import recompute_run
from measures.engine.tasks import recompute_all_task
from measures.importing.plan import plan_import
from measures.models import (
    Area,
    DerivedFigure,
    DerivedFingerprint,
    Measure,
    RecomputeRun,
    Value,
    ValueChange,
)
from tests.conftest import SMALL_PLAN
from tests.factories import monthly_values
from tests.tasks.conftest import wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: a worker process must see the test's committed data",
    ),
]


def finished(task_id: str) -> RecomputeRun | None:
    return RecomputeRun.objects.filter(task_id=task_id, outcome=RecomputeRun.Outcome.DONE).first()


def test_the_nightly_task_recomputes_only_what_changed_and_everything_when_asked(broker):
    plan_import(data=SMALL_PLAN)
    areas = list(Area.objects.all())
    measures = {m.code: m for m in Measure.objects.all()}
    monthly_values(measures["t-assaults"], areas)
    monthly_values(measures["t-cash"], areas[:1])
    recompute_run(None, full=True)
    # A value changed past the services: no mark, no task; only the database's own log of
    # changed values knows (engine.changes).
    changed = Value.objects.filter(measure=measures["t-cash"]).order_by("start").last()
    Value.objects.filter(pk=changed.pk).update(value=F("value") + 100)
    assert list(ValueChange.objects.values_list("measure_id", flat=True)) == [
        measures["t-cash"].pk
    ]
    before = DerivedFingerprint.objects.get(measure=measures["t-cash"]).computed_at
    worker = broker.start_worker("w1")

    nightly = recompute_all_task.delay()
    run = wait_for(lambda: finished(nightly.id), "the nightly run", logs=[worker])

    assert (run.full, run.measures_recomputed) == (False, 1)
    assert DerivedFingerprint.objects.get(measure=measures["t-cash"]).computed_at > before
    assert not ValueChange.objects.exists()
    row = DerivedFigure.objects.get(
        measure=measures["t-cash"],
        area=changed.area,
        scope="all",
        month_index=changed.start.year * 12 + changed.start.month - 1,
    )
    assert row.value == changed.value + 100

    again = recompute_all_task.delay()
    assert wait_for(lambda: finished(again.id), "the second run").measures_recomputed == 0

    rebuild = recompute_all_task.delay(full=True)
    run = wait_for(lambda: finished(rebuild.id), "the full rebuild", logs=[worker])
    assert (run.full, run.measures_recomputed) == (True, len(measures))
    assert run.rows == DerivedFigure.objects.count()
