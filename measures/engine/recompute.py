"""Running a recompute: clear the measures' marks, recompute their figures, record the run.

`recompute_run` is what the tasks and `manage.py recompute` call; `recompute_sweep` is the
periodic safety net for marks whose task was lost.

A run is incremental unless forced: it recomputes every series of the measures whose
definition, breaks, targets or plan baseline changed since their figures were computed
(their fingerprint differs, `engine.fingerprints`), and only the series (measure and area)
whose values changed (the database's log, `engine.changes`) of the others — an approval in
one area recomputes that area's series, not the measure's sixty-four. A measure marked
stale, or named, with neither is recomputed whole. With nothing changed a run reads the log
and the fingerprints and writes nothing else.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from measures.engine import derived
from measures.engine.changes import changes_take
from measures.engine.fingerprints import (
    fingerprints_read,
    fingerprints_stale,
    fingerprints_store,
)
from measures.models import PendingRecompute, RecomputeRun


def recompute_run(
    measure_ids: list[int] | None, *, task_id: str = "", full: bool = False
) -> RecomputeRun:
    """Recompute what changed of the measures named, or (None) of every measure — everything
    of them when `full`; clear their marks and record the outcome.

    What changed: every series of a measure whose fingerprint differs (or that has none
    stored yet), and of the others the series whose values the log says changed; a measure
    marked stale or named with neither is recomputed whole, as a mark or a request asks.

    The marks and the log's entries are deleted first, in the same transaction as the
    recompute: one still uncommitted then survives (its change may not be in these figures,
    so it must run again), and every one deleted belongs to a change the recompute that
    follows sees. The fingerprints are read before the figures are computed and stored with
    them, so a change committed in between leaves a stored fingerprint that no longer
    matches, and the next run recomputes that measure again: a fingerprint can be older than
    the figures stored with it, never newer.
    """
    ids = None if measure_ids is None else sorted({int(i) for i in measure_ids})
    run = RecomputeRun.objects.create(task_id=task_id, measure_ids=ids or [], full=full)
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # The engine's lock, taken before the fingerprints are read: a run waiting
                # behind another compares with what that one stored, and finds less to do.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(hashtext('pcp-recompute'))")
            marked = _marks_take(ids)
            changed = changes_take(ids)
            current = fingerprints_read(ids)
            if full:
                whole = set(current if ids is None else ids)
            else:
                whole = fingerprints_stale(current)
                whole |= {m for m, areas in changed.items() if areas is None}
                whole |= (marked | set(ids or ())) - set(changed)
            whole &= set(current)  # a measure deleted meanwhile has no figures to compute
            series = {
                m: areas
                for m, areas in changed.items()
                if m in current and m not in whole and areas is not None
            }
            if full and ids is None:
                rows = derived.recompute(None)  # also drops rows of measures gone
            elif whole or series:
                rows = derived.recompute(sorted(whole), series=series)
            else:
                rows = 0
            todo = whole | set(series)
            fingerprints_store({m: current[m] for m in todo})
    except Exception as exc:
        run.outcome, run.error = RecomputeRun.Outcome.FAILED, str(exc)
        run.finished_at = timezone.now()
        run.save(update_fields=["outcome", "error", "finished_at"])
        raise
    run.outcome, run.rows, run.finished_at = RecomputeRun.Outcome.DONE, rows, timezone.now()
    run.measures_recomputed = len(todo)
    run.series_recomputed = sum(len(areas) for areas in series.values())
    run.save(
        update_fields=[
            "outcome",
            "rows",
            "measures_recomputed",
            "series_recomputed",
            "finished_at",
        ]
    )
    return run


def _marks_take(measure_ids: list[int] | None) -> set[int]:
    """Delete the marks of the measures (all when None); return the measures they marked.

    One statement, so every mark it returns is one it deleted, and none committed between a
    read and a delete is lost.
    """
    table = PendingRecompute._meta.db_table
    where = derived.only_measures("measure_id", measure_ids)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE TRUE {where} RETURNING measure_id")
        return {row[0] for row in cursor.fetchall()}


def recompute_sweep(*, task_id: str = "") -> RecomputeRun | None:
    """Recompute every measure still marked stale (the periodic safety net)."""
    ids = list(PendingRecompute.objects.values_list("measure_id", flat=True))
    if not ids:
        return None
    return recompute_run(sorted(ids), task_id=task_id)
