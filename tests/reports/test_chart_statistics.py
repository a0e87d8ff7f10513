"""Honest statistics in charts and comparisons (issue 13).

- An XmR chart never shows a limit a figure cannot reach (a count's lower limit is held at
  zero) and says so; its legend, text and table write the mean and limits alike.
- Breaks in series: limits before and after are separate, run rules restart, and the break
  is drawn as a marker with its reason. The demo's Covid period (ASB) and 2022 step up
  (DVPN, DVPO) no longer flag every later month.
- Ratio measures (service levels, abandonment, outcome and impairment rates) are charted.
- A national comparison of a count shows it beside the national total, never a difference.
"""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from measures.access import Reader
from measures.arithmetic import figures, spc
from measures.arithmetic.periods import Month, Period, parse_month
from measures.engine import derived as engine
from measures.models import Area, Measure, Plan, SeriesBreak, Value
from measures.selectors import MeasureSeries, SeriesBook
from reports.charts.series_charts import measure_charts, signal_charts, xmr_chart
from reports.figure_tables import national_comparison
from reports.report_sections import report_sections

SVG = "{http://www.w3.org/2000/svg}"
D = Decimal
FIRST = Month(2020, 1)


def series_of(measure: Measure, values: list[int | float | None]) -> MeasureSeries:
    """The measure's values month by month from January 2020, as a page reads them."""
    observations = [
        (Period.month(FIRST.shift(i)), figures.Observation(D(str(v))))
        for i, v in enumerate(values)
        if v is not None
    ]
    return MeasureSeries(measure, Area(code="force", name="Force"), figures.Series(observations))


def a_measure(unit: str = "count", decimals: int = 0) -> Measure:
    return Measure(code="robbery", name="Robbery", unit=unit, decimals=decimals)


def chart_of(values, *, unit="count", decimals=0, breaks=()):
    measure = a_measure(unit, decimals)
    last = FIRST.shift(len(values) - 1)
    recorded = [
        SeriesBreak(measure=measure, start=FIRST.shift(i).first_day, reason=reason)
        for i, reason in breaks
    ]
    return xmr_chart(measure, series_of(measure, values), last, recorded)


def parse(chart) -> ET.Element:
    return ET.fromstring(str(chart.svg))


def elements(root: ET.Element, tag: str, css_class: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}{tag}") if css_class in e.get("class", "").split()]


def all_text(root: ET.Element) -> str:
    return " ".join(e.text or "" for e in root.iter(f"{SVG}text"))


def number(text: str) -> Decimal:
    return D(re.sub(r"[^\d.-]", "", text))


def zero_line_y(root: ET.Element) -> float:
    zero = next(t for t in elements(root, "text", "tick") if number(t.text or "") == 0)
    return float(zero.get("y", "")) - 4  # tick labels sit 4 units below their gridline


# --- limits never pass what a figure can take ---------------------------------------------------

SMALL_COUNTS = [1, 0, 3, 0, 2, 1, 0, 4, 1, 0, 2, 1]


def test_a_count_charts_lower_limit_is_held_at_zero_and_the_chart_says_so():
    chart = chart_of(SMALL_COUNTS)
    root = parse(chart)
    legend = " ".join(t.text or "" for t in elements(root, "g", "legend")[0].iter())

    assert "Control limits 0.0 and" in legend
    assert "Lower limit held at 0.0, as a count cannot be lower (calculated: -" in all_text(root)
    assert "Lower limit held at 0.0, as a count cannot be lower" in chart.description
    assert {row[3] for row in chart.rows} == {"0.0"}
    (lower,) = elements(root, "line", "lower")
    assert float(lower.get("y1", "")) == pytest.approx(zero_line_y(root))


def test_a_percentage_charts_upper_limit_is_held_at_100():
    chart = chart_of([92, 100, 85, 100, 90, 100, 88, 100], unit="percent", decimals=1)
    assert "Upper limit held at 100.0%, as a percentage cannot be higher" in chart.description
    assert {row[4] for row in chart.rows} == {"100.0%"}


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.integers(0, 40)), min_size=6, max_size=48).filter(
        lambda vs: sum(v is not None for v in vs) >= 6 and vs[-1] is not None
    ),
    breaks=st.sets(st.integers(1, 47), max_size=3),
)
def test_the_lower_limit_of_a_count_chart_is_never_below_zero(values, breaks):
    chart = chart_of(values, breaks=[(i, f"break {i}") for i in breaks if i < len(values)])
    if chart is None:
        return  # no segment has six values: no limits to draw
    root = parse(chart)
    for row in chart.rows:
        if row[3] != "\u2013":
            assert number(row[3]) >= 0
    assert "-" not in " ".join(t.text or "" for t in elements(root, "text", "tick"))
    bottom = zero_line_y(root)
    for line in elements(root, "line", "limit"):
        assert float(line.get("y1", "")) <= bottom + 0.01  # never below the zero line


