"""Server-rendered SVG charts: well-formed, accessible, escaped, deterministic."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from html.parser import HTMLParser
from itertools import pairwise

import pytest
from django.template.loader import render_to_string
from hypothesis import given, settings
from hypothesis import strategies as st

from measures.arithmetic.periods import Period, parse_month
from measures.arithmetic.spc import (
    SIGNAL_TEXT,
    Limits,
    Segment,
    Signal,
    signals,
    unit_bounds,
    xmr_limits,
)
from reports.charts.drawing import (
    _nice_ticks,
    grouped_bars,
    monthly_by_financial_year,
    monthly_lines,
    monthly_with_total,
    xmr,
    year_to_date_bars,
)

SVG = "{http://www.w3.org/2000/svg}"
PLAIN_SVG_ELEMENTS = {"svg", "g", "title", "desc", "rect", "line", "polyline", "text"}

D = Decimal


def parse(chart) -> ET.Element:
    return ET.fromstring(str(chart.svg))


def find_all(root: ET.Element, tag: str, css_class: str | None = None) -> list[ET.Element]:
    found = root.iter(f"{SVG}{tag}")
    if css_class is None:
        return list(found)
    return [e for e in found if css_class in e.get("class", "").split()]


def texts(root: ET.Element) -> list[str]:
    return [e.text or "" for e in root.iter(f"{SVG}text")]


def y_ticks(root: ET.Element) -> list[Decimal]:
    return [D(re.sub(r"[^\d.-]", "", e.text or "")) for e in find_all(root, "text", "tick")]


def months(*values: int | None) -> list[Decimal | None]:
    return [None if v is None else D(v) for v in values]


ASB = {
    "2019/20": months(4200, 4500, 4800, 5100, 5000, 4600, 4300, 3900, 3700, 3600, 3500, 3900),
    "2020/21": months(9800, 9200, 8100, 7600, 7000, 6300, 6100, 6900, 5200, 6800, 6100, 6000),
    "2021/22": months(6000, 6400, 6900, 6800, 6700, 6100, 5600, 5200, 5000, 4700, 4500, 5100),
    "2022/23": months(5100, 5300, 5400, 5500, 5200, 4800, 4400, 4300, 4200),
}


def asb_chart(**overrides):
    arguments = {
        "title": "ASB incidents per month",
        "unit": "count",
        "series": ASB,
        "id_prefix": "asb",
        **overrides,
    }
    return monthly_by_financial_year(**arguments)


def robbery_xmr(**overrides):
    values = [D(v) for v in (50, 52, 48, 51, 49, 53, 50, 47, 95, 51, 49, 50)]
    values += [D(v) for v in (54, 55, 56, 57, 58, 59, 60, 61)]
    limits = xmr_limits(values)
    assert limits is not None
    labels = [f"M{i:02d}" for i in range(len(values))]
    points = overrides.pop("points", list(zip(labels, values, strict=True)))
    limits = overrides.pop("limits", limits)
    arguments = {
        "title": "Robbery per month",
        "unit": "count",
        "points": points,
        "segments": [Segment(0, len(points), limits)],
        "signals": [{str(s) for s in found} for found in signals(values, limits)],
        "id_prefix": "robbery",
        **overrides,
    }
    return xmr(**arguments)


YTD = [("2019", D(43375)), ("2020", D(72954)), ("2021", D(53580)), ("2022", D(43062))]


def ytd_chart(**overrides):
    arguments = {
        "title": "ASB incidents, 1 April to 31 December",
        "unit": "count",
        "bars": YTD,
        "id_prefix": "asb-ytd",
        **overrides,
    }
    return year_to_date_bars(**arguments)


def month_span(first: str, last: str) -> list:
    return list(Period.range(parse_month(first), parse_month(last)).months)


OUTCOME_MONTHS = month_span("2021-01", "2022-12")
OUTCOMES = {
    "All crime": [D("11.5") + D(i) / 20 for i in range(23)] + [D("13.64")],
    "Personal robbery": [D(15 + i % 4) for i in range(23)] + [D("22.64")],
    "Hate crime": [D(14 + i % 3) for i in range(22)] + [None, D("21.30")],
}


def outcomes_chart(**overrides):
    arguments = {
        "title": "Outcomes – Priority Crimes",
        "unit": "percent",
        "months": OUTCOME_MONTHS,
        "series": OUTCOMES,
        "decimals": 2,
        "id_prefix": "outcomes",
        **overrides,
    }
    return monthly_lines(**arguments)


CALL_FLOW_GROUPS = ["Oct–Dec 2019", "Jul–Sep 2022", "Oct–Dec 2022", "Oct 2022"]
CALL_FLOW = {
    "Switchboard": [None, D("2.0"), D("3.0"), D("3.2")],
    "Combined": [D(35), D("5.0"), D("6.0"), D("6.8")],
}


def call_flow_chart(**overrides):
    arguments = {
        "title": "101 Call Flow Performance – October to December 2022",
        "unit": "percent",
        "groups": CALL_FLOW_GROUPS,
        "series": CALL_FLOW,
        "decimals": 1,
        "id_prefix": "call-flow",
        **overrides,
    }
    return grouped_bars(**arguments)


def calls_chart(**overrides):
    arguments = {
        "title": "Calls",
        "unit": "count",
        "months": month_span("2022-01", "2022-03"),
        "series": {"999": months(10, 12, 9), "101": months(30, 28, 31)},
        "id_prefix": "calls",
        **overrides,
    }
    return monthly_with_total(**arguments)


ALL_CHARTS = [asb_chart, robbery_xmr, ytd_chart, calls_chart, outcomes_chart, call_flow_chart]


# --- Every chart -----------------------------------------------------------------------


@pytest.mark.parametrize("make", ALL_CHARTS)
def test_it_is_a_well_formed_svg_labelled_by_its_title_and_desc(make):
    chart = make()
    root = parse(chart)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert re.fullmatch(r"0 0 \d+(\.\d+)? \d+(\.\d+)?", root.get("viewBox", ""))
    title_id, desc_id = root.get("aria-labelledby", "").split()
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert (title.get("id"), title.text) == (title_id, chart.title)
    assert (desc.get("id"), desc.text) == (desc_id, chart.description)


def test_it_prefixes_ids_so_two_charts_on_a_page_do_not_clash():
    first, second = parse(asb_chart(id_prefix="one")), parse(asb_chart(id_prefix="two"))
    assert first.get("aria-labelledby") == "one-title one-desc"
    assert second.get("aria-labelledby") == "two-title two-desc"


def test_it_refuses_an_id_prefix_that_is_not_an_xml_name():
    with pytest.raises(ValueError, match="id_prefix"):
        asb_chart(id_prefix='x" onload="alert(1)')


@pytest.mark.parametrize("make", ALL_CHARTS)
def test_it_uses_only_plain_svg_styled_by_presentation_attributes(make):
    root = parse(make())
    assert {e.tag.removeprefix(SVG) for e in root.iter()} <= PLAIN_SVG_ELEMENTS
    for element in root.iter():
        assert "style" not in element.attrib
        assert not any(name.startswith("on") for name in element.attrib)


def _contrast_with_white(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


@pytest.mark.parametrize("make", ALL_CHARTS)
def test_its_text_is_at_least_11px_and_its_marks_contrast_3_to_1_with_white(make):
    root = parse(make())
    for text in root.iter(f"{SVG}text"):
        assert float(text.get("font-size", "0")) >= 11
    for element in root.iter():
        if "grid" in element.get("class", "").split():
            continue  # decorative gridlines; the tick labels carry the values
        for attribute in ("fill", "stroke"):
            colour = element.get(attribute)
            if colour and colour not in ("none", "#ffffff"):
                assert _contrast_with_white(colour) >= 3, (element.tag, attribute, colour)


@pytest.mark.parametrize("make", ALL_CHARTS)
def test_it_renders_byte_identical_svg_for_the_same_input(make):
    assert make().svg == make().svg


def test_signal_sets_in_any_order_give_the_same_svg():
    labels = [f"M{i}" for i in range(8)]
    values = [D(v) for v in (10, 11, 12, 13, 14, 15, 40, 12)]
    both = {Signal.TREND_UP.value, Signal.BEYOND_LIMITS.value}
    reversed_both = {Signal.BEYOND_LIMITS.value, Signal.TREND_UP.value}

    def chart(found):
        return xmr(
            title="t",
            unit="count",
            points=list(zip(labels, values, strict=True)),
            segments=[Segment(0, 8, Limits(D(15), D(0), D(30)))],
            signals=[set(), set(), set(), set(), set(), set(), found, set()],
        )

    assert chart(both).svg == chart(reversed_both).svg


def test_text_containing_markup_is_escaped_everywhere():
    attack = "<script>alert(1)</script>"
    charts = [
        asb_chart(title=attack, series={f"2022/23{attack}": months(1, 2, 3)}),
        robbery_xmr(title=attack, points=[(attack, D(v)) for v in range(20)]),
        ytd_chart(title=attack, bars=[(attack, D(1)), ("2022", D(2))]),
        outcomes_chart(title=attack, series={attack: [D(1)] * 24}),
        call_flow_chart(title=attack, groups=[attack, "b", "c", "d"], series={attack: [D(1)] * 4}),
    ]
    for chart in charts:
        assert "<script" not in chart.svg
        root = parse(chart)
        assert root.find(f"{SVG}title").text == attack
        assert not list(root.iter("script")) and not list(root.iter(f"{SVG}script"))


# --- Monthly by financial year ---------------------------------------------------------


def test_monthly_chart_draws_one_line_per_year_with_data():
    series = {**ASB, "2018/19": [None] * 12}
    root = parse(asb_chart(series=series))
    assert len(find_all(root, "polyline")) == 4
    years = [g.get("data-year") for g in find_all(root, "g", "series")]
    assert years == ["2019/20", "2020/21", "2021/22", "2022/23"]
    legend = next(g for g in find_all(root, "g", "legend"))
    assert [t.text for t in legend.iter(f"{SVG}text")] == years


def test_monthly_chart_draws_a_line_of_12_points_april_to_march():
    root = parse(asb_chart())
    lines = find_all(root, "polyline")
    assert [len(line.get("points", "").split()) for line in lines] == [12, 12, 12, 9]
    axis = next(g for g in find_all(root, "g", "x-axis"))
    assert [t.text for t in axis.iter(f"{SVG}text")] == [
        "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar",
    ]  # fmt: skip


def test_a_missing_month_breaks_the_line_into_two_segments():
    series = {"2021/22": months(10, 12, 14, 16, 18, None, 22, 24, 26, 28, 30, 32)}
    root = parse(asb_chart(series=series))
    first, second = find_all(root, "polyline")
    assert len(first.get("points", "").split()) == 5
    assert len(second.get("points", "").split()) == 6
    last_x_before_gap = float(first.get("points", "").split()[-1].split(",")[0])
    first_x_after_gap = float(second.get("points", "").split()[0].split(",")[0])
    assert first_x_after_gap > last_x_before_gap


def test_a_lone_month_between_gaps_is_still_drawn():
    root = parse(asb_chart(series={"2022/23": months(5, None, 7, 8)}))
    series = find_all(root, "g", "series")[0]
    assert len(list(series.iter(f"{SVG}polyline"))) == 1
    assert len(list(series.iter(f"{SVG}rect"))) == 1


def test_the_latest_year_is_drawn_boldest():
    root = parse(asb_chart())
    widths = [float(line.get("stroke-width", "0")) for line in find_all(root, "polyline")]
    assert widths[-1] > max(widths[:-1])
    patterns = [
        (line.get("stroke-width"), line.get("stroke-dasharray"))
        for line in find_all(root, "polyline")
    ]
    assert len(set(patterns)) == len(patterns), "years differ in line pattern, not colour alone"


def test_monthly_y_axis_starts_at_zero_and_covers_the_data_max():
    ticks = y_ticks(parse(asb_chart()))
    assert ticks[0] == 0
    assert ticks[-1] >= 9800
    assert 4 <= len(ticks) <= 6


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.integers(min_value=0, max_value=2_000_000)),
        min_size=1,
        max_size=12,
    )
)
def test_count_axis_has_4_to_6_round_ticks_from_zero_past_the_max(values):
    ticks = y_ticks(parse(asb_chart(series={"2022/23": months(*values)})))
    assert 4 <= len(ticks) <= 6
    assert ticks[0] == 0
    assert ticks[-1] >= max((v for v in values if v is not None), default=0)
    assert len({b - a for a, b in pairwise(ticks)}) == 1
    assert all(t == t.to_integral_value() for t in ticks), "no half incidents"


@settings(max_examples=300)
@given(
    st.decimals(min_value=-(10**6), max_value=10**6, places=2),
    st.decimals(min_value=-(10**6), max_value=10**6, places=2),
)
def test_nice_ticks_span_any_range_without_crossing_zero_needlessly(a, b):
    low, high = min(a, b), max(a, b)
    ticks = _nice_ticks(low, high, whole=False)
    assert 4 <= len(ticks) <= 6
    assert ticks[0] <= low and ticks[-1] >= high
    assert len({y - x for x, y in pairwise(ticks)}) == 1
    if low >= 0:
        assert ticks[0] >= 0


def test_percent_axis_labels_use_the_report_formatting():
    series = {"2022/23": months(60, 65, 70, 93)}
    root = parse(asb_chart(unit="percent", series=series))
    labels = [t.text for t in find_all(root, "text", "tick")]
    assert labels == ["60%", "70%", "80%", "90%", "100%"]


def test_monthly_description_names_the_span_and_compares_with_the_previous_year():
    description = asb_chart().description
    assert description.startswith("ASB incidents per month, April 2019 to December 2022.")
    assert description.endswith("2022/23 is lower than 2021/22 in every month so far.")


def test_monthly_description_counts_the_months_when_they_differ():
    series = {"2021/22": months(10, 10, 10, 10, 10), "2022/23": months(5, 6, 12, 10, 7)}
    description = asb_chart(series=series).description
    assert description.endswith(
        "2022/23 is lower than 2021/22 in 3 of 5 months so far, higher in 1, the same in 1."
    )


def test_monthly_description_of_a_complete_year_drops_so_far():
    series = {"2021/22": months(*[10] * 12), "2022/23": months(*[12] * 12)}
    description = asb_chart(series=series).description
    assert description.endswith("2022/23 is higher than 2021/22 in every month.")


def test_monthly_table_has_a_row_per_month_and_a_column_per_year():
    chart = asb_chart()
    assert chart.table[0] == ["Month", "2019/20", "2020/21", "2021/22", "2022/23"]
    assert len(chart.table) == 13
    assert chart.table[1] == ["April", "4,200", "9,800", "6,000", "5,100"]
    assert chart.table[12] == ["March", "3,900", "6,000", "5,100", "\u2013"]


def test_a_financial_year_of_more_than_12_months_is_refused():
    with pytest.raises(ValueError, match="12"):
        asb_chart(series={"2022/23": months(*range(13))})


# --- Monthly lines -------------------------------------------------------------------


def test_lines_draw_a_line_per_series_the_first_boldest_each_its_own_pattern():
    root = parse(outcomes_chart())
    groups = find_all(root, "g", "series")
    assert [g.get("data-series") for g in groups] == list(OUTCOMES)
    lines = [next(g.iter(f"{SVG}polyline")) for g in groups]
    widths = [float(line.get("stroke-width", "0")) for line in lines]
    assert widths[0] > max(widths[1:])
    patterns = {(line.get("stroke"), line.get("stroke-dasharray")) for line in lines}
    assert len(patterns) == len(lines)
    # No total, so no right-hand axis.
    assert not find_all(root, "text", "tick-right")


def test_lines_break_at_a_missing_month():
    root = parse(outcomes_chart())
    hate = find_all(root, "g", "series")[2]
    (line,) = hate.iter(f"{SVG}polyline")
    assert len(line.get("points", "").split()) == 22
    assert len(list(hate.iter(f"{SVG}rect"))) == 1  # December alone, after the gap


def test_two_years_of_lines_label_each_quarter_longer_spans_each_year():
    axis = next(g for g in find_all(parse(outcomes_chart()), "g", "x-axis"))
    assert [t.text for t in axis.iter(f"{SVG}text")] == [
        "Jan 2021", "Apr 2021", "Jul 2021", "Oct 2021",
        "Jan 2022", "Apr 2022", "Jul 2022", "Oct 2022",
    ]  # fmt: skip
    five_years = month_span("2018-02", "2022-12")
    chart = outcomes_chart(months=five_years, series={"All crime": [D(12)] * len(five_years)})
    axis = next(g for g in find_all(parse(chart), "g", "x-axis"))
    assert [t.text for t in axis.iter(f"{SVG}text")] == ["2018", "2019", "2020", "2021", "2022"]


def test_lines_of_rates_scale_to_the_data_and_use_the_report_formatting():
    # From 11.5% to 22.64%: zero would leave half the plot empty, so the axis starts nearer.
    labels = [t.text for t in find_all(parse(outcomes_chart()), "text", "tick")]
    assert (labels[0], labels[-1]) == ("10%", "25%")
    chart = outcomes_chart(series={"Rate": [D(4) + i for i in range(24)]})
    labels = [t.text for t in find_all(parse(chart), "text", "tick")]
    assert (labels[0], labels[-1]) == ("0%", "30%")


def test_lines_table_and_description_give_the_latest_month_and_each_series_highest():
    chart = outcomes_chart()
    assert chart.header == ["Month", "All crime", "Personal robbery", "Hate crime"]
    assert chart.rows[0] == ["Jan 2021", "11.50%", "15.00%", "14.00%"]
    assert chart.rows[-2] == ["Nov 2022", "12.60%", "17.00%", "–"]
    assert chart.rows[-1] == ["Dec 2022", "13.64%", "22.64%", "21.30%"]
    assert chart.description == (
        "Outcomes – Priority Crimes, Jan 2021 to Dec 2022. Dec 2022: All crime 13.64%, "
        "Personal robbery 22.64%, Hate crime 21.30%. Highest: All crime 13.64% (Dec 2022), "
        "Personal robbery 22.64% (Dec 2022), Hate crime 21.30% (Dec 2022)."
    )


def test_lines_of_the_wrong_length_are_refused():
    with pytest.raises(ValueError, match="Hate crime has 3 values for 24 months"):
        outcomes_chart(series={**OUTCOMES, "Hate crime": [D(1)] * 3})


# --- Grouped bars ---------------------------------------------------------------------


def bars_of(root: ET.Element) -> dict[str, list[ET.Element]]:
    return {
        g.get("data-series", ""): list(g.iter(f"{SVG}rect")) for g in find_all(root, "g", "series")
    }


def test_bars_group_a_bar_per_series_in_each_period_labelled_with_its_value():
    root = parse(call_flow_chart())
    bars = bars_of(root)
    assert list(bars) == ["Switchboard", "Combined"]
    assert [len(rects) for rects in bars.values()] == [3, 4]  # no bar without a figure
    groups = [t.text for t in find_all(root, "text", "group")]
    assert groups == CALL_FLOW_GROUPS
    values = [t.text for t in find_all(root, "text", "value-label")]
    assert values == ["no data", "2.0%", "3.0%", "3.2%", "35.0%", "5.0%", "6.0%", "6.8%"]
    # Each bar's tooltip names its period, series and value.
    titles = [t.text for t in root.iter(f"{SVG}title")][1:]
    assert titles[0] == "Jul–Sep 2022, Switchboard: 2.0%"


def test_bars_run_from_zero_their_lengths_proportional_and_series_differ_in_form():
    bars = bars_of(parse(call_flow_chart()))
    combined = bars["Combined"]
    starts = {float(r.get("x", "0")) for rects in bars.values() for r in rects}
    assert len(starts) == 1, "every bar starts at zero"
    widths = [float(r.get("width", "0")) for r in combined]
    assert widths[0] / widths[2] == pytest.approx(35 / 6, rel=0.01)
    switchboard = bars["Switchboard"][0]
    assert switchboard.get("fill") != "#ffffff" and combined[0].get("fill") == "#ffffff"
    assert combined[0].get("stroke"), "an outlined bar"


def test_bars_of_a_negative_value_run_left_of_zero():
    chart = call_flow_chart(groups=["a", "b"], series={"Change": [D(-4), D(8)]})
    (negative, positive) = bars_of(parse(chart))["Change"]
    assert float(negative.get("x", "0")) + float(negative.get("width", "0")) == pytest.approx(
        float(positive.get("x", "0"))
    )


def test_bars_table_and_description_give_every_period_and_series():
    chart = call_flow_chart()
    assert chart.table == [
        ["Period", "Switchboard", "Combined"],
        ["Oct–Dec 2019", "–", "35.0%"],
        ["Jul–Sep 2022", "2.0%", "5.0%"],
        ["Oct–Dec 2022", "3.0%", "6.0%"],
        ["Oct 2022", "3.2%", "6.8%"],
    ]
    assert chart.description == (
        "101 Call Flow Performance – October to December 2022. Oct–Dec 2019: Switchboard –, "
        "Combined 35.0%. Jul–Sep 2022: Switchboard 2.0%, Combined 5.0%. Oct–Dec 2022: "
        "Switchboard 3.0%, Combined 6.0%. Oct 2022: Switchboard 3.2%, Combined 6.8%."
    )


def test_bars_of_the_wrong_length_are_refused():
    with pytest.raises(ValueError, match="Combined has 2 values for 4 groups"):
        call_flow_chart(series={**CALL_FLOW, "Combined": [D(1), D(2)]})


# --- XmR -------------------------------------------------------------------------------


def marker_shape(marker: ET.Element) -> tuple[str, str | None, float]:
    """Return a marker's element, corner rounding and width: its shape and size."""
    if marker.tag == f"{SVG}rect":
        return ("rect", marker.get("rx"), float(marker.get("width", "0")))
    xs = [float(p.split(",")[0]) for p in marker.get("points", "").split()]
    return ("polyline", None, max(xs) - min(xs))


