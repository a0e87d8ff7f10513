"""django-tables2 tables for the seed report's tables.

Cells render with the seed's formatting ("16,127", "69.8%", "-39.1%"); exports use the
`value_*` methods so that spreadsheets receive numbers, not text.
"""

from __future__ import annotations

import html
import inspect
from typing import Any
from urllib.parse import quote

import django_tables2 as tables
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from measures.arithmetic.formatting import format_change_pct, format_change_pp, format_value
from measures.arithmetic.targets import LABELS as TARGET_LABELS
from reports.figure_tables import TableData, as_number

STATUS_BADGE = '<span class="status status-{0}">{1}</span>'
RAG_BADGE = '<span class="rag rag-{0}">{1}</span>'


def _escape(value: Any) -> str:
    """Return `value` as HTML: as it is if it is already safe, else escaped (as `escape`)."""
    return value if hasattr(value, "__html__") else html.escape(str(value))


def _cell_function(renderer, wants: set[str], default: Any, empty_values: tuple):
    """Return record, value → escaped cell HTML, as tables2 renders the column: the default
    for an empty value, else the render method called with what it asks for."""

    def plain(record, value):
        return _escape(default if value in empty_values else value)

    if renderer is None:
        return plain
    if "record" in wants and "value" in wants:

        def by_both(record, value):
            if value in empty_values:
                return _escape(default)
            return _escape(renderer(value=value, record=record))

        return by_both
    if "record" in wants:

        def by_record(record, value):
            if value in empty_values:
                return _escape(default)
            return _escape(renderer(record=record))

        return by_record

    def by_value(record, value):
        if value in empty_values:
            return _escape(default)
        return _escape(renderer(value=value) if "value" in wants else renderer())

    return by_value


def _html(template: str, *args: Any) -> SafeString:
    """Return `template` filled with the escaped `args`: `format_html` for hot loops."""
    return mark_safe(template.format(*(_escape(a) for a in args)))  # every argument escaped


def definition_anchor(measure) -> str:
    """Return the id of the measure's definition in the report's section notes."""
    return f"measure-{measure.code}"


def _value(record: dict[str, Any], key: str) -> str:
    measure = record["measure"]
    return format_value(record.get(key), measure.unit, measure.decimals)


def _change_number(record: dict[str, Any], pct_key: str, pp_key: str) -> float | None:
    """Return the change for a spreadsheet: points for percent measures, else per cent."""
    value = record.get(pp_key if record["measure"].is_percent else pct_key)
    return None if value is None else round(float(value), 1)


def _change(record: dict[str, Any], pct_key: str, pp_key: str) -> str:
    if record["measure"].is_percent:
        return format_change_pp(record.get(pp_key))
    return format_change_pct(record.get(pct_key))


class FigureTable(tables.Table):
    """Base for figure tables: labels from the data, a status column, marks after values."""

    status = tables.Column(verbose_name="Status", orderable=False)
    # In a published report the measure pages are out of reach (they need signing in): a
    # measure's name links to its definition in the report instead (`reports.templatetags`).
    published = False

    def __init__(self, data: TableData, **kwargs):
        # Passed here rather than in Meta: tables2 does not inherit Meta into subclasses.
        kwargs.setdefault("template_name", "reports/figure_table.html")
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("sequence", ("...", "status"))
        kwargs.setdefault("attrs", {"class": "figures"})
        super().__init__(data.rows, **kwargs)
        for name, label in data.labels.items():
            if name in self.columns:
                self.columns[name].column.verbose_name = label
        self.caption = data.caption
        self.footnotes = data.footnotes.as_list()
        for bound in self.columns:
            renderer = getattr(self, f"render_{bound.name}", None)
            if renderer and "record" in inspect.signature(renderer).parameters:
                # A renderer that reads the record (a figure with its marks, say) decides
                # what an empty value shows, for tables2 and for `cell_rows` alike.
                bound.column.empty_values = ()

    def _cell_plan(self) -> list[tuple[str, Any, str]]:
        """Return (accessor, cell function, td class) per column.

        A cell function takes the record and returns the cell's HTML, escaped unless safe:
        the table's `render_<name>` (or the column's own `render`) called with what it asks
        for (value, record), or the value itself, or the column's default when it is empty.
        """
        plan = []
        for bound in self.columns:
            renderer = getattr(self, f"render_{bound.name}", None)
            if renderer is None and type(bound.column).render is not tables.Column.render:
                renderer = bound.column.render
            wants = set(inspect.signature(renderer).parameters) if renderer else set()
            css = bound.column.attrs.get("td", {}).get("class", "")
            cell = _cell_function(renderer, wants, bound.default, bound.column.empty_values)
            plan.append((str(bound.accessor), cell, css))
        return plan

    def _cells(self) -> list[list[tuple[str, str]]]:
        plan = self._cell_plan()
        return [
            [(cell(record, record.get(key)), css) for key, cell, css in plan]
            for record in self.data.data
        ]

    def cell_rows(self) -> list[list[tuple[SafeString, str]]]:
        """Return every row as (cell HTML, cell class) pairs, calling the render methods directly.

        tables2 builds a BoundRow and resolves every cell through several layers; on a
        200-row table that is most of the page's time. The cells are the same: each column's
        `render_<name>` (or the column's `render`) with the value and record, escaped unless
        safe — as tests/reports/test_table_renderer.py checks against tables2 itself.
        """
        # Every cell is escaped by its cell function.
        return [[(mark_safe(cell), css) for cell, css in row] for row in self._cells()]

    def row_html(self) -> list[SafeString]:
        """Return each row's cells as HTML, the first a row header: the page's table body.

        The cells are `cell_rows`' (one renderer); they are joined here rather than in the
        template, whose per-cell tags would cost more than the figures themselves on a
        large table.
        """
        tags = []
        for i, (_, _, css) in enumerate(self._cell_plan()):
            tag = "th" if i == 0 else "td"
            scope = ' scope="row"' if i == 0 else ""
            css_attr = f' class="{html.escape(css)}"' if css else ""
            tags.append((f"<{tag}{scope}{css_attr}>", f"</{tag}>"))
        # Every cell is escaped by its cell function; the tags are fixed text.
        return [
            mark_safe(
                "".join(
                    f"{opening}{cell}{closing}"
                    for (cell, _), (opening, closing) in zip(row, tags, strict=True)
                )
            )
            for row in self._cells()
        ]

    def render_status(self, value):
        return _html(STATUS_BADGE, value, value.capitalize())

    def render_rag(self, value):
        return _html(RAG_BADGE, value, TARGET_LABELS[value])

    def value_rag(self, value):
        return TARGET_LABELS.get(value, "")

    def render_measure(self, value):
        if self.published:
            if not value.definition:
                return value.name
            return _html('<a href="#{0}">{1}</a>', definition_anchor(value), value.name)
        # One reverse() per table, not per row: measure codes are slugs, safe in a path.
        if not hasattr(self, "_measure_url"):
            self._measure_url = reverse("reports:measure", args=["-code-"])
        url = self._measure_url.replace("-code-", quote(value.code))
        return _html('<a href="{0}">{1}</a>', url, value.name)

    def value_measure(self, value):
        return value.name


