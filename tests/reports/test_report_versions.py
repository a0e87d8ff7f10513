"""Versions of a published report (issue 12): what changed, figure by figure, and no
version that repeats the one before."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.urls import reverse

from measures.arithmetic.periods import parse_period
from measures.models import Headline, Measure, Plan, Return
from measures.returns import services
from measures.returns.rows import return_rows
from measures.returns.services import ValueEntry
from measures.services import measure_save
from reports.models import ReportVersion
from reports.publishing import (
    FIGURE_READERS,
    NothingChanged,
    report_build,
    report_publish,
    snapshot_changes,
    snapshot_of,
    snapshot_unchanged,
)
from reports.tables import TABLE_CLASSES
from tests.reports.test_publishing import revise

pytestmark = pytest.mark.usefixtures("demo")

Q3 = parse_period("2022/23-Q3")
BURGLARY_AND_ROBBERY = "Cracking Down on Burglary and Robbery"


@pytest.fixture
def plan(db):
    return Plan.objects.get(code="pcp-2021-25")


@pytest.fixture
def published(plan, admin_user):
    version = report_publish(plan=plan, period=Q3, actor=admin_user)
    # A fixed day, so that the refusal's wording can be checked.
    ReportVersion.objects.filter(pk=version.pk).update(
        published_at=datetime(2026, 12, 6, 10, 30, tzinfo=UTC)
    )
    version.refresh_from_db()
    return version


@pytest.fixture
def ppc_lead(db):
    from tests.conftest import _person

    return _person("priya", "lead", ["ppc"])


@pytest.fixture
def soc_lead(db):
    from tests.conftest import _person

    return _person("sam", "lead", ["soc"])


@pytest.fixture
def seed_snapshot(plan):
    """The seed report's snapshot as the database stores it."""
    return json.loads(json.dumps(snapshot_of(report_build(plan=plan, period=Q3))))


def resubmit(ret, *, lead, reviewer) -> None:
    """Note the return's unusual figures (as a lead must), submit it and approve it."""
    rows = {row.key: row for row in return_rows(ret)}
    notes = [
        ValueEntry(rows[key].measure.code, rows[key].period, rows[key].value.value, note="Checked")
        for key in services.submission_problems(ret)
    ]
    ret = services.return_save(return_id=ret.pk, version=ret.version, entries=notes, actor=lead)
    services.return_submit(return_id=ret.pk, actor=lead)
    services.return_approve(return_id=ret.pk, actor=reviewer)


def figure_lines(changes: list[str]) -> list[str]:
    return [line for line in changes if "chart “" not in line and "Key Headlines" not in line]


# --- nothing changed ------------------------------------------------------------------------


def test_publishing_an_unchanged_report_again_is_refused_and_makes_no_version(
    plan, published, admin_user
):
    with pytest.raises(NothingChanged) as caught:
        report_publish(plan=plan, period=Q3, actor=admin_user)

    assert caught.value.message == (
        "Nothing has changed since version 1 was published on 6 December 2026, "
        "so no new version was made."
    )
    assert [p.text for p in caught.value.problems] == [caught.value.message]
    assert list(ReportVersion.objects.values_list("number", flat=True)) == [1]


