"""The seed report's tables, computed by the system from the demo data (`load_demo`), and
its words besides the figures: the release note, notes, sources with their links, the
headings within Key Headlines, where headlines sit against their tables, and activities.

Every change figure printed in the seed is checked as the system computes it. The seed
prints most year-to-date changes to whole percent and the rest to one decimal place; the
system shows one decimal place, so each figure is compared at the precision the seed used.
"""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse
from pypdf import PdfReader

from measures.arithmetic.formatting import format_change_pct, round_half_up
from measures.arithmetic.periods import parse_month, parse_period
from measures.models import Area, Measure, Plan, Value
from reports import figure_tables as rows
from reports.models import ReportSection
from reports.publishing import report_build, report_html
from tests.factories import published_seed_report, reviewer_book

pytestmark = pytest.mark.usefixtures("demo")

DECEMBER_2022 = parse_month("2022-12")


@pytest.fixture
def lancs(db):
    return Area.objects.get(code="lancs")


def measures(*codes):
    found = {m.code: m for m in Measure.objects.filter(code__in=codes).select_related("priority")}
    return [found[c] for c in codes]


# (measure, base, current, printed change, change as the system shows it). The system
# adds significance cautions the seed lacks: † small numbers, ‡ within normal variation.
NATIONAL_PICTURE = [
    ("homicides", "23", "14", "-39%", "-39.1%†"),
    ("firearms-offences", "44*", "79*", "+79.5%", "+79.5%"),
    ("firearms-discharges", "7*", "8*", "+14.3%", "+14.3%†"),
    ("ed-knife-assaults", "110^", "87^", "-20.9%", "-20.9%‡"),
    ("neighbourhood-crime", "16,127", "15,627", "-3.1%", "-3.1%"),
    # The seed prints "+0.4%" and "-2.8%" for percentages: they are percentage points.
    ("victim-satisfaction", "69.8%", "70.2%", "+0.4%", "+0.4 pp"),
    ("da-victim-satisfaction", "85.3%", "82.5%", "-2.8%", "-2.8 pp"),
    ("cyber-crime", "5,744", "6,014", "+4.7%", "+4.7%"),
]


def test_national_picture_reproduces_every_seed_row(client, admin_user, lancs):
    client.force_login(admin_user)
    response = client.get(reverse("reports:national-picture"), {"period": "2022-12"})
    table = response.context["figure_tables"][0]

    shown = [
        (
            row.record["measure"].code,
            row.get_cell("base"),
            row.get_cell("current"),
            row.get_cell("change"),
        )
        for row in table.rows
    ]

    assert shown == [(code, base, cur, system) for code, base, cur, _, system in NATIONAL_PICTURE]
    assert table.columns["base"].header == "12 months to Dec 2020"
    assert table.columns["current"].header == "12 months to Dec 2022"


def test_national_picture_targets_are_grouped_as_in_the_seed(lancs):
    data = rows.national_picture(
        measures=Measure.objects.all(), area=lancs, month=DECEMBER_2022, book=reviewer_book()
    )
    assert [row["target"] for row in data.rows] == [
        "Reduce Murder/Homicide",
        "Reduce Serious violence",
        "",
        "",
        "Reduce Neighbourhood Crime",
        "Improve satisfaction among victims (focus on DA)",
        "",
        "Tackle Cyber Crime",
    ]


def test_national_picture_footnotes_are_generated_from_coverage(lancs):
    data = rows.national_picture(
        measures=Measure.objects.all(), area=lancs, month=DECEMBER_2022, book=reviewer_book()
    )
    assert data.footnotes.as_list() == [
        (
            "*",
            "Data 12 months to end of September 2020 and September 2022 as October, "
            "November and December's data isn't yet available",
        ),
        (
            "^",
            "Data 12 months to end of November 2020 and November 2022 as December's data "
            "isn't yet available",
        ),
        ("†", "Small numbers: treat the change with caution"),
        ("‡", "Within normal variation"),
    ]


def test_homicide_change_printed_as_minus_39_is_minus_39_point_1(lancs):
    data = rows.national_picture(
        measures=measures("homicides"), area=lancs, month=DECEMBER_2022, book=reviewer_book()
    )
    change = data.rows[0]["change_pct"]
    # The seed rounds to whole percent here ("-39%"); 9 / 23 is 39.13 %.
    assert round_half_up(change, 0) == Decimal(-39)
    assert format_change_pct(change) == "-39.1%"


