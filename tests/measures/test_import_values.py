"""`import_values`: all-or-nothing, row-level errors, no silent overwrite of approved values."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from measures.importing.rules import ImportRejected
from measures.importing.values import values_import
from measures.models import Value

HEADER = "measure,area,period,value,numerator,denominator,note,source\n"
GOOD = HEADER + (
    "t-assaults,force,2022-11,10,,,,\n"
    "t-assaults,force,2022-12,12,,,,\n"
    "t-satisfied,force,2022-12,70.0,70,100,,\n"
    "t-cash,force,2022/23-Q3,30801,,,,PAM system\n"
)


def write(tmp_path: Path, text: str | bytes, name: str = "values.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def rejected(path: Path) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        values_import(path=path)
    assert Value.objects.count() == 0, "a rejected file must write nothing"
    return [str(e) for e in caught.value.errors]


def test_it_imports_a_good_file_with_every_period_notation(small_plan, tmp_path):
    summary = values_import(path=write(tmp_path, GOOD))

    assert (summary.created, summary.updated, summary.unchanged) == (4, 0, 0)
    cash = Value.objects.get(measure__code="t-cash")
    assert (cash.start.isoformat(), cash.end.isoformat()) == ("2022-10-01", "2022-12-01")
    assert cash.value == Decimal("30801")
    assert cash.status == Value.Status.DRAFT


def test_reimporting_the_same_file_changes_nothing_and_records_no_history(small_plan, tmp_path):
    path = write(tmp_path, GOOD)
    values_import(path=path)
    history_before = Value.history.count()

    summary = values_import(path=path)

    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 4)
    assert Value.history.count() == history_before


def test_an_edited_draft_value_is_updated_with_history(small_plan, tmp_path):
    values_import(path=write(tmp_path, GOOD))
    summary = values_import(path=write(tmp_path, GOOD.replace("2022-12,12", "2022-12,13")))

    assert summary.updated == 1
    value = Value.objects.get(measure__code="t-assaults", start="2022-12-01")
    assert value.value == 13
    old, new = value.history.order_by("history_date")[:2]
    assert (old.value, new.value) == (12, 13)


def test_an_updated_value_records_when_it_changed_and_an_unchanged_one_keeps_its_time(
    small_plan, tmp_path
):
    values_import(path=write(tmp_path, GOOD))
    before = dict(Value.objects.values_list("pk", "updated_at"))

    values_import(path=write(tmp_path, GOOD.replace("2022-12,12", "2022-12,13")))

    changed = Value.objects.get(measure__code="t-assaults", start="2022-12-01")
    assert changed.updated_at > before[changed.pk]
    assert changed.history.latest("history_date").updated_at == changed.updated_at
    unchanged = Value.objects.get(measure__code="t-assaults", start="2022-11-01")
    assert unchanged.updated_at == before[unchanged.pk]


def test_approve_marks_values_approved_and_bulk_history_is_recorded(small_plan, tmp_path):
    values_import(path=write(tmp_path, GOOD), approve=True, reason="bulk load")

    assert Value.objects.filter(status="approved").count() == 4
    assert Value.history.filter(history_change_reason="bulk load").count() == 4


def test_an_approved_value_is_never_overwritten_silently(small_plan, tmp_path):
    values_import(path=write(tmp_path, GOOD), approve=True)
    changed = write(tmp_path, GOOD.replace("2022-12,12", "2022-12,99"), "changed.csv")

    with pytest.raises(ImportRejected) as caught:
        values_import(path=changed, approve=True)

    assert "line 3" in str(caught.value.errors[0])
    assert "approved and the file changes it (value 12 → 99)" in str(caught.value.errors[0])
    assert Value.objects.get(measure__code="t-assaults", start="2022-12-01").value == 12


def test_the_command_exits_1_and_reports_every_bad_row(small_plan, tmp_path, capsys):
    path = write(tmp_path, HEADER + "t-assaults,force,2022-12,x,,,,\nnope,force,2022-12,1,,,,\n")

    with pytest.raises(SystemExit) as exit_info:
        call_command("import_values", str(path))

    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "line 2: value 'x' is not a number" in err
    assert "line 3: unknown measure 'nope'" in err
    assert Value.objects.count() == 0


GOOD_ROW = "t-assaults,force,2022-01,5,,,,\n"


def rows(text: str) -> str:
    """Return a file whose first data row is good: it must not be written either."""
    return HEADER + GOOD_ROW + text


MALFORMED = {
    "bad header": ("measure,area,month,value\nt-assaults,force,2022-12,1\n", "line 1", "period"),
    "unknown column": (
        "measure,area,period,value,colour\nt-assaults,force,2022-12,1,red\n",
        "line 1",
        "colour",
    ),
    "unknown measure": (rows("t-nothing,force,2022-12,1,,,,\n"), "line 3", "unknown measure"),
    "unknown area": (rows("t-assaults,mars,2022-12,1,,,,\n"), "line 3", "unknown area"),
    "bad period": (rows("t-assaults,force,2022-13,1,,,,\n"), "line 3", "2022/23-Q3"),
    "period backwards": (rows("t-assaults,force,2022-12/2022-01,1,,,,\n"), "line 3", "period"),
    "non-numeric": (rows("t-assaults,force,2022-12,twelve,,,,\n"), "line 3", "not a number"),
    "empty value": (rows("t-assaults,force,2022-12,,,,,\n"), "line 3", "value is empty"),
    "infinite": (rows("t-assaults,force,2022-12,Infinity,,,,\n"), "line 3", "not a number"),
    "negative count": (rows("t-assaults,force,2022-12,-1,,,,\n"), "line 3", "negative"),
    "percent over 100": (
        rows("t-satisfied,force,2022-12,101,101,101,,\n"),
        "line 3",
        "between 0 and 100",
    ),
    "numerator over denominator": (
        rows("t-satisfied,force,2022-12,100,120,100,,\n"),
        "line 3",
        "greater than denominator",
    ),
    "numerator alone": (
        rows("t-satisfied,force,2022-12,70,70,,,\n"),
        "line 3",
        "given together",
    ),
    "ratio inconsistent": (
        rows("t-satisfied,force,2022-12,50,70,100,,\n"),
        "line 3",
        "does not match",
    ),
    "duplicate rows": (
        rows("t-assaults,force,2022-12,1,,,,\nt-assaults,force,2022-12,2,,,,\n"),
        "line 4",
        "duplicate of line 3",
    ),
    "duplicate via other notation": (
        rows("t-cash,force,2022-10/2022-12,1,,,,\nt-cash,force,2022/23-Q3,1,,,,\n"),
        "line 4",
        "duplicate of line 3",
    ),
    "empty file": ("", "", "empty"),
    "header only": (HEADER, "line 1", "no rows"),
    "formula": (rows("t-assaults,force,2022-12,=1+1,,,,\n"), "line 3", "formula"),
    "unbalanced quote": (rows('t-assaults,force,2022-12,"1,,,,\n'), "line", ""),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_csv_is_rejected_with_a_row_level_message_and_nothing_written(
    small_plan, tmp_path, case
):
    text, where, reason = MALFORMED[case]

    errors = rejected(write(tmp_path, text))

    joined = " | ".join(errors)
    assert where in joined and reason in joined, joined


def test_a_file_in_the_wrong_encoding_is_rejected_naming_the_line(small_plan, tmp_path):
    text = (HEADER + "t-assaults,force,2022-12,1,,,Ñote,\n").encode("latin-1")
    errors = rejected(write(tmp_path, text))
    assert errors == ["line 2: the file is not UTF-8 encoded; save it as CSV UTF-8"]


def test_a_utf16_file_is_rejected(small_plan, tmp_path):
    errors = rejected(write(tmp_path, GOOD.encode("utf-16")))
    assert "not a text CSV" in errors[0]


def test_an_unsupported_file_type_is_rejected(small_plan, tmp_path):
    errors = rejected(write(tmp_path, GOOD, name="values.ods"))
    assert "unsupported file type" in errors[0]


def test_every_bad_row_is_reported_not_just_the_first(small_plan, tmp_path):
    text = HEADER + "".join(f"t-assaults,force,2022-{m:02d},-{m},,,,\n" for m in range(1, 13))
    errors = rejected(write(tmp_path, text))
    assert len(errors) == 12
    assert errors[-1].startswith("line 13:")


def _xlsx(tmp_path: Path, rows: list[list]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    path = tmp_path / "values.xlsx"
    workbook.save(path)
    return path


def test_it_imports_xlsx_with_dates_and_numbers_as_typed_by_a_spreadsheet(small_plan, tmp_path):
    import datetime

    path = _xlsx(
        tmp_path,
        [
            ["measure", "area", "period", "value"],
            ["t-assaults", "force", datetime.datetime(2022, 12, 1), 12],
            ["t-assaults", "force", "2022-11", 10.0],
        ],
    )

    summary = values_import(path=path)

    assert summary.created == 2
    assert Value.objects.get(start="2022-12-01").value == 12


def test_an_xlsx_with_a_formula_is_rejected(small_plan, tmp_path):
    path = _xlsx(
        tmp_path,
        [["measure", "area", "period", "value"], ["t-assaults", "force", "2022-12", "=SUM(1,2)"]],
    )
    errors = rejected(path)
    assert errors[0].startswith("line 2: formula")


def test_a_corrupt_xlsx_is_rejected(small_plan, tmp_path):
    errors = rejected(write(tmp_path, b"PK\x03\x04 not really a zip", name="values.xlsx"))
    assert "not a readable XLSX" in errors[0]
