"""An admin's correction of a draft figure reaches the derived figures through a real worker.

The correction is posted to the admin site's change page, as an admin would, with a reason;
services.value_correct marks the measure for recompute in the same transaction and
enqueues the recompute after commit, and a real Celery worker on the real Redis broker
recomputes the provisional ("all") figures. The change and its reason are in the return's
history. Skipped unless the database is PostgreSQL and CELERY_BROKER_URL names a Redis.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from measures.arithmetic.periods import parse_period
from measures.engine import derived as engine
from measures.models import (
    DerivedFigure,
    PendingRecompute,
    RecomputeRun,
    Return,
    ReturnEvent,
    Value,
)
from measures.returns.services import ValueEntry, return_save
from tests.conftest import _person
from tests.tasks.conftest import broker_down, wait_for
from tests.tasks.test_celery_worker import QUARTER, Scene

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: a worker process must see the test's committed data",
    ),
]


def provisional(scene: Scene, month: str) -> DerivedFigure | None:
    return DerivedFigure.objects.filter(
        measure=scene.measure, area__code="force", scope="all", month=f"{month}-01"
    ).first()


def admin_form_data(response) -> dict[str, str]:
    adminform = response.context["adminform"]
    form = adminform.form
    return {
        name: "" if form[name].value() is None else str(field.prepare_value(form[name].value()))
        for name, field in form.fields.items()
        if name not in adminform.readonly_fields
    }


def test_an_admin_correction_of_a_draft_updates_the_derived_figures_and_the_history(
    broker, tmp_path, monkeypatch, client
):
    with broker_down(broker, monkeypatch):
        scene = Scene(tmp_path)
        dana = _person("dana", "admin")
        ret = Return.objects.get(pk=scene.ret.pk)
        return_save(
            return_id=ret.pk,
            version=ret.version,
            entries=[
                ValueEntry("t-assaults", parse_period(m), Decimal(v)) for m, v in QUARTER.items()
            ],
            actor=scene.alice,
        )
    # The figures as they stand before the correction, computed here, not by the worker.
    engine.recompute([scene.measure.pk])
    PendingRecompute.objects.all().delete()
    assert provisional(scene, "2022-12").value == 12
    r12_before = provisional(scene, "2022-12").r12_value
    version = Return.objects.get(pk=scene.ret.pk).version
    worker = broker.start_worker("w1")

    value = Value.objects.get(measure=scene.measure, area__code="force", start="2022-12-01")
    client.force_login(dana)
    change = reverse("admin:measures_value_change", args=[value.pk])
    data = {
        **admin_form_data(client.get(change)),
        "value": "15",
        "reason": "late crimes added",
    }
    response = client.post(change, data)
    assert response.status_code == 302, response.content.decode()[:2000]

    def recomputed() -> DerivedFigure | None:
        figure = provisional(scene, "2022-12")
        done = figure is not None and figure.value == 15
        return figure if done and not PendingRecompute.objects.exists() else None

    figure = wait_for(recomputed, "the worker to recompute the corrected draft", logs=[worker])
    assert figure.r12_value == r12_before + 3
    # Recomputed by the worker, delivered by the broker, not in this process.
    run = RecomputeRun.objects.get(outcome=RecomputeRun.Outcome.DONE)
    assert run.measure_ids == [scene.measure.pk]
    assert run.task_id in worker.received("measures.engine.tasks.recompute_measures_task")
    assert figure.value_approved is False
    approved = DerivedFigure.objects.filter(
        measure=scene.measure, area__code="force", scope="approved", month="2022-12-01"
    ).first()
    assert approved is None or approved.value != 15  # a draft never reaches approved figures

    ret = Return.objects.get(pk=scene.ret.pk)
    event = ReturnEvent.objects.filter(return_obj=ret).order_by("-pk").first()
    assert ret.version == version + 1
    assert (event.kind, event.actor, event.reason) == ("saved", dana, "late crimes added")
    assert [(c["period"], c["old"], c["new"]) for c in event.changes] == [("2022-12", "12", "15")]
    assert Value.objects.get(pk=value.pk).history.latest().history_change_reason == (
        "late crimes added"
    )
