"""Derived figures kept current by a real Celery worker on the real Redis broker (SPEC §6).

Each test starts `celery -A pcp worker` processes against the test database and a Redis
database used only by tests, and drives the app through its services, as the web process
does: approving a return marks its measures stale in the same transaction and enqueues the
recompute after commit. Skipped unless the database is PostgreSQL and CELERY_BROKER_URL
names a reachable Redis.
"""

from __future__ import annotations

import datetime
import socket
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from measures.arithmetic.periods import parse_period
from measures.engine import derived as engine
from measures.engine.tasks import recompute_measures_task, recompute_pending_task
from measures.importing.plan import plan_import
from measures.importing.values import values_import
from measures.models import (
    DerivedFigure,
    Measure,
    PendingRecompute,
    Plan,
    RecomputeRun,
    Return,
)
from measures.returns import services
from measures.returns.services import ValueEntry
from tests.conftest import SMALL_PLAN, _person
from tests.tasks.conftest import broker_down, publish_to, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: a worker process must see the test's committed data",
    ),
]

RECOMPUTE = "measures.engine.tasks.recompute_measures_task"
QUARTER = {"2022-10": 10, "2022-11": 11, "2022-12": 12}
# Approved history before the quarter, so the figures have bases, windows and SPC limits.
HISTORY = {f"{y}-{m:02d}": 8 + (y * 12 + m) % 5 for y in (2021, 2022) for m in range(1, 13)}
HISTORY = {month: value for month, value in HISTORY.items() if month < "2022-10"}
FIELDS = [
    f.attname
    for f in DerivedFigure._meta.concrete_fields
    if f.attname not in ("id", "computed_at")
]


class Scene:
    """A plan with approved history, an open quarter and department A's return for it."""

    def __init__(self, tmp_path):
        plan_import(data=SMALL_PLAN)
        csv = tmp_path / "history.csv"
        csv.write_text(
            "measure,area,period,value\n"
            + "".join(f"t-assaults,force,{m},{v}\n" for m, v in HISTORY.items())
        )
        values_import(path=csv, approve=True, reason="history")
        self.alice = _person("alice", "lead", ["dept-a"])
        self.charlie = _person("charlie", "reviewer")
        period = services.reporting_period_open(
            plan=Plan.objects.get(code="test-plan"),
            period=parse_period("2022/23-Q3"),
            deadline=datetime.date(2023, 1, 20),
        )
        self.ret = Return.objects.get(reporting_period=period, department__code="dept-a")
        self.measure = Measure.objects.get(code="t-assaults")

    def fill_and_submit(self) -> None:
        ret = Return.objects.get(pk=self.ret.pk)
        entries = [
            ValueEntry("t-assaults", parse_period(m), Decimal(v)) for m, v in QUARTER.items()
        ]
        services.return_save(
            return_id=ret.pk,
            version=ret.version,
            entries=entries,
            headlines={"violence": "- **Assaults** steady."},
            actor=self.alice,
        )
        services.return_submit(return_id=ret.pk, actor=self.alice)

    def approve(self) -> None:
        services.return_approve(return_id=self.ret.pk, actor=self.charlie)

    def approved_values(self) -> dict[str, Decimal]:
        """The approved-scope figures' monthly values, by month ("2022-12": 12)."""
        rows = DerivedFigure.objects.filter(
            measure=self.measure, area__code="force", scope=DerivedFigure.Scope.APPROVED
        )
        return {f"{r.month:%Y-%m}": r.value for r in rows if r.value_approved}

    def quarter_approved(self) -> bool:
        values = self.approved_values()
        return all(values.get(m) == v for m, v in QUARTER.items())

    def figures(self) -> list[tuple]:
        return list(
            DerivedFigure.objects.filter(measure=self.measure)
            .order_by("area_id", "scope", "month_index")
            .values_list(*FIELDS)
        )


@pytest.fixture
def scene(broker, tmp_path, monkeypatch):
    """The scene, built while the broker is unreachable so that no task is queued by it."""
    with broker_down(broker, monkeypatch):
        built = Scene(tmp_path)
    assert broker.queue_length() == 0
    return built


