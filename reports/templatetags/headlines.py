"""Render Key Headlines text: "- " bullets and **bold**, everything else escaped."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

BOLD = re.compile(r"\*\*(.+?)\*\*")


def _inline(text: str) -> str:
    # Escape first, so the only markup that survives is the <strong> we add.
    return BOLD.sub(r"<strong>\1</strong>", escape(text.strip()))


@register.filter
def headline_html(text: str) -> SafeString:
    """Return the headline text as HTML paragraphs and bullet lists."""
    blocks: list[str] = []
    bullets: list[str] = []
    for line in (text or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("- "):
            bullets.append(f"<li>{_inline(stripped[2:])}</li>")
            continue
        if bullets:
            blocks.append(f"<ul>{''.join(bullets)}</ul>")
            bullets = []
        if stripped:
            blocks.append(f"<p>{_inline(stripped)}</p>")
    if bullets:
        blocks.append(f"<ul>{''.join(bullets)}</ul>")
    # Safe: every piece of text was escaped by _inline() before markup was added.
    return mark_safe("".join(blocks))
