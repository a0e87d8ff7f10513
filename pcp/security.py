"""Response hardening and the security log (OWASP ASVS 5.0, chapters 3, 8 and 16).

`SecurityHeadersMiddleware` adds what Django's own `SecurityMiddleware` does not:

- a Content-Security-Policy on every HTML response, with no `unsafe-inline` anywhere: the
  templates load scripts and styles from files only, and the charts are SVG styled with
  presentation attributes. The admin gets the same policy (see the note below the policy);
- a Permissions-Policy switching off the browser features the product never uses;
- `Cross-Origin-Resource-Policy: same-origin`, so other sites cannot embed our responses;
- `Cache-Control: no-store` on every response to a signed-in person (session or token), so
  figures that are not yet approved never stay in a shared or browser cache.

It also writes refused access to the "pcp.security" logger: every 403 and every 404 raised by
a view (the access layer raises `PermissionDenied` and `Http404`), every other 401/403/404
response (DRF, CSRF failures, views that render their own refusal page, unknown URLs), an
attempt to change an approved figure (`ApprovedLocked`, answered with a 403 rather than a
server error), and sign-in, sign-out, failed sign-in and lock-out events. It turns away a
query string holding a NUL character (400) before any view or query sees it.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.shortcuts import render

from measures.models import ApprovedLocked

logger = logging.getLogger("pcp.security")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Why the admin gets no `style-src 'unsafe-inline'` either (checked in Chromium on every admin
# page we use): the admin's widgets (calendar, filter_horizontal, inlines) set styles through
# the CSSOM (`element.style`), which CSP does not restrict, and work unchanged. The only inline
# CSS left is cosmetic: simple-history's `style="border-top: 0"` on its history paginator (and
# Django's change-list `<style>` when a ModelAdmin turns actions off top and bottom, which none
# of ours does; DRF's browsable API has a few `style=` floats). Allowing inline styles would buy
# those few pixels at the price of CSS injection on the most privileged pages.

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
)

REFUSAL_ATTR = "_pcp_refusal"
LOGGED_ATTR = "_pcp_refusal_logged"
MAX_LOGGED_CHARS = 300


def clean_for_log(text: object) -> str:
    """Return text safe to put in a log line: no control characters (log injection,
    ASVS 16.4.1) and bounded in length."""
    raw = str(text)
    cleaned = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in raw)
    if len(cleaned) > MAX_LOGGED_CHARS:
        cleaned = cleaned[:MAX_LOGGED_CHARS] + "…"
    return cleaned


def client_ip(request: HttpRequest) -> str:
    """Return the client's address: REMOTE_ADDR, or with `PCP_TRUSTED_PROXY_COUNT` proxies in
    front of the app, the address the outermost trusted proxy saw (from X-Forwarded-For).

    Headers are never trusted unless the deployment says how many proxies append to them;
    otherwise anyone could dodge the login lock-out by sending a new X-Forwarded-For.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = getattr(settings, "PCP_TRUSTED_PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop]
    # Each trusted proxy appends the address it received from; the client is `proxies` from
    # the right. Fewer entries than proxies means the request bypassed them: use the socket.
    candidate = hops[-proxies] if len(hops) >= proxies else remote
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # not an address: never store or trust it
        return remote


def _user_label(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    return clean_for_log(user.get_username())


def note_refusal(request: HttpRequest, reason: object) -> None:
    """Record why a view refused the request, for views that render their own 403 page
    instead of letting `PermissionDenied` reach the middleware."""
    setattr(request, REFUSAL_ATTR, str(reason) or "refused")


def log_refusal(request: HttpRequest, status: int, reason: object, *, level=logging.WARNING):
    """Write one refused request to the security log (once per request)."""
    if getattr(request, LOGGED_ATTR, False):
        return
    setattr(request, LOGGED_ATTR, True)
    user = _user_label(request)
    path = clean_for_log(request.path)
    reason_text = clean_for_log(reason)
    logger.log(
        level,
        "refused %s %s %s user=%s ip=%s reason=%s",
        status,
        clean_for_log(request.method),
        path,
        user,
        clean_for_log(client_ip(request)),
        reason_text,
        extra={
            "security_event": "access_refused",
            "status": status,
            "user": user,
            "path": path,
            "reason": reason_text,
        },
    )


def _response_reason(request: HttpRequest, response: HttpResponse) -> str | None:
    noted = getattr(request, REFUSAL_ATTR, None)
    if noted:
        return noted
    data = getattr(response, "data", None)  # a DRF Response: its "detail" says why
    if isinstance(data, dict) and data.get("detail"):
        return str(data["detail"])
    return None


def csrf_failure(request: HttpRequest, reason: str = "", **kwargs) -> HttpResponse:
    """CSRF_FAILURE_VIEW: a 403 page in the site's layout (Django's own page has inline CSS,
    which the Content-Security-Policy blocks), with the reason kept for the security log."""
    note_refusal(request, f"CSRF verification failed: {reason}")
    message = (
        "This form has expired or was not sent from this site. "
        "Go back, reload the page and try again."
    )
    return render(request, "403.html", {"exception": message}, status=403)


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the lock-out page, in the site's layout, with status 429."""
    from axes.helpers import get_client_username, get_cool_off, get_failure_limit

    cool_off = get_cool_off(request)
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "username": get_client_username(request, credentials) or "",
        "minutes": round(cool_off.total_seconds() / 60) if cool_off else None,
        "page_title": "Sign-in locked",
    }
    return render(request, "registration/locked_out.html", context, status=429)


def _has_nul(request: HttpRequest) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for key, values in request.GET.lists()
    )


