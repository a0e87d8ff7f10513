"""Shared fixtures: a small plan, the demo (the seed report) and the personas of STYLE §7."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction

from measures.accounts import user_provision
from measures.importing.plan import plan_import

SMALL_PLAN = {
    "plan": {"code": "test-plan", "name": "Test plan", "baseline": "2020-01/2020-12"},
    "departments": [
        {"code": "dept-a", "name": "Department A"},
        {"code": "dept-b", "name": "Department B"},
    ],
    "areas": [
        {"code": "nation", "name": "Nation", "kind": "national"},
        {"code": "force", "name": "Force", "kind": "force", "parent": "nation"},
    ],
    "priorities": [
        {
            "code": "violence",
            "name": "Reduce violence",
            "measures": [
                {
                    "code": "t-assaults",
                    "name": "Assaults",
                    "unit": "count",
                    "owner": "dept-a",
                    "year_to_date_table": True,
                    "monthly_table": True,
                    "scorecard_group": "Activity",
                },
                {
                    "code": "t-satisfied",
                    "name": "Victims satisfied",
                    "unit": "percent",
                    "aggregation": "ratio",
                    "polarity": "higher_is_better",
                    "decimals": 1,
                    "owner": "dept-b",
                },
                {
                    "code": "t-cash",
                    "name": "Cash seized",
                    "unit": "gbp",
                    "frequency": "quarterly",
                    "polarity": "higher_is_better",
                    "owner": "dept-b",
                },
            ],
        }
    ],
    "targets": [
        {
            "measure": "t-assaults",
            "area": "force",
            "name": "Reduce assaults",
            "kind": "reduce_vs_baseline",
            "baseline": "2020-01/2020-12",
        }
    ],
}

PASSWORD = "a-long-test-password-1"


def pytest_collection_modifyitems(config, items):
    """Skip tests marked `postgres` when the suite runs on another database (as
    pyproject.toml declares the marker): CI runs them on PostgreSQL."""
    from django.conf import settings

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (runs in CI's PostgreSQL pass)")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


def pytest_configure(config):
    """Hash test passwords with a fast hasher: the suite signs people in hundreds of times,
    and PBKDF2's deliberate slowness protects nothing here."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def small_plan(db):
    plan_import(data=SMALL_PLAN)


# The rows `load_demo` writes, captured the first time it runs in a session (SQLite only).
_DEMO_ROWS: dict[str, tuple[list[str], list[tuple]]] = {}


def _rows(cursor, table: str) -> tuple[list[str], list[tuple]]:
    cursor.execute(f'SELECT * FROM "{table}"')
    return [c[0] for c in cursor.description], [tuple(row) for row in cursor.fetchall()]


def _load_demo() -> None:
    """Run `load_demo`; on SQLite, run it once and then insert the rows it wrote.

    Loading the demo (importers, workflow, recompute) takes seconds and a dozen modules need
    it. The rows are the same every time, so after the first load they are inserted as
    they are (foreign keys are checked at commit). On PostgreSQL the demo is always loaded
    for real: its sequences and the COPY path are part of what the suite tests there.
    """
    from django.db import connection

    def load():
        call_command("load_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115

    if connection.vendor != "sqlite":
        load()
        return
    tables = connection.introspection.table_names()
    if _DEMO_ROWS:
        with connection.cursor() as cursor:
            for table, (columns, rows) in _DEMO_ROWS.items():
                names = ", ".join(f'"{c}"' for c in columns)
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
        return
    with connection.cursor() as cursor:
        before = {table: set(_rows(cursor, table)[1]) for table in tables}
    load()
    with connection.cursor() as cursor:
        for table in tables:
            columns, rows = _rows(cursor, table)
            new = [row for row in rows if row not in before[table]]
            if new:
                _DEMO_ROWS[table] = (columns, new)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Load the seed report once per module, rolled back when the module ends."""
    with django_db_blocker.unblock(), transaction.atomic():
        _load_demo()
        yield
        transaction.set_rollback(True)


def _person(username, role, departments=()):
    user, _ = user_provision(
        username=username,
        role=role,
        department_codes=list(departments),
        password=PASSWORD,
        validate=False,
    )
    return user


@pytest.fixture
def alice(small_plan):
    """Lead of department A."""
    return _person("alice", "lead", ["dept-a"])


@pytest.fixture
def bob(small_plan):
    """Lead of department B."""
    return _person("bob", "lead", ["dept-b"])


@pytest.fixture
def charlie(db):
    """Reviewer."""
    return _person("charlie", "reviewer")


@pytest.fixture
def admin_user(db):
    return _person("dana", "admin")


@pytest.fixture
def viewer(db):
    return _person("victor", "viewer")


@pytest.fixture(autouse=True)
def tasks_in_process(request):
    """Run Celery tasks in process, as `make run` does, even when CI configures a broker.

    Tests never start a worker, so a task sent to the broker would never run and the figures
    a test then reads would be stale. The real-worker tests in tests/tasks switch this off.
    """
    from pcp.celery import app as celery_app

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous
