"""Breaks in series (SPEC §2, issue 13): control limits start afresh where the process
changed, and run rules restart there; limits never pass what a figure can take.

The pure functions (`spc.segments`, `spc.month_checks`) are the authority; the engine's SPC
columns must equal `month_checks` (issue 15); the admin site and `import_plan` record
breaks through `catalogue.series_break_save`.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from measures import services as catalogue
from measures.arithmetic import spc
from measures.arithmetic.periods import Month
from measures.engine import derived as engine
from measures.importing.plan import PlanInvalid, plan_import
from measures.models import Area, DerivedFigure, Measure, PendingRecompute, SeriesBreak, Value
from tests.conftest import SMALL_PLAN

D = Decimal
FIRST = Month(2019, 1)


def numbers(*values: int | None) -> list[Decimal | None]:
    return [None if v is None else D(v) for v in values]


# --- the pure functions ------------------------------------------------------------------------


def test_a_count_lower_limit_below_zero_is_held_at_zero_and_remembers_the_calculated_one():
    limits = spc.xmr_limits(numbers(0, 3, 0, 4, 1, 0), bounds=spc.unit_bounds("count"))
    assert limits is not None
    assert limits.lower == 0 and limits.lower_held
    assert limits.calculated_lower is not None and limits.calculated_lower < 0
    assert not limits.upper_held


def test_a_percentage_upper_limit_above_100_is_held_at_100():
    limits = spc.xmr_limits(numbers(90, 100, 85, 100, 90, 100), bounds=spc.unit_bounds("percent"))
    assert limits is not None
    assert limits.upper == 100 and limits.upper_held
    assert limits.calculated_upper is not None and limits.calculated_upper > 100


def test_without_bounds_the_limits_are_as_calculated():
    limits = spc.xmr_limits(numbers(0, 3, 0, 4, 1, 0))
    assert limits is not None and limits.lower < 0 and not limits.lower_held


def test_segments_have_limits_of_their_own_values_only():
    values = numbers(*[2, 3] * 6, *[20, 21] * 6)
    before, after = spc.segments(values, {12: "a new recording rule"})
    assert (before.start, before.stop, before.reason) == (0, 12, "")
    assert (after.start, after.stop, after.reason) == (12, 24, "a new recording rule")
    assert before.limits == spc.xmr_limits(values[:12])
    assert after.limits == spc.xmr_limits(values[12:])


def test_a_break_at_the_first_point_or_past_the_last_cuts_nothing():
    values = numbers(*range(10))
    (whole,) = spc.segments(values, {0: "earlier", 10: "later", -3: "long ago"})
    assert (whole.start, whole.stop, whole.reason) == (0, 10, "")


def test_a_segment_of_fewer_than_six_values_has_no_limits_and_no_signals():
    values = numbers(5, 6, 5, 6, 5, 6, 5, 6, 40, 41, 39)
    parts = spc.segments(values, {8: "step up"})
    assert parts[1].limits is None
    assert spc.segment_signals(values, parts)[8:] == [set(), set(), set()]


def test_run_rules_restart_at_a_break():
    # 6, 7, 8 | 9, 10, 11 rise six in a row only across the break.
    values = numbers(5, 9, 5, 9, 5, 9, 6, 7, 8, 9, 10, 11, 5, 9, 5, 9, 5)
    unbroken = spc.signals(values, spc.xmr_limits(values))  # type: ignore[arg-type]
    assert all(spc.Signal.TREND_UP in unbroken[i] for i in range(6, 12))

    broken = spc.segment_signals(values, spc.segments(values, {9: "new team"}))
    assert not any(spc.Signal.TREND_UP in found for found in broken)


def test_a_missing_value_has_no_signals_and_breaks_a_run():
    values = numbers(1, 1, 1, 1, 1, 1, 1, 9, 9, 9, None, 9, 9, 9, 9)
    found = spc.segment_signals(values, spc.segments(values))
    assert found[10] == set()
    assert not any(spc.Signal.RUN_ABOVE in f for f in found)


def test_month_checks_judge_each_month_by_its_history_back_to_the_latest_break():
    values = numbers(*[10, 12] * 10, *[40, 42] * 5)
    checks = spc.month_checks(values, breaks=[20])
    # Just after the break there is no history yet: no limits, no signals.
    assert all(c.limits is None and not c.signals for c in checks[20:26])
    assert checks[26].limits is not None and checks[26].limits.centre == 41
    # Without the break every month after the step is beyond the limits.
    unbroken = spc.month_checks(values)
    assert all(spc.Signal.BEYOND_LIMITS in c.signals for c in unbroken[20:23])


def test_month_checks_hold_limits_within_the_figure_bounds():
    checks = spc.month_checks(numbers(0, 4, 0, 5, 0, 3, 1, 0), bounds=spc.unit_bounds("count"))
    assert [c.limits.lower for c in checks[6:] if c.limits] == [0, 0]


# --- the engine agrees with month_checks (issue 15) --------------------------------------------

MONTHS = 40


def store(measure: Measure, area: Area, values: list[int | None]) -> None:
    Value.objects.filter(measure=measure).delete()
    Value.objects.bulk_create(
        Value(
            measure=measure,
            area=area,
            start=FIRST.shift(i).first_day,
            end=FIRST.shift(i).first_day,
            value=D(number),
            status="approved",
        )
        for i, number in enumerate(values)
        if number is not None
    )


def engine_checks(measure: Measure, area: Area) -> dict[int, DerivedFigure]:
    return {
        row.month_index - FIRST.index: row
        for row in DerivedFigure.objects.filter(measure=measure, area=area, scope="all")
    }


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(D(a) - D(b)) < D("0.0001")


@st.composite
def monthly_counts(draw) -> list[int | None]:
    """Whole counts (a value equal to a mean is then equal in floating point too), built of
    steps, ramps and noise so that runs and trends occur, with a few gaps."""
    values: list[int | None] = []
    while len(values) < MONTHS:
        kind = draw(st.sampled_from(["level", "ramp", "noise"]))
        length = draw(st.integers(1, 10))
        start = draw(st.integers(0, 30))
        if kind == "level":
            values += [start] * length
        elif kind == "ramp":
            step = draw(st.sampled_from([-2, -1, 1, 2]))
            values += [max(0, start + step * i) for i in range(length)]
        else:
            values += draw(st.lists(st.integers(0, 30), min_size=length, max_size=length))
        if draw(st.booleans()) and values:
            values[-1] = None
    values = values[:MONTHS]
    values[0] = values[0] if values[0] is not None else 0
    return values


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=monthly_counts(), breaks=st.sets(st.integers(-3, MONTHS + 3), max_size=3))
def test_the_engine_spc_columns_equal_month_checks(small_plan, values, breaks):
    measure = Measure.objects.get(code="t-assaults")
    area = Area.objects.get(code="force")
    store(measure, area, values)
    SeriesBreak.objects.filter(measure=measure).delete()
    SeriesBreak.objects.bulk_create(
        SeriesBreak(measure=measure, start=FIRST.shift(i).first_day, reason=f"break {i}")
        for i in breaks
    )

    engine.recompute([measure.pk])

    rows = engine_checks(measure, area)
    last = max(i for i, v in enumerate(values) if v is not None)
    expected = spc.month_checks(
        [D(v) if v is not None else None for v in values[: last + 1]],
        breaks=breaks,
        bounds=spc.unit_bounds("count"),
    )
    for i, check in enumerate(expected):
        row = rows[i]
        limits = check.limits
        assert close(row.spc_centre, limits and limits.centre), i
        assert close(row.spc_lower, limits and limits.lower), i
        assert close(row.spc_upper, limits and limits.upper), i
        found = {s for s in row.spc_signals.split(",") if s}
        assert found == {str(s) for s in check.signals}, (i, found, check.signals)


def test_the_engine_holds_a_percentage_upper_limit_at_100(small_plan):
    measure = Measure.objects.get(code="t-satisfied")
    area = Area.objects.get(code="force")
    Value.objects.bulk_create(
        Value(
            measure=measure,
            area=area,
            start=FIRST.shift(i).first_day,
            end=FIRST.shift(i).first_day,
            value=D(number),
            numerator=D(number),
            denominator=D(100),
            status="approved",
        )
        for i, number in enumerate([90, 100] * 5)
    )
    engine.recompute([measure.pk])
    uppers = set(
        DerivedFigure.objects.filter(measure=measure, spc_upper__isnull=False).values_list(
            "spc_upper", flat=True
        )
    )
    assert uppers == {D(100)}


# --- recording a break -------------------------------------------------------------------------


def test_recording_a_break_marks_its_measure_for_recompute_with_history(small_plan, admin_user):
    measure = Measure.objects.get(code="t-assaults")
    PendingRecompute.objects.all().delete()

    series_break = catalogue.series_break_save(
        series_break=SeriesBreak(
            measure=measure, start=datetime.date(2021, 3, 17), reason="New crime recording rule"
        ),
        actor=admin_user,
    )

    assert series_break.start == datetime.date(2021, 3, 1)  # a month, named by any day
    assert PendingRecompute.objects.filter(measure=measure).exists()
    record = series_break.history.get()
    assert record.history_user == admin_user

    PendingRecompute.objects.all().delete()
    catalogue.series_break_delete(series_break_id=series_break.pk, actor=admin_user)
    assert not SeriesBreak.objects.exists()
    assert PendingRecompute.objects.filter(measure=measure).exists()
    assert SeriesBreak.history.filter(history_type="-").count() == 1


def test_only_admins_record_breaks(small_plan, alice):
    measure = Measure.objects.get(code="t-assaults")
    with pytest.raises(PermissionDenied):
        catalogue.series_break_save(
            series_break=SeriesBreak(measure=measure, start=datetime.date(2021, 3, 1), reason="x"),
            actor=alice,
        )
    assert not SeriesBreak.objects.exists()


def inline_data(response, prefix: str = "series_breaks") -> dict[str, str]:
    """The measure's admin page as a browser would post it back, with its inlines."""
    data: dict[str, str] = {}
    for form in [response.context["adminform"].form] + [
        f for formset in response.context["inline_admin_formsets"] for f in formset.formset
    ]:
        for name, field in form.fields.items():
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = (
                str(field.prepare_value(value)) if not isinstance(value, list) else value
            )
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = str(management[name].value())
    return data


