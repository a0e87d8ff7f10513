"""System checks of what the engine needs from the database (run by `migrate`, and by
`check --database default`)."""

from __future__ import annotations

from django.core.checks import Tags, Warning, register
from django.db import DatabaseError, connections


@register(Tags.database)
def change_log_check(app_configs, databases=None, **kwargs) -> list:
    """The triggers with which the database logs changed values must be installed and
    enabled: without them the nightly run misses changes made past the services.

    A warning, not an error: `migrate` runs the database checks before it migrates, and it
    is what installs them (on an upgrade from a release without them, say).
    """
    from measures.engine.changes import changes_missing
    from measures.models import Value

    problems = []
    for alias in databases or []:
        connection = connections[alias]
        try:
            if Value._meta.db_table not in connection.introspection.table_names():
                continue  # not migrated yet: nothing to check
            missing = changes_missing(connection)
        except DatabaseError:  # the database cannot be reached: other checks say so
            continue
        if missing:
            problems.append(
                Warning(
                    f"The values' change-log triggers are missing or disabled in database "
                    f"{alias!r}: {', '.join(missing)}.",
                    hint="Run `python manage.py migrate` (it reinstalls them), then "
                    "`python manage.py recompute --all` once: changes made meanwhile were "
                    "not logged.",
                    id="measures.W001",
                )
            )
    return problems