# measure: [(year, total, printed change), ...] — from the seed's year-to-date tables.
YEAR_TO_DATE = {
    "all-crime": [
        ("2019", 109228, None),
        ("2020", 90610, "-17%"),
        ("2021", 103809, "+15%"),
        ("2022", 100655, "-3%"),
    ],
    "asb-incidents": [
        ("2019", 43375, None),
        ("2020", 72954, "+68%"),
        ("2021", 53580, "-27%"),
        ("2022", 43062, "-20%"),
    ],
    "da-crime": [
        ("2019", 16353, None),
        ("2020", 17765, "+9%"),
        ("2021", 19738, "+11%"),
        ("2022", 18659, "-5%"),
    ],
    "burglary-business-community": [
        ("2019", 3208, None),
        ("2020", 2133, "-34%"),
        ("2021", 2029, "-5%"),
        ("2022", 1979, "-2.5%"),
    ],
    "burglary-residential": [
        ("2019", 5565, None),
        ("2020", 4255, "-24%"),
        ("2021", 3830, "-10%"),
        ("2022", 3701, "-3%"),
    ],
    "robbery-personal": [
        ("2019", 876, None),
        ("2020", 669, "-24%"),
        ("2021", 744, "+11%"),
        ("2022", 722, "-3%"),
    ],
    "robbery-business": [
        ("2019", 69, None),
        ("2020", 34, "-51%"),
        ("2021", 44, "+30%"),
        ("2022", 56, "+27%"),
    ],
}
# The seed's own slips: printed figures its numbers do not give.
SEED_SLIPS = {
    # 34 -> 44 is +29.4 %, which rounds to +29 %, not the +30 % printed.
    ("robbery-business", "2021"): "+29%",
}


def _printed_precision(printed: str) -> int:
    return len(printed.rstrip("%").partition(".")[2])


@pytest.mark.parametrize("code", sorted(YEAR_TO_DATE))
def test_year_to_date_tables_reproduce_the_seed(code, lancs):
    (data,) = rows.year_to_date_tables(
        measures=measures(code), area=lancs, month=DECEMBER_2022, book=reviewer_book()
    )
    expected = YEAR_TO_DATE[code]

    assert [(r["year"], r["value"]) for r in data.rows] == [
        (y, Decimal(t)) for y, t, _ in expected
    ]
    assert data.labels["window"] == "1st April – 31st December"
    for row, (year, _, printed) in zip(data.rows, expected, strict=True):
        if printed is None:
            assert row["change_pct"] is None
            continue
        printed = SEED_SLIPS.get((code, year), printed)
        places = _printed_precision(printed)
        computed = round_half_up(row["change_pct"], places)
        sign = "+" if computed > 0 else ""
        assert f"{sign}{computed}%" == printed, (code, year, row["change_pct"])


def test_the_robbery_business_slip_is_the_only_one(lancs):
    (data,) = rows.year_to_date_tables(
        measures=measures("robbery-business"),
        area=lancs,
        month=DECEMBER_2022,
        book=reviewer_book(),
    )
    assert format_change_pct(data.rows[2]["change_pct"]) == "+29.4%"
    assert list(SEED_SLIPS) == [("robbery-business", "2021")]


def test_crime_is_almost_8_percent_below_the_pre_pandemic_baseline(lancs):
    (data,) = rows.year_to_date_tables(
        measures=measures("all-crime"), area=lancs, month=DECEMBER_2022, book=reviewer_book()
    )
    first, last = data.rows[0]["value"], data.rows[-1]["value"]
    assert format_change_pct((last - first) / first * 100) == "-7.8%"


def test_monthly_table_reproduces_dvpn_and_dvpo(lancs):
    data = rows.monthly_table(
        measures=measures("dvpn", "dvpo"), area=lancs, month=DECEMBER_2022, book=reviewer_book()
    )
    by_code = {row["measure"].code: row for row in data.rows}
    months = [f"2022-{m:02d}" for m in range(1, 13)]
    assert [int(by_code["dvpn"][m]) for m in months] == [
        3,
        1,
        3,
        5,
        25,
        13,
        25,
        24,
        31,
        22,
        29,
        27,
    ]
    assert [int(by_code["dvpo"][m]) for m in months] == [1, 1, 3, 4, 24, 8, 21, 20, 29, 19, 28, 21]
    assert next(iter(data.labels.values())) == "January"


