"""One way to write figures (SPEC §5, STYLE §9, issue 10): generated over every door.

- Every ModelAdmin in the registry: no add or change form, nor any inline, offers a status,
  who changed a figure, a version or a return as an editable field. For every model that
  holds figures (a `status` with ReviewStatus choices, found generically) the real admin
  URLs refuse to change, delete or revert a figure of a submitted or an approved return,
  and to add one to an approved return.
- Every write operation of the API schema, and every other method of every API path.
- Every URL pattern outside the admin and the API, posted to with forged figures and
  statuses.

An admin, API operation or URL pattern the tables below do not classify fails the test, so
a new door cannot open unexamined. Then, for every path that may legitimately change a
draft figure (the return form, the API, the import command and both import paths, the
admin's correction), whoever changed it cannot approve the return, and the change is in
the return's history with who, why and a new version.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import pytest
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection, models
from django.test import Client, RequestFactory
from django.urls import URLResolver, get_resolver, reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from measures.arithmetic.periods import parse_period
from measures.importing import values_copy as importers_sql
from measures.importing.values import values_import
from measures.models import (
    ComparisonGroup,
    Headline,
    Plan,
    Return,
    ReturnEvent,
    ReviewStatus,
    Source,
    Target,
    Value,
)
from measures.returns import services
from measures.returns.rows import return_rows, row_key
from measures.returns.services import ValueEntry
from tests.conftest import PASSWORD
from tests.returns import open_quarter, return_of

Q3, Q4 = "2022/23-Q3", "2022/23-Q4"  # Oct–Dec 2022, Jan–Mar 2023
FORBIDDEN = {"status", "updated_by", "version", "return_obj", "submitted_by", "decided_by"}


# --- the scene ----------------------------------------------------------------------------------


@dataclass
class Scene:
    approved: Return  # department A, Q3: entered by Alice, approved by Charlie
    submitted: Return  # department B, Q3: entered and submitted by Bob
    draft: Return  # department A, Q4: Alice's draft figures
    alice: object
    bob: object
    charlie: object
    dana: object  # the admin

    def fresh(self, ret: Return) -> Return:
        return Return.objects.get(pk=ret.pk)


def entries(code: str, figures: dict[str, str]) -> list[ValueEntry]:
    return [
        ValueEntry(code, parse_period(period), Decimal(figure), note="checked")
        for period, figure in figures.items()
    ]


def save(ret: Return, actor, values: list[ValueEntry], headline: str) -> Return:
    ret = Return.objects.get(pk=ret.pk)
    return services.return_save(
        return_id=ret.pk,
        version=ret.version,
        entries=values,
        headlines={"violence": headline},
        actor=actor,
    )


@pytest.fixture
def scene(alice, bob, charlie, admin_user, viewer, tmp_path) -> Scene:
    open_quarter(Q3)
    open_quarter(Q4, deadline=datetime.date(2023, 4, 21))
    approved = save(
        return_of("dept-a", Q3),
        alice,
        entries("t-assaults", {"2022-10": "10", "2022-11": "11", "2022-12": "12"}),
        "Assaults fell.",
    )
    services.return_submit(return_id=approved.pk, actor=alice)
    approved = services.return_approve(return_id=approved.pk, actor=charlie)
    submitted = save(
        return_of("dept-b", Q3),
        bob,
        entries("t-satisfied", {"2022-10": "70", "2022-11": "71", "2022-12": "72"})
        + entries("t-cash", {Q3: "300"}),
        "Satisfaction is up.",
    )
    submitted = services.return_submit(return_id=submitted.pk, actor=bob)
    draft = save(
        return_of("dept-a", Q4),
        alice,
        entries("t-assaults", {"2023-01": "11", "2023-02": "12", "2023-03": "11"}),
        "Assaults steady.",
    )
    # A figure no return asks for: the national one.
    national = tmp_path / "national.csv"
    national.write_text("measure,area,period,value\nt-assaults,nation,2022-06,8\n")
    values_import(path=national)
    # A row of every other model with an admin, so every change page can be opened.
    ComparisonGroup.objects.create(code="msg", name="Most Similar Group")
    Source.objects.create(name="PAM system", url="https://example.org/pam")
    Group.objects.create(name="analysts")
    Token.objects.create(user=admin_user)
    return Scene(approved, submitted, draft, alice, bob, charlie, admin_user)


def figures_state() -> tuple:
    """Every figure, headline, return state, return event and target, in full."""
    return (
        sorted(Value.objects.values_list()),
        sorted(Headline.objects.values_list()),
        sorted(
            Return.objects.values_list(
                "pk", "status", "version", "submitted_by", "decided_by", "decided_at"
            )
        ),
        sorted(ReturnEvent.objects.values_list("pk", "kind", "version", "actor", "reason")),
        sorted(Target.objects.values_list()),
    )


def program(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def forged_form(ret: Return, *, figure: str = "999") -> dict[str, str]:
    """A return form as a forger would post it: every figure changed, statuses asked for."""
    data = {
        "version": str(ret.version),
        "action": "save",
        "status": "approved",
        "headline-violence": "forged",
        "reason": "forged",
    }
    for row in return_rows(ret, with_context=False):
        data[f"value-{row.key}"] = figure
        data[f"note-{row.key}"] = "forged"
        data[f"status-{row.key}"] = "approved"
    return data


# --- the admin site -----------------------------------------------------------------------------

FIGURES = "figures: corrected only through services.value_correct / headline_correct"
# Every ModelAdmin of the site and why it may or may not write what it does.
ADMIN_MODELS = {
    "auth.Group": "permissions: no figures",
    "auth.User": "people: no figures (the role is on the Profile inline)",
    "authtoken.TokenProxy": "API tokens: no figures",
    "axes.AccessAttempt": "sign-in throttling log: no figures",
    "axes.AccessLog": "sign-in log: no figures",
    "axes.AccessFailureLog": "sign-in failure log: no figures",
    "measures.Department": "plan structure",
    "measures.Plan": "plan structure",
    "measures.Area": "plan structure",
    "measures.ComparisonGroup": "plan structure",
    "measures.Source": "plan structure: source systems' full names and links",
    "measures.Priority": "plan structure",
    "measures.Measure": "plan structure; its targets are read-only there",
    "measures.Target": "targets: written through services.target_save",
    "measures.Profile": "people",
    "measures.ReportingPeriod": "opened through services.reporting_period_open",
    "measures.Return": "workflow: read-only, changed only by its services",
    "measures.ReturnEvent": "audit: read-only",
    "measures.Value": FIGURES,
    "measures.Headline": FIGURES,
    "reports.ReportSection": "report layout: sections, notes and activities, no figures",
}
# How to find the returns a figure belongs to, for each model holding figures.
HOLDERS: dict[type[models.Model], Callable[[models.Model], list[Return]]] = {
    Value: services.returns_holding_value,  # type: ignore[dict-item]
    Headline: services.returns_holding_headline,  # type: ignore[dict-item]
}


def holds_figures(model: type[models.Model]) -> bool:
    """A model holds figures when it has a status of the returns workflow's review states."""
    try:
        status = model._meta.get_field("status")
    except Exception:
        return False
    return list(getattr(status, "choices", None) or []) == list(ReviewStatus.choices)


REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label)
FIGURE_MODELS = [m for m in REGISTERED if holds_figures(m)]


def admin_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def form_fields(form_class) -> set[str]:
    """Return the fields a form would write to its object (excluded ones never are)."""
    return set(form_class.base_fields) - set(form_class._meta.exclude or ())


def editable_fields(model_admin, request, obj) -> dict[str, set[str]]:
    """Return, by model label, the fields the admin's page for `obj` (None: the add page)
    lets someone post: its form's and its inlines' forms'."""
    if obj is None:
        allowed = model_admin.has_add_permission(request)
    else:
        allowed = model_admin.has_change_permission(request, obj)
    found: dict[str, set[str]] = {}
    if allowed:
        fields = flatten_fieldsets(model_admin.get_fieldsets(request, obj))
        form = model_admin.get_form(request, obj, change=obj is not None, fields=fields)
        found[model_admin.model._meta.label] = form_fields(form)
    for inline in model_admin.get_inline_instances(request, obj):
        if not (
            inline.has_add_permission(request, obj) or inline.has_change_permission(request, obj)
        ):
            continue
        fields = flatten_fieldsets(inline.get_fieldsets(request, obj))
        formset = inline.get_formset(request, obj, fields=fields)
        found.setdefault(inline.model._meta.label, set()).update(form_fields(formset.form))
    return found