def test_xmr_draws_signalled_points_as_larger_markers_of_another_shape():
    chart = robbery_xmr()
    markers = next(iter(find_all(parse(chart), "g", "markers")))
    normal = find_all(markers, "rect", "marker-point")
    signalled = find_all(markers, "polyline", "marker-signal")
    plain_rows = [row for row in chart.rows if not row[5]]
    assert len(normal) == len(plain_rows)
    assert len(signalled) == len(chart.rows) - len(plain_rows)
    normal_shapes = {marker_shape(m) for m in normal}
    for marker in signalled:
        shape = marker_shape(marker)
        assert shape not in normal_shapes
        assert shape[2] > max(width for _, _, width in normal_shapes)


def test_xmr_gives_each_kind_of_signal_its_own_shape():
    labels = [f"M{i}" for i in range(5)]
    kinds = [s.value for s in Signal]
    chart = xmr(
        title="t",
        unit="count",
        points=[(label, D(10)) for label in labels],
        segments=[Segment(0, 5, Limits(D(10), D(0), D(20)))],
        signals=[{kind} for kind in kinds],
    )
    markers = next(iter(find_all(parse(chart), "g", "markers")))
    classes = [m.get("class") for m in find_all(markers, "polyline", "marker-signal")]
    assert len(set(classes)) == len(kinds)


