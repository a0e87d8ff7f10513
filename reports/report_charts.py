"""The charts a report section shows, built from the materialised figures."""

from __future__ import annotations

from measures.periods import Month


def section_charts(section, *, area, month: Month) -> list:
    """Return the charts for a section (none until the chart module is wired in)."""
    return []