def workflow_fields(model: type[models.Model], names: set[str]) -> set[str]:
    """Return the names that are workflow state: FORBIDDEN, or a link to a Return."""
    bad = names & FORBIDDEN
    for name in names:
        try:
            field = model._meta.get_field(name)
        except Exception:
            continue
        if field.is_relation and field.related_model is Return:
            bad.add(name)
    return bad


def test_every_model_admin_is_classified():
    registered = {model._meta.label for model in REGISTERED}

    assert registered == set(ADMIN_MODELS), (
        f"unclassified: {sorted(registered - set(ADMIN_MODELS))}; "
        f"gone: {sorted(set(ADMIN_MODELS) - registered)}"
    )
    figures = {model._meta.label for model in FIGURE_MODELS}
    assert figures == {label for label, why in ADMIN_MODELS.items() if why == FIGURES}
    assert set(HOLDERS) == set(FIGURE_MODELS)


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_no_admin_page_offers_a_status_a_version_or_a_return(scene, model):
    from django.apps import apps

    model_admin = admin.site._registry[model]
    request = admin_request(scene.dana)
    objects = list(model._default_manager.order_by("pk")[:50])
    if model._meta.app_label == "measures":
        assert objects, f"the scene has no {model.__name__} to open the change page of"

    for obj in [None, *objects]:
        for label, names in editable_fields(model_admin, request, obj).items():
            bad = workflow_fields(apps.get_model(label), names)
            page = "add" if obj is None else f"change {obj.pk}"
            assert not bad, f"{model_admin} {page}: {label} fields {sorted(bad)} are editable"


def held_in(model: type[models.Model], status: str) -> models.Model:
    """Return a row of `model` that belongs to a return in `status`."""
    for obj in model._default_manager.order_by("pk"):
        if any(ret.status == status for ret in HOLDERS[model](obj)):
            return obj
    raise AssertionError(f"the scene has no {model.__name__} in a {status} return")


def forged_admin_post(obj: models.Model) -> dict[str, str]:
    """Every editable field of `obj` changed, the status set to approved, with a reason."""
    data = {"reason": "forged", "_save": "Save"}
    for field in obj._meta.concrete_fields:
        if field.primary_key or not field.editable:
            continue
        if field.name == "status":
            data[field.name] = ReviewStatus.APPROVED
        elif field.is_relation:
            data[field.name] = str(getattr(obj, field.attname) or "")
        elif isinstance(field, models.DecimalField):
            data[field.name] = "999"
        elif isinstance(field, models.DateTimeField):
            continue
        elif isinstance(field, models.DateField):
            data[field.name] = "2022-10-01"
        else:
            data[field.name] = "forged"
    return data


def admin_url(obj_or_model, view: str, *args) -> str:
    opts = obj_or_model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


@pytest.mark.parametrize("status", [Return.Status.SUBMITTED, Return.Status.APPROVED])
@pytest.mark.parametrize("model", FIGURE_MODELS, ids=lambda m: m._meta.label)
def test_the_admin_refuses_to_change_a_figure_of_a_return_under_review_or_approved(
    scene, client, model, status
):
    obj = held_in(model, status)
    client.force_login(scene.dana)
    change = admin_url(obj, "change", obj.pk)
    record = obj.history.order_by("history_id").first()
    before = figures_state()

    page = client.get(change)
    assert page.status_code == 200
    for name in set(forged_admin_post(obj)) - {"_save"}:
        assert f'name="{name}"'.encode() not in page.content, f"{name} is editable"
    assert client.post(change, forged_admin_post(obj)).status_code == 403
    assert client.post(admin_url(obj, "delete", obj.pk), {"post": "yes"}).status_code == 403
    revert = admin_url(obj, "simple_history", obj.pk, record.history_id)
    assert client.post(revert, forged_admin_post(obj)).status_code == 403
    changelist = client.post(
        admin_url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
    )
    assert changelist.status_code in (200, 302)

    assert figures_state() == before


