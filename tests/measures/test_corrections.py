"""Writes outside the return form go through services and are recorded like any other edit.

An admin's correction of a figure or headline (`value_correct`, `headline_correct`), a
target's save (`target_save`), and an import of figures that fall in a return (both the
row-by-row import and the COPY path) each record who changed what and why in the return's
history, bump its version and keep that person from approving it (SPEC §5).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction

from measures import services as catalogue
from measures.arithmetic.periods import parse_period
from measures.importing import values_copy as importers_sql
from measures.importing.headlines import headlines_import
from measures.importing.rules import ImportRejected
from measures.importing.values import values_import
from measures.models import (
    Headline,
    PendingRecompute,
    Plan,
    Return,
    ReturnEvent,
    Target,
    Value,
)
from measures.returns import services, workflow
from measures.returns.services import ValueEntry

Q3 = parse_period("2022/23-Q3")
HEADER = "measure,area,period,value,numerator,denominator,note,source\n"


@pytest.fixture
def return_a(small_plan, alice):
    """Department A's Q3 2022/23 return, with Alice's draft figures 10, 11 and 12."""
    reporting = services.reporting_period_open(
        plan=Plan.objects.get(code="test-plan"), period=Q3, deadline=datetime.date(2023, 1, 20)
    )
    ret = Return.objects.get(reporting_period=reporting, department__code="dept-a")
    return services.return_save(
        return_id=ret.pk,
        version=ret.version,
        entries=[
            ValueEntry("t-assaults", parse_period(m), Decimal(v))
            for m, v in (("2022-10", 10), ("2022-11", 11), ("2022-12", 12))
        ],
        headlines={"violence": "Assaults fell."},
        actor=alice,
    )


def december() -> Value:
    return Value.objects.get(measure__code="t-assaults", area__code="force", start="2022-12-01")


def correct(value: Value, actor, figure="15", reason="late crimes added", **fields) -> Value:
    return services.value_correct(
        value_id=value.pk,
        value=Decimal(figure),
        numerator=fields.get("numerator"),
        denominator=fields.get("denominator"),
        note=fields.get("note", ""),
        reason=reason,
        actor=actor,
    )


def last_event(ret: Return) -> ReturnEvent:
    return ReturnEvent.objects.filter(return_obj=ret).order_by("-pk").first()


def write(tmp_path: Path, text: str, name: str = "values.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- value_correct ------------------------------------------------------------------------------


def test_an_admins_correction_is_recorded_in_the_return_and_bars_them_from_approving(
    return_a, admin_user, alice, charlie
):
    version = return_a.version
    PendingRecompute.objects.all().delete()  # the plan import's, for its target

    correct(december(), admin_user)

    ret = Return.objects.get(pk=return_a.pk)
    event = last_event(ret)
    assert (ret.version, ret.status) == (version + 1, Return.Status.DRAFT)
    assert (event.kind, event.actor, event.reason) == ("saved", admin_user, "late crimes added")
    assert event.changes == [
        {
            "kind": "value",
            "measure": "t-assaults",
            "period": "2022-12",
            "label": "Assaults, Dec 2022",
            "field": "value",
            "old": "12",
            "new": "15",
        }
    ]
    stored = december()
    assert (stored.value, stored.status, stored.updated_by) == (15, "draft", admin_user)
    record = stored.history.latest()
    assert (record.history_user, record.history_change_reason) == (admin_user, "late crimes added")
    assert PendingRecompute.objects.get(measure=stored.measure).drafts_only
    assert admin_user.pk in workflow.editors_of(ret)
    services.return_submit(return_id=ret.pk, actor=alice)
    with pytest.raises(PermissionDenied):
        services.return_approve(return_id=ret.pk, actor=admin_user)
    services.return_approve(return_id=ret.pk, actor=charlie)


def test_a_correction_needs_an_admin_and_a_reason(return_a, alice, charlie, admin_user):
    for person in (alice, charlie):
        with pytest.raises(PermissionDenied):
            correct(december(), person)
    with pytest.raises(services.ReturnInvalid) as caught:
        correct(december(), admin_user, reason="  ")
    assert "reason" in caught.value.errors
    assert december().value == 12


@pytest.mark.parametrize("state", ["submitted", "approved"])
def test_a_figure_of_a_return_under_review_or_approved_cannot_be_corrected(
    return_a, admin_user, alice, charlie, state
):
    services.return_submit(return_id=return_a.pk, actor=alice)
    if state == "approved":
        services.return_approve(return_id=return_a.pk, actor=charlie)
    events = ReturnEvent.objects.count()

    with pytest.raises(services.FigureLocked, match=f"is {state}"):
        correct(december(), admin_user)

    assert december().value == 12
    assert ReturnEvent.objects.count() == events
    assert services.value_lock_reason(value_id=december().pk)


def test_a_figure_that_breaks_the_rules_is_refused(return_a, admin_user):
    with pytest.raises(services.ReturnInvalid, match="problem"):
        correct(december(), admin_user, figure="-1")
    with pytest.raises(services.ReturnInvalid):
        correct(december(), admin_user, figure="1.5")
    assert december().value == 12


def test_an_unchanged_correction_records_nothing(return_a, admin_user):
    version = return_a.version
    correct(december(), admin_user, figure="12")
    assert Return.objects.get(pk=return_a.pk).version == version


def test_a_figure_in_no_return_is_corrected_with_its_reason_in_its_history(
    small_plan, admin_user, tmp_path
):
    values_import(path=write(tmp_path, HEADER + "t-assaults,nation,2022-06,8,,,,\n"))
    national = Value.objects.get(area__code="nation")
    assert services.returns_holding_value(national) == []

    correct(national, admin_user, figure="9", reason="ONS revision")

    national.refresh_from_db()
    assert national.value == 9
    assert national.history.latest().history_change_reason == "ONS revision"
    assert not ReturnEvent.objects.exists()


def test_an_approved_figure_in_no_return_cannot_be_corrected(small_plan, admin_user, tmp_path):
    values_import(path=write(tmp_path, HEADER + "t-assaults,nation,2022-06,8,,,,\n"), approve=True)
    with pytest.raises(services.FigureLocked, match="approved"):
        correct(Value.objects.get(area__code="nation"), admin_user)


# --- headline_correct ---------------------------------------------------------------------------


def test_an_admins_headline_correction_is_recorded_in_the_return(return_a, admin_user, alice):
    headline = Headline.objects.get()
    version = return_a.version

    services.headline_correct(
        headline_id=headline.pk, text="Assaults fell by 4%.", reason="typo", actor=admin_user
    )

    ret = Return.objects.get(pk=return_a.pk)
    event = last_event(ret)
    assert ret.version == version + 1
    assert (event.actor, event.reason) == (admin_user, "typo")
    assert event.changes[0]["old"] == "Assaults fell."
    assert event.changes[0]["new"] == "Assaults fell by 4%."
    services.return_submit(return_id=ret.pk, actor=alice)
    with pytest.raises(PermissionDenied):
        services.return_approve(return_id=ret.pk, actor=admin_user)


def test_a_headline_of_a_submitted_return_cannot_be_corrected(return_a, admin_user, alice):
    services.return_submit(return_id=return_a.pk, actor=alice)
    with pytest.raises(services.FigureLocked):
        services.headline_correct(
            headline_id=Headline.objects.get().pk, text="x", reason="typo", actor=admin_user
        )
    assert Headline.objects.get().text == "Assaults fell."


# --- target_save --------------------------------------------------------------------------------


def test_saving_a_target_is_for_admins_and_marks_its_measure_for_recompute(
    small_plan, admin_user, charlie
):
    target = Target.objects.get()
    target.tolerance = Decimal(2)
    with pytest.raises(PermissionDenied):
        catalogue.target_save(target=target, actor=charlie)
    PendingRecompute.objects.all().delete()

    catalogue.target_save(target=target, actor=admin_user, reason="agreed at board")

    target.refresh_from_db()
    assert target.tolerance == 2
    record = target.history.latest()
    assert (record.history_user, record.history_change_reason) == (admin_user, "agreed at board")
    mark = PendingRecompute.objects.get()
    assert (mark.measure_id, mark.drafts_only) == (target.measure_id, False)


def test_deleting_a_target_marks_its_measure_for_recompute(small_plan, admin_user):
    target = Target.objects.get()
    PendingRecompute.objects.all().delete()
    catalogue.target_delete(target_id=target.pk, actor=admin_user)
    assert not Target.objects.exists()
    assert PendingRecompute.objects.get().measure_id == target.measure_id


# --- imports into returns -----------------------------------------------------------------------

ON_POSTGRES = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL")
PATHS = [
    pytest.param(False, id="row by row"),
    pytest.param(True, id="COPY", marks=ON_POSTGRES),
]


def run_import(path: Path, *, copy: bool, **options):
    if copy:
        summary = importers_sql.values_import_copy(path=path, **options)
        assert summary is not None, "the COPY path took the file"
        return summary
    with patch.object(importers_sql, "values_import_copy", return_value=None):
        return values_import(path=path, **options)


@pytest.mark.parametrize("copy", PATHS)
def test_an_import_into_a_draft_return_is_recorded_in_it_naming_the_importer(
    return_a, admin_user, alice, charlie, tmp_path, copy
):
    version = return_a.version
    PendingRecompute.objects.all().delete()  # the plan import's, for its target
    path = write(
        tmp_path,
        HEADER
        + "t-assaults,nation,2022-12,99,,,,\n"  # in no return
        + "t-assaults,force,2022-11,11,,,,\n"  # unchanged
        + "t-assaults,force,2022-12,13,,,late crimes,\n",
    )

    run_import(path, copy=copy, approve=False, user=admin_user, reason="monthly load")

    ret = Return.objects.get(pk=return_a.pk)
    event = last_event(ret)
    assert ret.version == version + 1
    assert (event.kind, event.actor, event.reason) == ("saved", admin_user, "monthly load")
    assert [(c["period"], c["field"], c["old"], c["new"]) for c in event.changes] == [
        ("2022-12", "value", "12", "13"),
        ("2022-12", "note", None, "late crimes"),
    ]
    assert PendingRecompute.objects.get(measure__code="t-assaults").drafts_only
    services.return_submit(return_id=ret.pk, actor=alice)
    with pytest.raises(PermissionDenied):
        services.return_approve(return_id=ret.pk, actor=admin_user)
    services.return_approve(return_id=ret.pk, actor=charlie)


@pytest.mark.parametrize("copy", PATHS)
def test_a_new_figure_imported_into_a_returned_return_makes_it_a_draft_again(
    return_a, alice, charlie, admin_user, tmp_path, copy
):
    Value.objects.filter(start="2022-12-01").delete()
    Return.objects.filter(pk=return_a.pk).update(status=Return.Status.RETURNED)

    run_import(
        write(tmp_path, HEADER + "t-assaults,force,2022-12,14,,,,\n"),
        copy=copy,
        approve=False,
        user=admin_user,
        reason="",
    )

    ret = Return.objects.get(pk=return_a.pk)
    event = last_event(ret)
    assert ret.status == Return.Status.DRAFT
    assert (event.from_status, event.to_status, event.reason) == (
        "returned",
        "draft",
        "import values.csv",
    )
    assert [(c["field"], c["new"]) for c in event.changes] == [("value", "14")]


def test_the_two_import_paths_record_the_same_return_events(return_a, admin_user, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("COPY needs PostgreSQL")
    text = (
        HEADER
        + "t-assaults,force,2022-10,10,,,a note,Own source\n"
        + "t-assaults,force,2022-12/2022-12,-0,,,,\n"
        + "t-assaults,force,2022-11,11.0,,,,\n"
    )
    recorded = []
    for copy in (False, True):
        with transaction.atomic():
            run_import(
                write(tmp_path, text), copy=copy, approve=False, user=admin_user, reason="r"
            )
            event = last_event(Return.objects.get(pk=return_a.pk))
            recorded.append((event.actor_id, event.reason, event.version, event.changes))
            transaction.set_rollback(True)
    assert recorded[0] == recorded[1]
    assert [(c["period"], c["field"], c["new"]) for c in recorded[0][3]] == [
        ("2022-10", "note", "a note"),
        ("2022-10", "source", "Own source"),
        ("2022-12", "value", "0"),
    ]


@pytest.mark.parametrize("copy", [False, True])
def test_approving_by_import_a_figure_of_a_return_not_yet_approved_is_refused(
    return_a, tmp_path, copy
):
    if copy and connection.vendor != "postgresql":
        pytest.skip("COPY needs PostgreSQL")
    path = write(
        tmp_path, HEADER + "t-assaults,nation,2022-12,5,,,,\nt-assaults,force,2022-12,12,,,,\n"
    )
    if copy:
        # The COPY path declines it, and the row-by-row import says why.
        declined = importers_sql.values_import_copy(path=path, approve=True, user=None, reason="")
        assert declined is None
    with pytest.raises(ImportRejected) as caught:
        values_import(path=path, approve=True)
    assert [str(e) for e in caught.value.errors] == [
        "line 3: t-assaults 2022-12 belongs to the return of Department A for Oct–Dec 2022, "
        "which is draft; --approve cannot approve a figure its return has not approved: "
        "import it as a draft and let the return be reviewed"
    ]
    assert december().status == Value.Status.DRAFT
    assert not Value.objects.filter(area__code="nation").exists()


def test_a_headline_import_into_a_draft_return_is_recorded_and_approving_one_is_refused(
    return_a, admin_user
):
    item = {
        "priority": "violence",
        "period": "2022/23-Q3",
        "department": "dept-a",
        "text": "Assaults fell by 4%.",
    }
    with pytest.raises(Exception, match="approve it by approving the return"):
        headlines_import(data=[item], approve=True)

    headlines_import(data=[item], user=admin_user, reason="from the briefing")

    event = last_event(Return.objects.get(pk=return_a.pk))
    assert (event.actor, event.reason) == (admin_user, "from the briefing")
    assert event.changes[0]["new"] == "Assaults fell by 4%."


def test_an_admin_change_to_a_measure_s_arithmetic_marks_it_for_recompute(small_plan, admin_user):
    from django.test import Client

    from measures.models import Measure, PendingRecompute

    measure = Measure.objects.get(code="t-assaults")
    PendingRecompute.objects.all().delete()
    client = Client()
    client.force_login(admin_user)
    url = f"/admin/measures/measure/{measure.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {
        name: form[name].value() if form[name].value() is not None else "" for name in form.fields
    }
    data.update(
        {
            "aliases": "[]",
            "targets-TOTAL_FORMS": "0",
            "targets-INITIAL_FORMS": "0",
            "series_breaks-TOTAL_FORMS": "0",
            "series_breaks-INITIAL_FORMS": "0",
            "name": "Assaults (renamed)",
        }
    )
    data = {k: v for k, v in data.items() if v is not False}

    client.post(url, data)
    measure.refresh_from_db()
    assert measure.name == "Assaults (renamed)"
    assert not PendingRecompute.objects.filter(measure=measure).exists()

    data.update({"polarity": "higher_is_better"})
    client.post(url, data)
    measure.refresh_from_db()
    assert measure.polarity == "higher_is_better"
    assert PendingRecompute.objects.filter(measure=measure).exists()
    assert measure.history.first().history_user == admin_user
