"""Backup and restore (issue 6, Reliability; docs/backup-restore.md).

The demo is loaded and a report published with its PDF; the database is backed up with
`pg_dump --format=custom` and restored with `pg_restore` into a fresh database, exactly as
docs/backup-restore.md says. The two databases must then be identical: the same tables,
each with the same rows (count and checksum), the same schema and sequence positions, and the
same report — every table of the quarterly report and the National Picture rendered from
each database, and the published version's HTML and PDF bytes.
"""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

import pytest
from django.core.management import call_command
from django.db import connection

from measures.access import Reader
from measures.arithmetic.periods import parse_month, parse_period
from measures.models import Area, Measure, Plan
from measures.selectors import SeriesBook
from reports import figure_tables as rows
from reports.models import ReportVersion
from reports.publishing import report_build, report_publish, snapshot_of

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="pg_dump and pg_restore need PostgreSQL"
    ),
]

Q3 = parse_period("2022/23-Q3")


def _client_options() -> tuple[list[str], dict[str, str]]:
    """Host, port and user options for the PostgreSQL client programs, and their environment."""
    settings = connection.settings_dict
    options = []
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings.get(key):
            options += [flag, str(settings[key])]
    env = dict(os.environ)
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings["PASSWORD"])
    return options, env


def run(*command: str) -> str:
    options, env = _client_options()
    program, *arguments = command
    done = subprocess.run(
        [program, *options, *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{program} failed: {done.stderr}"
    return done.stdout


def psql(database: str, sql: str) -> str:
    return run(
        "psql", "--no-psqlrc", "--quiet", "--tuples-only", "--no-align", "-d", database, "-c", sql
    )


def table_checksums(database: str) -> dict[str, str]:
    """Every table in the public schema: its row count and an md5 of its rows in order."""
    tables = psql(
        database,
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    ).split()
    assert tables, f"no tables in {database}"
    sql = " UNION ALL ".join(
        f"SELECT '{t}', count(*) || ' rows, md5 ' || "
        f"md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '')) FROM public.\"{t}\" r"
        for t in tables
    )
    return dict(line.split("|", 1) for line in psql(database, sql).splitlines())


def plain_dump(database: str) -> list[str]:
    """Schema, data and sequence positions as SQL, without comments or per-run keys."""
    text = run("pg_dump", "--format=plain", "--no-owner", "--no-privileges", database)
    return [
        line
        for line in text.splitlines()
        # pg_dump 15.14+ wraps the script in \restrict/\unrestrict with a random key.
        if line and not line.startswith(("--", "\\restrict", "\\unrestrict"))
    ]


@contextmanager
def using_database(name: str) -> Iterator[None]:
    """Point Django's default connection at another database for the block."""
    default = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = name
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = default


def rendered_report() -> dict:
    """The report as a reader sees it, from the database Django is connected to."""
    plan = Plan.objects.get(code="pcp-2021-25")
    lancs = Area.objects.get(code="lancs")
    national = rows.national_picture(
        measures=Measure.objects.all(),
        area=lancs,
        month=parse_month("2022-12"),
        book=SeriesBook(Reader.public()),
    )
    version = ReportVersion.objects.get(report__plan=plan, number=1)
    return {
        "report tables": snapshot_of(report_build(plan=plan, period=Q3)),
        "national picture": [
            {key: str(value) for key, value in row.items()} for row in national.rows
        ],
        "national picture footnotes": national.footnotes.as_list(),
        "published html": version.html,
        "published snapshot": version.snapshot,
        "published pdf": bytes(version.pdf),
    }


@pytest.fixture
def demo_committed(transactional_db, admin_user):
    """The demo, a published report and its PDF, committed so pg_dump can see them."""
    from reports.tasks import pdf_make

    # Nothing is sent to a broker: load_demo computes the derived figures itself and the
    # PDF is made here, so no task outlives the test.
    with (
        patch("measures.engine.marks.recompute_enqueue"),
        patch("reports.publishing._make_pdf"),
    ):
        call_command("load_demo", verbosity=0, stdout=io.StringIO())
        version = report_publish(
            plan=Plan.objects.get(code="pcp-2021-25"), period=Q3, actor=admin_user
        )
    pdf_make(version.pk)


@pytest.fixture
def restored(demo_committed, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Back up the test database and restore it into a fresh one; drop that afterwards."""
    original = connection.settings_dict["NAME"]
    copy = f"{original}_restored_{os.getpid()}"
    backup = tmp_path / "pcp.dump"
    run("pg_dump", "--format=custom", "--file", str(backup), original)
    assert backup.stat().st_size > 0
    run("dropdb", "--if-exists", copy)
    run("createdb", "--template=template0", copy)
    try:
        run("pg_restore", "--no-owner", "--exit-on-error", "--dbname", copy, str(backup))
        yield original, copy
    finally:
        connection.close()
        run("dropdb", "--if-exists", "--force", copy)


def test_a_restored_backup_has_identical_tables_and_report(restored):
    original, copy = restored

    checksums = table_checksums(original)
    assert checksums == table_checksums(copy)
    assert not checksums["measures_value"].startswith("0 rows")
    assert not checksums["reports_reportversion"].startswith("0 rows")
    # The same schema, constraints, indexes, sequence positions and rows. Rows are compared
    # as a set here: COPY writes them in physical order, which a restore may change (the
    # checksums above compare them in order, table by table).
    assert sorted(plain_dump(original)) == sorted(plain_dump(copy))

    report = rendered_report()
    with using_database(copy):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_database()")
            assert cursor.fetchone() == (copy,)
        restored_report = rendered_report()
    for part, content in report.items():
        assert restored_report[part] == content, f"{part} differs after restore"
    assert report["published pdf"].startswith(b"%PDF")
    assert len(report["report tables"]["tables"]) > 10
    assert len(report["national picture"]) == 8

    # The comparison has teeth: one figure changed in the copy changes its checksum.
    psql(
        copy,
        "UPDATE measures_value SET value = value + 1 "
        "WHERE id = (SELECT min(id) FROM measures_value)",
    )
    assert table_checksums(copy)["measures_value"] != checksums["measures_value"]