def assert_figures_correct(scene: Scene) -> None:
    """The worker's figures are the quarter's approved values, and exactly what a fresh
    in-process recompute of the same data writes (every column, no duplicate rows)."""
    assert scene.quarter_approved(), scene.approved_values()
    from_worker = scene.figures()
    keys = DerivedFigure.objects.filter(measure=scene.measure).values_list(
        "area_id", "scope", "month_index"
    )
    assert len(set(keys)) == len(from_worker)  # no duplicate rows
    december = DerivedFigure.objects.get(
        measure=scene.measure, area__code="force", scope="approved", month="2022-12-01"
    )
    assert december.r12_value == sum(
        Decimal(v) for m, v in (HISTORY | QUARTER).items() if "2022-01" <= m <= "2022-12"
    )
    engine.recompute([scene.measure.pk])
    assert scene.figures() == from_worker


def test_approval_updates_the_derived_figures_through_the_worker(broker, scene):
    worker = broker.start_worker("w1")
    scene.fill_and_submit()
    approved_at = timezone.now()
    scene.approve()

    wait_for(
        lambda: scene.quarter_approved() and not PendingRecompute.objects.exists(),
        "the worker to recompute the approved figures",
        logs=[worker],
    )
    run = wait_for(
        lambda: RecomputeRun.objects.filter(
            outcome=RecomputeRun.Outcome.DONE, started_at__gte=approved_at
        ).first(),
        "a recorded recompute run",
        logs=[worker],
    )
    assert run.measure_ids == [scene.measure.pk] and run.rows > 0
    # It ran in the worker, delivered by the broker, not in this process.
    assert run.task_id in worker.received(RECOMPUTE)
    assert worker.succeeded(run.task_id)
    assert_figures_correct(scene)

    # Reopening takes the quarter out of the approved-only figures the same way.
    reopened_at = timezone.now()
    services.return_reopen(return_id=scene.ret.pk, actor=scene.charlie, reason="Revise Nov")
    wait_for(
        lambda: (
            not (set(scene.approved_values()) & set(QUARTER))
            and not PendingRecompute.objects.exists()
            and RecomputeRun.objects.filter(
                outcome=RecomputeRun.Outcome.DONE, started_at__gte=reopened_at
            ).exists()
        ),
        "the worker to recompute after the reopening",
        logs=[worker],
    )
    assert set(scene.approved_values()) == set(HISTORY)
    provisional = DerivedFigure.objects.get(
        measure=scene.measure, area__code="force", scope="all", month="2022-11-01"
    )
    assert (provisional.value, provisional.value_approved) == (11, False)


def test_with_the_broker_down_approval_succeeds_and_the_sweep_recovers(broker, scene, monkeypatch):
    with broker_down(broker, monkeypatch):
        scene.fill_and_submit()
        started = time.monotonic()
        scene.approve()
        elapsed = time.monotonic() - started

    assert elapsed < 10, f"approving took {elapsed:.1f} s with the broker down"
    assert Return.objects.get(pk=scene.ret.pk).status == Return.Status.APPROVED
    assert list(PendingRecompute.objects.values_list("measure_id", flat=True)) == [
        scene.measure.pk
    ]
    assert not scene.quarter_approved()  # stale until recomputed
    assert broker.queue_length() == 0 and not broker.unacked()

    # The broker is back: the periodic sweep (sent as beat would) recovers what is pending.
    worker = broker.start_worker("w1")
    sweep = recompute_pending_task.delay()
    wait_for(lambda: worker.succeeded(sweep.id), "the sweep task to finish", logs=[worker])

    assert not PendingRecompute.objects.exists()
    run = RecomputeRun.objects.get()
    assert (run.outcome, run.measure_ids) == (RecomputeRun.Outcome.DONE, [scene.measure.pk])
    assert_figures_correct(scene)