def test_xmr_legend_explains_the_marks_shown_and_only_those():
    root = parse(robbery_xmr())
    legend = " ".join(t.text or "" for t in next(iter(find_all(root, "g", "legend"))).iter())
    assert "Mean 55.3" in legend  # a mean of counts to one place, as the text gives it
    assert "Control limits" in legend
    assert SIGNAL_TEXT[Signal.BEYOND_LIMITS].capitalize() in legend
    assert SIGNAL_TEXT[Signal.TREND_UP].capitalize() in legend
    assert SIGNAL_TEXT[Signal.TREND_DOWN].capitalize() not in legend


def test_xmr_draws_a_solid_centre_line_and_dashed_limits():
    root = parse(robbery_xmr(limits=Limits(D(55), D(10), D(80))))
    centre = find_all(root, "line", "centre")
    limits = find_all(root, "line", "limit")
    assert len(centre) == 1 and not centre[0].get("stroke-dasharray")
    assert len(limits) == 2 and all(line.get("stroke-dasharray") for line in limits)


def test_xmr_draws_a_count_lower_limit_held_at_zero_on_the_axis_and_says_so():
    limits = Limits(D(55), D(-12), D(122)).within(unit_bounds("count"))
    chart = robbery_xmr(limits=limits)
    root = parse(chart)
    zero_tick = next(t for t in find_all(root, "text", "tick") if t.text == "0")
    (lower,) = find_all(root, "line", "lower")
    assert float(lower.get("y1", "")) == pytest.approx(float(zero_tick.get("y", "")) - 4)
    text = " ".join(texts(root))
    assert "Control limits 0.0 and 122.0" in text
    assert "Lower limit held at 0.0, as a count cannot be lower (calculated: -12.0)." in text
    assert "Lower limit held at 0.0" in chart.description
    assert {row[3] for row in chart.rows} == {"0.0"}


