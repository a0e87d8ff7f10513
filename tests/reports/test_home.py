"""The home page: a lead finds their open returns there; a viewer sees none."""

import datetime

from django.urls import reverse

from measures.arithmetic.periods import parse_period
from measures.models import Plan
from measures.returns import services


def open_quarter():
    services.reporting_period_open(
        plan=Plan.objects.get(code="test-plan"),
        period=parse_period("2022/23-Q3"),
        deadline=datetime.date(2023, 1, 20),
    )


def test_a_lead_sees_their_departments_open_returns_on_the_home_page(client, alice, bob):
    open_quarter()
    client.force_login(alice)

    response = client.get(reverse("home"))

    returns = list(response.context["open_returns"])
    assert [r.department.code for r in returns] == ["dept-a"]
    assert b"Overdue" in response.content
    assert returns[0].get_absolute_url().encode() in response.content


def test_a_viewer_sees_no_returns_on_the_home_page(client, viewer, small_plan):
    open_quarter()
    client.force_login(viewer)
    response = client.get(reverse("home"))
    assert list(response.context["open_returns"]) == []
    assert b"Returns in progress" not in response.content


def test_the_user_admin_sets_role_and_departments_on_one_page(client, admin_user, small_plan):
    client.force_login(admin_user)
    page = client.get(reverse("admin:auth_user_add"))
    assert page.status_code == 200
    change = client.get(reverse("admin:auth_user_change", args=[admin_user.pk]))
    assert b"Role and departments" in change.content
