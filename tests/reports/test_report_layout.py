"""The report's layout (issue 13): sections in order, where each puts its Key Headlines, its
note, part heading and activities — imported from a file like the plan, edited in the admin,
and frozen with a published version."""

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
from reports.models import ReportActivity, ReportSection
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
    return ReportSection.history.count() + ReportActivity.history.count()


def test_reimporting_the_demo_layout_changes_nothing(layout):
    before = history_count()

    summary = report_layout_import(data=layout)

    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 11)
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