def test_xmr_breaks_its_line_at_a_missing_month():
    chart = robbery_xmr(
        points=[("a", D(1)), ("b", D(2)), ("c", None), ("d", D(4)), ("e", D(5))],
        signals=[set()] * 5,
    )
    root = parse(chart)
    assert len(find_all(root, "polyline")) == 2
    markers = next(iter(find_all(root, "g", "markers")))
    assert len(find_all(markers, "rect", "marker-point")) == 4


def test_xmr_description_and_table_name_the_signals():
    chart = robbery_xmr()
    assert "Beyond the control limits: M08." in chart.description
    assert "6 or more rising in a row: M10 to M19." in chart.description
    assert chart.header == ["Period", "Value", "Mean", "Lower limit", "Upper limit", "Signals"]
    assert chart.rows[8][:2] == ["M08", "95"]
    assert chart.rows[8][5] == SIGNAL_TEXT[Signal.BEYOND_LIMITS]


def test_xmr_refuses_unknown_signals_and_mismatched_lengths():
    with pytest.raises(ValueError, match="Unknown signal"):
        robbery_xmr(points=[("a", D(1))], signals=[{"wobble"}])
    with pytest.raises(ValueError, match="signals"):
        robbery_xmr(points=[("a", D(1))], signals=[])


# --- Year-to-date bars -----------------------------------------------------------------


