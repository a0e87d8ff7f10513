"""Background and scheduled tasks: each takes ids, calls a service, and is safe to re-run."""

from __future__ import annotations

import time

from celery import shared_task
from django.conf import settings

from measures.engine import recompute

# Retried with back-off on any error: every task here is safe to run again.
RETRY = {"autoretry_for": (Exception,), "max_retries": 3, "retry_backoff": 10}


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, **RETRY)
def recompute_measures_task(self, measure_ids: list[int] | None = None) -> int:
    """Recompute the derived figures of the measures (when None, those whose inputs changed)."""
    pause = getattr(settings, "RECOMPUTE_FAULT_PAUSE_SECONDS", 0)
    if pause:
        # Fault injection for the worker-killed test: hold the task open long enough to kill.
        time.sleep(pause)
    return recompute.recompute_run(measure_ids, task_id=self.request.id or "").rows


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, **RETRY)
def recompute_pending_task(self) -> int:
    """Recompute whatever is still marked stale (every minute)."""
    run = recompute.recompute_sweep(task_id=self.request.id or "")
    return run.rows if run else 0


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, **RETRY)
def recompute_all_task(self, full: bool = False) -> int:
    """Recompute every measure whose inputs changed since its figures were computed
    (nightly); every measure when `full`."""
    return recompute.recompute_run(None, task_id=self.request.id or "", full=full).rows