class NationalPictureTable(FigureTable):
    target = tables.Column(verbose_name="Target", default="")
    measure = tables.Column(verbose_name="Measure")
    base = tables.Column(verbose_name="Baseline", attrs={"td": {"class": "num"}})
    current = tables.Column(verbose_name="Current", attrs={"td": {"class": "num"}})
    change = tables.Column(verbose_name="Change", empty_values=(), attrs={"td": {"class": "num"}})
    rag = tables.Column(verbose_name="Against target", default="–")

    def render_base(self, record):
        return f"{_value(record, 'base')}{record['marks']}"

    def render_current(self, record):
        return f"{_value(record, 'current')}{record['marks']}"

    def render_change(self, record):
        return _change(record, "change_pct", "change_pp") + record.get("change_marks", "")

    def value_base(self, record):
        return as_number(record["base"])

    def value_current(self, record):
        return as_number(record["current"])

    def value_change(self, record):
        return _change_number(record, "change_pct", "change_pp")


class YearToDateTable(FigureTable):
    year = tables.Column(verbose_name="Year")
    total = tables.Column(verbose_name="Total", accessor="value", attrs={"td": {"class": "num"}})
    change = tables.Column(
        verbose_name="Percentage change vs. previous year",
        empty_values=(),
        attrs={"td": {"class": "num"}},
    )

    def __init__(self, data: TableData, **kwargs):
        super().__init__(data, **kwargs)
        self.columns["year"].column.verbose_name = data.labels.get("window", "Year")

    def render_total(self, record):
        return f"{_value(record, 'value')}{record['marks']}"

    def render_change(self, record):
        if record["change_pct"] is None and record["change"] is None:
            return "-"
        return format_change_pct(record["change_pct"])

    def value_total(self, record):
        return as_number(record["value"])

    def value_change(self, record):
        value = record["change_pct"]
        return None if value is None else round(float(value), 1)


class MonthColumn(tables.Column):
    """One month's figure: formatted for its measure on the page, a number in exports."""

    def render(self, value, record):
        return format_value(value, record["measure"].unit, record["measure"].decimals)

    def value(self, value, record):
        return as_number(value)


class MonthlyTable(FigureTable):
    measure = tables.Column(verbose_name="Measure")

    def __init__(self, data: TableData, **kwargs):
        months = [key for key in data.labels if key[:4].isdigit()]
        extra = [
            (key, MonthColumn(verbose_name=data.labels[key], attrs={"td": {"class": "num"}}))
            for key in months
        ]
        super().__init__(data, extra_columns=extra, **kwargs)


class ScorecardTable(FigureTable):
    group = tables.Column(verbose_name="Group")
    measure = tables.Column(verbose_name="Activity")
    value = tables.Column(verbose_name="This quarter", attrs={"td": {"class": "num"}})
    previous = tables.Column(verbose_name="Previous quarter", attrs={"td": {"class": "num"}})
    change = tables.Column(verbose_name="Change", empty_values=(), attrs={"td": {"class": "num"}})

    def render_value(self, record):
        return f"{_value(record, 'value')}{record['marks']}"

    def render_previous(self, record):
        return _value(record, "previous")

    def render_change(self, record):
        return format_change_pct(record["change_pct"])

    def value_value(self, record):
        return as_number(record["value"])

    def value_previous(self, record):
        return as_number(record["previous"])

    def value_change(self, record):
        value = record["change_pct"]
        return None if value is None else round(float(value), 1)


