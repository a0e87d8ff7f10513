"""Published reports are read without signing in: their links must stay within them."""

from __future__ import annotations

from django import template

from reports import tables

register = template.Library()


@register.filter
def published(table: tables.FigureTable) -> tables.FigureTable:
    """Return the table with its measure names linked to their definitions in the report,
    not to the measure pages, which an anonymous reader cannot open."""
    table.published = True
    return table


@register.filter
def definition_anchor(measure) -> str:
    """Return the id of the measure's definition in the report (`tables.definition_anchor`)."""
    return tables.definition_anchor(measure)