def test_bars_draw_one_bar_per_year_labelled_with_its_value():
    root = parse(ytd_chart())
    assert len(find_all(root, "rect", "bar")) == 4
    labels = [t.text for t in find_all(root, "text", "value-label")]
    assert labels == ["43,375", "72,954", "53,580", "43,062"]
    axis = next(g for g in find_all(root, "g", "x-axis"))
    assert [t.text for t in axis.iter(f"{SVG}text")] == ["2019", "2020", "2021", "2022"]


def test_bars_stand_on_zero_and_their_heights_are_proportional():
    root = parse(ytd_chart())
    bars = find_all(root, "rect", "bar")
    bottoms = {float(b.get("y", "0")) + float(b.get("height", "0")) for b in bars}
    assert len(bottoms) == 1
    heights = [float(b.get("height", "0")) for b in bars]
    assert heights[1] / heights[0] == pytest.approx(72954 / 43375, rel=0.01)
    assert y_ticks(root)[-1] >= 72954


def test_a_year_without_data_has_no_bar_but_says_so():
    root = parse(ytd_chart(bars=[("2021", D(5)), ("2022", None)]))
    assert len(find_all(root, "rect", "bar")) == 1
    assert [t.text for t in find_all(root, "text", "value-label")] == ["5", "\u2013"]


