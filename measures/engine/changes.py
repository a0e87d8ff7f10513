"""The database's own log of changed values: which series' values changed since a recompute.

Triggers on the values table append to `measures_valuechange` the series (measure and area)
of every value row inserted, updated (when any of its columns changed) or deleted, and every
measure, all its areas, when the table is truncated — in the writer's own transaction,
whichever path wrote: a service, an import's COPY, the admin, a hand-written UPDATE in
`psql`. A recompute takes (deletes)
the entries of the series it computes in its own transaction, before it reads the values:

- an entry committed before the take is deleted by it, and its change is in the values the
  recompute reads after;
- an entry committed after the take survives, so the next run recomputes that series;
- a write rolled back leaves no entry, and a recompute rolled back leaves its entries.

So the nightly run learns what changed from this log, at the cost of the log's length (no
pass over the values), and `engine.fingerprints` hashes only the small inputs (definitions,
breaks in series, targets). And because a series' figures depend on its own values alone, a
change of values (an approval, a save) recomputes only the series it touched, not every
area of the measure. Entries are append-only: a writer never waits for a recompute,
nor for another writer, because of them.

PostgreSQL runs one trigger per statement (transition tables: one INSERT … SELECT DISTINCT
per statement, however many rows an import writes); SQLite one per row. The triggers are
(re)installed after every `migrate` (`changes_install`, connected in `measures.apps`), so a
migration that rebuilds the values table (SQLite does, for most changes of a column) cannot
leave it without them.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper

from measures.engine.derived import only_measures
from measures.models import Measure, Value, ValueChange

EVENTS = ("insert", "update", "delete")


def _postgresql_sql() -> list[str]:
    values, log, measures = (
        Value._meta.db_table,
        ValueChange._meta.db_table,
        Measure._meta.db_table,
    )
    function = f"""
CREATE OR REPLACE FUNCTION {log}_append() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO {log} (measure_id, area_id) SELECT DISTINCT measure_id, area_id FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO {log} (measure_id, area_id) SELECT DISTINCT measure_id, area_id FROM old_rows;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO {log} (measure_id, area_id)
    SELECT n.measure_id, n.area_id FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n IS DISTINCT FROM o
    UNION
    SELECT o.measure_id, o.area_id FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n IS DISTINCT FROM o;
  ELSE
    INSERT INTO {log} (measure_id, area_id) SELECT id, NULL FROM {measures};
  END IF;
  RETURN NULL;
END $$
"""
    transitions = {
        "insert": "REFERENCING NEW TABLE AS new_rows",
        "update": "REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows",
        "delete": "REFERENCING OLD TABLE AS old_rows",
    }
    triggers = [
        f"CREATE OR REPLACE TRIGGER {values}_{event}_logged AFTER {event.upper()} ON {values} "
        f"{transitions[event]} FOR EACH STATEMENT EXECUTE FUNCTION {log}_append()"
        for event in EVENTS
    ]
    triggers.append(
        f"CREATE OR REPLACE TRIGGER {values}_truncate_logged AFTER TRUNCATE ON {values} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {log}_append()"
    )
    return [function, *triggers]


def _sqlite_sql() -> list[str]:
    values, log = Value._meta.db_table, ValueChange._meta.db_table
    changed = " OR ".join(
        f'OLD."{f.column}" IS NOT NEW."{f.column}"' for f in Value._meta.concrete_fields
    )
    return [
        f"CREATE TRIGGER IF NOT EXISTS {values}_insert_logged AFTER INSERT ON {values} "
        f"BEGIN INSERT INTO {log} (measure_id, area_id) VALUES (NEW.measure_id, NEW.area_id); END",
        f"CREATE TRIGGER IF NOT EXISTS {values}_delete_logged AFTER DELETE ON {values} "
        f"BEGIN INSERT INTO {log} (measure_id, area_id) VALUES (OLD.measure_id, OLD.area_id); END",
        f"CREATE TRIGGER IF NOT EXISTS {values}_update_logged AFTER UPDATE ON {values} "
        f"WHEN {changed} BEGIN INSERT INTO {log} (measure_id, area_id) "
        f"SELECT NEW.measure_id, NEW.area_id UNION SELECT OLD.measure_id, OLD.area_id; END",
    ]


def changes_install(connection: BaseDatabaseWrapper = default_connection) -> None:
    """Create (or replace) the triggers that log changed values; safe to run again."""
    statements = _postgresql_sql() if connection.vendor == "postgresql" else _sqlite_sql()
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def changes_missing(connection: BaseDatabaseWrapper = default_connection) -> list[str]:
    """Return the names of the change log's triggers missing from the database (a restore
    of a schema without them, a table rebuilt by hand): changes of values would then go
    unseen by the nightly run until the next `migrate` reinstalls them."""
    values = Value._meta.db_table
    events = (*EVENTS, "truncate") if connection.vendor == "postgresql" else EVENTS
    wanted = {f"{values}_{event}_logged" for event in events}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND tgenabled <> 'D'",
                [values],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [values]
            )
        present = {row[0] for row in cursor.fetchall()}
    return sorted(wanted - present)


def changes_take(measure_ids: Iterable[int] | None) -> dict[int, set[int] | None]:
    """Delete the log's entries of these measures (all when None); return, for each measure
    whose values changed, the areas whose series changed — None for every area. One
    statement, so every entry returned is one deleted."""
    where = only_measures("measure_id", measure_ids)
    changed: dict[int, set[int] | None] = {}
    with default_connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {ValueChange._meta.db_table} WHERE TRUE {where} "
            "RETURNING measure_id, area_id"
        )
        for measure_id, area_id in cursor.fetchall():
            areas = changed.setdefault(measure_id, set())
            if area_id is None or areas is None:
                changed[measure_id] = None
            else:
                areas.add(area_id)
    return changed


__all__ = ["changes_install", "changes_missing", "changes_take"]