def test_an_admin_records_a_break_on_the_measure_page_through_the_service(
    small_plan, admin_user, client
):
    measure = Measure.objects.get(code="t-assaults")
    client.force_login(admin_user)
    url = reverse("admin:measures_measure_change", args=[measure.pk])
    data = inline_data(client.get(url))
    data.update(
        {
            "series_breaks-TOTAL_FORMS": "1",
            "series_breaks-0-start": "2021-03-17",
            "series_breaks-0-reason": "New crime recording rule",
            "series_breaks-0-measure": str(measure.pk),
        }
    )
    PendingRecompute.objects.all().delete()

    response = client.post(url, data)

    assert response.status_code == 302, response.context and [
        f.errors for f in response.context["inline_admin_formsets"][1].formset
    ]
    series_break = SeriesBreak.objects.get(measure=measure)
    assert (series_break.start, series_break.reason) == (
        datetime.date(2021, 3, 1),
        "New crime recording rule",
    )
    assert series_break.history.get().history_user == admin_user
    assert PendingRecompute.objects.filter(measure=measure).exists()

    data = inline_data(client.get(url))
    data["series_breaks-0-DELETE"] = "on"
    assert client.post(url, data).status_code == 302
    assert not SeriesBreak.objects.exists()


# --- import_plan -------------------------------------------------------------------------------