class PerformanceTable(FigureTable):
    priority = tables.Column(verbose_name="Priority")
    measure = tables.Column(verbose_name="Measure")
    area = tables.Column(verbose_name="Area")
    r12_base = tables.Column(verbose_name="Previous 12 months", attrs={"td": {"class": "num"}})
    r12_current = tables.Column(verbose_name="Rolling 12 months", attrs={"td": {"class": "num"}})
    r12_change = tables.Column(
        verbose_name="Change", empty_values=(), attrs={"td": {"class": "num"}}
    )
    ytd_base = tables.Column(verbose_name="Previous year to date", attrs={"td": {"class": "num"}})
    ytd_current = tables.Column(verbose_name="Year to date", attrs={"td": {"class": "num"}})
    ytd_change = tables.Column(
        verbose_name="Change", empty_values=(), attrs={"td": {"class": "num"}}
    )
    direction = tables.Column(verbose_name="Direction", accessor="r12_direction")
    plan = tables.Column(
        verbose_name="Against the plan baseline", empty_values=(), attrs={"td": {"class": "num"}}
    )
    rag = tables.Column(verbose_name="Against target", default="–")
    spc = tables.Column(verbose_name="SPC signal", default="–")

    def render_r12_base(self, record):
        return _value(record, "r12_base")

    def render_r12_current(self, record):
        return f"{_value(record, 'r12_current')}{record['marks']}"

    def render_r12_change(self, record):
        return _change(record, "r12_change_pct", "r12_change_pp") + record.get("change_marks", "")

    def render_ytd_base(self, record):
        return _value(record, "ytd_base")

    def render_ytd_current(self, record):
        return f"{_value(record, 'ytd_current')}{record['marks']}"

    def render_ytd_change(self, record):
        return _change(record, "ytd_change_pct", "ytd_change_pp")

    def render_direction(self, value):
        return value.replace("_", " ")

    def render_plan(self, record):
        if record["plan_current"] is None and record["plan_base"] is None:
            return "–"
        return _change(record, "plan_change_pct", "plan_change_pp")

    def value_plan(self, record):
        return _change_number(record, "plan_change_pct", "plan_change_pp")

    def value_r12_base(self, record):
        return as_number(record["r12_base"])

    def value_r12_current(self, record):
        return as_number(record["r12_current"])

    def value_r12_change(self, record):
        return _change_number(record, "r12_change_pct", "r12_change_pp")

    def value_ytd_base(self, record):
        return as_number(record["ytd_base"])

    def value_ytd_current(self, record):
        return as_number(record["ytd_current"])

    def value_ytd_change(self, record):
        return _change_number(record, "ytd_change_pct", "ytd_change_pp")


class NationalComparisonTable(FigureTable):
    measure = tables.Column(verbose_name="Measure")
    current = tables.Column(verbose_name="Area", attrs={"td": {"class": "num"}})
    national = tables.Column(verbose_name="National", attrs={"td": {"class": "num"}})
    difference = tables.Column(
        verbose_name="Difference from national", attrs={"td": {"class": "num"}}
    )
    previous = tables.Column(verbose_name="Previous release", attrs={"td": {"class": "num"}})
    change = tables.Column(verbose_name="Change since previous", attrs={"td": {"class": "num"}})
    period = tables.Column(verbose_name="Period", accessor="current_period", empty_values=())

    def render_current(self, record):
        return f"{_value(record, 'current')}{record['marks']}"

    def render_national(self, record):
        return _value(record, "national")

    def render_previous(self, record):
        return _value(record, "previous")

    def _signed(self, record, key):
        value = record[key]
        if value is None:
            return "n/a"
        text = format_value(abs(value), record["measure"].unit, record["measure"].decimals)
        sign = "+" if value > 0 else "-" if value < 0 else ""
        suffix = " pp" if record["measure"].is_percent else ""
        return (
            f"{sign}{text.rstrip('%')}{suffix}"
            if record["measure"].is_percent
            else f"{sign}{text}"
        )

    def render_difference(self, record):
        return self._signed(record, "difference")

    def render_change(self, record):
        return self._signed(record, "change")

    def render_period(self, value):
        return value.label

    def value_current(self, record):
        return as_number(record["current"])

    def value_national(self, record):
        return as_number(record["national"])

    def value_difference(self, record):
        return as_number(record["difference"])

    def value_previous(self, record):
        return as_number(record["previous"])

    def value_change(self, record):
        return as_number(record["change"])

    def value_period(self, value):
        return value.label


TABLE_CLASSES = {
    "national-picture": NationalPictureTable,
    "national-comparison": NationalComparisonTable,
    "scorecard": ScorecardTable,
    "year-to-date": YearToDateTable,
    "monthly": MonthlyTable,
}