def test_bar_values_use_the_measure_unit_and_decimals():
    chart = ytd_chart(unit="gbp", bars=[("2021", D("30801.4")), ("2022", D("1200"))])
    assert [t.text for t in find_all(parse(chart), "text", "value-label")] == [
        "£30,801",
        "£1,200",
    ]
    chart = ytd_chart(unit="kg", decimals=1, bars=[("2022", D("8.8"))])
    assert [t.text for t in find_all(parse(chart), "text", "value-label")] == ["8.8 kg"]


def test_bar_description_and_table_give_the_change_on_the_previous_year():
    chart = ytd_chart()
    assert "2022: 43,062, -19.6% compared with 2021 (53,580)." in chart.description
    assert chart.table == [
        ["Year", "Value", "Change vs previous year"],
        ["2019", "43,375", ""],
        ["2020", "72,954", "+68.2%"],
        ["2021", "53,580", "-26.6%"],
        ["2022", "43,062", "-19.6%"],
    ]


def test_bar_changes_of_percent_measures_are_in_percentage_points():
    chart = ytd_chart(unit="percent", decimals=1, bars=[("2021", D("69.8")), ("2022", D("70.2"))])
    assert chart.table[2] == ["2022", "70.2%", "+0.4 pp"]


# --- The include -----------------------------------------------------------------------