def test_legend_text_and_table_write_the_mean_alike():
    chart = chart_of(SMALL_COUNTS)
    root = parse(chart)
    legend = " ".join(t.text or "" for t in elements(root, "g", "legend")[0].iter())
    mean = re.search(r"Mean (\S+)", legend).group(1)  # type: ignore[union-attr]

    assert mean == "1.3"  # not "1": a mean of counts keeps a decimal place
    assert f"Mean {mean};" in chart.description
    assert {row[2] for row in chart.rows} == {mean}


# --- breaks in series ---------------------------------------------------------------------------

# Twelve months around 3, then eight around 26.
STEP = [3, 4, 2, 5, 3, 4, 3, 2, 4, 3, 5, 3, 25, 24, 31, 22, 29, 27, 25, 28]
REASON = "Step up in protective orders <from May>"


def test_limits_before_and_after_a_break_are_separate():
    chart = chart_of(STEP, breaks=[(12, REASON)])
    root = parse(chart)
    before = spc.xmr_limits([D(v) for v in STEP[:12]], bounds=spc.unit_bounds("count"))
    after = spc.xmr_limits([D(v) for v in STEP[12:]], bounds=spc.unit_bounds("count"))
    assert before is not None and after is not None

    assert len(elements(root, "line", "centre")) == 2
    assert len(elements(root, "line", "limit")) == 4
    assert {row[2] for row in chart.rows[:12]} == {f"{before.centre:.1f}"}
    assert {row[2] for row in chart.rows[12:]} == {f"{after.centre:.1f}"}
    # The mean lines end and start at the break.
    first, second = elements(root, "line", "centre")
    assert float(first.get("x2", "")) == float(second.get("x1", ""))


def test_without_the_break_every_month_after_the_step_is_flagged_and_with_it_none_is():
    unbroken = chart_of(STEP)
    assert all(row[5] for row in unbroken.rows[12:])

    broken = chart_of(STEP, breaks=[(12, REASON)])
    assert not any(row[5] for row in broken.rows)
    assert "No signals: every point is within normal variation." in broken.description


def test_run_rules_restart_at_a_break():
    # 6, 7, 8 | 9, 10, 11: six rising in a row only across the break.
    values = [5, 9, 5, 9, 5, 9, 6, 7, 8, 9, 10, 11, 5, 9, 5, 9, 5]
    assert "6 or more rising in a row" in chart_of(values).description
    broken = chart_of(values, breaks=[(9, "New team")])
    assert "rising" not in broken.description


def test_a_break_is_drawn_as_a_marker_with_its_reason():
    chart = chart_of(STEP, breaks=[(12, REASON)])
    root = parse(chart)

    (marker,) = elements(root, "line", "break")
    after = elements(root, "line", "centre")[1]
    assert float(marker.get("x1", "")) == float(after.get("x1", ""))  # where the mean restarts
    assert marker.get("x1") == marker.get("x2")
    labels = " ".join(e.text or "" for e in elements(root, "text", "break-label"))
    assert f"Break from {chart.rows[12][0]}: {REASON}" in labels
    assert "Break in series" in all_text(root)  # in the legend
    assert f"Break in series from {chart.rows[12][0]}: {REASON}." in chart.description
    assert chart.header[-1] == "Break in series"
    assert [row[-1] for row in chart.rows] == [""] * 12 + [REASON] + [""] * 7
    assert "<from May>" not in str(chart.svg)  # escaped like every text


def test_the_line_is_not_drawn_across_a_break():
    chart = chart_of(STEP, breaks=[(12, REASON)])
    assert len(parse(chart).findall(f".//{SVG}g[@class='series']/{SVG}polyline")) == 2


def test_a_stretch_too_short_for_limits_says_so():
    chart = chart_of(STEP[:16], breaks=[(12, REASON)])
    assert "to Apr 2021: too few months for limits (6 needed)." in chart.description
    assert chart.rows[-1][2:5] == ["\u2013", "\u2013", "\u2013"]


def test_a_chart_reaches_back_for_enough_months_before_its_first_break():
    # 48 months; the break is 2 months into the usual 36-month window.
    values = [40 + (i % 3) for i in range(14)] + [90 + (i % 4) for i in range(34)]
    chart = chart_of(values, breaks=[(14, "Covid-19 restrictions")])
    labels = [row[0] for row in chart.rows]
    assert labels[0] == FIRST.shift(8).short_label  # six months before the break
    assert "too few months" not in chart.description


# --- the demo -----------------------------------------------------------------------------------


@pytest.fixture
def demo_book(demo):
    return SeriesBook(Reader.public())


def demo_chart(code: str, book: SeriesBook):
    measure = Measure.objects.get(code=code)
    lancs = Area.objects.get(code="lancs")
    series = book.fetch([measure], [lancs])[(measure.pk, lancs.pk)]
    charts = measure_charts(measure, series, parse_month("2022-12"))
    return series, next(c for c in charts if "XmR" in c.title)