@pytest.mark.parametrize("model", FIGURE_MODELS, ids=lambda m: m._meta.label)
def test_the_admin_adds_no_figure_not_even_to_a_blank_row_of_an_approved_return(
    scene, client, model
):
    obj = held_in(model, Return.Status.APPROVED)
    client.force_login(scene.dana)
    add = admin_url(model, "add")
    # A quarter's figure inside the approved return, which it has no value for.
    data = {**forged_admin_post(obj), "start": "2022-10-01", "end": "2022-12-01"}
    before = figures_state()

    assert client.get(add).status_code == 403
    assert client.post(add, data).status_code == 403

    assert figures_state() == before


@pytest.mark.parametrize("model", FIGURE_MODELS, ids=lambda m: m._meta.label)
def test_the_admin_corrects_a_draft_figure_but_never_its_status(scene, client, model):
    obj = held_in(model, Return.Status.DRAFT)
    client.force_login(scene.dana)
    change = admin_url(obj, "change", obj.pk)
    data = admin_form_data(client.get(change))
    editable = set(data) - {"reason"}
    assert editable and not editable & FORBIDDEN
    changed = {"value": "12", "note": "late crimes added"} if model is Value else {"text": "New"}
    forged = {**data, **changed, "status": ReviewStatus.APPROVED, "reason": "late crimes"}

    response = client.post(change, forged)

    assert response.status_code == 302, response.content.decode()[:2000]
    obj.refresh_from_db()
    assert obj.status == ReviewStatus.DRAFT
    ret = scene.fresh(scene.draft)
    assert ret.status == Return.Status.DRAFT
    event = ret.events.order_by("-pk").first()
    assert (event.kind, event.actor, event.reason) == ("saved", scene.dana, "late crimes")


