"""System checks for what the published reports need from the settings."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Warning, register

EXAMPLE = "https://pcp.example.police.uk"


@register()
def site_url_check(app_configs, **kwargs) -> list:
    """Return problems with SITE_URL, the address printed in published PDFs' links.

    In production it is required: a PDF is read away from the site, so its links must give
    the real address, never a development default. It should be HTTPS there.
    """
    site_url = getattr(settings, "SITE_URL", "")
    if not site_url:
        if settings.DEBUG:
            return []
        return [
            Error(
                "SITE_URL is not set.",
                hint=f"Set SITE_URL to the site's public address, e.g. {EXAMPLE}: published "
                "PDFs and e-mails print their links with it.",
                id="reports.E001",
            )
        ]
    parts = urlsplit(site_url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
    ):
        return [
            Error(
                f"SITE_URL {site_url!r} is not a web address.",
                hint=f"Give the scheme and host, e.g. {EXAMPLE}.",
                id="reports.E002",
            )
        ]
    if not settings.DEBUG and parts.scheme != "https":
        return [
            Warning(
                f"SITE_URL {site_url!r} is not HTTPS.",
                hint="The site is served over HTTPS in production (SECURE_SSL_REDIRECT); "
                "links printed in published PDFs should say so.",
                id="reports.W001",
            )
        ]
    return []