def plan_with_breaks(*breaks: dict) -> dict:
    data = {**SMALL_PLAN, "priorities": [dict(p) for p in SMALL_PLAN["priorities"]]}
    violence = data["priorities"][0]
    violence["measures"] = [dict(m) for m in violence["measures"]]
    violence["measures"][0]["breaks"] = list(breaks)
    return data


COVID = {"from": "2020-03", "reason": "Covid-19 restrictions"}


def test_import_plan_records_the_breaks_a_measure_declares(db):
    plan_import(data=plan_with_breaks(COVID, {"from": "2021-08", "reason": "Lifted"}))
    assert [
        (b.measure.code, b.month.iso, b.reason)
        for b in SeriesBreak.objects.select_related("measure")
    ] == [
        ("t-assaults", "2020-03", "Covid-19 restrictions"),
        ("t-assaults", "2021-08", "Lifted"),
    ]


def test_reimporting_the_same_breaks_changes_nothing_and_an_edited_reason_updates(db):
    plan_import(data=plan_with_breaks(COVID))
    history = SeriesBreak.history.count()

    summary = plan_import(data=plan_with_breaks(COVID))
    assert (summary.created, summary.updated) == (0, 0)
    assert SeriesBreak.history.count() == history

    plan_import(data=plan_with_breaks({**COVID, "reason": "The Covid period"}))
    assert [b.reason for b in SeriesBreak.objects.all()] == ["The Covid period"]


@pytest.mark.parametrize("start", ["2020-03/2020-05", "2020/21", "March 2020", ""])
def test_a_break_is_one_month(db, start):
    with pytest.raises(PlanInvalid, match=r"breaks\[0\]\.from"):
        plan_import(data=plan_with_breaks({**COVID, "from": start}))
    assert not SeriesBreak.objects.exists()


def test_a_break_needs_a_reason(db):
    with pytest.raises(PlanInvalid, match=r"breaks\[0\]\.reason is required"):
        plan_import(data=plan_with_breaks({"from": "2020-03"}))
