"""The audit history cannot be changed through the app (SPEC §5, ASVS 16.4.2): return events
and simple-history's records are only ever added.

- ReturnEvent has an admin that lists and shows, and refuses add, change and delete, even to
  a superuser, on every admin URL and through the Return page's inline and bulk actions.
- No Historical* model has an admin of its own.
- The only URLs with "history" in them are the admin's read-only history lists and
  simple-history's "revert" form. Reverting an approved figure or headline there is refused
  (403) and changes nothing; no revert, allowed or not, alters or removes a history row.
"""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from measures.models import Headline, Return, ReturnEvent, Value
from measures.returns import services
from tests.returns import alice_figures, form_data, open_quarter, return_of


@pytest.fixture
def approved(client, alice, charlie, small_plan):
    """Department A's return, filled in with a headline, submitted by Alice and approved by
    Charlie: its figures and headline are approved and have history."""
    open_quarter()
    ret = return_of("dept-a")
    client.force_login(alice)
    url = reverse("returns:detail", args=[ret.pk])
    first = {**alice_figures(), "headline-violence": "Assaults fell."}
    assert (
        client.post(url, {**form_data(client.get(url), **first), "action": "save"}).status_code
        == 302
    )
    second = {**alice_figures(dec="13"), "headline-violence": "Assaults fell again."}
    response = client.post(url, {**form_data(client.get(url), **second), "action": "submit"})
    assert response.status_code == 302
    services.return_approve(return_id=ret.pk, actor=charlie)
    client.logout()
    ret.refresh_from_db()
    assert ret.status == Return.Status.APPROVED
    return ret


def history_rows() -> dict[str, list[tuple]]:
    """Every row of every simple-history table, in full (JSON fields as text, so that rows
    can be compared as sets)."""

    def hashable(row: tuple) -> tuple:
        return tuple(json.dumps(v) if isinstance(v, list | dict) else v for v in row)

    return {
        model._meta.label: sorted(map(hashable, model.objects.values_list()))
        for model in apps.get_models()
        if model.__name__.startswith("Historical")
    }


def event_rows() -> list[tuple]:
    return sorted(ReturnEvent.objects.values_list())


