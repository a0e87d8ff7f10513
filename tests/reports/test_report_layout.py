"""The report's layout (issue 13): sections in order, where each puts its Key Headlines, its
note, part heading, activities and charts — imported from a file like the plan, edited in the
admin, and frozen with a published version."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.urls import reverse

from measures.arithmetic.periods import parse_period
from measures.models import Plan
from reports.layout import LayoutInvalid, report_layout_import
from reports.models import ReportActivity, ReportChart, ReportChartMeasure, ReportSection
from reports.publishing import NothingChanged, report_build, report_html, report_publish
from reports.report_sections import Section
from tests.reports.test_seed_report import sections_of, text_of

pytestmark = pytest.mark.usefixtures("demo")

Q3 = parse_period("2022/23-Q3")
DEMO_LAYOUT = "measures/demo/report.yaml"


@pytest.fixture
def plan(db):
    return Plan.objects.get(code="pcp-2021-25")


@pytest.fixture
def layout():
    with open(DEMO_LAYOUT) as file:
        return yaml.safe_load(file)


def seed_sections(plan) -> dict[str, str]:
    return sections_of(report_html(report_build(plan=plan, period=Q3)))


def history_count() -> int:
    return sum(
        model.history.count()
        for model in (ReportSection, ReportActivity, ReportChart, ReportChartMeasure)
    )


def test_reimporting_the_demo_layout_changes_nothing(layout):
    before = history_count()

    summary = report_layout_import(data=layout)

    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 15)
    assert history_count() == before


def test_an_edited_layout_updates_in_place_with_history(layout):
    edited = copy.deepcopy(layout)
    edited["sections"][0]["headlines"] = "before"
    edited["sections"][5]["activities"][1]["text"] = "SOC Diversion (MASP), ROC, Op Warrior"

    summary = report_layout_import(data=edited)

    assert (summary.created, summary.updated) == (0, 2)
    section = ReportSection.objects.get(priority__code="national-picture")
    assert section.headlines_first
    assert section.history.first().headlines_placement == "before"
    assert ReportActivity.objects.get(title="Prevent Initiatives").text.endswith("Op Warrior")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"priority": "no-such-priority"}, "sections[0].priority: pcp-2021-25 has no priority"),
        ({"headlines": "beside"}, "sections[0].headlines: 'beside' is not before or after"),
        ({"shown": "yes"}, "sections[0].shown: 'yes' is not true or false"),
        ({"activities": [{"title": "Empty"}]}, "sections[0].activities[0].text is required"),
    ],
)
def test_a_bad_layout_is_rejected_naming_where_and_writes_nothing(layout, change, message):
    bad = copy.deepcopy(layout)
    bad["sections"][0].update(change)
    bad["sections"][1]["note"] = "A note that must not be written."
    before = history_count()

    with pytest.raises(LayoutInvalid, match=re.escape(message)):
        report_layout_import(data=bad)

    assert history_count() == before


def test_the_command_names_the_file_and_writes_nothing_when_it_is_wrong(tmp_path):
    path = tmp_path / "report.yaml"
    path.write_text("plan: no-such-plan\nsections: []\n")

    with pytest.raises(CommandError, match=r"report\.yaml: plan: unknown plan 'no-such-plan'"):
        call_command("import_report_layout", str(path))


def test_a_priority_the_layout_leaves_out_still_has_its_section_and_a_hidden_one_none(plan):
    ReportSection.objects.filter(priority__code="burglary-robbery").delete()
    ReportSection.objects.filter(priority__code="organised-crime").update(shown=False)

    codes = list(seed_sections(plan))

    assert "organised-crime" not in codes
    assert codes[-1] == "burglary-robbery"  # after the listed ones, with the defaults
    assert len(codes) == 8


def admin_form_data(response) -> dict[str, str]:
    """The change page as a browser posts it back: its fields and its inline's management."""
    data: dict[str, str] = {}
    forms = [response.context["adminform"].form] + [
        form for formset in response.context["inline_admin_formsets"] for form in formset.formset
    ]
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if value is not None and value is not False:
                data[form.add_prefix(name)] = str(field.prepare_value(value))
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = str(management[name].value())
    return data


