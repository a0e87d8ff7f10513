"""Keeping derived figures current (SPEC §6): mark stale, enqueue after commit, sweep.

The mark is a row written in the same transaction as the change that makes figures stale,
so it cannot be lost; the task that is enqueued after commit is only the fast path. If the
broker is down or hangs, the save still succeeds and the periodic sweep recomputes what
is pending.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from measures import engine
from measures.models import PendingRecompute, RecomputeRun

logger = logging.getLogger(__name__)


def recompute_mark(measure_ids: Iterable[int], *, drafts_only: bool = False) -> list[int]:
    """Record that the measures' derived figures are stale; enqueue a recompute after commit.

    `drafts_only` says the change cannot alter approved figures (a draft saved or corrected):
    readers who see approved figures only are then not told that anything is pending.
    """
    ids = sorted({int(i) for i in measure_ids})
    if not ids:
        return ids
    now = timezone.now()
    marks = [
        PendingRecompute(measure_id=i, requested_at=now, drafts_only=drafts_only) for i in ids
    ]
    if drafts_only:
        # An existing mark keeps its scope: a pending change of approved figures stays one.
        PendingRecompute.objects.bulk_create(marks, ignore_conflicts=True)
    else:
        PendingRecompute.objects.bulk_create(
            marks,
            update_conflicts=True,
            update_fields=["requested_at", "drafts_only"],
            unique_fields=["measure"],
        )
    transaction.on_commit(lambda: recompute_enqueue(ids))
    return ids


def recompute_enqueue(measure_ids: list[int]) -> bool:
    """Send the recompute task; return False (and leave it to the sweep) if the broker fails."""
    from measures.tasks import recompute_measures_task

    try:
        recompute_measures_task.apply_async(args=[measure_ids], retry=False)
    except Exception:  # kombu raises several kinds; any of them means "not sent"
        logger.warning(
            "recompute of %s not enqueued; the sweep will pick it up", measure_ids, exc_info=True
        )
        return False
    return True


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
            rows = engine.recompute(measure_ids)
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
