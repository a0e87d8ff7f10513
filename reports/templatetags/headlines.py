"""Render Key Headlines text, everything escaped, with three pieces of markup:

- a line starting "- " is a bullet;
- a line starting "## " is a heading over the lines that follow ("## Adult Rape");
- **bold** inside a line.

Any other line is a paragraph. Bullets make one list until a heading or a paragraph comes
between them; blank lines do not end it.
"""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

BOLD = re.compile(r"\*\*(.+?)\*\*")
# "## Heading"; one "#" or several read alike, as a heading within the Key Headlines.
HEADING = re.compile(r"^#{1,6}\s+(?P<text>\S.*)$")


def _inline(text: str) -> str:
    # Escape first, so the only markup that survives is the <strong> we add.
    return BOLD.sub(r"<strong>\1</strong>", escape(text.strip()))


@register.filter
def headline_html(text: str) -> SafeString:
    """Return the headline text as HTML headings, paragraphs and bullet lists."""
    blocks: list[str] = []
    bullets: list[str] = []
    for line in (text or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("- "):
            bullets.append(f"<li>{_inline(stripped[2:])}</li>")
            continue
        if not stripped:
            continue  # a blank line between bullets keeps them one list
        if bullets:
            blocks.append(f"<ul>{''.join(bullets)}</ul>")
            bullets = []
        heading = HEADING.match(stripped)
        if heading:
            # Under the section's <h2> and its "Key Headlines" <h3>.
            blocks.append(f'<h4 class="headline-heading">{_inline(heading["text"])}</h4>')
        else:
            blocks.append(f"<p>{_inline(stripped)}</p>")
    if bullets:
        blocks.append(f"<ul>{''.join(bullets)}</ul>")
    # Safe: every piece of text was escaped by _inline() before markup was added.
    return mark_safe("".join(blocks))