def test_an_admin_puts_a_section_s_headlines_before_its_tables(plan, client, admin_user):
    section = ReportSection.objects.get(priority__code="national-picture")
    url = reverse("admin:reports_reportsection_change", args=[section.pk])
    client.force_login(admin_user)
    data = admin_form_data(client.get(url))
    assert data["headlines_placement"] == "after"
    html = seed_sections(plan)["national-picture"]
    assert html.index("<table") < html.index("<h3>Key Headlines</h3>")

    data["headlines_placement"] = "before"
    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    html = seed_sections(plan)["national-picture"]
    assert html.index("<h3>Key Headlines</h3>") < html.index("<table")
    assert section.history.first().history_user == admin_user


def test_an_admin_adds_an_activity_to_a_section(plan, client, admin_user):
    section = ReportSection.objects.get(priority__code="organised-crime")
    url = reverse("admin:reports_reportsection_change", args=[section.pk])
    client.force_login(admin_user)
    data = admin_form_data(client.get(url))
    data.update(
        {
            "activities-TOTAL_FORMS": "3",
            "activities-2-position": "3",
            "activities-2-group": "Preventing & protecting: serious organised crime",
            "activities-2-title": "Safeguarding",
            "activities-2-text": "Children at risk of exploitation referred to MASP",
            "activities-2-section": str(section.pk),
        }
    )

    assert client.post(url, data).status_code == 302

    printed = text_of(seed_sections(plan)["organised-crime"])
    assert "Prevent Initiatives: SOC Diversion (MASP), ROC Safeguarding: Children" in printed


def test_a_revised_note_is_a_new_version_that_says_so(plan, admin_user):
    report_publish(plan=plan, period=Q3, actor=admin_user)
    ReportSection.objects.filter(priority__code="dangerous-drivers").update(
        note="Injury collisions are reported to the DfT by calendar year."
    )
    ReportActivity.objects.filter(title="Prevent Initiatives").update(text="SOC Diversion")

    version = report_publish(plan=plan, period=Q3, actor=admin_user)

    assert version.number == 2
    assert version.changes == [
        "Disrupting and Dismantling Organised Crime: activities revised",
        "Targeting Dangerous Drivers: note revised",
    ]


def test_moving_headlines_alone_is_not_a_new_version(plan, admin_user):
    report_publish(plan=plan, period=Q3, actor=admin_user)
    ReportSection.objects.filter(priority__code="national-picture").update(
        headlines_placement="before"
    )

    with pytest.raises(NothingChanged):
        report_publish(plan=plan, period=Q3, actor=admin_user)


def test_a_section_without_a_layout_prints_as_before():
    # The defaults of a section built without a layout (tests build such sections).
    section = Section(priority=None, tables=[])

    assert not section.headlines_first
    assert (section.part_heading, section.note, section.release_note) == ("", "", "")
    assert section.activities == [] and section.source_systems == []


# --- Charts: declared by the layout, edited in the admin ---------------------------------------

POLICING = 3  # the demo layout's efficient-effective-policing section


def chart_rows(code: str) -> list[tuple[str, str, list[str]]]:
    """Return a section's charts as (kind, title, measure codes), in order."""
    section = ReportSection.objects.get(priority__code=code)
    return [
        (chart.kind, chart.title, [m.code for m in chart.shown_measures()])
        for chart in section.charts.order_by("position")
    ]


def test_the_demo_layout_declares_the_seed_s_four_charts():
    assert chart_rows("efficient-effective-policing") == [
        (
            "monthly_with_total",
            "Call volumes per month 2018 – present (total refers to right axis)",
            ["calls-999", "calls-101"],
        ),
        (
            "quarter",
            "101 Call Flow Performance",
            ["101-switchboard-abandonment-rate", "101-abandonment-rate"],
        ),
    ]
    calls = ReportChart.objects.get(kind="monthly_with_total")
    assert (calls.start_month.iso, calls.total_label) == ("2018-01", "Total calls presented")
    assert chart_rows("anti-social-behaviour") == [
        ("financial_years", "ASB Incidents Recorded, 2018/19 to present", ["asb-incidents"])
    ]
    outcomes = ReportChart.objects.get(kind="monthly_lines")
    assert [m.code for m in outcomes.shown_measures()] == [
        "all-crime-outcome-rate",
        "personal-robbery-outcome-rate",
        "hate-crime-outcome-rate",
    ]
    assert (outcomes.years, outcomes.placement, outcomes.source) == (2, "after", "")


