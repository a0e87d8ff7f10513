"""Writes to the catalogue (SPEC §2): targets, measures and breaks in series, from the admin
or a plan import.

Each is permission-checked, validated, recorded in the row's history and, where the change
alters derived figures, marks the measure for recompute in the same transaction. Writes of
a return's figures, headlines and state are the returns' services
(`measures.returns.services`).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from measures import access
from measures.engine.marks import recompute_mark
from measures.models import Measure, SeriesBreak, Target


def _audited(obj, actor, reason: str) -> None:
    """Set who and why simple-history records with the next save or delete of `obj`."""
    obj._history_user = actor
    obj._change_reason = reason


def target_save(*, target: Target, actor, reason: str = "") -> Target:
    """Create or change a target, validated and recorded; mark its measure for recompute.

    `actor` None is a management command run by an operator (the plan import).
    """
    if actor is not None:
        access.require_admin(actor)
    with transaction.atomic():
        measure_ids = {target.measure_id}
        if target.pk is not None:
            previous = (
                Target.objects.select_for_update()
                .filter(pk=target.pk)
                .values_list("measure_id", flat=True)
                .first()
            )
            if previous is not None:
                measure_ids.add(previous)  # a target moved to another measure
        target.full_clean()
        target._history_user = actor  # type: ignore[attr-defined]
        if reason.strip():
            target._change_reason = reason.strip()  # type: ignore[attr-defined]
        target.save()
        # Target statuses are derived figures: approved ones change too.
        recompute_mark(measure_ids)
    return target


def target_delete(*, target_id: int, actor, reason: str = "") -> None:
    """Delete a target, recorded in its history; mark its measure for recompute."""
    access.require_admin(actor)
    with transaction.atomic():
        target = Target.objects.select_for_update().filter(pk=target_id).first()
        if target is None:
            return
        target._history_user = actor  # type: ignore[attr-defined]
        if reason.strip():
            target._change_reason = reason.strip()  # type: ignore[attr-defined]
        target.delete()
        recompute_mark([target.measure_id])


# Fields of a measure its derived figures depend on (its arithmetic, its windows, who owns
# its drafts): changing one marks the measure for recompute.
FIGURE_DEFINING_FIELDS = (
    "priority",
    "unit",
    "rate_per",
    "aggregation",
    "polarity",
    "decimals",
    "frequency",
    "data_lag_months",
    "owner",
)


def measure_save(*, measure: Measure, actor, changed: Iterable[str], reason: str = "") -> Measure:
    """Save an admin's change to a measure, recorded; mark it for recompute when a field its
    derived figures depend on changed."""
    access.require_admin(actor)
    with transaction.atomic():
        measure.full_clean()
        _audited(measure, actor, reason.strip() or "changed in the admin")
        measure.save()
        if set(changed) & set(FIGURE_DEFINING_FIELDS):
            recompute_mark([measure.pk])
    return measure


def series_break_save(*, series_break: SeriesBreak, actor, reason: str = "") -> SeriesBreak:
    """Record or change a break in series, validated and recorded; mark its measure for
    recompute (its control limits and run signals start afresh at the break).

    `actor` None is a management command run by an operator (the plan import).
    """
    if actor is not None:
        access.require_admin(actor)
    with transaction.atomic():
        measure_ids = {series_break.measure_id}
        if series_break.pk is not None:
            previous = (
                SeriesBreak.objects.select_for_update()
                .filter(pk=series_break.pk)
                .values_list("measure_id", flat=True)
                .first()
            )
            if previous is not None:
                measure_ids.add(previous)  # a break moved to another measure
        series_break.full_clean()
        _audited(series_break, actor, reason.strip() or "break in series recorded")
        series_break.save()
        recompute_mark(measure_ids)
    return series_break


def series_break_delete(*, series_break_id: int, actor, reason: str = "") -> None:
    """Delete a break in series, recorded in its history; mark its measure for recompute."""
    access.require_admin(actor)
    with transaction.atomic():
        series_break = SeriesBreak.objects.select_for_update().filter(pk=series_break_id).first()
        if series_break is None:
            return
        _audited(series_break, actor, reason.strip() or "break in series removed")
        series_break.delete()
        recompute_mark([series_break.measure_id])
