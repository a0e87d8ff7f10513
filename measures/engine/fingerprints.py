"""Fingerprints of what each measure's derived figures are computed from, but its values.

One set-based query reads, per measure, its small inputs: a count and a sum of hashes of its
breaks in series and of its targets, the fields of its definition (aggregation, unit,
polarity, frequency and the rest of `services.FIGURE_DEFINING_FIELDS`), and its plan's
baseline. The engine's own code and constants are hashed in too, so a new version of the
arithmetic recomputes everything once. A change of any of these changes the fingerprint
(a break or target changed, a definition edited), whichever path made it — a service, an
import, the admin, a hand-written UPDATE — so comparing fingerprints cannot miss a stale
measure, where the recompute marks only catch the writes that set them.

The values, the one large input, are not hashed: the database logs every change of them
itself (`engine.changes`), so the nightly run costs what the measures and their small
inputs cost to read, whatever the number of values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from django.db import connection
from django.utils import timezone

from measures.engine import binary, columns, derived
from measures.models import (
    DerivedFingerprint,
    Measure,
    Plan,
    Priority,
    SeriesBreak,
    Target,
)

# The measure's fields its figures depend on (as in measures.services.FIGURE_DEFINING_FIELDS,
# which engine/ may not import), and the plan's baseline.
MEASURE_COLUMNS = (
    "m.aggregation",
    "m.unit",
    "m.polarity",
    "m.frequency",
    "m.rate_per",
    "m.decimals",
    "m.data_lag_months",
    "m.owner_id",
    "m.priority_id",
    "pl.baseline_start",
    "pl.baseline_end",
)
BREAK_COLUMNS = ("start",)
TARGET_COLUMNS = (
    "area_id",
    "kind",
    "baseline_start",
    "baseline_end",
    "target_value",
    "tolerance",
)


class _HashSum:
    """SQLite's aggregate of row hashes (PostgreSQL has hash_record_extended and SUM)."""

    def __init__(self) -> None:
        self.total = 0

    def step(self, *columns) -> None:
        digest = hashlib.blake2b(repr(columns).encode(), digest_size=8).digest()
        self.total += int.from_bytes(digest, "big", signed=True)

    def finalize(self) -> str:
        return str(self.total)


def _hash_sum(columns: Iterable[str]) -> str:
    listed = ", ".join(columns)
    if connection.vendor == "postgresql":
        # Hashes each column by its type (numerics by value: 1.5 and 1.50 alike, as they
        # compute alike), with no text conversion.
        return f"SUM(hash_record_extended(ROW({listed}), 0))"
    return f"pcp_hash_sum({listed})"


@cache
def _engine_source() -> str:
    return "".join(Path(m.__file__ or "").read_text() for m in (derived, columns, binary))


def _engine_version() -> str:
    """A hash of the engine's code and of the constants of its arithmetic (the XmR window,
    run lengths, limits' constant, units' bounds): figures computed by another version are
    stale."""
    constants = [
        getattr(columns, name)
        for name in (
            "HISTORY_MONTHS",
            "MIN_POINTS",
            "RUN_LENGTH",
            "TREND_LENGTH",
            "XMR_CONSTANT",
            "TRAILING_MONTHS",
            "SCALE",
        )
    ]
    bounds = [columns.unit_bounds(unit) for unit in Measure.Unit.values]
    text = _engine_source() + repr((constants, bounds))
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprints_sql(measure_ids: list[int] | None) -> str:
    only_rows = derived.only_measures("measure_id", measure_ids)

    def per_measure(table: str, columns: tuple[str, ...]) -> str:
        return (
            f"SELECT measure_id, COUNT(*) AS n, {_hash_sum(columns)} AS h FROM {table} "
            f"WHERE TRUE {only_rows} GROUP BY measure_id"
        )

    return f"""
SELECT m.id, {", ".join(MEASURE_COLUMNS)}, b.n, b.h, t.n, t.h
FROM {Measure._meta.db_table} m
JOIN {Priority._meta.db_table} pr ON pr.id = m.priority_id
JOIN {Plan._meta.db_table} pl ON pl.id = pr.plan_id
LEFT JOIN ({per_measure(SeriesBreak._meta.db_table, BREAK_COLUMNS)}) b ON b.measure_id = m.id
LEFT JOIN ({per_measure(Target._meta.db_table, TARGET_COLUMNS)}) t ON t.measure_id = m.id
WHERE TRUE {derived.only_measures("m.id", measure_ids)}
"""


def fingerprints_read(measure_ids: Iterable[int] | None = None) -> dict[int, str]:
    """Return each measure's fingerprint now (every measure when None), by measure id."""
    ids = None if measure_ids is None else sorted({int(i) for i in measure_ids})
    version = _engine_version()
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            connection.connection.create_aggregate(  # type: ignore[union-attr]
                "pcp_hash_sum", -1, _HashSum
            )
        cursor.execute(fingerprints_sql(ids))
        rows = cursor.fetchall()
    return {
        row[0]: hashlib.sha256(repr((version, *map(str, row[1:]))).encode()).hexdigest()
        for row in rows
    }


def fingerprints_stale(current: Mapping[int, str]) -> set[int]:
    """Return the measures whose fingerprint differs from the one stored with their figures."""
    stored = dict(
        DerivedFingerprint.objects.filter(measure_id__in=list(current)).values_list(
            "measure_id", "fingerprint"
        )
    )
    return {
        measure_id for measure_id, print_ in current.items() if stored.get(measure_id) != print_
    }


def fingerprints_store(current: Mapping[int, str]) -> None:
    """Store the fingerprints read before a recompute of these measures, once it is done."""
    if not current:
        return
    now = timezone.now()
    DerivedFingerprint.objects.bulk_create(
        [
            DerivedFingerprint(measure_id=m, fingerprint=f, computed_at=now)
            for m, f in current.items()
        ],
        update_conflicts=True,
        unique_fields=["measure"],
        update_fields=["fingerprint", "computed_at"],
    )


__all__ = ["fingerprints_read", "fingerprints_stale", "fingerprints_store"]
