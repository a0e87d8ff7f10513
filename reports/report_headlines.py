"""Checking the numbers typed into Key Headlines against the computed figures."""

from __future__ import annotations

from measures.periods import Month


def headline_mismatches(sections, *, area, month: Month) -> list[tuple[str, str]]:
    """Return (override key, problem text) for each headline number the figures contradict."""
    return []
