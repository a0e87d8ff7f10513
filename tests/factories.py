"""Helpers shared by the tests: readers of figures for tests that are not about access."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model

from measures.access import Reader
from measures.models import Profile
from measures.selectors import SeriesBook


def reviewer_reader(*, approved_only: bool = False) -> Reader:
    """Return a reviewer's reader: every figure, drafts included (or approved only)."""
    user, _ = get_user_model().objects.get_or_create(username="test-reviewer-reader")
    Profile.objects.update_or_create(user=user, defaults={"role": Profile.Role.REVIEWER})
    return Reader.of(user, approved_only=approved_only)


def reviewer_book(**kwargs) -> SeriesBook:
    """Return a series book read for a reviewer (every figure, drafts included)."""
    return SeriesBook(reviewer_reader(), **kwargs)


# The table pages, as the code lists them (reports.views.TABLE_PAGES): a new page is
# tested by every test that walks this list the day it is added.
def table_pages() -> list[str]:
    from reports.views import TABLE_PAGES

    return [name for name, _view in TABLE_PAGES]


def monthly_values(
    measure,
    areas,
    *,
    start: str = "2019-01",
    months: int = 48,
    value=lambda i, area: Decimal(10 + i % 7),
    status: str = "approved",
) -> list:
    """Store `months` monthly values of the measure in each area from `start` (approved by
    default); `value(i, area)` gives the i-th month's figure."""
    from measures.arithmetic.periods import parse_month
    from measures.models import Value

    first = parse_month(start)
    return Value.objects.bulk_create(
        Value(
            measure=measure,
            area=area,
            start=first.shift(i).first_day,
            end=first.shift(i).first_day,
            value=value(i, area),
            status=status,
        )
        for area in areas
        for i in range(months)
    )


def published_seed_report(actor):
    """Publish the demo's seed quarter (2022/23 Q3) as `actor`; return the version."""
    from measures.arithmetic.periods import parse_period
    from measures.models import Plan
    from reports.publishing import report_publish

    plan = Plan.objects.get(code="pcp-2021-25")
    return report_publish(plan=plan, period=parse_period("2022/23-Q3"), actor=actor)


def return_in_state(state: str, *, lead, reviewer, figures=(12, 13, 14), quarter="2022/23-Q3"):
    """Return department A's return of the small plan's quarter, walked through the
    services to `state`: draft (figures saved), submitted, returned, approved or reopened.
    Opens the quarter first if it is not open yet."""
    from measures.arithmetic.periods import Period, parse_period
    from measures.models import Plan, Return
    from measures.returns import services

    period = parse_period(quarter)
    ret = Return.objects.filter(
        department__code="dept-a", reporting_period__start=period.start.first_day
    ).first()
    if ret is None:
        from datetime import date

        services.reporting_period_open(
            plan=Plan.objects.get(code="test-plan"), period=period, deadline=date(2023, 1, 20)
        )
        ret = Return.objects.get(
            department__code="dept-a", reporting_period__start=period.start.first_day
        )
    entries = [
        services.ValueEntry("t-assaults", Period.month(month), Decimal(figure))
        for month, figure in zip(period.months, figures, strict=True)
    ]
    ret = services.return_save(return_id=ret.pk, version=ret.version, entries=entries, actor=lead)
    steps = {
        "draft": [],
        "submitted": ["submit"],
        "returned": ["submit", "send_back"],
        "approved": ["submit", "approve"],
        "reopened": ["submit", "approve", "reopen"],
    }
    assert state in steps, f"no such state: {state}"
    for step in steps[state]:
        if step == "submit":
            ret = services.return_submit(return_id=ret.pk, actor=lead)
        elif step == "approve":
            ret = services.return_approve(return_id=ret.pk, actor=reviewer)
        elif step == "send_back":
            ret = services.return_send_back(return_id=ret.pk, actor=reviewer, reason="check Nov")
        else:
            ret = services.return_reopen(return_id=ret.pk, actor=reviewer, reason="revise Dec")
    assert ret.status == state
    return ret
