"""`import_values` by COPY on PostgreSQL (issue 4): the fast path ends as the row-by-row one.

For every file here — hand-picked tricky ones and hypothesis-generated ones — the import as
the command runs it (COPY and SQL first; row by row when that path declines) must end
exactly as the row-by-row import alone does: accepted or rejected alike, with the same
errors, the same summary, the same stored values and the same history rows (type, user,
reason, every field). Good files must take the COPY path, in a number of queries that does
not grow with the rows; bad ones are left to the row-by-row import, which names their lines.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import itertools
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from measures.arithmetic.periods import parse_period
from measures.importing import values_copy as importers_sql
from measures.importing.rules import (
    FIGURE_RE,
    MAX_FIGURE,
    ImportRejected,
    is_formula,
    parse_figure,
)
from measures.importing.values import values_import
from measures.models import Measure, Plan, Return, Value
from measures.returns import services
from tests.conftest import _person


def on_postgres(test):
    """Mark a test that needs PostgreSQL, where the COPY path runs (skipped on SQLite)."""
    skip = pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's"
    )
    return pytest.mark.postgres(skip(test))


HEADER = "measure,area,period,value,numerator,denominator,note,source\n"


# --- stored state ------------------------------------------------------------------------------


@pytest.fixture
def stored(small_plan, tmp_path):
    """Draft and approved figures, a measure with a default source, and department B's
    2022/23-Q3 return under review (t-satisfied and t-cash, Oct–Dec 2022, force)."""
    Measure.objects.filter(code="t-cash").update(source="PAM system")
    with patch.object(importers_sql, "values_import_copy", return_value=None):
        draft = tmp_path / "draft.csv"
        draft.write_text(
            HEADER + "t-assaults,force,2022-01,5,,,,\n"
            "t-assaults,force,2022-02,6,,,a note,\n"
            "t-satisfied,force,2022-01,70.0,70,100,,\n"
            "t-cash,force,2022-Q1,100,,,,\n"
        )
        values_import(path=draft)
        approved = tmp_path / "approved.csv"
        approved.write_text(
            HEADER + "t-assaults,force,2022-03,7,,,,\nt-satisfied,force,2022-02,50.0,1,2,,\n"
        )
        values_import(path=approved, approve=True)
    reporting = services.reporting_period_open(
        plan=Plan.objects.get(code="test-plan"),
        period=parse_period("2022/23-Q3"),
        deadline=datetime.date(2023, 1, 20),
    )
    Return.objects.filter(reporting_period=reporting, department__code="dept-b").update(
        status=Return.Status.SUBMITTED
    )
    return _person("dana", "admin")


# --- running one import and recording what it did ----------------------------------------------


@dataclass(frozen=True)
class Outcome:
    result: (
        tuple  # ("imported", created, updated, unchanged) | ("rejected", *errors) | ("failed", …)
    )
    values: tuple  # every stored value, field by field, and whether this import touched it
    history: tuple  # the history rows this import wrote, in order


def run(path: Path, *, rows_only: bool, **options) -> tuple[Outcome, bool]:
    """Import `path` in a savepoint that is then rolled back; return what the import did and
    whether the COPY path took the file. With rows_only, the COPY path always declines."""
    real = importers_sql.values_import_copy
    taken = []

    def spy(**kwargs):
        summary = None if rows_only else real(**kwargs)
        taken.append(summary is not None)
        return summary

    started = timezone.now()
    with transaction.atomic():
        last_history = Value.history.aggregate(last=Max("history_id"))["last"] or 0
        try:
            with patch.object(importers_sql, "values_import_copy", spy), transaction.atomic():
                summary = values_import(path=path, **options)
            result: tuple = ("imported", summary.created, summary.updated, summary.unchanged)
        except ImportRejected as exc:
            result = ("rejected", *(str(e) for e in exc.errors))
        except DatabaseError as exc:
            result = ("failed", type(exc).__name__)
        values = tuple(
            (*row[:-1], row[-1] >= started)
            for row in Value.objects.order_by("measure__code", "area__code", "start", "end")
            .values_list(
                "measure__code",
                "area__code",
                "start",
                "end",
                "value",
                "numerator",
                "denominator",
                "note",
                "source",
                "status",
                "updated_by_id",
                "updated_at",
            )
            .iterator()
        )
        history = tuple(
            (*row[:-2], row[-2] >= started, row[-1] >= started)
            for row in Value.history.filter(history_id__gt=last_history)
            .order_by("history_id")
            .values_list(
                "history_type",
                "history_user_id",
                "history_change_reason",
                "measure_id",
                "area_id",
                "start",
                "end",
                "value",
                "numerator",
                "denominator",
                "note",
                "source",
                "status",
                "updated_by_id",
                "updated_at",
                "history_date",
            )
        )
        transaction.set_rollback(True)
    return Outcome(result, values, history), taken == [True]


def assert_alike(path: Path, **options) -> tuple[Outcome, bool]:
    """Both ways of importing `path` end alike; return the outcome and whether COPY took it."""
    by_rows, _ = run(path, rows_only=True, **options)
    as_run, fast = run(path, rows_only=False, **options)
    assert as_run.result == by_rows.result
    assert as_run.values == by_rows.values
    assert as_run.history == by_rows.history
    return as_run, fast


def write(tmp_path: Path, data: str | bytes, name: str = "values.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# --- hand-picked files -------------------------------------------------------------------------

GOOD = {
    "every period notation": HEADER + "t-assaults,force,2022-11,10,,,,\n"
    "t-assaults,force,2022-12,12,,,,\n"
    "t-satisfied,nation,2022-12,70.0,70,100,,\n"
    "t-cash,nation,2022/23-Q3,30801,,,,\n"
    "t-cash,nation,2021-10/2021-12,1,,,,\n",
    "quoted thousands, commas and quotes in a note": HEADER
    + 't-cash,nation,2022-Q4,"1,234,567.5",,,"Op ""Limit"", phase 2",\n'
    + 't-assaults,nation,2022-03,"12",,,"",""\n',
    "byte order mark and CRLF": "\ufeff"
    + (HEADER + "t-assaults,nation,2022-03,8,,,,\n").replace("\n", "\r\n"),
    "old Mac line ends": (HEADER + "t-assaults,nation,2022-03,8,,,,\n").replace("\n", "\r"),
    "no newline at the end": HEADER + "t-assaults,nation,2022-03,8,,,,",
    "header in another order, case and spacing, without optional columns": (
        " Value ,PERIOD,area , measure\n8,2022-03,nation,t-assaults\n"
    ),
    "padding: spaces, tabs, no-break and ideographic spaces": HEADER
    + " t-assaults ,\tnation\t,\u00a02022-03\u3000, 8 ,,,\u2003note\u2003,\x1c\n",
    "a blank heading with empty cells under it and lines of empty cells": (
        "measure,area,period,value,\nt-assaults,nation,2022-03,8,\n,,,,\n , ,\t,,\n"
        "t-assaults,nation,2022-04,9,\n"
    ),
    "signs, points and zeros": HEADER + "t-assaults,nation,2022-03,+12,,,,\n"
    "t-assaults,nation,2022-04,-0,,,,\n"
    "t-cash,nation,2022-Q1,.5,,,,\n"
    "t-cash,nation,2022-Q2,5.,,,,\n"
    "t-cash,nation,2022-Q3,1.00000,,,,\n"
    "t-cash,nation,2022-Q4,99999999999999.9999,,,,\n",
    "percent at 0 and 100, ratio on the edge of its tolerance": HEADER
    + "t-satisfied,nation,2022-03,0,0,7,,\n"
    "t-satisfied,nation,2022-04,100,7,7,,\n"
    "t-satisfied,nation,2022-05,100.0000,,,,\n"
    "t-satisfied,nation,2022-06,70.0501,70,100,,\n"  # exactly 0.05 + 0.0001 off: accepted
    "t-satisfied,nation,2022-07,33.3834,1,3,,\n",
    "unicode, emoji and a backslash in notes": HEADER
    + "t-assaults,nation,2022-03,8,,,Opération “Warrior” 🚓 a\\b,£ seized\n",
    "re-import: unchanged, changed note, blank source takes the measure's": HEADER
    + "t-assaults,force,2022-01,5,,,,\n"  # unchanged
    "t-assaults,force,2022-02,6,,,another note,\n"  # note changed
    "t-assaults,force,2022-03,7,,,,\n"  # approved, unchanged
    "t-cash,force,2022-Q1,100,,,,\n"  # source was '' and is now the measure's
    "t-cash,force,2022-Q2,100,,,,Own source\n",
    "re-import of an approved value written as a one-month range": HEADER
    + "t-assaults,force,2022-03/2022-03,7.0000,,,,\n",
}

GOOD_OPTIONS = {
    "approve: drafts become approved, approved stay": {"approve": True},
    "a user and a reason": {"user": "dana", "reason": "monthly load"},
}

REJECTED = {
    "unknown measure": HEADER + "t-assaults,nation,2022-03,8,,,,\nnope,nation,2022-03,1,,,,\n",
    "unknown area": HEADER + "t-assaults,mars,2022-03,8,,,,\n",
    "case matters in codes": HEADER + "T-assaults,nation,2022-03,8,,,,\n",
    "bad period": HEADER + "t-assaults,nation,2022-13,8,,,,\n",
    "value empty": HEADER + "t-assaults,nation,2022-03,,,,,\n",
    "percent over 100": HEADER + "t-satisfied,nation,2022-03,100.0001,,,,\n",
    "percent below 0": HEADER + "t-satisfied,nation,2022-03,-0.1,,,,\n",
    "count with a fraction": HEADER + "t-assaults,nation,2022-03,1.5,,,,\n",
    "negative count": HEADER + "t-assaults,nation,2022-03,-1,,,,\n",
    "negative money": HEADER + "t-cash,nation,2022-Q1,-0.01,,,,\n",
    "five decimals": HEADER + "t-cash,nation,2022-Q1,1.00001,,,,\n",
    "too large": HEADER + "t-cash,nation,2022-Q1,100000000000000,,,,\n",
    "huge": HEADER + "t-cash,nation,2022-Q1," + "9" * 200 + ",,,,\n",
    "badly grouped thousands": HEADER + 't-cash,nation,2022-Q1,"12,34",,,,\n',
    "exponent": HEADER + "t-cash,nation,2022-Q1,1e3,,,,\n",
    "space inside": HEADER + "t-cash,nation,2022-Q1,1 234,,,,\n",
    "fullwidth digits": HEADER + "t-cash,nation,2022-Q1,１２,,,,\n",
    "lone sign": HEADER + "t-cash,nation,2022-Q1,+.,,,,\n",
    "formula in the value": HEADER + "t-cash,nation,2022-Q1,=1+1,,,,\n",
    "formula in a note": HEADER + "t-cash,nation,2022-Q1,1,,,@SUM(A1),\n",
    "minus formula in the source": HEADER + "t-cash,nation,2022-Q1,1,,,,-2+3\n",
    "a phone number in a note": HEADER + "t-cash,nation,2022-Q1,1,,,+44 1772 123456,\n",
    "numerator alone": HEADER + "t-satisfied,nation,2022-03,70,70,,,\n",
    "numerator over denominator": HEADER + "t-satisfied,nation,2022-03,100,8,7,,\n",
    "denominator 0": HEADER + "t-satisfied,nation,2022-03,0,0,0,,\n",
    "ratio just beyond its tolerance": HEADER + "t-satisfied,nation,2022-03,70.0502,70,100,,\n",
    "ratio of thirds beyond its tolerance": HEADER + "t-satisfied,nation,2022-03,33.3835,1,3,,\n",
    "duplicate": HEADER + "t-assaults,nation,2022-03,8,,,,\nt-assaults,nation,2022-03,8,,,,\n",
    "duplicate written two ways": HEADER + "t-cash,nation,2022-Q4,1,,,,\n"
    "t-cash,nation,2022/23-Q3,1,,,,\n",
    "a cell under no heading": "measure,area,period,value\nt-assaults,nation,2022-03,1,234\n",
    "a changed approved value": HEADER + "t-assaults,force,2022-03,8,,,,\n",
    "an approved value given a note": HEADER + "t-assaults,force,2022-03,7,,,late,\n",
    "a new value in a return under review": HEADER + "t-cash,force,2022/23-Q3,5,,,,\n",
    "bad header": "measure,area,month,value\nt-assaults,nation,2022-03,8\n",
    "header only": HEADER,
    "latin-1": (HEADER + "t-assaults,nation,2022-03,8,,,año,\n").encode("latin-1"),
    "NUL in a note": HEADER + "t-assaults,nation,2022-03,8,,,a\x00b,\n",
    "text after a closing quote": HEADER + 't-cash,nation,2022-Q1,"1"2,,,,\n',
    "end-of-copy marker line": HEADER + "t-assaults,nation,2022-03,8,,,,\n\\.\n"
    "nope,nation,2022-03,8,,,,\n",
    "a source too long to store": HEADER + "t-cash,nation,2022-Q1,1,,,," + "x" * 201 + "\n",
    "a cell longer than the csv module's field limit": HEADER
    + "t-cash,nation,2022-Q1,1,,,"
    + "x" * (csv.field_size_limit() + 1)
    + ",\n",
}

# Files the row-by-row import accepts but COPY would read differently or not at all: the
# COPY path declines them, and they import as before, only more slowly.
ACCEPTED_SLOWLY = {
    "a short row": HEADER + "t-assaults,nation,2022-03,8\n",
    "an empty line": HEADER
    + "t-assaults,nation,2022-03,8,,,,\n\nt-assaults,nation,2022-04,8,,,,\n",
    "a quote inside an unquoted note": HEADER + 't-assaults,nation,2022-03,8,,,5" pipe,\n',
    "a note over two lines": HEADER + 't-assaults,nation,2022-03,8,,,"two\nlines",\n',
    "a backslash-dot note": HEADER + "t-assaults,nation,2022-03,8,,,\\.,\n",
    "a spaced quote": HEADER + 't-assaults,nation,2022-03,8,,, "quoted",\n',
}


@on_postgres
@pytest.mark.parametrize("name", list(GOOD))
def test_a_good_file_takes_the_copy_path_and_ends_as_row_by_row_does(stored, tmp_path, name):
    outcome, fast = assert_alike(write(tmp_path, GOOD[name]))
    assert outcome.result[0] == "imported", outcome.result
    assert fast, "a good plain CSV file takes the COPY path"


@on_postgres
@pytest.mark.parametrize("approve", [False, True])
@pytest.mark.parametrize("name", list(GOOD))
def test_a_user_a_reason_and_approval_are_recorded_alike(stored, tmp_path, name, approve):
    outcome, fast = assert_alike(
        write(tmp_path, GOOD[name]), approve=approve, user=stored, reason="monthly load"
    )
    assert fast == (outcome.result[0] == "imported"), outcome.result
    assert {(h[1], h[2]) for h in outcome.history} <= {(stored.pk, "monthly load")}


@on_postgres
def test_approving_unchanged_drafts_updates_their_status_with_history(stored, tmp_path):
    path = write(
        tmp_path, HEADER + "t-assaults,force,2022-01,5,,,,\nt-assaults,force,2022-03,7,,,,\n"
    )
    outcome, fast = assert_alike(path, approve=True)
    assert fast
    assert outcome.result == ("imported", 0, 1, 1)
    assert [h[0] for h in outcome.history] == ["~"]


@on_postgres
@pytest.mark.parametrize("name", list(REJECTED))
def test_a_bad_file_is_left_to_the_row_by_row_import(stored, tmp_path, name):
    outcome, fast = assert_alike(write(tmp_path, REJECTED[name]))
    assert outcome.result[0] in {"rejected", "failed"}, outcome.result
    assert not fast


@on_postgres
@pytest.mark.parametrize("name", list(ACCEPTED_SLOWLY))
def test_csv_that_copy_would_read_differently_is_imported_row_by_row(stored, tmp_path, name):
    outcome, fast = assert_alike(write(tmp_path, ACCEPTED_SLOWLY[name]))
    assert outcome.result[0] == "imported", outcome.result
    assert not fast


@on_postgres
def test_a_reason_too_long_to_record_fails_alike(stored, tmp_path):
    outcome, fast = assert_alike(write(tmp_path, GOOD["every period notation"]), reason="r" * 101)
    assert outcome.result == ("failed", "DataError")
    assert not fast


@on_postgres
def test_an_approved_value_changed_by_the_file_is_reported_on_its_line(stored, tmp_path):
    """The COPY path declines; the row-by-row import names the line and the change."""
    path = write(
        tmp_path, HEADER + "t-assaults,nation,2022-04,1,,,,\nt-assaults,force,2022-03,8,,,,\n"
    )
    with pytest.raises(ImportRejected) as caught:
        values_import(path=path)
    assert [str(e) for e in caught.value.errors] == [
        "line 3: t-assaults for force 2022-03 is approved and the file changes it (value 7 → 8); "
        "reopen its return before importing a revised figure"
    ]


# --- generated files ---------------------------------------------------------------------------

MEASURES = ["t-assaults", "t-satisfied", "t-cash"]
MONTHS = [f"2022-{m:02d}" for m in range(1, 13)]
PERIODS = {
    "t-assaults": MONTHS,
    "t-satisfied": MONTHS,
    "t-cash": ["2022-Q1", "2022-Q2", "2022/23-Q3", "2022-10/2022-12", "2022/23", "2021"],
}
WILD_FIGURES = [
    "0", "100", "100.0", "100.0001", "99.9999", "-0", "+12", "-12", ".5", "5.", "0.0001",
    "1,234", "12,34", "1,234,567.5", ",123", "1e3", "1.2E+3", "=1+1", "@x", "+A1", "-", "+",
    ".", "", " 12 ", "\u00a012", "12%", "NaN", "Infinity", "1 234", "0x10", "１２", "٣",
    "99999999999999.9999", "100000000000000", "12.34567", "12.30000", "1_000",
]  # fmt: skip
WILD_TEXTS = [
    "", "note", " padded ", "=cmd", "@x", "+44 1772", "-", "-2+3", "a,b", 'say "hi"',
    "\u00a0", "\u3000x\u3000", "\x1cx", "\tx", "£", "x" * 201,
]  # fmt: skip
WILD_CODES = [
    "T-ASSAULTS", "nope", "", " t-assaults ", "mars", " force", "2022-13", "Dec-22",
    "2022-q1", " 2022-03 ", "2022/12", "44896",
]  # fmt: skip
COLUMNS = ["measure", "area", "period", "value", "numerator", "denominator", "note", "source"]

figures = st.one_of(
    st.integers(0, 10**6).map(str),
    st.integers(-(10**4), 10**9).map(lambda n: f"{n:,}"),
    st.decimals(-(10**6), 10**6, places=4, allow_nan=False).map(lambda d: f"{d:f}"),
    st.decimals(0, 1000, places=5, allow_nan=False).map(lambda d: f"{d:f}"),
    st.sampled_from(WILD_FIGURES),
)
texts = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x00\\"), max_size=8),
    st.sampled_from(WILD_TEXTS),
)


@st.composite
def good_rows(draw) -> dict:
    """A row the row-by-row import accepts on its own, for the small plan."""
    measure = draw(st.sampled_from(MEASURES))
    row = {
        "measure": measure,
        "area": draw(st.sampled_from(["force", "nation"])),
        "period": draw(st.sampled_from(PERIODS[measure])),
        "numerator": "",
        "denominator": "",
        "note": draw(st.sampled_from(["", "", "note", "late figures"])),
        "source": draw(st.sampled_from(["", "", "PAM"])),
    }
    if measure == "t-assaults":
        row["value"] = str(draw(st.integers(0, 500)))
    elif measure == "t-cash":
        row["value"] = f"{draw(st.decimals(0, 10**6, places=2, allow_nan=False)):f}"
    elif draw(st.booleans()):
        denominator = draw(st.integers(1, 1000))
        numerator = draw(st.integers(0, denominator))
        implied = (Decimal(numerator) / denominator * 100).quantize(Decimal("0.0001"))
        # On, near and beyond the edge of value_errors' tolerance (0.0501 at 1 decimal).
        offset = draw(st.sampled_from(["0", "0", "0.05", "-0.05", "0.0501", "-0.0501", "0.0502"]))
        row["value"] = f"{implied + Decimal(offset):f}"
        row["numerator"], row["denominator"] = str(numerator), str(denominator)
    else:
        row["value"] = f"{draw(st.decimals(0, 100, places=1, allow_nan=False)):f}"
    return row


@st.composite
def value_files(draw) -> tuple[bytes, dict]:
    """A CSV file of mostly good rows, some for stored figures, with now and then a wild
    cell, a duplicate, a line of empty cells, or a header reordered or without some optional
    columns; and the import's options."""
    rows = draw(
        st.lists(
            good_rows(),
            min_size=1,
            max_size=8,
            unique_by=lambda r: (r["measure"], r["area"], parse_period(r["period"])),
        )
    )
    # Rows for stored figures: a draft (5) and two approved ones (7, and 50.0 as 1/2), each
    # written unchanged or changed.
    stored_rows = [
        ("t-assaults", "force", "2022-01", ["5", "5.0", "6"], ["", "a new note"], [("", "")]),
        ("t-assaults", "force", "2022-03", ["7", "7.0000", "8"], ["", "late"], [("", "")]),
        ("t-satisfied", "force", "2022-02", ["50.0", "50.04"], [""], [("1", "2"), ("", "")]),
    ]
    written = {(r["measure"], r["area"], parse_period(r["period"])) for r in rows}
    for measure, area, period, values, notes, parts in stored_rows:
        if (measure, area, parse_period(period)) not in written and draw(st.booleans()):
            numerator, denominator = draw(st.sampled_from(parts))
            rows.append(
                {
                    "measure": measure,
                    "area": area,
                    "period": period,
                    "value": draw(st.sampled_from(values[:1] * 3 + values[1:])),
                    "numerator": numerator,
                    "denominator": denominator,
                    "note": draw(st.sampled_from(notes[:1] * 3 + notes[1:])),
                    "source": "",
                }
            )
    for _ in range(draw(st.sampled_from([0, 0, 0, 0, 0, 0, 1, 2]))):
        row = draw(st.sampled_from(rows))
        column = draw(st.sampled_from(COLUMNS))
        if column in {"value", "numerator", "denominator"}:
            row[column] = draw(figures)
        elif column in {"note", "source"}:
            row[column] = draw(texts)
        else:
            row[column] = draw(st.sampled_from(WILD_CODES))
    if draw(st.integers(0, 9)) == 0:
        rows.append(dict(draw(st.sampled_from(rows))))  # a duplicate
    if draw(st.integers(0, 5)) == 0:
        rows.insert(draw(st.integers(0, len(rows))), dict.fromkeys(COLUMNS, ""))
    optional = draw(
        st.lists(
            st.sampled_from([("numerator", "denominator"), ("note",), ("source",)]), unique=True
        )
    )
    header = draw(st.permutations([*COLUMNS[:4], *itertools.chain(*optional)]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\r\n", "\n", "\r"])))
    writer.writerow([draw(st.sampled_from([name, name.upper(), f" {name} "])) for name in header])
    for row in rows:
        writer.writerow([row[name] for name in header])
    bom = codecs.BOM_UTF8 if draw(st.booleans()) else b""
    options = {"approve": draw(st.booleans()), "reason": draw(st.sampled_from(["", "load"]))}
    return bom + out.getvalue().encode("utf-8"), options


@on_postgres
@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(generated=value_files())
def test_generated_files_end_alike_and_good_ones_take_the_copy_path(stored, tmp_path, generated):
    data, options = generated
    outcome, fast = assert_alike(write(tmp_path, data), user=stored, **options)
    event(f"{outcome.result[0]}, {'copy' if fast else 'row by row'}")
    # Every file generated here is plain CSV: what the row-by-row import accepts, COPY takes.
    assert fast == (outcome.result[0] == "imported"), outcome.result


# --- the COPY path's own properties ------------------------------------------------------------


def _many_rows(count: int) -> str:
    """`count` good monthly rows for the nation from 1900-01 on."""
    month = parse_period("1900-01").start
    return HEADER + "".join(
        f"t-assaults,nation,{month.shift(i).iso},{i % 97},,,,\n" for i in range(count)
    )


@on_postgres
def test_its_queries_do_not_grow_with_the_rows(stored, tmp_path):
    counts = []
    for rows in (10, 2000):
        path = write(tmp_path, _many_rows(rows), name=f"rows-{rows}.csv")
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            summary = importers_sql.values_import_copy(
                path=path, approve=False, user=None, reason=""
            )
            transaction.set_rollback(True)
        assert summary is not None and summary.created == rows
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 20, counts


@on_postgres
def test_the_callers_transaction_keeps_its_own_settings(stored, tmp_path):
    settings_sql = "SELECT current_setting('work_mem'), current_setting('jit')"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '5MB'")
        cursor.execute(settings_sql)
        before = cursor.fetchone()
        assert importers_sql.values_import_copy(
            path=write(tmp_path, _many_rows(3)), approve=False, user=None, reason=""
        )
        cursor.execute(settings_sql)
        assert cursor.fetchone() == before == ("5MB", before[1])
        transaction.set_rollback(True)


@on_postgres
def test_a_failure_halfway_through_the_history_rows_writes_nothing(stored, tmp_path):
    """All 50 values and 24 history rows are written when the database refuses the 25th."""
    from tests.reliability.test_atomicity import assert_unchanged, database_state

    path = write(tmp_path, _many_rows(50))
    before = database_state()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION pg_temp.refuse_the_25th() RETURNS trigger AS $$
            BEGIN
              IF NEW.start = date '1902-01-01' THEN
                IF (SELECT count(*) FROM measures_value WHERE start < date '1905-01-01') <> 50
                   OR (SELECT count(*) FROM measures_historicalvalue
                       WHERE start < date '1905-01-01') <> 24 THEN
                  RAISE EXCEPTION 'not half written';
                END IF;
                RAISE EXCEPTION 'injected failure';
              END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_the_25th BEFORE INSERT ON measures_historicalvalue
            FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_the_25th();
            """
        )
    taken = []
    real = importers_sql._write

    def spy(*args, **kwargs):
        taken.append(True)
        return real(*args, **kwargs)

    with (
        patch.object(importers_sql, "_write", spy),
        pytest.raises(DatabaseError, match="injected failure"),
    ):
        values_import(path=path)
    assert taken, "the failure was on the COPY path"
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER refuse_the_25th ON measures_historicalvalue")
    assert_unchanged(before)


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_the_stored_values_of_its_measures_stay_locked_until_it_commits(tmp_path):
    """As on the row-by-row path, an approval (which updates the values) waits for the
    import to commit rather than slipping in between its checks and its writes."""
    import threading

    from django.db import connections

    from measures.importing.plan import plan_import
    from tests.conftest import SMALL_PLAN

    plan_import(data=SMALL_PLAN)
    values_import(path=write(tmp_path, HEADER + "t-assaults,force,2022-01,5,,,,\n", "a.csv"))
    stored = Value.objects.get()
    adding = write(tmp_path, HEADER + "t-assaults,force,2022-02,6,,,,\n", "b.csv")
    seen = []

    def approver():
        try:
            with transaction.atomic():
                list(Value.objects.select_for_update(nowait=True).filter(pk=stored.pk))
            seen.append("free")
        except DatabaseError:
            seen.append("locked")
        finally:
            connections.close_all()

    def approve_from_another_connection():
        thread = threading.Thread(target=approver)
        thread.start()
        thread.join(timeout=30)

    with transaction.atomic():
        assert importers_sql.values_import_copy(path=adding, approve=False, user=None, reason="")
        approve_from_another_connection()
    approve_from_another_connection()
    assert seen == ["locked", "free"]


# --- the pieces that stand for Python's reading and checks --------------------------------------


def test_python_whitespace_is_every_character_str_strip_removes():
    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
    assert everything == importers_sql.PYTHON_WHITESPACE
    assert {c for c in everything if c.isascii()} == set(importers_sql.ASCII_WHITESPACE)


def test_the_figure_pattern_matches_only_six_texts_without_a_digit():
    """figure_sql relies on it: checked over every text of up to 6 of the characters that
    FIGURE_RE accepts other than digits."""
    digitless = {
        "".join(chars)
        for size in range(7)
        for chars in itertools.product("+-.,", repeat=size)
        if FIGURE_RE.fullmatch("".join(chars))
    }
    assert digitless == {"", "+", "-", ".", "+.", "-."}


def _python_figure(text: str) -> Decimal | None:
    try:
        return parse_figure(text)
    except ValueError:
        return None


@on_postgres
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cells=st.lists(
        st.one_of(st.text(st.sampled_from("0123456789+-.,eE =@%１a"), max_size=10), figures),
        min_size=1,
        max_size=40,
    )
)
def test_sql_reads_figures_and_formulas_as_python_does(db, cells):
    """figure_sql gives parse_figure's number wherever parse_figure accepts the text (beyond that,
    only for numbers too large or too precise, which _ROW_OK refuses), and formula_sql
    is is_formula."""
    cells = [c.strip() for c in cells]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {importers_sql.figure_sql('t.x')}, {importers_sql.formula_sql('t.x')} "
            "FROM unnest(%(cells)s::text[]) WITH ORDINALITY AS t(x, i) ORDER BY t.i",
            {"cells": cells, "figure": importers_sql.FIGURE_PATTERN},
        )
        read = cursor.fetchall()
    for text, (number, formula) in zip(cells, read, strict=True):
        expected = _python_figure(text)
        if expected is not None:
            assert number == expected, text
        elif number is not None:
            assert abs(number) >= MAX_FIGURE or number != round(number, 4), text
        assert formula == is_formula(text), text


@pytest.mark.parametrize(
    ("line", "plain"),
    [
        (b"a,b,c", True),
        (b'"a,b",c', True),
        (b'a,"b ""quoted"" c",', True),
        (b'"",x', True),
        (b'a"b,c', False),
        (b'"a"b,c', False),
        (b' "a",b', False),
        (b'"a" ,b', False),
        (b'"open,b', False),
    ],
)
def test_only_lines_of_whole_quoted_fields_count_as_plain(line, plain):
    raw = b"header\n" + line + b"\nnext,line\n"
    assert importers_sql._plainly_quoted(raw, len(b"header\n")) is plain


def test_xlsx_files_and_sqlite_take_the_row_by_row_path(db, tmp_path):
    xlsx = write(tmp_path, b"PK\x03\x04", name="values.xlsx")
    assert importers_sql.values_import_copy(path=xlsx, approve=False, user=None, reason="") is None
    if connection.vendor != "postgresql":
        path = write(tmp_path, _many_rows(3))
        assert (
            importers_sql.values_import_copy(path=path, approve=False, user=None, reason="")
            is None
        )