@pytest.mark.parametrize("model", FIGURE_MODELS, ids=lambda m: m._meta.label)
def test_an_admin_correction_without_a_reason_is_refused_on_the_form(scene, client, model):
    obj = held_in(model, Return.Status.DRAFT)
    client.force_login(scene.dana)
    change = admin_url(obj, "change", obj.pk)
    data = {**admin_form_data(client.get(change)), "reason": "  "}
    data.update({"value": "12"} if model is Value else {"text": "New"})
    before = figures_state()

    response = client.post(change, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["reason"]
    assert figures_state() == before


def test_a_figure_whose_return_was_submitted_after_the_page_was_read_is_not_saved(scene, client):
    value = Value.objects.get(measure__code="t-assaults", start="2023-03-01")
    client.force_login(scene.dana)
    change = admin_url(value, "change", value.pk)
    data = {**admin_form_data(client.get(change)), "value": "12", "reason": "late"}
    services.return_submit(return_id=scene.draft.pk, actor=scene.alice)
    before = figures_state()

    assert client.post(change, data).status_code == 403
    assert figures_state() == before


@pytest.mark.parametrize("model", [Return, *FIGURE_MODELS], ids=lambda m: m._meta.label)
def test_reverting_workflow_rows_in_the_admin_is_refused(scene, client, model):
    """A revert saves an old version of the whole row, read-only status and version too."""
    client.force_login(scene.dana)
    before = figures_state()
    for obj in model._default_manager.order_by("pk"):
        for record in obj.history.order_by("history_id")[:2]:
            url = admin_url(obj, "simple_history", obj.pk, record.history_id)
            assert client.get(url).status_code == 200
            assert client.post(url, forged_admin_post(obj)).status_code == 403
    assert figures_state() == before


def admin_form_data(response) -> dict[str, str]:
    """The admin form on the page, as a browser would post it back."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        if name in response.context["adminform"].readonly_fields:
            continue
        value = form[name].value()
        data[name] = "" if value is None else str(field.prepare_value(value))
    return data


# --- the API ------------------------------------------------------------------------------------

WRITE_METHODS = ("post", "put", "patch", "delete")


@functools.cache
def api_schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def api_operations() -> list[tuple[str, str]]:
    return [
        (path, method)
        for path, operations in api_schema()["paths"].items()
        for method in operations
        if method in WRITE_METHODS
    ]


def api_url(path: str, ret: Return) -> str:
    return path.replace("{id}", str(ret.pk))


def forged_api_body(ret: Return, figure: int = 999) -> dict:
    values = [
        {
            "measure": row.measure.code,
            "period": row.period.notation,
            "value": figure,
            "note": "forged",
            "status": "approved",
        }
        for row in return_rows(ret, with_context=False)
    ]
    return {
        "version": ret.version,
        "values": values,
        "headlines": {"violence": "forged"},
        "status": "approved",
        "reason": "forged",
    }


def refused(response) -> bool:
    return response.status_code in (403, 404, 405, 409)


def api_values(scene: Scene, path: str, method: str) -> None:
    """Figures of a submitted or an approved return are locked for its lead and the admin;
    statuses sent with a draft's figures are ignored."""
    attempts = [
        (scene.approved, scene.alice),
        (scene.approved, scene.dana),
        (scene.submitted, scene.bob),
        (scene.submitted, scene.dana),
    ]
    for ret, person in attempts:
        before = figures_state()
        ret = scene.fresh(ret)
        response = getattr(program(person), method)(
            api_url(path, ret), forged_api_body(ret), format="json"
        )
        assert response.status_code == 409, (person, ret, response.content)
        assert response.json()["code"] == "locked"
        assert figures_state() == before
    draft = scene.fresh(scene.draft)
    response = getattr(program(scene.alice), method)(
        api_url(path, draft), forged_api_body(draft, figure=12), format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "draft"
    assert set(
        Value.objects.filter(start__gte="2023-01-01", area__code="force").values_list(
            "status", flat=True
        )
    ) == {"draft"}
    assert scene.fresh(scene.draft).status == Return.Status.DRAFT


def api_transition(
    refusals: list[tuple[str, str]],
) -> Callable[[Scene, str, str], None]:
    """Each (return, person) attempt of the transition is refused and changes nothing."""

    def attempt(scene: Scene, path: str, method: str) -> None:
        for which, who in refusals:
            ret, person = scene.fresh(getattr(scene, which)), getattr(scene, who)
            before = figures_state()
            response = getattr(program(person), method)(
                api_url(path, ret), forged_api_body(ret), format="json"
            )
            assert refused(response), (which, who, response.status_code, response.content)
            assert figures_state() == before

    return attempt


API_WRITES: dict[tuple[str, str], Callable[[Scene, str, str], None]] = {
    ("/api/v1/returns/{id}/values/", "post"): api_values,
    ("/api/v1/returns/{id}/values/", "put"): api_values,
    ("/api/v1/returns/{id}/submit/", "post"): api_transition(
        [("approved", "alice"), ("submitted", "bob"), ("approved", "dana")]
    ),
    ("/api/v1/returns/{id}/approve/", "post"): api_transition(
        [("submitted", "bob"), ("approved", "charlie"), ("draft", "charlie"), ("draft", "alice")]
    ),
    ("/api/v1/returns/{id}/send-back/", "post"): api_transition(
        [("approved", "charlie"), ("draft", "dana"), ("submitted", "bob")]
    ),
    ("/api/v1/returns/{id}/reopen/", "post"): api_transition(
        [("submitted", "charlie"), ("draft", "dana"), ("approved", "alice")]
    ),
}


def test_every_api_write_operation_is_classified():
    operations = set(api_operations())

    assert operations == set(API_WRITES), (
        f"unclassified: {sorted(operations - set(API_WRITES))}; "
        f"gone: {sorted(set(API_WRITES) - operations)}"
    )


@pytest.mark.parametrize("operation", sorted(API_WRITES), ids="{0[1]} {0[0]}".format)
def test_no_api_write_changes_a_locked_return_or_sets_a_status(scene, operation):
    path, method = operation
    API_WRITES[operation](scene, path, method)


def test_api_paths_answer_no_write_method_they_do_not_document(scene):
    before = figures_state()
    client = program(scene.dana)
    tried = 0
    for path, operations in api_schema()["paths"].items():
        url = api_url(path.replace("{code}", "t-assaults"), scene.fresh(scene.draft))
        for method in WRITE_METHODS:
            if method in operations:
                continue
            response = getattr(client, method)(url, forged_api_body(scene.draft), format="json")
            assert response.status_code == 405, (method, url, response.status_code)
            tried += 1
    assert tried >= 20
    assert figures_state() == before


# --- every other URL ----------------------------------------------------------------------------


def site_patterns(patterns=None, prefix: str = "", namespace: str = "") -> dict[str, str]:
    """Return every URL pattern outside the admin and the API: name → route."""
    found = {}
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(("admin/", "api/v1/")):
            continue
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace]))
            found.update(site_patterns(entry.url_patterns, route, inner))
        else:
            found[":".join(filter(None, [namespace, entry.name]))] = route
    return found