SCORECARD = {
    "arrests": "283",
    "charges": "90",
    "people-convicted": "12",
    "years-imprisonment": "59.4",
    "preventative-orders": "7",
    "cash-seizures": "21",
    "cash-seized-value": "30801",
    "disruptions-major": "3",
    "disruptions-moderate": "36",
    "disruptions-minor": "155",
    "disruptions-none": "3",
    "disruptions-total": "197",
    "firearms-recovered": "0",
    "ammunition-rounds": "0",
    "class-a-drugs-kg": "8.8",
    "class-b-drugs-kg": "0.6",
    "cannabis-plants": "688",
    "multi-agency-meetings": "21",
    "adults-safeguarded": "23",
    "children-safeguarded": "9",
}


def test_scorecard_reproduces_the_organised_crime_table(lancs):
    data = rows.scorecard(
        measures=Measure.objects.all(), area=lancs, month=DECEMBER_2022, book=reviewer_book()
    )
    shown = {row["measure"].code: row["value"] for row in data.rows}
    assert shown == {code: Decimal(v) for code, v in SCORECARD.items()}
    assert data.labels["value"] == "Oct–Dec 2022"


def test_scorecard_disruption_grades_add_up_to_the_total(lancs):
    data = rows.scorecard(
        measures=Measure.objects.all(), area=lancs, month=DECEMBER_2022, book=reviewer_book()
    )
    shown = {row["measure"].code: row["value"] for row in data.rows}
    grades = ("major", "moderate", "minor", "none")
    assert sum(shown[f"disruptions-{g}"] for g in grades) == shown["disruptions-total"]


def test_every_seed_table_is_on_the_report_preview_with_its_headlines(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("reports:report"), {"period": "2022-12"})
    html = response.content.decode()

    for text in (
        "16,127",
        "15,627",
        "-39.1%",
        "109,228",
        "100,655",
        "43,062",
        "18,659",
        "1,979",
        "3,701",
        "722",
        "56",
        "30,801",
        "8.8 kg",
        "59.4 years",
    ):
        assert text in html, text
    assert "Discharges of lethal, barrelled weapons remain low in number" in html
    assert "<strong>Operation Warrior</strong>" in html
    assert "Super Cocooning" in html


def test_national_picture_shows_each_target_status_and_filters_by_it(client, admin_user):
    client.force_login(admin_user)
    url = reverse("reports:national-picture")

    everything = client.get(url, {"period": "2022-12"}).context["figure_tables"][0]
    red = client.get(url, {"period": "2022-12", "target_status": "red"})

    statuses = {row["measure"].code: row["rag"] for row in everything.data.data}
    assert statuses == {
        "homicides": "green",
        "firearms-offences": "red",
        "firearms-discharges": "red",
        "ed-knife-assaults": "green",
        "neighbourhood-crime": "green",
        "victim-satisfaction": "green",
        "da-victim-satisfaction": "red",
        "cyber-crime": "red",
    }
    shown = [row["measure"].code for row in red.context["figure_tables"][0].data.data]
    assert shown == [code for code, status in statuses.items() if status == "red"]
    assert "Off track" in red.content.decode()


def test_the_performance_table_shows_spc_signals_from_the_engine(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("reports:performance"), {"period": "2022-12"})
    rows = response.context["figure_tables"][0].data.data
    signals = {row["measure"].code: row["spc"] for row in rows}
    assert any(signals.values()), "the demo has months beyond limits or in runs"
    assert all(
        set(text.split(", "))
        <= {
            "beyond the control limits",
            "7 or more in a row above the mean",
            "7 or more in a row below the mean",
            "6 or more rising in a row",
            "6 or more falling in a row",
        }
        for text in signals.values()
        if text
    )


# --- The seed's words besides its figures: notes, sources, headings, activities -------------

SEED_QUARTER = parse_period("2022/23-Q3")
CJS_RELEASE = "Data was updated in February 2023 to include Quarter 3 of 2022 (July to September)."
DFT_NOTE = (
    "Injury Collisions Report to the DfT on a calendar year and not a financial year timeframe."
)
CJS_DASHBOARD = "https://www.gov.uk/government/collections/criminal-justice-system-delivery-data"
SECTION = re.compile(
    r'<section class="report-section[^"]*" aria-labelledby="section-(?P<code>[\w-]+)">'
    r"(?P<html>.*?)</section>",
    re.S,
)