class TableReader(HTMLParser):
    """Collect a page's table cells as rows of (tag, scope, text), and its caption."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[tuple[str, str | None, str]]] = []
        self.caption = ""
        self.summary = ""
        self._cell: tuple[str, str | None] | None = None
        self._text = ""
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("th", "td"):
            self._cell, self._text = (tag, dict(attrs).get("scope")), ""
        elif tag in ("caption", "summary"):
            self._in, self._text = tag, ""

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell:
            self.rows[-1].append((*self._cell, self._text.strip()))
            self._cell = None
        elif tag == self._in:
            setattr(self, tag, self._text.strip())
            self._in = None

    def handle_data(self, data):
        self._text += data


@pytest.mark.parametrize("make", ALL_CHARTS)
def test_the_include_renders_the_svg_and_a_table_of_the_chart_data(make):
    chart = make()
    html = render_to_string("reports/chart.html", {"chart": chart})
    assert str(chart.svg) in html
    assert f"<figcaption>{chart.title}</figcaption>" in html
    reader = TableReader()
    reader.feed(html)
    assert reader.summary == "Data table for this chart"
    assert reader.caption == chart.title
    header, *rows = reader.rows
    assert all(tag == "th" and scope == "col" for tag, scope, _ in header)
    for row in rows:
        assert row[0][:2] == ("th", "row")
        assert all(tag == "td" for tag, _, _ in row[1:])
    assert [[text for _, _, text in row] for row in reader.rows] == chart.table


def test_the_include_escapes_table_text():
    chart = ytd_chart(bars=[("<b>2022</b>", D(1))])
    html = render_to_string("reports/chart.html", {"chart": chart})
    assert "<b>" not in html
    assert "&lt;b&gt;2022&lt;/b&gt;" in html
