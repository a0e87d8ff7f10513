"""Quarter after quarter (issue 12): the demo run on past its seed quarter, through the real
services and pages, on the real database.

Q3 2022/23 is approved and published → Q4 opens and asks for the late Q3 figures → one
department approved (pages stay on Q3, the progress line says 1 of 7) → all approved (pages
move to Q4; firearms' window follows the late figures now entered) → Q1 2023/24 opens (year
to date starts again at April) → a Q3 figure revised, Q3 republished as version 2 whose
change list is exactly that figure → publishing Q3 again unchanged is refused.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from measures.accounts import user_provision
from measures.arithmetic.periods import Month, Period, parse_period
from measures.models import Area, Department, Measure, Plan, Return, Value
from measures.returns import services
from measures.returns.rows import Group, return_rows
from measures.selectors import SeriesBook, reporting_state
from reports.publishing import NothingChanged, report_build, report_publish
from tests.conftest import PASSWORD
from tests.factories import reviewer_reader

pytestmark = pytest.mark.django_db(transaction=False)

Q3, Q4, Q1 = parse_period("2022/23-Q3"), parse_period("2022/23-Q4"), parse_period("2023/24-Q1")


@pytest.fixture
def people(demo):
    """A lead for every department, a reviewer and an admin."""
    leads = {
        d.code: user_provision(
            username=f"lead-{d.code}",
            role="lead",
            department_codes=[d.code],
            password=PASSWORD,
            validate=False,
        )[0]
        for d in Department.objects.all()
    }
    reviewer = user_provision(
        username="rita", role="reviewer", department_codes=[], password=PASSWORD, validate=False
    )[0]
    admin = user_provision(
        username="ada", role="admin", department_codes=[], password=PASSWORD, validate=False
    )[0]
    return leads, reviewer, admin


def _return(department: str, period: Period) -> Return:
    return Return.objects.select_related("reporting_period", "department").get(
        department__code=department, reporting_period__start=period.start.first_day
    )


def _fill_and_approve(ret: Return, lead, reviewer) -> None:
    """Enter every figure the return asks for (last year's, or the one before), submit it
    and approve it, as a lead and a reviewer would through the services."""
    entries = []
    for row in return_rows(ret):
        if row.value is not None:
            continue
        typed = row.same_period_last_year or row.previous or Decimal(1)
        entries.append(
            services.ValueEntry(row.measure.code, row.period, typed, note="journey: as last year")
        )
    ret = services.return_save(return_id=ret.pk, version=ret.version, entries=entries, actor=lead)
    services.return_submit(return_id=ret.pk, actor=lead)
    services.return_approve(return_id=ret.pk, actor=reviewer)


def _firearms_window(month: Month) -> Period:
    """Return the window firearms offences' rolling 12 months is compared for at `month`."""
    firearms = Measure.objects.get(code="firearms-offences")
    force = Area.objects.get(code="lancs")
    series = SeriesBook(reviewer_reader()).fetch([firearms], [force])[(firearms.pk, force.pk)]
    rolling = Period.rolling_twelve(month)
    return series.compare(rolling.shift(-12), rolling).current.period


def test_the_reporting_cycle_runs_quarter_after_quarter(
    client, people, django_capture_on_commit_callbacks
):
    leads, reviewer, admin = people

    def committed():
        """Run what the services leave to after commit (the recompute task) at the end."""
        return django_capture_on_commit_callbacks(execute=True)

    plan = Plan.objects.get(code="pcp-2021-25")
    departments = Department.objects.count()
    first = report_publish(plan=plan, period=Q3, actor=admin)
    assert first.number == 1

    # Q4 opened with the demo: firearms (three months' lag) for Oct–Dec 2022 are asked for
    # now, as late figures; January–March's own figures too, March's not (due in June).
    owner = Measure.objects.get(code="firearms-offences").owner.code
    q4 = _return(owner, Q4)
    asked = {(r.measure.code, r.period): r.group for r in return_rows(q4)}
    for month in ("2022-10", "2022-11", "2022-12"):
        assert asked[("firearms-offences", parse_period(month))] == Group.LATE
    assert ("firearms-offences", parse_period("2023-01")) not in asked
    assert _firearms_window(Month(2022, 12)).end == Month(2022, 9)

    # One department approved: everything still defaults to Q3, with Q4's progress shown.
    with committed():
        _fill_and_approve(q4, leads[owner], reviewer)
    state = reporting_state(plan=plan, reader=reviewer_reader())
    assert state.quarter == Q3 and state.month == Month(2022, 12)
    progress = f"Jan–Mar 2023: 1 of {departments} departments approved"
    assert [p.text for p in state.later] == [progress]
    client.force_login(reviewer)
    page = client.get(reverse("reports:national-picture")).content.decode()
    assert "Showing <strong>Oct–Dec 2022</strong>, the latest quarter whose returns" in page
    assert progress in page

    # Every department approved: pages move to Q4, and firearms' window now runs to
    # December, the late months entered in Q4 (January–March still to come).
    with committed():
        for ret in Return.objects.filter(reporting_period__start=Q4.start.first_day).exclude(
            status=Return.Status.APPROVED
        ):
            _fill_and_approve(ret, leads[ret.department.code], reviewer)
    state = reporting_state(plan=plan, reader=reviewer_reader())
    assert state.quarter == Q4 and state.later == ()
    page = client.get(reverse("reports:national-picture")).content.decode()
    assert "Showing <strong>Jan–Mar 2023</strong>" in page
    assert _firearms_window(Month(2023, 3)).end == Month(2022, 12)

    # Q1 2023/24 opens: it asks for January–March firearms and April–June of the rest, and
    # the year to date starts again at April.
    services.reporting_period_open(plan=plan, period=Q1, deadline=date(2023, 7, 21))
    q1_rows = {(r.measure.code, r.period) for r in return_rows(_return(owner, Q1))}
    assert ("firearms-offences", parse_period("2023-03")) in q1_rows
    assert ("firearms-offences", parse_period("2023-04")) not in q1_rows
    ytd = Period.financial_year_to_date(Month(2023, 6))
    assert ytd.start == Month(2023, 4)

    # A Q3 figure revised: reopen its return, correct it, approve again; version 2 lists
    # exactly that figure.
    robbery = Measure.objects.get(code="robbery-personal")
    q3 = _return(robbery.owner.code, Q3)
    with committed():
        services.return_reopen(return_id=q3.pk, actor=reviewer, reason="late crimes recorded")
    q3 = _return(robbery.owner.code, Q3)
    stored = Value.objects.get(
        measure=robbery, area__code="lancs", start=date(2022, 12, 1), end=date(2022, 12, 1)
    )
    # The lead explains what the warnings flag (the seed's approved figures had no notes).
    explained = [
        services.ValueEntry(r.measure.code, r.period, r.value.value, note="as published")
        for r in return_rows(q3)
        if r.warnings and r.value is not None and not r.value.note and r.measure != robbery
    ]
    services.return_save(
        return_id=q3.pk,
        version=q3.version,
        entries=[
            services.ValueEntry(
                robbery.code, Period.month(Month(2022, 12)), stored.value + 1, note="late crime"
            ),
            *explained,
        ],
        actor=leads[robbery.owner.code],
    )
    with committed():
        services.return_submit(return_id=q3.pk, actor=leads[robbery.owner.code])
        services.return_approve(return_id=q3.pk, actor=reviewer)
    # The late October–December figures entered in Q4 change Q3's figures too, so a Key
    # Headline written before them no longer agrees: the admin overrides it with a reason.
    built = report_build(plan=plan, period=Q3)
    overrides = {p.key: "written before the late figures" for p in built.problems if p.overridable}
    assert all(p.overridable for p in built.problems), built.problems
    second = report_publish(plan=plan, period=Q3, actor=admin, overrides=overrides)
    assert second.number == 2
    # Version 2 lists the revised robbery figure (its year to date: December's month is not
    # printed), old → new, and otherwise only what the late figures that came in with Q4
    # changed — each figure by what it is, none by its row.
    late = {m.name for m in Measure.objects.filter(data_lag_months__gt=0)}
    ytd = f"{robbery.name}, 1st April – 31st December 2022: "
    (revised,) = [line for line in second.changes if line.startswith(robbery.name)]
    old, new = revised.removeprefix(ytd).split(" → ")
    assert int(new.replace(",", "")) == int(old.replace(",", "")) + 1, revised
    for line in second.changes:
        # Footnotes, and the release a section's figures come from, follow the late figures.
        if line == revised or "notes under" in line or "note on the release" in line:
            continue
        names = late | ({robbery.name} if "chart" in line else set())
        assert any(name in line for name in names), line
    assert not any("None" in line for line in second.changes)

    # Publishing Q3 again, unchanged, is refused and makes no version.
    with pytest.raises(NothingChanged):
        report_publish(plan=plan, period=Q3, actor=admin, overrides=overrides)
    assert second.report.versions.count() == 2