def admin_form_data(response) -> dict[str, str]:
    """The admin form on the page, as a browser would post it back."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        data[name] = "" if value is None else str(field.prepare_value(value))
    return data


# --- ReturnEvent --------------------------------------------------------------------------------


def test_no_one_may_add_change_or_delete_return_events_in_the_admin(admin_user, approved):
    model_admin = admin.site._registry[ReturnEvent]
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    event = ReturnEvent.objects.filter(return_obj=approved).first()

    assert admin_user.is_superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    assert "delete_selected" not in model_admin.get_actions(request)


def test_return_events_refuse_posts_to_every_admin_url(client, admin_user, approved):
    client.force_login(admin_user)
    event = ReturnEvent.objects.filter(return_obj=approved).order_by("pk").first()
    before = event_rows()
    change = reverse("admin:measures_returnevent_change", args=[event.pk])
    delete = reverse("admin:measures_returnevent_delete", args=[event.pk])
    add = reverse("admin:measures_returnevent_add")
    forged = {
        "return_obj": approved.pk,
        "kind": "approved",
        "version": 99,
        "reason": "rewritten",
        "changes": "[]",
        "at_0": "2020-01-01",
        "at_1": "00:00:00",
    }

    assert client.get(change).status_code == 200  # it can be read
    assert client.post(change, forged).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(add).status_code == 403
    assert client.post(add, forged).status_code == 403
    bulk = client.post(
        reverse("admin:measures_returnevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert event_rows() == before


def test_the_return_pages_inline_cannot_change_or_delete_events(client, admin_user, approved):
    client.force_login(admin_user)
    url = reverse("admin:measures_return_change", args=[approved.pk])
    page = client.get(url)
    assert page.status_code == 200
    events = list(ReturnEvent.objects.filter(return_obj=approved).order_by("at", "pk"))
    before = event_rows()
    data = {
        "events-TOTAL_FORMS": str(len(events) + 1),
        "events-INITIAL_FORMS": str(len(events)),
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
    }
    for index, event in enumerate(events):
        data.update(
            {
                f"events-{index}-id": str(event.pk),
                f"events-{index}-return_obj": str(approved.pk),
                f"events-{index}-reason": "rewritten",
                f"events-{index}-DELETE": "on",
            }
        )
    new = len(events)
    data.update({f"events-{new}-kind": "approved", f"events-{new}-reason": "forged"})

    client.post(url, data)

    assert event_rows() == before


# --- simple-history -------------------------------------------------------------------------


def test_no_historical_model_has_an_admin():
    registered = [
        model for model in admin.site._registry if model.__name__.startswith("Historical")
    ]

    assert registered == []
    historical = [m for m in apps.get_models() if m.__name__.startswith("Historical")]
    assert historical, "simple-history's models are installed"


def _history_urls(patterns=None, prefix="") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found += _history_urls(entry.url_patterns, route)
        elif "history" in route:
            found.append((entry.name or "", entry))
    return found


def test_the_only_history_urls_are_read_only_lists_and_the_revert_form():
    names = [name for name, _ in _history_urls()]

    assert names
    for name in names:
        assert name.endswith("_history"), f"{name}: a history URL nobody decided about"
    # Django's own history list only reads the admin log; simple-history's form view is the
    # one that can save (revert), tested below for every model that has it.
    revert_forms = [name for name in names if name.endswith("_simple_history")]
    assert {"measures_value_simple_history", "measures_headline_simple_history"} <= set(
        revert_forms
    )


def test_reverting_an_approved_figure_in_the_admin_is_refused(client, admin_user, approved):
    value = Value.objects.get(measure__code="t-assaults", start="2022-12-01")
    assert value.status == Value.Status.APPROVED and value.value == 13
    oldest = value.history.order_by("history_id").first()
    assert oldest.value == 11
    client.force_login(admin_user)
    url = reverse("admin:measures_value_simple_history", args=[value.pk, oldest.history_id])
    before = history_rows()

    response = client.post(url, admin_form_data(client.get(url)))

    assert response.status_code == 403
    value.refresh_from_db()
    assert (value.value, value.status) == (13, Value.Status.APPROVED)
    assert history_rows() == before


def test_reverting_an_approved_headline_in_the_admin_is_refused(client, admin_user, approved):
    headline = Headline.objects.get(priority__code="violence")
    assert headline.status == Headline.Status.APPROVED
    oldest = headline.history.order_by("history_id").first()
    assert oldest.text == "Assaults fell."
    client.force_login(admin_user)
    url = reverse("admin:measures_headline_simple_history", args=[headline.pk, oldest.history_id])
    before = history_rows()

    response = client.post(url, admin_form_data(client.get(url)))

    assert response.status_code == 403
    headline.refresh_from_db()
    assert headline.text == "Assaults fell again."
    assert history_rows() == before


def test_changing_or_deleting_an_approved_figure_in_the_admin_is_refused(
    client, admin_user, approved
):
    value = Value.objects.get(measure__code="t-assaults", start="2022-12-01")
    client.force_login(admin_user)
    change = reverse("admin:measures_value_change", args=[value.pk])
    data = {**admin_form_data(client.get(change)), "value": "999"}
    before = history_rows()

    assert client.post(change, data).status_code == 403
    assert (
        client.post(
            reverse("admin:measures_value_delete", args=[value.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    value.refresh_from_db()
    assert value.value == 13
    assert history_rows() == before


def test_no_revert_form_alters_or_removes_existing_history(client, admin_user, approved):
    """Every model's revert form, posted back as shown: at most a new history row is added
    (an ordinary admin edit); no existing row changes or goes."""
    client.force_login(admin_user)
    before = history_rows()
    posted = 0
    for model in admin.site._registry:
        if not hasattr(model, "history"):
            continue
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            continue
        record = obj.history.order_by("history_id").first()
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}_simple_history"
        url = reverse(name, args=[obj.pk, record.history_id])
        page = client.get(url)
        assert page.status_code == 200, url
        client.post(url, admin_form_data(page))
        posted += 1

    assert posted >= 5
    after = history_rows()
    for label, rows in before.items():
        assert set(rows) <= set(after[label]), f"{label}: history rows changed or removed"
