"""Reporting periods: an admin opens one, which creates a return per department."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse

from measures.models import Plan, ReportingPeriod, Return, ReturnEvent
from tests.returns import open_quarter

PERIODS = "/periods/"


def open_form(**changes: str) -> dict[str, str]:
    return {
        "plan": str(Plan.objects.get(code="test-plan").pk),
        "period": "2023/24-Q2",
        "deadline": "2023-10-20",
        "area": "",
        **changes,
    }


def test_the_periods_page_lives_at_periods():
    assert reverse("returns:periods") == PERIODS


def test_an_admin_opens_a_period_and_a_return_is_created_for_each_department(
    client, admin_user, small_plan
):
    client.force_login(admin_user)

    response = client.post(PERIODS, open_form())

    assert response.status_code == 302
    reporting = ReportingPeriod.objects.get()
    assert (reporting.start, reporting.end) == (date(2023, 7, 1), date(2023, 9, 1))
    assert reporting.deadline == date(2023, 10, 20)
    assert reporting.area.code == "force"
    assert reporting.opened_by == admin_user
    assert sorted(reporting.returns.values_list("department__code", flat=True)) == [
        "dept-a",
        "dept-b",
    ]
    opened = ReturnEvent.objects.filter(kind=ReturnEvent.Kind.OPENED)
    assert set(opened.values_list("actor__username", flat=True)) == {"dana"}
    page = client.get(PERIODS).content.decode()
    assert "Opened Jul–Sep 2023 for Test plan: 2 returns, due 20 Oct 2023." in page
    listing = re.search(r'id="periods-title".*?</table>', page, re.S)[0]
    assert "Jul–Sep 2023" in listing
    assert "20 Oct 2023" in listing
    assert "Department A" in listing
    assert "Draft" in listing


def test_the_periods_page_shows_each_returns_state(client, admin_user, alice, small_plan):
    open_quarter()
    Return.objects.filter(department__code="dept-a").update(status=Return.Status.SUBMITTED)
    client.force_login(admin_user)

    listing = client.get(PERIODS).content.decode()

    assert re.search(r"Department A</a>: <span[^>]*>Submitted", listing)
    assert re.search(r"Department B</a>: <span[^>]*>Draft", listing)


def test_bad_period_notation_is_shown_beside_the_field_and_nothing_is_opened(
    client, admin_user, small_plan
):
    client.force_login(admin_user)

    response = client.post(PERIODS, open_form(period="Q1 2023"))
    page = response.content.decode()

    assert response.status_code == 200
    assert re.search(r'id="id_period_error">[^<]*is not a period. Use one of: 2022-12', page)
    assert 'href="#id_period"' in page
    assert not ReportingPeriod.objects.exists()


def test_a_deadline_before_the_period_ends_is_refused(client, admin_user, small_plan):
    client.force_login(admin_user)

    response = client.post(PERIODS, open_form(deadline="2023-08-01"))

    assert re.search(r'id="id_deadline_error">The deadline is before', response.content.decode())
    assert not ReportingPeriod.objects.exists()


def test_opening_a_period_again_adds_no_second_return(client, admin_user, small_plan):
    client.force_login(admin_user)

    client.post(PERIODS, open_form())
    client.post(PERIODS, open_form(deadline="2023-11-01"))

    assert ReportingPeriod.objects.count() == 1
    assert Return.objects.count() == 2


@pytest.mark.parametrize("persona", ["alice", "charlie", "viewer"])
def test_only_admins_may_see_or_open_reporting_periods(client, small_plan, persona, request):
    client.force_login(request.getfixturevalue(persona))

    page = client.get(PERIODS)
    opened = client.post(PERIODS, open_form())

    assert page.status_code == 403
    assert "Only admins may do this." in page.content.decode()
    assert opened.status_code == 403
    assert not ReportingPeriod.objects.exists()
