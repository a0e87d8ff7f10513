"""Running a recompute: clear the measures' marks, recompute their figures, record the run.

`recompute_run` is what the tasks and `manage.py recompute` call; `recompute_sweep` is the
periodic safety net for marks whose task was lost.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from measures.engine import derived
from measures.models import PendingRecompute, RecomputeRun

logger = logging.getLogger(__name__)


def recompute_run(measure_ids: list[int] | None, *, task_id: str = "") -> RecomputeRun:
    """Recompute the measures (all when None), clear their marks, and record the outcome.

    The marks are deleted first, in the same transaction as the recompute: a mark still
    uncommitted then survives (its change may not be in these figures, so it must run
    again), and every mark deleted belongs to a change the recompute that follows sees.
    """
    run = RecomputeRun.objects.create(task_id=task_id, measure_ids=measure_ids or [])
    try:
        with transaction.atomic():
            pending = PendingRecompute.objects.all()
            if measure_ids is not None:
                pending = pending.filter(measure_id__in=measure_ids)
            pending.delete()
            rows = derived.recompute(measure_ids)
    except Exception as exc:
        run.outcome, run.error = RecomputeRun.Outcome.FAILED, str(exc)
        run.finished_at = timezone.now()
        run.save(update_fields=["outcome", "error", "finished_at"])
        raise
    run.outcome, run.rows, run.finished_at = RecomputeRun.Outcome.DONE, rows, timezone.now()
    run.save(update_fields=["outcome", "rows", "finished_at"])
    return run


def recompute_sweep(*, task_id: str = "") -> RecomputeRun | None:
    """Recompute every measure still marked stale (the periodic safety net)."""
    ids = list(PendingRecompute.objects.values_list("measure_id", flat=True))
    if not ids:
        return None
    return recompute_run(sorted(ids), task_id=task_id)