class SecurityHeadersMiddleware:
    """Add the security headers above and log refused access. Sits just below Django's
    SecurityMiddleware, so it sees every response, static files included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse
        if _has_nul(request):
            # Never meaningful here, and PostgreSQL refuses NUL in text: without this, a
            # "?area=%00" reaching a query is a server error rather than a bad request.
            log_refusal(request, 400, "NUL character in the query string", level=logging.INFO)
            response = HttpResponseBadRequest(
                "Bad request: the query string contains a NUL character.",
                content_type="text/plain; charset=utf-8",
            )
        else:
            response = self.get_response(request)
        self._log_refused_response(request, response)
        self._add_headers(request, response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        if isinstance(exception, PermissionDenied):
            log_refusal(request, 403, str(exception) or "permission denied")
        elif isinstance(exception, Http404):
            log_refusal(request, 404, str(exception) or "not found")
        elif isinstance(exception, ApprovedLocked):
            # A change to an approved figure that got past every form and admin check (the
            # model is the last guard): refuse it with a 403, not a server error.
            log_refusal(request, 403, exception)
            message = "Approved figures are read-only: reopen the return to change them."
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=403)
            return render(request, "403.html", {"exception": message}, status=403)
        return None

    @staticmethod
    def _log_refused_response(request: HttpRequest, response: HttpResponse) -> None:
        """Log a 401/403/404 that no exception reported (DRF answers its own refusals, some
        views render their own 403 page, CSRF failures, unknown URLs)."""
        status = response.status_code
        if status not in (401, 403, 404) or getattr(request, LOGGED_ATTR, False):
            return
        reason = _response_reason(request, response)
        if status == 404 and reason is None:
            # An unknown URL: kept at INFO, enough to spot scanning without crying wolf.
            log_refusal(request, 404, "no such URL", level=logging.INFO)
        elif status == 401:
            log_refusal(request, 401, reason or "not signed in", level=logging.INFO)
        else:
            log_refusal(request, status, reason or f"HTTP {status}")

    @staticmethod
    def _add_headers(request: HttpRequest, response: HttpResponse) -> None:
        content_type = response.get("Content-Type", "")
        if content_type.startswith("text/html") and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store"


# --- authentication events (ASVS 16.3.1); axes logs its own lock-outs to "axes.*" -------------


@receiver(user_logged_in, dispatch_uid="pcp.security.logged_in")
def _logged_in(sender, request, user, **kwargs) -> None:
    logger.info(
        "login user=%s ip=%s",
        clean_for_log(user.get_username()),
        clean_for_log(client_ip(request)) if request is not None else "-",
        extra={"security_event": "login"},
    )


@receiver(user_logged_out, dispatch_uid="pcp.security.logged_out")
def _logged_out(sender, request, user, **kwargs) -> None:
    logger.info(
        "logout user=%s",
        clean_for_log(user.get_username()) if user is not None else "anonymous",
        extra={"security_event": "logout"},
    )


@receiver(user_login_failed, dispatch_uid="pcp.security.login_failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    logger.warning(
        "login failed user=%s ip=%s",
        clean_for_log(credentials.get("username", "")),
        clean_for_log(client_ip(request)) if request is not None else "-",
        extra={"security_event": "login_failed"},
    )


@receiver(user_locked_out, dispatch_uid="pcp.security.locked_out")
def _locked_out(sender, request, username, ip_address, **kwargs) -> None:
    logger.warning(
        "locked out user=%s ip=%s",
        clean_for_log(username or ""),
        clean_for_log(ip_address or ""),
        extra={"security_event": "locked_out"},
    )