def test_a_hanging_broker_does_not_hold_up_approval(broker, scene, monkeypatch):
    # Accepts connections and never answers: only socket timeouts get the save out.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        publish_to(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", monkeypatch)
        scene.fill_and_submit()
        started = time.monotonic()
        scene.approve()
        elapsed = time.monotonic() - started
    publish_to(broker.url, monkeypatch)

    assert elapsed < 10, f"approving took {elapsed:.1f} s with the broker hanging"
    assert Return.objects.get(pk=scene.ret.pk).status == Return.Status.APPROVED
    assert PendingRecompute.objects.filter(measure=scene.measure).exists()


def test_a_task_whose_worker_is_killed_runs_again_and_the_result_is_correct(
    broker, scene, monkeypatch
):
    visibility = 5
    first = broker.start_worker(
        "w1", CELERY_VISIBILITY_TIMEOUT=str(visibility), RECOMPUTE_FAULT_PAUSE_SECONDS="30"
    )
    with broker_down(broker, monkeypatch):
        scene.fill_and_submit()  # queues no recompute of its own: one task is in play
    scene.approve()

    task_ids = wait_for(
        lambda: first.received(RECOMPUTE), "worker 1 to receive the task", logs=[first]
    )
    (task_id,) = task_ids
    unacked = broker.unacked()
    assert len(unacked) == 1 and broker.queue_length() == 0  # delivered, not acknowledged
    assert not RecomputeRun.objects.exists()  # still paused inside the task

    first.kill()  # SIGKILL the worker mid-task: no chance to acknowledge or requeue
    assert first.process.returncode == -9
    assert broker.unacked() == unacked and not RecomputeRun.objects.exists()
    assert PendingRecompute.objects.filter(measure=scene.measure).exists()
    assert not scene.quarter_approved()

    # Redis hands an unacknowledged message to another worker once it is older than the
    # visibility timeout (checked when a worker starts and periodically after).
    (delivered_at,) = unacked.values()
    time.sleep(max(0.0, delivered_at + visibility + 0.5 - time.time()))
    second = broker.start_worker("w2", CELERY_VISIBILITY_TIMEOUT=str(visibility))
    run = wait_for(
        lambda: RecomputeRun.objects.filter(
            task_id=task_id, outcome=RecomputeRun.Outcome.DONE
        ).first(),
        "the killed task to run again on worker 2",
        logs=[first, second],
    )
    assert second.received(RECOMPUTE) == [task_id]
    wait_for(lambda: not broker.unacked(), "the redelivered task to be acknowledged")
    assert RecomputeRun.objects.count() == 1 and run.rows > 0
    assert not PendingRecompute.objects.exists()
    assert_figures_correct(scene)


def test_the_recompute_task_run_twice_at_once_leaves_the_same_figures(broker, scene, monkeypatch):
    with broker_down(broker, monkeypatch):
        scene.fill_and_submit()
        scene.approve()
    engine.recompute([scene.measure.pk])
    expected = scene.figures()
    assert expected and scene.quarter_approved()

    # Two workers; the pause holds each task for a second so both are in flight at once.
    workers = [
        broker.start_worker(name, wait=False, RECOMPUTE_FAULT_PAUSE_SECONDS="1")
        for name in ("w1", "w2")
    ]
    for worker in workers:
        worker.wait_ready()
    sent = [recompute_measures_task.delay([scene.measure.pk]) for _ in range(2)]
    wait_for(
        lambda: RecomputeRun.objects.filter(outcome=RecomputeRun.Outcome.DONE).count() == 2,
        "both recompute runs to finish",
        logs=workers,
    )
    # Each worker took one: the two runs were in flight concurrently.
    assert sorted(w.received(RECOMPUTE)[0] for w in workers) == sorted(t.id for t in sent)
    runs = RecomputeRun.objects.all()
    assert {r.task_id for r in runs} == {t.id for t in sent}
    assert not RecomputeRun.objects.exclude(outcome=RecomputeRun.Outcome.DONE).exists()
    assert scene.figures() == expected  # same rows, same values, no duplicates
    assert_figures_correct(scene)