@pytest.mark.parametrize(
    ("code", "months"),
    [("asb-incidents", ["Mar 2020", "Aug 2021"]), ("dvpn", ["May 2022"]), ("dvpo", ["May 2022"])],
)
def test_the_demo_breaks_stop_the_latest_months_being_flagged(demo_book, code, months):
    series, chart = demo_chart(code, demo_book)

    root = parse(chart)
    assert len(elements(root, "line", "break")) == len(months)
    for month in months:
        assert f"Break in series from {month}:" in chart.description
    assert not any(row[5] for row in chart.rows[-6:]), chart.description
    assert series.spc(parse_month("2022-12"))["signals"] == []


def test_the_demo_records_its_breaks_in_the_plan(demo):
    found = {(b.measure.code, b.month.iso) for b in SeriesBreak.objects.select_related("measure")}
    assert found == {
        ("asb-incidents", "2020-03"),
        ("asb-incidents", "2021-08"),
        ("dvpn", "2022-05"),
        ("dvpo", "2022-05"),
    }


def test_ratio_measures_are_charted_in_the_report(demo):
    plan = Plan.objects.get()
    lancs = Area.objects.get(code="lancs")
    sections = report_sections(
        plan=plan, area=lancs, month=parse_month("2022-12"), book=SeriesBook(Reader.public())
    )
    drawn = [chart for section in sections for chart in section.charts]
    titles = {chart.title for chart in drawn}
    for code in ("999-service-level", "impairment-ksi-rate", "impairment-injury-rate"):
        name = Measure.objects.get(code=code).name
        assert f"{name} per month, by financial year" in titles, code
    assert "Digital contacts per month, by financial year" in titles  # still there
    # Ratio measures the layout charts itself (101 call flow, priority crimes' outcomes).
    for code in ("101-abandonment-rate", "all-crime-outcome-rate"):
        name = Measure.objects.get(code=code).name
        assert [c.title for c in drawn if name in c.header] in (
            ["Outcomes – Priority Crimes"],
            ["101 Call Flow Performance – October to December 2022"],
        ), code


def test_a_ratio_measure_page_has_its_xmr_chart_within_0_and_100(demo_book):
    _, chart = demo_chart("impairment-ksi-rate", demo_book)
    assert chart.rows[-1][1].endswith("%")
    for row in chart.rows:
        assert D(0) <= number(row[3]) and number(row[4]) <= D(100)


# --- national comparison ------------------------------------------------------------------------


def test_a_national_comparison_of_a_count_shows_no_difference(demo):
    lancs = Area.objects.get(code="lancs")
    measures = list(Measure.objects.filter(priority__code="criminal-justice"))
    data = national_comparison(
        measures=measures,
        area=lancs,
        month=parse_month("2022-12"),
        book=SeriesBook(Reader.public()),
    )
    rows = {row["measure"].code: row for row in data.rows}

    suspects = rows["cjs-rape-suspects-referred"]
    assert (suspects["current"], suspects["national"]) == (D(214), D(7820))
    assert suspects["difference"] is None
    note = next(
        text for text, mark in data.footnotes.marks.items() if "not as a difference" in text
    )
    assert data.footnotes.marks[note] in suspects["marks"]
    # Rates, percentages and averages still compare directly.
    assert rows["cjs-rape-investigation-days"]["difference"] == D(-145)
    assert rows["cjs-rape-trial-or-plea"]["difference"] == D(4)
    assert all(
        row["difference"] is not None
        for code, row in rows.items()
        if row["measure"].unit != "count"
    )


def test_the_national_comparison_page_puts_the_count_beside_the_total(demo, client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("reports:national-comparison"), {"period": "2022-12"})
    html = response.content.decode()
    row = next(r for r in re.findall(r"<tr.*?</tr>", html, re.S) if "suspects" in r.lower())
    assert "214" in row and "7,820" in row and "n/a" in row
    assert "-7,606" not in html and "−7,606" not in html
    assert "not as a difference" in html


def test_a_break_month_is_named_by_any_day_of_it():
    series_break = SeriesBreak(start=datetime.date(2022, 5, 19), reason="x")
    series_break.clean()
    assert series_break.start == datetime.date(2022, 5, 1)


# --- which XmR charts a report section shows ----------------------------------------------------


def test_a_section_shows_an_xmr_chart_when_its_latest_month_is_signalled_up_to_that_month(
    small_plan,
):
    measure = Measure.objects.get(code="t-assaults")
    force = Area.objects.get(code="force")
    values = [10, 11] * 12 + [40] + [10, 11] * 6  # a spike in month 25, then as before
    Value.objects.bulk_create(
        Value(
            measure=measure,
            area=force,
            start=FIRST.shift(i).first_day,
            end=FIRST.shift(i).first_day,
            value=D(v),
            status="approved",
        )
        for i, v in enumerate(values)
    )
    engine.recompute([measure.pk])
    section = SimpleNamespace(measures=[measure])

    def shown(month: Month) -> list[str]:
        found = signal_charts(section, area=force, month=month, book=SeriesBook(Reader.public()))
        return [chart.title for chart in found]

    spike = FIRST.shift(24)
    assert shown(spike) == [f"Assaults: XmR chart, Jan 2020 to {spike.short_label}"]
    assert shown(spike.shift(-1)) == []
    assert shown(spike.shift(6)) == []  # the latest month there is an ordinary one