def test_an_edited_chart_updates_in_place_its_measures_in_the_file_s_order(db, layout):
    report_layout_import(data=layout)  # as the file has it, whatever tests before changed
    edited = copy.deepcopy(layout)
    (calls, flow) = edited["sections"][POLICING]["charts"]
    calls["measures"] = ["calls-101", "calls-999"]
    flow["years"] = 3

    summary = report_layout_import(data=edited)

    assert (summary.created, summary.updated) == (0, 2)
    assert chart_rows("efficient-effective-policing")[0][2] == ["calls-101", "calls-999"]
    assert ReportChart.objects.get(kind="quarter").years == 3
    assert "measures" in " ".join(summary.details)
    assert report_layout_import(data=edited).updated == 0


def test_a_chart_added_to_the_file_is_created_with_its_measures(db, layout):
    report_layout_import(data=layout)  # as the file has it, whatever tests before changed
    edited = copy.deepcopy(layout)
    edited["sections"][POLICING]["charts"].append(
        {
            "kind": "monthly_lines",
            "title": "Digital demand",
            "measures": ["digital-demand"],
            "placement": "before",
            "source": "Home Office Data Hub",
        }
    )

    summary = report_layout_import(data=edited)

    assert (summary.created, summary.updated) == (1, 0)  # its measures are the chart's
    chart = ReportChart.objects.get(title="Digital demand")
    assert (chart.position, chart.placed_before, chart.source) == (3, True, "Home Office Data Hub")


CALLS_CHART = {
    "kind": "monthly_with_total",
    "title": "Calls",
    "measures": ["calls-999", "calls-101"],
}


@pytest.mark.parametrize(
    ("chart", "message"),
    [
        (
            {**CALLS_CHART, "measures": ["calls-999", "x"]},
            "sections[3].charts[0].measures: unknown measure 'x'",
        ),
        (
            {**CALLS_CHART, "measures": "calls-999"},
            "sections[3].charts[0].measures: expected a list",
        ),
        (
            {**CALLS_CHART, "kind": "pie"},
            "sections[3].charts[0].kind: 'pie' is not one of monthly_with_total, "
            "financial_years, quarter, monthly_lines",
        ),
        ({**CALLS_CHART, "title": ""}, "sections[3].charts[0].title is required"),
        (
            {**CALLS_CHART, "placement": "beside"},
            "sections[3].charts[0].placement: 'beside' is not before or after",
        ),
        (
            {**CALLS_CHART, "start": "2018-13"},
            "sections[3].charts[0].start: '2018-13' is not a month",
        ),
        (
            {**CALLS_CHART, "years": 0},
            "sections[3].charts[0].years: 0 is not a whole number of years",
        ),
        (
            {**CALLS_CHART, "measures": ["calls-999"]},
            "sections[3].charts[0].measures: a total needs two or more measures",
        ),
        (
            {**CALLS_CHART, "measures": ["calls-999", "999-service-level"]},
            "sections[3].charts[0].measures: a chart's measures share one unit, its value "
            "axis: calls-999 (count), 999-service-level (percent); 999-service-level not "
            "summed: only sums make a total",
        ),
        (
            {**CALLS_CHART, "kind": "financial_years", "measures": ["calls-999", "calls-101"]},
            "sections[3].charts[0].measures: months by financial year draw one measure, not 2",
        ),
        (
            {**CALLS_CHART, "kind": "quarter", "measures": ["arrests"]},
            "sections[3].charts[0].measures: arrests not monthly: a chart draws months",
        ),
        (
            {**CALLS_CHART, "kind": "monthly_lines", "measures": ["calls-999", "calls-999"]},
            "sections[3].charts[0].measures: calls-999 named more than once",
        ),
    ],
)
def test_a_bad_chart_is_rejected_naming_where_and_writes_nothing(layout, chart, message):
    bad = copy.deepcopy(layout)
    bad["sections"][POLICING]["charts"] = [chart]
    bad["sections"][1]["note"] = "A note that must not be written."
    before = history_count()

    with pytest.raises(LayoutInvalid, match=re.escape(message)):
        report_layout_import(data=bad)

    assert history_count() == before


