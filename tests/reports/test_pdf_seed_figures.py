"""The published PDF shows every figure of the seed's tables (issue 13, "Done when").

Every number in a table of the seed document (its tab-separated rows) must be printed in the
demo's published Q3 2022/23 PDF, read back as text: the seed's rounding allowed for (it prints
some changes to whole percents, "-39%", where the report prints "-39.1%").
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from pypdf import PdfReader

from tests.factories import published_seed_report

pytestmark = pytest.mark.usefixtures("demo")

# The seed document's table rows (tab-separated), copied from shared/seed/ as they are.
SEED_TABLES = Path(__file__).resolve().parent / "data" / "seed_tables.tsv"
NUMBER = re.compile(r"[-+−]?£?\d[\d,]*(?:\.\d+)?")


def _numbers(text: str) -> list[str]:
    return [m.group() for m in NUMBER.finditer(text)]


def _value(token: str) -> Decimal:
    return Decimal(token.replace("−", "-").replace("£", "").replace(",", ""))


def _decimals(token: str) -> int:
    return len(token.split(".")[1]) if "." in token else 0


def seed_table_figures() -> list[str]:
    rows = [line for line in SEED_TABLES.read_text().splitlines() if "\t" in line]
    return [token for row in rows for cell in row.split("\t") for token in _numbers(cell)]


@pytest.mark.django_db
def test_the_published_pdf_prints_every_figure_of_the_seed_s_tables(client, admin_user):
    version = published_seed_report(admin_user)
    response = client.get(
        reverse("public:pdf", args=[version.report.plan.code, version.report.slug, 1])
    )
    assert response.status_code == 200
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    printed = {}
    for token in _numbers(text):
        printed.setdefault(_value(token), token)
    wanted = seed_table_figures()
    assert len(wanted) > 150, "the seed's tables hold over 150 figures"
    missing = []
    for token in wanted:
        value, places = _value(token), _decimals(token)
        step = Decimal(1).scaleb(-places)
        # Printed as the seed prints it, or more exactly and rounding to it.
        if not any(abs(shown - value) <= step / 2 for shown in printed):
            missing.append(token)
    assert not missing, f"{len(missing)} of {len(wanted)} seed figures not in the PDF: {missing}"