SAMPLE = {
    "pk": lambda scene: str(scene.approved.pk),
    "code": lambda scene: "t-assaults",
    "plan": lambda scene: "test-plan",
    "period": lambda scene: "2022-23-q3",
    "number": lambda scene: "1",
    "export_format": lambda scene: "csv",
}


def site_url(route: str, scene: Scene, **given: str) -> str:
    import re

    def fill(match: re.Match) -> str:
        name = match[1]
        return given[name] if name in given else SAMPLE[name](scene)

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", fill, route)


def unchanged_for_everyone(scene: Scene, route: str) -> None:
    """A page that writes nothing: forged figures posted by anyone change nothing."""
    for person in (None, scene.alice, scene.bob, scene.charlie, scene.dana):
        client = signed_in(person) if person else Client()
        for ret in (scene.approved, scene.submitted):
            before = figures_state()
            client.post(site_url(route, scene, pk=str(ret.pk)), forged_form(scene.fresh(ret)))
            assert figures_state() == before, (person, route)


def return_form(scene: Scene, route: str) -> None:
    """Saving (or saving and submitting) figures of a locked return is refused for its lead
    and the admin; statuses posted with a draft are ignored."""
    for ret, person in (
        (scene.approved, scene.alice),
        (scene.approved, scene.dana),
        (scene.submitted, scene.bob),
        (scene.submitted, scene.dana),
    ):
        for action in ("save", "submit"):
            before = figures_state()
            data = {**forged_form(scene.fresh(ret)), "action": action}
            response = signed_in(person).post(site_url(route, scene, pk=str(ret.pk)), data)
            assert response.status_code in (302, 403), response.status_code
            assert figures_state() == before, (person, ret, action)
    draft = scene.fresh(scene.draft)
    data = forged_form(draft, figure="12")
    response = signed_in(scene.alice).post(site_url(route, scene, pk=str(draft.pk)), data)
    assert response.status_code == 302
    assert scene.fresh(draft).status == Return.Status.DRAFT
    assert set(
        Value.objects.filter(start__gte="2023-01-01", area__code="force").values_list(
            "status", flat=True
        )
    ) == {"draft"}


def page_transition(refusals: list[tuple[str, str]]) -> Callable[[Scene, str], None]:
    def attempt(scene: Scene, route: str) -> None:
        for which, who in refusals:
            ret, person = scene.fresh(getattr(scene, which)), getattr(scene, who)
            before = figures_state()
            signed_in(person).post(site_url(route, scene, pk=str(ret.pk)), forged_form(ret))
            assert figures_state() == before, (which, who, route)

    return attempt


