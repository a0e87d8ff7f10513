"""Publishing the quarterly report: checks, frozen versions, changes, public access, PDF."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from measures.arithmetic.periods import parse_period
from measures.models import Headline, Measure, Plan, Return, Value
from measures.returns import services
from measures.returns.rows import return_rows
from measures.returns.services import ValueEntry
from reports.models import ReportVersion
from reports.publishing import PublishBlocked, report_publish

pytestmark = pytest.mark.usefixtures("demo")

Q3 = parse_period("2022/23-Q3")


@pytest.fixture
def plan(db):
    return Plan.objects.get(code="pcp-2021-25")


@pytest.fixture
def published(plan, admin_user):
    return report_publish(plan=plan, period=Q3, actor=admin_user)


def revise(measure_code: str, month: str, by: int, *, lead, reviewer, capture):
    """Reopen the measure's approved Q3 return, change one figure and approve it again."""
    measure = Measure.objects.get(code=measure_code)
    stored = Value.objects.get(
        measure=measure, area__code="lancs", start=f"{month}-01", end=f"{month}-01"
    )
    value = stored.value + by
    ret = Return.objects.get(reporting_period__start="2022-10-01", department=measure.owner)
    with capture(execute=True):
        ret = services.return_reopen(return_id=ret.pk, actor=reviewer, reason="late crimes")
        ret = services.return_save(
            return_id=ret.pk,
            version=ret.version,
            entries=[ValueEntry(measure_code, parse_period(month), Decimal(value))],
            actor=lead,
        )
        # Figures that look unusual need a note before the return can go back for review.
        rows = {row.key: row for row in return_rows(ret)}
        notes = [
            ValueEntry(
                rows[key].measure.code,
                rows[key].period,
                rows[key].value.value,
                note="Checked: genuine",
            )
            for key in services.submission_problems(ret)
        ]
        ret = services.return_save(
            return_id=ret.pk, version=ret.version, entries=notes, actor=lead
        )
        services.return_submit(return_id=ret.pk, actor=lead)
        services.return_approve(return_id=ret.pk, actor=reviewer)


@pytest.fixture
def ppc_lead(db):
    from tests.conftest import _person

    return _person("priya", "lead", ["ppc"])


def test_the_published_report_has_every_seed_table_and_headline(client, published):
    response = client.get(published.get_absolute_url())  # anonymous
    html = response.content.decode()

    assert response.status_code == 200
    for text in (
        "16,127",
        "15,627",
        "-39.1%",
        "+79.5%",
        "109,228",
        "100,655",
        "43,062",
        "18,659",
        "3,208",
        "5,565",
        "876",
        "69",
        "30,801",
        "8.8 kg",
        "59.4 years",
        "Progress Against Police and Crime Plan Priorities 2021-2025",
    ):
        assert text in html, text
    for heading in (
        "National Picture",
        "Efficient and Effective",
        "Anti-Social Behaviour",
        "Organised Crime",
        "Domestic Abuse",
        "Burglary and Robbery",
    ):
        assert heading.lower() in html.lower(), heading
    assert "Operation Warrior" in html
    assert "Source" in html and "PAM system" in html
    assert "excludes air weapons and bb guns" in html


def test_the_pdf_is_a_valid_pdf_containing_the_seed_figures(client, published):
    response = client.get(
        reverse("public:pdf", args=[published.report.plan.code, published.report.slug, 1])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for figure in ("16,127", "15,627", "-39.1%", "109,228", "43,062", "30,801", "DVPN"):
        assert figure in text, figure
    published.refresh_from_db()
    assert published.pdf_status == ReportVersion.PdfStatus.READY  # made once, then cached


def test_published_tables_download_as_they_were_published(client, published):
    base = [published.report.plan.code, published.report.slug, 1]
    as_csv = client.get(reverse("public:tables", args=[*base, "csv"]))
    as_xlsx = client.get(reverse("public:tables", args=[*base, "xlsx"]))
    assert "16127" in as_csv.content.decode("utf-8-sig")
    assert as_xlsx.status_code == 200 and as_xlsx.content[:2] == b"PK"


def test_revising_an_approved_figure_changes_live_tables_not_the_published_version(
    client, plan, published, admin_user, charlie, ppc_lead, django_capture_on_commit_callbacks
):
    frozen_html = published.html
    revise(
        "robbery-personal",
        "2022-12",
        3,
        lead=ppc_lead,
        reviewer=charlie,
        capture=django_capture_on_commit_callbacks,
    )

    published.refresh_from_db()
    assert published.html == frozen_html
    client.force_login(admin_user)
    live = client.get(
        reverse("reports:year-to-date"), {"measure": "robbery-personal", "period": "2022-12"}
    )
    live_total = live.context["figure_tables"][0].data.data[-1]["value"]
    assert live_total == Decimal(725)

    version_2 = report_publish(plan=plan, period=Q3, actor=admin_user)

    assert version_2.number == 2
    assert any(
        "Robbery Personal" in change or "robbery" in change.lower() for change in version_2.changes
    ), version_2.changes
    assert any("722 → 725" in change for change in version_2.changes), version_2.changes
    page = client.get(version_2.get_absolute_url()).content.decode()
    assert "Changes since version 1" in page
    first = client.get(published.get_absolute_url()).content.decode()
    assert "722" in first


def test_provisional_figures_block_publishing_and_are_listed(
    plan, admin_user, charlie, django_capture_on_commit_callbacks
):
    ret = Return.objects.get(reporting_period__start="2022-10-01", department__code="analysis")
    with django_capture_on_commit_callbacks(execute=True):
        services.return_reopen(return_id=ret.pk, actor=charlie, reason="check homicides")

    with pytest.raises(PublishBlocked) as caught:
        report_publish(plan=plan, period=Q3, actor=admin_user)

    texts = [p.text for p in caught.value.problems]
    assert any("Recorded Homicides" in t and "provisional" in t for t in texts)
    assert any("Key Headlines" in t and "not approved" in t for t in texts)
    assert not ReportVersion.objects.exists()


def test_only_admins_publish(plan, charlie):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        report_publish(plan=plan, period=Q3, actor=charlie)


def test_the_command_publishes_and_prints_the_public_url(admin_user, capsys):
    call_command("publish_report", "pcp-2021-25", "2022/23-Q3", user=admin_user.username)
    url = capsys.readouterr().out.strip()
    assert url.endswith("/reports/published/pcp-2021-25/2022-23-q3/v1/")


def test_the_command_reports_a_bad_period(admin_user):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="2022/23-Q3"):
        call_command("publish_report", "pcp-2021-25", "Q3", user=admin_user.username)