def test_the_publish_page_says_nothing_changed_instead_of_publishing(
    client, admin_user, published
):
    client.force_login(admin_user)

    response = client.post(reverse("reports:publish"), {"period": "2022/23-Q3"}, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith(reverse("reports:publish"))
    assert "Nothing has changed since version 1 was published on 6 December 2026" in (
        response.content.decode()
    )
    assert ReportVersion.objects.count() == 1


def test_the_command_refuses_an_unchanged_report(published, admin_user, capsys):
    with pytest.raises(SystemExit) as exited:
        call_command("publish_report", "pcp-2021-25", "2022/23-Q3", user=admin_user.username)

    assert exited.value.code == 1
    assert "Nothing has changed since version 1" in capsys.readouterr().err
    assert ReportVersion.objects.count() == 1


def test_a_report_whose_figures_only_moved_is_unchanged(seed_snapshot):
    moved = copy.deepcopy(seed_snapshot)
    for name in ("tables", "figures", "charts", "headlines", "notes"):
        moved[name].reverse()
    for table in moved["tables"]:
        table["values"][1:] = reversed(table["values"][1:])
        table["cells"].reverse()

    assert snapshot_unchanged(seed_snapshot, moved)
    assert snapshot_changes(seed_snapshot, moved) == []


# --- what changed ---------------------------------------------------------------------------


def test_revising_one_approved_value_lists_exactly_that_figure(
    plan, published, admin_user, charlie, ppc_lead, django_capture_on_commit_callbacks
):
    revise(
        "robbery-business",
        "2022-12",
        1,
        lead=ppc_lead,
        reviewer=charlie,
        capture=django_capture_on_commit_callbacks,
    )

    version = report_publish(plan=plan, period=Q3, actor=admin_user)

    assert version.number == 2
    assert version.changes == [
        "Robbery Business, 1st April – 31st December 2022: 56 → 57",
        f"{BURGLARY_AND_ROBBERY}: chart “Robbery Business: 1st April – 31st December” revised",
    ]
    with pytest.raises(NothingChanged, match="since version 2 was published"):
        report_publish(plan=plan, period=Q3, actor=admin_user)
    assert ReportVersion.objects.count() == 2


def test_a_measure_moved_in_the_report_lists_only_the_figure_revised(
    plan, published, admin_user, charlie, ppc_lead, django_capture_on_commit_callbacks
):
    """Robbery Personal moves below Robbery Business, so every year-to-date table of the
    section after Burglary Residential changes position; only the revised figure is listed."""
    moved = Measure.objects.get(code="robbery-personal")
    moved.position = Measure.objects.get(code="robbery-business").position + 1
    measure_save(measure=moved, actor=admin_user, changed=["position"], reason="new layout")
    with pytest.raises(NothingChanged):
        report_publish(plan=plan, period=Q3, actor=admin_user)

    revise(
        "robbery-business",
        "2022-12",
        1,
        lead=ppc_lead,
        reviewer=charlie,
        capture=django_capture_on_commit_callbacks,
    )
    version = report_publish(plan=plan, period=Q3, actor=admin_user)

    assert figure_lines(version.changes) == [
        "Robbery Business, 1st April – 31st December 2022: 56 → 57"
    ]
    assert version.html.index("Robbery Business: 1st April") < version.html.index(
        "Robbery Personal: 1st April"
    )


def test_revised_key_headlines_are_listed_by_priority_and_department(
    plan, published, admin_user, charlie, soc_lead, django_capture_on_commit_callbacks
):
    ret = Return.objects.get(reporting_period__start="2022-10-01", department__code="soc")
    headline = Headline.objects.get(priority__code="organised-crime", department__code="soc")
    with django_capture_on_commit_callbacks(execute=True):
        ret = services.return_reopen(return_id=ret.pk, actor=charlie, reason="wording")
        ret = services.return_save(
            return_id=ret.pk,
            version=ret.version,
            entries=[],
            headlines={"organised-crime": headline.text + "\n- Operation Warrior continues."},
            actor=soc_lead,
        )
        resubmit(ret, lead=soc_lead, reviewer=charlie)

    version = report_publish(plan=plan, period=Q3, actor=admin_user)

    assert version.changes == [
        "Disrupting and Dismantling Organised Crime: Key Headlines from "
        "Serious and Organised Crime Unit revised"
    ]


def test_a_figure_added_or_removed_shows_a_dash_never_none(seed_snapshot):
    (figure,) = [
        f
        for f in seed_snapshot["figures"]
        if f["measure"] == "robbery-business" and f["period"].endswith("2021")
    ]
    without = copy.deepcopy(seed_snapshot)
    without["figures"].remove(figure)

    assert snapshot_changes(seed_snapshot, without) == [
        "Robbery Business, 1st April – 31st December 2021: 44 → —"
    ]
    assert snapshot_changes(without, seed_snapshot) == [
        "Robbery Business, 1st April – 31st December 2021: — → 44"
    ]


def test_figures_are_worded_by_measure_area_and_period_as_the_report_formats_them(
    seed_snapshot,
):
    labels = {f["label"]: f["shown"] for f in seed_snapshot["figures"]}

    assert labels["Recorded Homicides, 12 months to Dec 2022"] == "14"
    assert labels["Recorded Homicides, 12 months to Dec 2020"] == "23"
    assert labels["Recorded Homicides, 12 months to Dec 2022 against target"] == "On track"
    assert labels["% Victims Satisfied (internal surveys), 12 months to Dec 2022"] == "70.2%"
    assert labels["Value of cash seized, Oct–Dec 2022"] == "£30,801"
    assert labels["DVPN, Dec 2022"] == "27"
    assert labels["Adult rape: days from offence to charge, 12 months to Sep 2022"] == "561 days"
    assert (
        labels["Adult rape: days from offence to charge, England and Wales, 12 months to Sep 2022"]
        == "706 days"
    )
    assert labels["Adult rape: days from offence to charge, 12 months to Jun 2022"] == "548 days"
    assert all(f["label"] and "None" not in f["label"] for f in seed_snapshot["figures"])
    keys = [(f["measure"], f["area"], f["period"], f["column"]) for f in seed_snapshot["figures"]]
    assert len(keys) == len(set(keys))


def test_a_version_published_before_figures_were_recorded_is_said_so(seed_snapshot):
    legacy = {key: seed_snapshot[key] for key in ("plan", "period", "area", "tables")}

    (line,) = snapshot_changes(legacy, seed_snapshot)

    assert "before figures were recorded one by one" in line
    assert not snapshot_unchanged(legacy, seed_snapshot)


def test_every_table_kind_has_its_figures_read():
    assert set(FIGURE_READERS) == set(TABLE_CLASSES)
