"""The seed report's charts, drawn from the demo data (issue 13, "Charts the seed has").

The demo's layout (measures/demo/report.yaml) declares the seed's four charts; each is drawn
from the demo's figures, cites its source under it in the HTML and the published PDF, and no
measure it shows is charted again by the automatic charts.
"""

from __future__ import annotations

import io
import re
from decimal import ROUND_HALF_UP, Decimal
from html import unescape

import pytest
from django.urls import reverse
from pypdf import PdfReader

from measures.access import Reader
from measures.arithmetic.periods import Month, Period, parse_month
from measures.models import Area, Measure, Plan, Value
from measures.selectors import SeriesBook
from reports.report_sections import report_sections
from tests.factories import published_seed_report
from tests.reports.test_seed_report import sections_of, text_of

D = Decimal
Q3 = parse_month("2022-12")

ASB = "ASB Incidents Recorded, 2018/19 to present"
CALLS = "Call volumes per month 2018 – present (total refers to right axis)"
CALL_FLOW = "101 Call Flow Performance – October to December 2022"
OUTCOMES = "Outcomes – Priority Crimes"
FCR = "FCR Live dashboard, Power BI"
# The seed's four charts: section, title and the source printed under it.
SEED_CHARTS = [
    ("recorded-crime", OUTCOMES, "CONNECT (force crime system)"),
    ("efficient-effective-policing", CALLS, FCR),
    ("efficient-effective-policing", CALL_FLOW, FCR),
    ("anti-social-behaviour", ASB, "Responding Dashboard"),
]


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


def lancs_rate(code: str, period: str) -> Decimal:
    """Return a ratio measure's figure for a window, Σnumerator / Σdenominator × 100."""
    window = Period.range(*(parse_month(m) for m in period.split("/")))
    values = Value.objects.approved().filter(
        measure__code=code,
        area__code="lancs",
        start__gte=window.start.first_day,
        end__lte=window.end.first_day,
    )
    numerator = sum(v.numerator for v in values if v.start == v.end)
    denominator = sum(v.denominator for v in values if v.start == v.end)
    return numerator / denominator * 100


def chart(section, title: str):
    found = [c for c in section.charts if c.title == title]
    assert len(found) == 1, [c.title for c in section.charts]
    return found[0]


def number(text: str) -> Decimal | None:
    return None if text in ("", "–", "-", "n/a") else D(text.replace(",", "").rstrip("%"))


def name(code: str) -> str:
    return Measure.objects.get(code=code).name


# --- ASB incidents per month, each financial year overlaid -----------------------------------


def test_the_asb_section_overlays_each_financial_year_from_2018_19(db, sections):
    asb = sections["anti-social-behaviour"]
    overlaid = chart(asb, ASB)

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
    assert overlaid.description.startswith(f"{ASB}, April 2018 to December 2022.")
    assert 'data-year="2018/19"' in overlaid.svg


def test_the_asb_overlay_is_its_one_chart_its_measure_not_charted_twice(db, sections):
    # ASB incidents are in the declared overlay, so neither their year-to-date bars nor an
    # XmR chart is drawn as well.
    assert [c.title for c in sections["anti-social-behaviour"].charts] == [ASB]


def test_other_year_to_date_measures_keep_their_bars_and_are_not_overlaid(db, sections):
    titles = [c.title for c in sections["recorded-crime"].charts]
    assert "All crime: 1st April – 31st December" in titles
    assert "All crime per month, by financial year" not in titles


# --- Call volumes per month, 2018 to the present, with their total ---------------------------


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


# --- 101 call flow for the quarter ------------------------------------------------------------


def test_the_101_call_flow_shows_the_quarter_against_the_last_and_the_same_quarter_before(
    db, sections
):
    flow = chart(sections["efficient-effective-policing"], CALL_FLOW)
    switchboard, combined = "101-switchboard-abandonment-rate", "101-abandonment-rate"

    assert flow.header == ["Period", name(switchboard), name(combined)]
    rows = {row[0]: row[1:] for row in flow.rows}
    assert list(rows) == [
        "Oct–Dec 2019",
        "Oct–Dec 2020",
        "Oct–Dec 2021",
        "Jul–Sep 2022",
        "Oct–Dec 2022",
        "Oct 2022",
        "Nov 2022",
        "Dec 2022",
    ]
    # The seed's sentences: switchboard 3% in Oct–Dec, 2% last quarter; combined 6.0%, one
    # point up since the last update; 35% and 20% in the same months of 2019 and 2021.
    assert rows["Oct–Dec 2022"] == ["3.0%", "6.0%"]
    assert rows["Jul–Sep 2022"] == ["2.0%", "5.0%"]
    assert rows["Oct–Dec 2019"][1] == "35.0%" and rows["Oct–Dec 2021"][1] == "20.0%"
    # Every bar is the measure's own figure for its period (a quarter: Σabandoned/Σpresented).
    for label, period in [
        ("Oct–Dec 2020", "2020-10/2020-12"),
        ("Oct–Dec 2022", "2022-10/2022-12"),
    ]:
        for cell, code in zip(rows[label], (switchboard, combined), strict=True):
            expected = lancs_rate(code, period).quantize(D("0.1"), rounding=ROUND_HALF_UP)
            assert number(cell) == expected, (label, code)
    for month in ("2022-10", "2022-11", "2022-12"):
        label = parse_month(month).short_label
        expected = [lancs_months(switchboard)[month], lancs_months(combined)[month]]
        assert [number(cell) for cell in rows[label]] == expected, month
    assert flow.description.startswith(f"{CALL_FLOW}. Oct–Dec 2019: ")
    assert f"Oct–Dec 2022: {name(switchboard)} 3.0%, {name(combined)} 6.0%." in flow.description


