"""The seed report's charts, drawn from the demo data (issue 13, "Charts the seed has")."""

from __future__ import annotations

from decimal import Decimal

import pytest

from measures.access import Reader
from measures.arithmetic.periods import Month, Period, parse_month
from measures.models import Area, Plan, Value
from measures.selectors import SeriesBook
from reports.report_sections import report_sections

D = Decimal
Q3 = parse_month("2022-12")


@pytest.fixture(scope="module")
def sections(demo, django_db_blocker):
    with django_db_blocker.unblock():
        found = report_sections(
            plan=Plan.objects.get(),
            area=Area.objects.get(code="lancs"),
            month=Q3,
            book=SeriesBook(Reader.public()),
        )
    return {section.code: section for section in found}


def lancs_months(code: str) -> dict[str, Decimal]:
    """Return the demo's monthly values of a measure for Lancashire, by ISO month."""
    return {
        Month.from_date(value.start).iso: value.value
        for value in Value.objects.approved().filter(measure__code=code, area__code="lancs")
        if value.start == value.end
    }


def chart(section, title: str):
    found = [c for c in section.charts if c.title == title]
    assert len(found) == 1, [c.title for c in section.charts]
    return found[0]


def number(text: str) -> Decimal | None:
    return None if text in ("", "–", "-", "n/a") else D(text.replace(",", ""))


# --- ASB incidents per month, each financial year overlaid -----------------------------------


def test_the_asb_section_overlays_each_financial_year_from_2018_19(db, sections):
    asb = sections["anti-social-behaviour"]
    overlaid = chart(asb, "ASB incidents per month, by financial year")

    assert overlaid.header == ["Month", "2018/19", "2019/20", "2020/21", "2021/22", "2022/23"]
    assert [row[0] for row in overlaid.rows][:2] == ["April", "May"]
    assert len(overlaid.rows) == 12
    recorded = lancs_months("asb-incidents")
    for column, year in enumerate(range(2018, 2023), start=1):
        for row, month in zip(overlaid.rows, Period.financial_year(year).months, strict=True):
            expected = recorded.get(month.iso) if month <= Q3 else None
            assert number(row[column]) == expected, (year, month)
    # Up to the report's month only: January to March 2023 are empty.
    assert all(number(row[5]) is None for row in overlaid.rows[9:])
    assert overlaid.description.startswith(
        "ASB incidents per month, by financial year, April 2018 to December 2022."
    )
    assert 'data-year="2018/19"' in overlaid.svg


def test_the_asb_overlay_follows_its_year_to_date_bars(db, sections):
    titles = [c.title for c in sections["anti-social-behaviour"].charts]
    assert titles.index("ASB incidents per month, by financial year") == (
        titles.index("ASB incidents: 1st April – 31st December") + 1
    )


def test_other_year_to_date_measures_are_not_overlaid(db, sections):
    titles = [c.title for c in sections["recorded-crime"].charts]
    assert "All crime per month, by financial year" not in titles


# --- Call volumes per month, 2018 to the present, with their total ---------------------------

CALLS = "Call volumes per month, 2018 to present"


def test_the_policing_section_charts_999_and_101_calls_from_2018_with_their_total(db, sections):
    calls = chart(sections["efficient-effective-policing"], CALLS)

    assert calls.header == [
        "Month",
        "999 calls presented",
        "101 calls presented",
        "Total calls presented",
    ]
    months = list(Period.range(parse_month("2018-01"), Q3).months)
    assert [row[0] for row in calls.rows] == [m.short_label for m in months]
    assert calls.rows[0][0] == "Jan 2018" and calls.rows[-1][0] == "Dec 2022"
    recorded_999, recorded_101 = lancs_months("calls-999"), lancs_months("calls-101")
    for row, month in zip(calls.rows, months, strict=True):
        assert number(row[1]) == recorded_999[month.iso], month
        assert number(row[2]) == recorded_101[month.iso], month
        assert number(row[3]) == recorded_999[month.iso] + recorded_101[month.iso], month
    assert 'data-series="999 calls presented"' in calls.svg
    assert 'data-series="Total calls presented"' in calls.svg
    assert "Total calls presented (right axis)" in calls.svg
    december = recorded_999["2022-12"] + recorded_101["2022-12"]
    assert f"total calls presented {int(december):,} (right axis)" in calls.description
    assert calls.description.startswith(f"{CALLS}, Jan 2018 to Dec 2022.")


def test_the_call_volumes_come_first_and_cite_their_source(db, sections):
    section = sections["efficient-effective-policing"]
    assert section.charts[0].title == CALLS
    assert "FCR Live Dashboard" in section.sources
    others = [s for code, s in sections.items() if code != "efficient-effective-policing"]
    assert not any(c.title == CALLS for s in others for c in s.charts)