def open_period(scene: Scene, route: str) -> None:
    """Opening a period creates draft returns (a status posted with it is ignored) and
    changes no figure; nobody but an admin opens one."""
    data = {
        "plan": str(Plan.objects.get().pk),
        "period": "2023/24-Q1",
        "deadline": "2023-07-21",
        "status": "approved",
    }
    for person in (scene.alice, scene.charlie):
        before = figures_state()
        assert signed_in(person).post(site_url(route, scene), data).status_code == 403
        assert figures_state() == before
    before = figures_state()
    assert signed_in(scene.dana).post(site_url(route, scene), data).status_code == 302
    after = figures_state()
    assert after[:2] == before[:2]  # figures and headlines
    opened = Return.objects.filter(reporting_period__start="2023-04-01")
    assert opened.count() == 2 and {r.status for r in opened} == {Return.Status.DRAFT}


SITE_URLS: dict[str, Callable[[Scene, str], None]] = {
    "home": unchanged_for_everyone,
    "login": unchanged_for_everyone,  # signs in: a session, no figure
    "logout": unchanged_for_everyone,  # signs out: a session, no figure
    "schema": unchanged_for_everyone,
    "public:list": unchanged_for_everyone,
    "public:report": unchanged_for_everyone,
    "public:report-version": unchanged_for_everyone,
    "public:pdf": unchanged_for_everyone,
    "public:tables": unchanged_for_everyone,
    "returns:list": unchanged_for_everyone,
    "returns:detail": return_form,
    "returns:submit": page_transition([("approved", "alice"), ("submitted", "bob")]),
    "returns:approve": page_transition(
        [("submitted", "bob"), ("approved", "charlie"), ("draft", "dana")]
    ),
    "returns:send-back": page_transition(
        [("approved", "charlie"), ("draft", "dana"), ("submitted", "bob")]
    ),
    "returns:reopen": page_transition(
        [("submitted", "charlie"), ("draft", "dana"), ("approved", "alice")]
    ),
    "returns:review-queue": unchanged_for_everyone,
    "returns:periods": open_period,
    "reports:national-picture": unchanged_for_everyone,
    "reports:national-comparison": unchanged_for_everyone,
    "reports:year-to-date": unchanged_for_everyone,
    "reports:monthly": unchanged_for_everyone,
    "reports:scorecard": unchanged_for_everyone,
    "reports:performance": unchanged_for_everyone,
    "reports:report": unchanged_for_everyone,
    # Publishing freezes a snapshot of approved figures; it writes no figure.
    "reports:publish": unchanged_for_everyone,
    "reports:measure": unchanged_for_everyone,
}


def test_every_page_is_classified():
    patterns = set(site_patterns())

    assert patterns == set(SITE_URLS), (
        f"unclassified: {sorted(patterns - set(SITE_URLS))}; "
        f"gone: {sorted(set(SITE_URLS) - patterns)}"
    )


@pytest.mark.parametrize("name", sorted(SITE_URLS))
def test_no_page_changes_a_locked_return_or_sets_a_status(scene, name):
    SITE_URLS[name](scene, site_patterns()[name])


# --- approving as the person who changed a figure -----------------------------------------------


@dataclass(frozen=True)
class Change:
    """How one door changes department A's draft March figure from 11 to 12, as Dana."""

    reason: str  # what the return's history should say, "" where the door takes none
    make: Callable[[Scene, Path], object]


def by_return_form(scene: Scene, tmp_path: Path) -> None:
    ret = scene.fresh(scene.draft)
    client = signed_in(scene.dana)
    page = client.get(reverse("returns:detail", args=[ret.pk]))
    form = page.context["form"]
    data = {
        name: "" if form[name].value() is None else str(field.prepare_value(form[name].value()))
        for name, field in form.fields.items()
    }
    key = row_key("t-assaults", parse_period("2023-03"))
    data.update({f"value-{key}": "12", f"note-{key}": "late crimes", "action": "save"})
    response = client.post(reverse("returns:detail", args=[ret.pk]), data)
    assert response.status_code == 302


