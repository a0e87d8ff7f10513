"""A reader downloads a published report's tables as Excel through the report's own link,
and the workbook holds the published figures: numbers in their measures' formats, a sheet
per table named after it, and the footnotes on a "Notes" sheet."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from openpyxl import load_workbook

from reports.exports import NOTES_SHEET, sheet_names
from tests.factories import published_seed_report


def test_a_reader_downloads_the_published_tables_as_excel(demo_site, actor, tmp_path):
    version = published_seed_report(get_user_model().objects.get(username="admin"))
    tables = version.snapshot["tables"]
    reader = actor("reader")  # anonymous
    reader.goto(f"{demo_site}{version.get_absolute_url()}")

    with reader.expect_download() as caught:
        reader.get_by_role("link", name="tables (Excel)").click()

    download = caught.value
    assert download.failure() is None
    assert download.suggested_filename == "pcp-2021-25-2022-23-q3-v1.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)  # as the reader's browser saves it
    workbook = load_workbook(saved)
    assert workbook.sheetnames == [*sheet_names([t["title"] for t in tables]), NOTES_SHEET]
    for entry, sheet in zip(tables, workbook.worksheets, strict=False):
        published = [[None if cell == "" else cell for cell in row] for row in entry["values"]]
        assert [list(row) for row in sheet.iter_rows(values_only=True)] == published
    picture = workbook["National Picture"]
    header = [cell.value for cell in picture[1]]
    homicides = next(
        row for row in picture.iter_rows(min_row=2) if row[1].value == "Recorded Homicides"
    )
    figures = {heading: cell for heading, cell in zip(header, homicides, strict=True)}
    assert (figures["12 months to Dec 2020"].value, figures["12 months to Dec 2022"].value) == (
        23,
        14,
    )
    assert figures["Change (%)"].value == -39.1
    assert figures["Change (%)"].number_format.startswith('+#,##0.0"%"')
    assert (figures["Status"].value, figures["Notes"].value) == ("Approved", "†")
    notes = [row for row in workbook[NOTES_SHEET].iter_rows(min_row=2, values_only=True)]
    assert ("National Picture", "†", "Small numbers: treat the change with caution") in notes
