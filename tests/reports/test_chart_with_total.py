"""The monthly chart of several series with their total on a right-hand axis."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from measures.arithmetic.periods import Period, parse_month
from reports.charts.drawing import monthly_with_total

D = Decimal
SVG = "{http://www.w3.org/2000/svg}"
MONTHS = list(Period.range(parse_month("2021-11"), parse_month("2022-02")).months)


def calls(**overrides):
    arguments = {
        "title": "Calls <presented>",
        "unit": "count",
        "months": MONTHS,
        "series": {"999": [D(10), D(12), None, D(9)], "101": [D(30), D(28), D(25), D(31)]},
        "total_label": "Total",
        "id_prefix": "calls",
        **overrides,
    }
    return monthly_with_total(**arguments)


def test_the_total_is_the_sum_of_every_series_and_missing_when_one_is():
    chart = calls()
    assert chart.header == ["Month", "999", "101", "Total"]
    assert [row[0] for row in chart.rows] == ["Nov 2021", "Dec 2021", "Jan 2022", "Feb 2022"]
    assert [row[3] for row in chart.rows] == ["40", "40", "–", "40"]


def test_it_is_well_formed_escaped_and_draws_a_line_per_series_and_the_total():
    root = ET.fromstring(str(calls().svg))
    groups = [g.get("data-series") for g in root.iter(f"{SVG}g") if g.get("data-series")]
    assert groups == ["999", "101", "Total"]
    assert root.find(f"{SVG}title").text == "Calls <presented>"
    right_ticks = [e.text for e in root.iter(f"{SVG}text") if e.get("class") == "tick-right"]
    assert right_ticks[0] == "0" and len(right_ticks) >= 4


def test_the_years_label_januaries_and_the_first_month():
    root = ET.fromstring(str(calls().svg))
    x_axis = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "x-axis")
    assert [t.text for t in x_axis.iter(f"{SVG}text")] == ["2021", "2022"]


def test_the_description_gives_the_latest_month_and_the_highest_total():
    chart = calls(series={"999": [D(10), D(12), D(8), D(9)], "101": [D(30), D(40), D(25), D(31)]})
    assert chart.description == (
        "Calls <presented>, Nov 2021 to Feb 2022. Feb 2022: 999 9, 101 31; total 40 (right"
        " axis). Highest total: Dec 2021 (52)."
    )


def test_a_series_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError):
        calls(series={"999": [D(1)]})