def sections_of(html: str) -> dict[str, str]:
    """Return each report section's HTML by its priority's code."""
    return {match["code"]: match["html"] for match in SECTION.finditer(html)}


def text_of(html: str) -> str:
    """Return the words a reader reads in some HTML, on one line."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture(scope="module")
def seed_sections(demo, django_db_blocker):
    """The seed quarter's report as it would be published, by section (built once: reading
    it writes nothing)."""
    with django_db_blocker.unblock():
        plan = Plan.objects.get(code="pcp-2021-25")
        return sections_of(report_html(report_build(plan=plan, period=SEED_QUARTER)))


def test_the_cjs_section_opens_with_the_release_its_figures_come_from(seed_sections):
    cjs = seed_sections["criminal-justice"]

    # As the seed: the sentence right under the section's title, before its Key Headlines.
    assert text_of(cjs).startswith(f"National CJS Delivery Data {CJS_RELEASE} Key Headlines")
    assert not any(
        CJS_RELEASE in html for code, html in seed_sections.items() if code != "criminal-justice"
    )


def test_the_release_sentence_is_read_from_the_month_each_release_was_published(lancs):
    # The February 2023 release as if it had come out in March: the sentence follows.
    Value.objects.filter(
        measure__frequency=Measure.Frequency.RELEASE, area=lancs, end=date(2022, 9, 1)
    ).update(released_on=date(2023, 3, 1))
    data = rows.national_comparison(
        measures=Measure.objects.filter(priority__code="criminal-justice"),
        area=lancs,
        month=DECEMBER_2022,
        book=reviewer_book(),
    )

    assert rows.release_note(data) == (
        "Data was updated in March 2023 to include Quarter 3 of 2022 (July to September)."
    )


def test_the_release_sentence_names_the_latest_release_or_none():
    september, june = parse_month("2022-09"), parse_month("2022-06")
    february, november = parse_month("2023-02"), parse_month("2022-11")

    def table(*releases):
        return rows.TableData(rows=[{"release": release} for release in releases])

    assert rows.release_note(table((june, november), (september, february), None)) == CJS_RELEASE
    assert rows.release_note(table((september, None))) == (
        "Data includes Quarter 3 of 2022 (July to September)."
    )
    assert rows.release_note(table(None)) == ""


def test_the_dangerous_drivers_note_is_the_section_s_data(seed_sections):
    drivers = seed_sections["dangerous-drivers"]

    assert f'<p class="section-note">{DFT_NOTE}</p>' in drivers
    assert ReportSection.objects.get(priority__code="dangerous-drivers").note == DFT_NOTE
    assert DFT_NOTE not in "".join(
        html for code, html in seed_sections.items() if code != "dangerous-drivers"
    )


# The seed's "Source: …" lines, section by section, with their full names (and the one
# link the seed prints), under a table or in the section's notes. The seed prints the roads
# section's two sources as one phrase, "Internal data and Collision Reporting and Sharing
# System- CRaSH".
SOURCE_LINE = re.compile(r'<p class="sources(?P<under> table-sources)?">(?P<line>.*?)</p>')
SEED_SOURCES = {
    "criminal-justice": (
        f'Source: <a href="{CJS_DASHBOARD}">'
        "Criminal Justice System Delivery Data Dashboard - GOV.UK</a>"
    ),
    "efficient-effective-policing": "Source: FCR Live dashboard, Power BI",
    "anti-social-behaviour": "Source: Responding Dashboard",
    "organised-crime": "Source: PAM system",
    # The seed prints both under its charts; the report's charts each cite their own.
    "dangerous-drivers": (
        "Source: Collision Reporting and Sharing System (CRaSH)",
        "Source: Internal data (Central Ticket Office)",
    ),
}


@pytest.mark.parametrize("code", sorted(SEED_SOURCES))
def test_sources_are_printed_with_their_full_names_and_links_as_in_the_seed(seed_sections, code):
    lines = [match["line"] for match in SOURCE_LINE.finditer(seed_sections[code])]
    expected = SEED_SOURCES[code]

    assert set(expected if isinstance(expected, tuple) else [expected]) <= set(lines)


def test_each_table_prints_its_sources_under_it_and_the_section_only_the_others(seed_sections):
    tables = 0
    for code, html in seed_sections.items():
        notes = (
            html[html.index('<div class="section-notes">') :] if "section-notes" in html else ""
        )
        containers = html.split('<div class="table-container')[1:]
        tables += len(containers)
        under = []
        for container in containers:
            # Right after the table and its footnotes, before the container closes.
            after = container[container.index("</table>") : container.index("</div>")]
            (line,) = [m["line"] for m in SOURCE_LINE.finditer(after) if m["under"]]
            under.append(line)
        printed = {name for line in under for name in line.split(": ", 1)[1].split("; ")}
        for match in SOURCE_LINE.finditer(notes):
            assert not match["under"]
            assert not printed & set(match["line"].split(": ", 1)[1].split("; ")), code
    assert tables == 12, "every table of the seed's report"
    cjs = seed_sections["criminal-justice"]
    assert [m["line"] for m in SOURCE_LINE.finditer(cjs)] == [SEED_SOURCES["criminal-justice"]] * 2


def test_a_measure_page_names_its_source_in_full_with_its_link(client, viewer):
    client.force_login(viewer)
    response = client.get(reverse("reports:measure", args=["cjs-rape-trial-or-plea"]))

    assert (
        f'<dd><a href="{CJS_DASHBOARD}">Criminal Justice System Delivery Data Dashboard - GOV.UK'
        "</a></dd>" in response.content.decode()
    )


def test_key_headlines_carry_the_seed_s_headings_where_the_seed_has_them(seed_sections):
    cjs = text_of(seed_sections["criminal-justice"])
    recorded = text_of(seed_sections["recorded-crime"])

    assert '<h4 class="headline-heading">All Crime</h4>' in seed_sections["criminal-justice"]
    assert '<h4 class="headline-heading">Adult Rape</h4>' in seed_sections["criminal-justice"]
    # All Crime heads the all-crime bullets; Adult Rape follows them and heads the rape ones.
    assert (
        cjs.index("Key Headlines All Crime The latest national data")
        < cjs.index("victim does not support further police action")
        < cjs.index("Adult Rape Lancashire is ahead of the National average")
    )
    # The heading, its chart (tests/reports/test_seed_charts.py), then its words.
    assert (
        recorded.index("almost 8% below the pre-pandemic baseline")
        < recorded.index("Outcomes – Priority Crimes")
        < recorded.index("Force data shows")
    )


def test_police_and_crime_plan_priorities_opens_the_part_of_the_report_it_heads(seed_sections):
    codes = list(seed_sections)
    headed = [code for code, html in seed_sections.items() if "part-heading" in html]

    assert headed == ["efficient-effective-policing"]
    assert text_of(seed_sections["efficient-effective-policing"]).startswith(
        "Police and Crime Plan Priorities Efficient and Effective Policing Key Headlines"
    )
    # As in the seed: after the National Picture, the CJS data and recorded crime.
    assert codes.index("efficient-effective-policing") == 3


def _headlines_then_tables(html: str) -> tuple[int, int, int]:
    return html.index("<h3>Key Headlines</h3>"), html.index("<table"), html.rindex("</table>")


@pytest.mark.parametrize(
    ("code", "pointer"),
    [
        ("anti-social-behaviour", "(see below)"),
        ("burglary-robbery", "see table below"),
        ("domestic-abuse-sexual-violence", "(see above)"),
    ],
)
def test_a_headline_that_points_to_a_table_sits_on_the_side_it_points_to(
    seed_sections, code, pointer
):
    html = seed_sections[code]
    headlines, first_table, last_table = _headlines_then_tables(html)

    assert pointer in html
    if "below" in pointer:
        assert headlines < first_table
    else:
        assert last_table < headlines


def test_every_headline_pointing_below_or_above_has_its_table_there(seed_sections):
    pointers = 0
    for html in seed_sections.values():
        headlines = text_of(html[html.index("<h3>Key Headlines</h3>") :])
        if "<table" not in html:
            continue
        headlines_at, first_table, last_table = _headlines_then_tables(html)
        if re.search(r"see (table )?below", headlines):
            pointers += 1
            assert headlines_at < first_table
        if "see above" in headlines:
            pointers += 1
            assert last_table < headlines_at
    assert pointers == 3


def test_the_organised_crime_activities_are_printed_with_the_scorecard(seed_sections):
    html = seed_sections["organised-crime"]
    activities = html[html.index('<div class="activities">') :]

    assert html.index("</table>") < html.index('<div class="activities">')
    assert text_of(activities).startswith(
        "Preventing & protecting: serious organised crime "
        "Worked in Partnership with different agencies to prevent & protect against serious "
        "& organised crime "
        "Prevent Initiatives: SOC Diversion (MASP), ROC "
        "Key Headlines"
    )


def test_a_published_version_freezes_the_notes_sources_headings_and_activities(admin_user):
    version = published_seed_report(admin_user)
    notes = {entry["priority"]: entry for entry in version.snapshot["notes"]}
    headlines = {entry["priority"]: entry["text"] for entry in version.snapshot["headlines"]}

    assert notes["criminal-justice"]["release_note"] == CJS_RELEASE
    # Printed under each of its two tables, so not again in the section's notes.
    assert notes["criminal-justice"]["sources"] == []
    cjs_tables = [t for t in version.snapshot["tables"] if t["id"].startswith("criminal-justice/")]
    assert [t["sources"] for t in cjs_tables] == [
        [
            {
                "name": "Criminal Justice System Delivery Data Dashboard",
                "label": "Criminal Justice System Delivery Data Dashboard - GOV.UK",
                "url": CJS_DASHBOARD,
            }
        ]
    ] * 2
    assert notes["dangerous-drivers"]["note"] == DFT_NOTE
    assert notes["efficient-effective-policing"]["part_heading"] == (
        "Police and Crime Plan Priorities"
    )
    assert notes["organised-crime"]["activities"] == [
        [
            "Preventing & protecting: serious organised crime",
            "",
            "Worked in Partnership with different agencies to prevent & protect against "
            "serious & organised crime",
        ],
        [
            "Preventing & protecting: serious organised crime",
            "Prevent Initiatives",
            "SOC Diversion (MASP), ROC",
        ],
    ]
    assert headlines["criminal-justice"].startswith("## All Crime\n")
    assert "## Adult Rape" in headlines["criminal-justice"]
    for text in (CJS_RELEASE, DFT_NOTE, CJS_DASHBOARD, "Police and Crime Plan Priorities"):
        assert text in version.html


# --- The criminal-justice section as the seed reads: a table per group in its headlines ----

CJS_SOURCE_LINE = "Source: Criminal Justice System Delivery Data Dashboard - GOV.UK"
# What a reader reads, in the seed's order: each group's heading, its first bullet, its
# table (caption, figures) with the source under it, then the group's other bullets.
CJS_ORDER = [
    "Key Headlines",
    "All Crime",
    "The latest national data suggests",
    "Rolling 12 month comparisons for Lancashire – All Crime",
    "All crime: days from offence to charge",
    CJS_SOURCE_LINE,
    "The percentage of positive outcomes for victim-based crime",
    "Adult Rape",
    "Lancashire is ahead of the National average in relation to investigative timeliness",
    "Rolling 12 month comparisons for Lancashire – Adult Rape",
    "Adult rape: days from offence to charge",
    CJS_SOURCE_LINE,
    "The latest data shows an increase in the number of suspects referred",
    "Lancashire is still just below the National average",
    "The Lancashire LCJB area recorded a higher",
]


def assert_in_order(text: str, fragments: list[str]) -> None:
    at = -1
    for fragment in fragments:
        found = text.find(fragment, at + 1)
        assert found > at, f"{fragment!r} not after {text[max(at, 0) : at + 80]!r}"
        at = found


def test_the_cjs_section_reads_heading_bullet_table_source_as_the_seed(seed_sections):
    html = seed_sections["criminal-justice"]
    text = text_of(html)

    assert_in_order(text, CJS_ORDER)
    # Two tables, both inside the Key Headlines, none left where the section's tables go.
    assert html.count("<table") == 2
    assert html.index("<h3>Key Headlines</h3>") < html.index("<table")
    assert "Comparison with national" not in text
    assert text.count(CJS_SOURCE_LINE) == 2


def test_the_cjs_section_reads_the_same_on_the_live_report_page(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("reports:report"), {"period": "2022-12"})
    cjs = sections_of(response.content.decode())["criminal-justice"]

    assert_in_order(text_of(cjs), CJS_ORDER)
    assert cjs.count('<table class="figures') == 2


@pytest.mark.django_db
def test_the_cjs_section_reads_the_same_in_the_published_pdf(client, admin_user):
    version = published_seed_report(admin_user)
    response = client.get(
        reverse("public:pdf", args=[version.report.plan.code, version.report.slug, 1])
    )
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]
    text = " ".join(" ".join(pages).split())
    start = text.index("Data was updated in February 2023")
    cjs = text[start : text.index("Recorded Crime and Outcome Levels", start)]

    assert_in_order(cjs, CJS_ORDER)
    # The heading, its first bullet and its table on one page (kept together in print).
    for heading, caption in (
        ("All Crime", "Rolling 12 month comparisons for Lancashire – All Crime"),
        ("Adult Rape", "Rolling 12 month comparisons for Lancashire – Adult Rape"),
    ):
        (page,) = [" ".join(p.split()) for p in pages if caption in " ".join(p.split())]
        assert f"{heading} " in page[: page.index(caption)]


# (measure, Lancashire, England and Wales, difference, previous release): the figures the
# seed's CJS tables hold, as its bullets give them ("47 days; -11pts", "equal to the
# National average", "increased by 3 days to 44 days", "390 days; National average = 363").
SEED_CJS_TABLES = {
    "All Crime": [
        ("cjs-all-investigation-days", 47, 58, -11, 45),
        ("cjs-all-cps-charge-days", 44, 44, 0, 41),
        ("cjs-all-crown-court-days", 266, 271, -5, 278),
        ("cjs-all-positive-outcome-rate", 9, 9, 0, Decimal("8.8")),
        ("cjs-all-victim-not-supporting", 31, 24, 7, 30),
    ],
    "Adult Rape": [
        ("cjs-rape-investigation-days", 561, 706, -145, 548),
        ("cjs-rape-positive-outcome-rate", Decimal("5.6"), Decimal("5.6"), 0, Decimal("5.2")),
        ("cjs-rape-cps-charge-days", 89, 112, -23, 92),
        ("cjs-rape-crown-court-days", 390, 363, 27, 386),
        ("cjs-rape-victim-not-supporting", 39, 42, -3, 37),
        # A count beside the national total, not subtracted from it.
        ("cjs-rape-suspects-referred", 214, 7820, None, 196),
        ("cjs-rape-trial-or-plea", 91, 87, 4, 89),
    ],
}


def test_the_cjs_measures_split_into_the_seed_s_two_tables_with_its_figures(lancs):
    plan = Plan.objects.get(code="pcp-2021-25")
    built = report_build(plan=plan, period=SEED_QUARTER)
    (cjs,) = [section for section, _ in built.sections if section.code == "criminal-justice"]

    assert [(kind, data.group) for kind, data in cjs.tables] == [
        ("national-comparison", "All Crime"),
        ("national-comparison", "Adult Rape"),
    ]
    for _, data in cjs.tables:
        assert data.caption == f"Rolling 12 month comparisons for Lancashire – {data.group}"
        assert [
            (
                row["measure"].code,
                row["current"],
                row["national"],
                row["difference"],
                row["previous"],
            )
            for row in data.rows
        ] == SEED_CJS_TABLES[data.group]
        assert [source.url for source in data.source_systems] == [CJS_DASHBOARD]
    # One release note for the section, from both tables' rows.
    assert cjs.release_note == CJS_RELEASE


def test_a_section_without_groups_keeps_one_table_of_its_measures(lancs):
    Measure.objects.filter(priority__code="criminal-justice").update(table_group="")
    plan = Plan.objects.get(code="pcp-2021-25")
    built = report_build(plan=plan, period=SEED_QUARTER)
    (cjs,) = [section for section, _ in built.sections if section.code == "criminal-justice"]

    ((kind, data),) = cjs.tables
    assert (kind, data.group, data.title) == (
        "national-comparison",
        "",
        "Comparison with national",
    )
    assert len(data.rows) == 12
    html = report_html(built)
    section = sections_of(html)["criminal-justice"]
    # No group to place: the table stays after the Key Headlines, as the layout puts them.
    assert section.index("Adult Rape") < section.index("<table")
