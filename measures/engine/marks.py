"""Recompute marks: a row written with the change that makes figures stale, then a task.

The mark is written in the same transaction as the change, so it cannot be lost; the task
enqueued after commit is only the fast path. If the broker is down or hangs, the save still
succeeds and the periodic sweep (`recompute.recompute_sweep`) recomputes what is pending.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from measures.engine.tasks import recompute_measures_task
from measures.models import PendingRecompute

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
    try:
        recompute_measures_task.apply_async(args=[measure_ids], retry=False)
    except Exception:  # kombu raises several kinds; any of them means "not sent"
        logger.warning(
            "recompute of %s not enqueued; the sweep will pick it up", measure_ids, exc_info=True
        )
        return False
    return True
