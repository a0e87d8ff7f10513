"""Render Key Headlines text, everything escaped, with three pieces of markup:

- a line starting "- " is a bullet;
- a line starting "## " is a heading over the lines that follow ("## Adult Rape");
- **bold** inside a line.

Any other line is a paragraph. Bullets make one list until a heading or a paragraph comes
between them; blank lines do not end it.

A heading that names a table group ("## Adult Rape", `Measure.table_group`) takes that
group's tables into the headlines, after its first paragraph or bullet; a heading that names
a chart ("## Outcomes – Priority Crimes", the chart's title) takes the chart straight under it
(`place_tables`, `place_figures`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class Block:
    """A piece of headline HTML: a heading (with its words, to match a table's group), a
    paragraph, or a bullet list (each item's HTML, so a table can go after the first)."""

    html: str = ""
    heading: str = ""
    items: list[str] = field(default_factory=list)

    def as_html(self) -> str:
        if self.items:
            return f"<ul>{''.join(self.items)}</ul>"
        return self.html


def headline_blocks(text: str) -> list[Block]:
    """Return the headline text as blocks of HTML: headings, paragraphs and bullet lists."""
    blocks: list[Block] = []
    bullets: list[str] = []
    for line in (text or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("- "):
            bullets.append(f"<li>{_inline(stripped[2:])}</li>")
            continue
        if not stripped:
            continue  # a blank line between bullets keeps them one list
        if bullets:
            blocks.append(Block(items=bullets))
            bullets = []
        heading = HEADING.match(stripped)
        if heading:
            # Under the section's <h2> and its "Key Headlines" <h3>.
            html = f'<h4 class="headline-heading">{_inline(heading["text"])}</h4>'
            blocks.append(Block(html=html, heading=heading["text"]))
        else:
            blocks.append(Block(html=f"<p>{_inline(stripped)}</p>"))
    if bullets:
        blocks.append(Block(items=bullets))
    return blocks


@register.filter
def headline_html(text: str) -> SafeString:
    """Return the headline text as HTML headings, paragraphs and bullet lists."""
    # Safe: every piece of text was escaped by _inline() before markup was added.
    return mark_safe("".join(block.as_html() for block in headline_blocks(text)))


# --- tables placed under the headings that name their groups ------------------------------


@dataclass
class HeadlinePart:
    """A run of a headline's text from one heading to the next. A part whose heading names a
    table group carries that group's tables, printed after the part's first paragraph or
    bullet (`before`) and followed by the rest of the part (`after`)."""

    before: SafeString
    tables: list[Any] = field(default_factory=list)
    after: SafeString = field(default_factory=lambda: mark_safe(""))
    # A part whose heading names a chart: the heading, then the chart, then `before`.
    heading: SafeString = field(default_factory=lambda: mark_safe(""))
    charts: list[Any] = field(default_factory=list)


@dataclass
class PlacedHeadline:
    headline: Any
    parts: list[HeadlinePart]


@dataclass
class TablePlacement:
    """A section's Key Headlines with the tables their headings place, and the tables left
    to print where the section prints its tables."""

    headlines: list[PlacedHeadline]
    tables: list[Any]
    charts: list[Any] = field(default_factory=list)


def _words(text: str) -> str:
    """Return a heading or group as words to compare: no bold marks, case or extra spaces."""
    return " ".join(text.replace("**", "").split()).casefold()


def _by_heading(blocks: list[Block]) -> list[tuple[Block | None, list[Block]]]:
    """Return the blocks in runs that each open with a heading (the first may have none)."""
    runs: list[tuple[Block | None, list[Block]]] = []
    for block in blocks:
        if block.heading:
            runs.append((block, []))
        elif runs:
            runs[-1][1].append(block)
        else:
            runs.append((None, [block]))
    return runs


def _first_paragraph(blocks: list[Block]) -> tuple[list[str], list[str]]:
    """Return the blocks' HTML split after the first paragraph or bullet."""
    if not blocks:
        return [], []
    first, *others = blocks
    rest = [block.as_html() for block in others]
    if not first.items:
        return [first.html], rest
    if len(first.items) > 1:
        rest.insert(0, Block(items=first.items[1:]).as_html())
    return [Block(items=first.items[:1]).as_html()], rest


def _safe(pieces: list[str]) -> SafeString:
    # Safe: every piece was built by headline_blocks(), which escapes all text.
    return mark_safe("".join(pieces))


@register.filter
def place_tables(headlines: list, tables: list) -> TablePlacement:
    """Return the section's headlines with each grouped table placed (`place_figures`
    without charts)."""
    return place_figures(headlines, tables, [])


@register.simple_tag
def place_figures(headlines: list, tables: list, charts: list) -> TablePlacement:
    """Return the section's headlines with each grouped table (`FigureTable.group`) placed
    in the part of the first Key Headlines heading that names its group ("## Adult Rape"
    and "Rolling 12 month comparisons for Lancashire – Adult Rape"): after the heading's
    first paragraph or bullet, or straight under the heading when nothing follows it; and
    each chart straight under the first heading that names it (the chart's title, or its
    title before " – ": "## Outcomes – Priority Crimes").

    A heading that names nothing, and a table or chart no heading names, keep the places
    they have without headings: the heading in its text, the table with the section's
    tables, the chart with its charts.
    """
    by_group: dict[str, list] = {}
    for table in tables:
        if getattr(table, "group", ""):
            by_group.setdefault(_words(table.group), []).append(table)
    by_title: dict[str, list] = {}
    for chart in charts:
        for name in _chart_names(chart.title):
            by_title.setdefault(name, []).append(chart)
    placed: list = []
    result = []
    for headline in headlines:
        parts = []
        for heading, blocks in _by_heading(headline_blocks(headline.text)):
            opening = [heading.html] if heading else []
            words = _words(heading.heading) if heading else ""
            named = by_group.pop(words, []) if heading else []
            drawn = [c for c in by_title.pop(words, []) if c not in placed] if heading else []
            placed += drawn
            if drawn:
                opening, top = [], _safe(opening)
            else:
                top = mark_safe("")
            if not named:
                whole = _safe(opening + [b.as_html() for b in blocks])
                parts.append(HeadlinePart(whole, heading=top, charts=drawn))
                continue
            placed += named
            first, rest = _first_paragraph(blocks)
            parts.append(
                HeadlinePart(_safe(opening + first), named, _safe(rest), heading=top, charts=drawn)
            )
        result.append(PlacedHeadline(headline, parts))
    return TablePlacement(
        headlines=result,
        tables=[table for table in tables if table not in placed],
        charts=[chart for chart in charts if chart not in placed],
    )


EN_DASH = "\u2013"


def _chart_names(title: str) -> list[str]:
    """Return what a heading may call a chart: its title, and its title before " – "."""
    names = [_words(title)]
    if f" {EN_DASH} " in title:
        names.append(_words(title.rsplit(f" {EN_DASH} ", 1)[0]))
    return names
