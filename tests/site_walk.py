"""Every URL of the site, generated from the URL resolver with its parameters filled in.

Tests that must hold for "every page" walk this list rather than a hand-made one, so a new
page is covered the day it is added. The caller says how to fill a path parameter
(`sample(parameter, prefix)`); an unknown parameter name fails loudly there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

Sample = Callable[[str, str], str]


@dataclass
class Page:
    name: str  # "namespace:name", or the route for unnamed patterns
    url: str
    pattern: URLPattern


def admin_model(prefix: str):
    """Return the model whose admin the URL prefix ("admin/<app>/<model>/") belongs to."""
    match = re.match(r"admin/(\w+)/(\w+)/", prefix)
    return apps.get_model(match[1], match[2]) if match else None


def first_pk(model) -> str:
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"the data has no {model.__name__} to fill an admin URL with"
    return str(obj.pk)


def admin_sample(parameter: str, prefix: str) -> str | None:
    """Return a value for an admin URL's object or version id, or None for other parameters."""
    model = admin_model(prefix)
    if model is None:
        return None
    if parameter in {"object_id", "id", "#0"}:
        return first_pk(model)
    if parameter == "#1":  # simple-history's version id
        obj_pk = first_pk(model)
        # A historical model's own pk is history_id: filter by the object's id field.
        lookup = {model._meta.pk.attname: obj_pk}
        record = model.history.filter(**lookup).order_by("history_id").first()
        assert record is not None, f"no history for {model.__name__} {obj_pk}"
        return str(record.history_id)
    return None


def admin_rows(user) -> None:
    """Create a row for every model the admin manages that the demo leaves empty (groups,
    tokens, sign-in records), so that every admin URL gets a real id."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    Group.objects.get_or_create(name="Analysts")
    Token.objects.get_or_create(user=user)
    access = {
        "username": "victor",
        "ip_address": "192.0.2.1",
        "user_agent": "test",
        "http_accept": "*/*",
        "path_info": "/login/",
    }
    AccessAttempt.objects.create(**access, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**access)
    AccessFailureLog.objects.create(**access)


def _concrete(pattern, prefix: str, sample: Sample) -> str:
    """Return the URL text of one level of a pattern, its parameters filled in."""
    if isinstance(pattern, RoutePattern):
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: sample(m[1], prefix), str(pattern._route))
    assert isinstance(pattern, RegexPattern), pattern
    regex = pattern._regex.lstrip("^").rstrip("$")
    position = iter(range(100))

    def group(match: re.Match) -> str:
        name = match[1] or f"#{next(position)}"
        return sample(name, prefix)

    # Named groups (?P<name>…) and plain groups (…), neither containing nested parentheses.
    return re.sub(r"\((?:\?P<(\w+)>)?[^()]*\)", group, regex)


def every_page(sample: Sample, patterns=None, prefix: str = "", namespace: str = "") -> list[Page]:
    """Return a page for every URL pattern the resolver knows, the admin's and API's included."""
    pages = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        here = prefix + _concrete(entry.pattern, prefix, sample)
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace]))
            pages += every_page(sample, entry.url_patterns, here, inner)
        else:
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            pages.append(Page(name or f"<unnamed {here}>", "/" + here, entry))
    return pages