def test_anonymous_readers_see_published_reports_and_nothing_else(client, published):
    assert client.get(reverse("public:list")).status_code == 200
    assert b"Version 1" in client.get(reverse("public:list")).content
    for name in (
        "home",
        "reports:report",
        "reports:national-picture",
        "returns:list",
        "reports:publish",
    ):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"], name
    assert client.get("/api/v1/measures/").status_code in (401, 403)


def test_the_publish_page_lists_problems_and_publishes(client, admin_user, plan):
    client.force_login(admin_user)
    page = client.get(reverse("reports:publish"), {"period": "2022/23-Q3"})
    assert page.status_code == 200
    assert b"every headline agrees" in page.content

    response = client.post(reverse("reports:publish"), {"period": "2022/23-Q3"})

    assert response.status_code == 302
    assert ReportVersion.objects.get().number == 1


def test_headlines_revised_after_publishing_do_not_change_the_version(published):
    Headline.objects.filter(priority__code="organised-crime").update(text="Rewritten")
    published.refresh_from_db()
    assert "Operation Warrior" in published.html
    assert Value.objects.exists()


def test_a_headline_number_that_disagrees_blocks_publishing_until_overridden(plan, admin_user):
    headline = Headline.objects.get(priority__code="national-picture")
    # Approved text is locked; the test changes it behind the app's back to plant an error.
    Headline.objects.filter(pk=headline.pk).update(
        text=headline.text.replace(
            "There have been two homicides", "There have been three homicides"
        )
        if "two homicides" in headline.text
        else headline.text
        + "\n- **Homicide:** There have been three homicides recorded in Quarter 3."
    )

    with pytest.raises(PublishBlocked) as caught:
        report_publish(plan=plan, period=Q3, actor=admin_user)

    (problem,) = [p for p in caught.value.problems if p.kind == "headline"]
    assert "three" in problem.text and "Recorded Homicides" in problem.text
    assert "2" in problem.text

    version = report_publish(
        plan=plan,
        period=Q3,
        actor=admin_user,
        overrides={problem.key: "Includes a death reclassified after the data cut-off"},
    )
    assert version.overrides == [
        {"problem": problem.text, "reason": "Includes a death reclassified after the data cut-off"}
    ]


def test_the_publish_page_offers_an_override_for_a_headline_mismatch(client, admin_user):
    headline = Headline.objects.get(priority__code="national-picture")
    Headline.objects.filter(pk=headline.pk).update(
        text=headline.text
        + "\n- **Homicide:** There have been three homicides recorded in Quarter 3."
    )
    client.force_login(admin_user)
    page = client.get(reverse("reports:publish"), {"period": "2022/23-Q3"})
    assert b"three" in page.content
    assert b'name="override-' in page.content


def test_the_report_has_server_rendered_charts_with_text_alternatives(published):
    html = published.html
    assert html.count("<svg") >= 10
    assert "per month, by financial year" in html  # call volumes, as in the seed
    assert "XmR chart" in html  # a measure whose latest month breaks a run rule
    assert "1st April – 31st December" in html  # year-to-date bars
    assert "Data table for this chart" in html
    assert 'role="img"' in html and "<desc" in html
    assert "<script" not in html


def test_returns_not_yet_approved_block_publishing_unless_overridden(plan, admin_user):
    q4 = parse_period("2022/23-Q4")  # open in the demo: every department's return is a draft

    with pytest.raises(PublishBlocked) as caught:
        report_publish(plan=plan, period=q4, actor=admin_user)

    missing = [p for p in caught.value.problems if p.kind == "missing-return"]
    assert len(missing) == 7
    assert "The return of Corporate Analysis for Jan–Mar 2023 is draft" in missing[0].text
    version = report_publish(
        plan=plan,
        period=q4,
        actor=admin_user,
        overrides={p.key: "Published for the panel with the figures received" for p in missing},
    )
    assert len(version.overrides) == 7