def by_api(method: str) -> Callable[[Scene, Path], None]:
    def change(scene: Scene, tmp_path: Path) -> None:
        ret = scene.fresh(scene.draft)
        body = {
            "version": ret.version,
            "values": [
                {"measure": "t-assaults", "period": "2023-03", "value": 12, "note": "late crimes"}
            ],
        }
        response = getattr(program(scene.dana), method)(
            f"/api/v1/returns/{ret.pk}/values/", body, format="json"
        )
        assert response.status_code == 200, response.content

    return change


def march_file(tmp_path: Path) -> Path:
    path = tmp_path / "march.csv"
    path.write_text("measure,area,period,value,note\nt-assaults,force,2023-03,12,late crimes\n")
    return path


def by_command(scene: Scene, tmp_path: Path) -> None:
    call_command(
        "import_values",
        str(march_file(tmp_path)),
        "--user",
        "dana",
        "--reason",
        "monthly load",
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )


def by_rows(scene: Scene, tmp_path: Path) -> None:
    with patch.object(importers_sql, "values_import_copy", return_value=None):
        values_import(path=march_file(tmp_path), user=scene.dana, reason="monthly load")


def by_copy(scene: Scene, tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the COPY importer needs PostgreSQL")
    summary = importers_sql.values_import_copy(
        path=march_file(tmp_path), approve=False, user=scene.dana, reason="monthly load"
    )
    assert summary is not None and summary.updated == 1


def by_admin(scene: Scene, tmp_path: Path) -> None:
    value = Value.objects.get(measure__code="t-assaults", area__code="force", start="2023-03-01")
    client = signed_in(scene.dana)
    change = admin_url(value, "change", value.pk)
    data = admin_form_data(client.get(change))
    data.update({"value": "12", "note": "late crimes", "reason": "source corrected"})
    response = client.post(change, data)
    assert response.status_code == 302, response.content.decode()[:2000]


CHANGES = {
    "return form": Change("", by_return_form),
    "API PUT": Change("", by_api("put")),
    "API POST": Change("", by_api("post")),
    "import_values command": Change("monthly load", by_command),
    "values_import row by row": Change("monthly load", by_rows),
    "COPY importer": Change("monthly load", by_copy),
    "admin correction": Change("source corrected", by_admin),
}


@pytest.mark.parametrize("door", sorted(CHANGES))
def test_whoever_changed_a_figure_by_any_door_cannot_approve_the_return(scene, tmp_path, door):
    change = CHANGES[door]
    version = scene.fresh(scene.draft).version

    change.make(scene, tmp_path)

    ret = scene.fresh(scene.draft)
    assert ret.version == version + 1
    event = ret.events.order_by("-pk").first()
    assert (event.kind, event.actor, event.reason) == ("saved", scene.dana, change.reason)
    assert {
        "kind": "value",
        "measure": "t-assaults",
        "period": "2023-03",
        "label": "Assaults, Mar 2023",
        "field": "value",
        "old": "11",
        "new": "12",
    } in event.changes
    services.return_submit(return_id=ret.pk, actor=scene.alice)

    with pytest.raises(PermissionDenied):
        services.return_approve(return_id=ret.pk, actor=scene.dana)
    page = signed_in(scene.dana).post(reverse("returns:approve", args=[ret.pk]))
    assert page.status_code == 403
    api = program(scene.dana).post(f"/api/v1/returns/{ret.pk}/approve/", {}, format="json")
    assert api.status_code == 403
    assert scene.fresh(ret).status == Return.Status.SUBMITTED

    services.return_approve(return_id=ret.pk, actor=scene.charlie)
    assert scene.fresh(ret).status == Return.Status.APPROVED


def test_signing_in_with_a_forged_status_only_signs_in(scene):
    before = figures_state()
    response = Client().post(
        reverse("login"), {"username": "alice", "password": PASSWORD, "status": "approved"}
    )
    assert response.status_code == 302
    assert figures_state() == before