def test_a_chart_of_cjs_release_figures_is_refused_as_they_have_no_months(layout):
    bad = copy.deepcopy(layout)
    bad["sections"][1]["charts"] = [
        {"kind": "monthly_lines", "title": "Days", "measures": ["cjs-all-investigation-days"]}
    ]
    with pytest.raises(LayoutInvalid, match=r"not monthly: a chart draws months; .* fixed"):
        report_layout_import(data=bad)


def test_an_admin_adds_a_chart_to_a_section_and_the_report_draws_it(plan, client, admin_user):
    section = ReportSection.objects.get(priority__code="dangerous-drivers")
    url = reverse("admin:reports_reportsection_change", args=[section.pk])
    client.force_login(admin_user)
    data = admin_form_data(client.get(url))
    data.update(
        {
            "charts-TOTAL_FORMS": "1",
            "charts-0-position": "1",
            "charts-0-kind": "monthly_lines",
            "charts-0-title": "Impairment-linked collisions",
            "charts-0-measures": "impairment-ksi-rate, impairment-injury-rate",
            "charts-0-years": "3",
            "charts-0-placement": "before",
            "charts-0-section": str(section.pk),
        }
    )

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    (chart,) = section.charts.all()
    assert [m.code for m in chart.shown_measures()] == [
        "impairment-ksi-rate",
        "impairment-injury-rate",
    ]
    assert chart.history.first().history_user == admin_user
    html = seed_sections(plan)["dangerous-drivers"]
    assert "<figcaption>Impairment-linked collisions</figcaption>" in html
    # Before the section's charts that follow its tables: its measures' automatic charts
    # are gone, the others stay.
    titles = re.findall(r"<figcaption>(.*?)</figcaption>", html)
    assert titles[0] == "Impairment-linked collisions"
    assert not any("impairment" in t.lower() for t in titles[1:]), titles
    assert "Fatal road traffic collisions per month, by financial year" in titles
    # The form shows the chart's measures as it saved them.
    assert admin_form_data(client.get(url))["charts-0-measures"] == (
        "impairment-ksi-rate, impairment-injury-rate"
    )


def test_a_chart_placed_before_the_tables_is_printed_before_them(plan):
    chart = ReportChart.objects.get(kind="financial_years")
    html = seed_sections(plan)["anti-social-behaviour"]
    assert html.index("<table") < html.index("<figure")
    ReportChart.objects.filter(pk=chart.pk).update(placement="before")

    html = seed_sections(plan)["anti-social-behaviour"]

    assert html.index("<figure") < html.index("<table")
    assert chart.title in html[: html.index("<table")]


@pytest.mark.parametrize(
    ("measures", "error"),
    [
        (
            "calls-999, no-such-measure",
            "Unknown measure 'no-such-measure': give the codes of the plan's measures.",
        ),
        ("calls-999", "A total needs two or more measures."),
        ("calls-999 999-service-level", "999-service-level not summed: only sums make a total."),
    ],
)
def test_the_admin_refuses_a_chart_whose_measures_do_not_suit_it(
    plan, client, admin_user, measures, error
):
    section = ReportSection.objects.get(priority__code="efficient-effective-policing")
    url = reverse("admin:reports_reportsection_change", args=[section.pk])
    client.force_login(admin_user)
    data = admin_form_data(client.get(url))
    data["charts-0-measures"] = measures
    before = history_count()

    response = client.post(url, data)

    assert response.status_code == 200
    (formset,) = [
        f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "charts"
    ]
    assert error in formset.formset.forms[0].errors["measures"]
    assert history_count() == before


def test_a_chart_s_revised_source_is_a_new_version_that_says_so(plan, admin_user):
    report_publish(plan=plan, period=Q3, actor=admin_user)
    ReportChart.objects.filter(kind="financial_years").update(source="PAM system")

    version = report_publish(plan=plan, period=Q3, actor=admin_user)

    assert version.changes == [
        "Getting Tough on Anti-Social Behaviour (ASB): chart “ASB Incidents Recorded, "
        "2018/19 to present” revised"
    ]