def test_the_policing_section_draws_its_declared_charts_first_and_none_of_their_measures_again(
    db, sections
):
    section = sections["efficient-effective-policing"]
    titles = [c.title for c in section.charts]
    assert titles[:2] == [CALLS, CALL_FLOW]
    # The automatic monthly charts go to the measures no declared chart shows.
    assert titles[2:] == [
        "Digital contacts per month, by financial year",
        f"{name('999-service-level')} per month, by financial year",
    ]
    # The charted measures are the report's, for publishing's check that they are approved.
    codes = {m.code for m in section.measures}
    assert {"calls-999", "calls-101", "101-abandonment-rate"} <= codes
    assert "101-switchboard-abandonment-rate" in codes


# --- Outcomes of priority crimes --------------------------------------------------------------


def test_the_outcomes_chart_draws_the_priority_crimes_outcome_rates_over_two_years(db, sections):
    outcomes = chart(sections["recorded-crime"], OUTCOMES)
    codes = ["all-crime-outcome-rate", "personal-robbery-outcome-rate", "hate-crime-outcome-rate"]

    assert outcomes.header == ["Month", *(name(code) for code in codes)]
    months = list(Period.range(parse_month("2021-01"), Q3).months)
    assert [row[0] for row in outcomes.rows] == [m.short_label for m in months]
    for column, code in enumerate(codes, start=1):
        recorded = lancs_months(code)
        for row, month in zip(outcomes.rows, months, strict=True):
            assert number(row[column]) == recorded[month.iso], (code, month)
    december = outcomes.rows[-1]
    # "December's All Crime outcomes hit the highest monthly figure since May 2020 at
    # 13.64%, with Personal Robbery and Hate Crime outcomes both exceeding 20%."
    assert december[1] == "13.64%"
    assert number(december[2]) > 20 and number(december[3]) > 20
    assert all(number(row[1]) < D("13.64") for row in outcomes.rows[:-1])
    assert f"Highest: {name(codes[0])} 13.64% (Dec 2022)" in outcomes.description
    assert outcomes.description.startswith(f"{OUTCOMES}, Jan 2021 to Dec 2022. Dec 2022: ")
    # Three lines, the first (all crime) boldest.
    assert outcomes.svg.count('class="series"') == 3


def test_outcome_rates_in_the_outcomes_chart_get_no_automatic_chart(db, sections):
    titles = [c.title for c in sections["recorded-crime"].charts]
    assert f"{name('all-crime-outcome-rate')} per month, by financial year" not in titles


# --- Sources ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "title", "source"), SEED_CHARTS)
def test_each_seed_chart_cites_its_source_in_full(db, sections, code, title, source):
    cited = chart(sections[code], title).sources
    assert [s.label for s in cited] == [source]


def test_every_chart_of_the_report_cites_a_source_and_the_section_lists_only_the_others(
    db, sections
):
    for section in sections.values():
        for drawn in section.charts_before + section.charts:
            assert drawn.sources, (section.code, drawn.title)
    # Every FCR measure of the policing section is charted, so its sources line is empty.
    assert sections["efficient-effective-policing"].source_systems == []
    fcr = next(s for c in sections["efficient-effective-policing"].charts for s in c.sources)
    assert (fcr.name, fcr.label, fcr.url) == ("FCR Live Dashboard", FCR, "")


FIGURE = re.compile(r'<figure class="chart">(?P<html>.*?)</figure>', re.S)


def figures_of(html: str) -> dict[str, str]:
    """Return each chart's caption and what follows it (its sources), by its title."""
    found = {}
    for match in FIGURE.finditer(html):
        caption = re.search(r"<figcaption>(.*?)</figcaption>(.*?)<details", match["html"], re.S)
        assert caption, match["html"][:200]
        found[unescape(caption[1])] = text_of(caption[2])
    return found


def test_the_published_html_prints_each_seed_chart_with_its_source_under_it(seed_sections):
    for code, title, source in SEED_CHARTS:
        assert figures_of(seed_sections[code])[title] == f"Source: {source}", title
    flow = figures_of(seed_sections["efficient-effective-policing"])
    assert list(flow)[:2] == [CALLS, CALL_FLOW]


@pytest.fixture(scope="module")
def seed_sections(demo, django_db_blocker):
    from reports.publishing import report_build, report_html
    from tests.reports.test_seed_report import SEED_QUARTER

    with django_db_blocker.unblock():
        plan = Plan.objects.get(code="pcp-2021-25")
        return sections_of(report_html(report_build(plan=plan, period=SEED_QUARTER)))


@pytest.mark.django_db
def test_the_published_pdf_prints_each_seed_chart_s_title_and_source(client, admin_user):
    version = published_seed_report(admin_user)
    response = client.get(
        reverse("public:pdf", args=[version.report.plan.code, version.report.slug, 1])
    )
    assert response.status_code == 200
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]
    text = " ".join(" ".join(page.split()) for page in pages)
    for _, title, source in SEED_CHARTS:
        assert f"{title} Source: {source}" in text, title


def test_the_outcomes_chart_sits_under_its_key_headlines_heading_as_in_the_seed(db, seed_sections):
    """The seed: "Outcomes – Priority Crimes", the chart, then "Force data shows that
    December's All Crime outcomes hit … 13.64%"."""
    html = seed_sections["recorded-crime"]
    heading = html.index("Outcomes – Priority Crimes</h4>")
    chart = html.index("<figcaption>Outcomes – Priority Crimes", heading)
    words = html.index("Force data shows that December", heading)
    assert heading < chart, "the chart follows its heading"
    assert chart < words, "the chart comes before the words under the heading"
    assert html.count("<figcaption>Outcomes – Priority Crimes") == 1, "drawn once"
