"""django-tables2 tables for the seed report's tables.

Cells render with the seed's formatting ("16,127", "69.8%", "-39.1%"). Downloads read
`as_values()`: the `value_*` methods give numbers rounded as the page prints them, never
markup; columns hidden on the page (`ExportColumn`) add what a spreadsheet needs besides —
the row's unit, its footnote marks, and each change in a column of its own unit ("Change
(%)", "Change (pp)") — and `export_formats()` gives every cell its number format.
"""

from __future__ import annotations

import functools
import html
import inspect
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import django_tables2 as tables
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from measures.arithmetic.formatting import (
    format_change_pct,
    format_change_pp,
    format_value,
    round_half_up,
)
from measures.arithmetic.targets import LABELS as TARGET_LABELS
from reports.exports import PCT_CHANGE_FORMAT, PP_CHANGE_FORMAT, number_format
from reports.figure_tables import TableData, as_number

STATUS_BADGE = '<span class="status status-{0}">{1}</span>'
RAG_BADGE = '<span class="rag rag-{0}">{1}</span>'
NUM = {"td": {"class": "num"}}
# A measure's unit as a download's "Unit" column names it (a rate says per how many).
UNIT_LABELS = {"count": "count", "percent": "%", "gbp": "£", "days": "days", "years": "years"}


def _escape(value: Any) -> str:
    """Return `value` as HTML: as it is if it is already safe, else escaped (as `escape`)."""
    return value if hasattr(value, "__html__") else html.escape(str(value))


@functools.cache
def _signature_parameters(function) -> frozenset[str]:
    return frozenset(inspect.signature(function).parameters)


def _parameters(renderer) -> frozenset[str]:
    """The names a render method takes (read once per function, not once per table)."""
    function = getattr(renderer, "__func__", None)
    if function is None:
        return frozenset(inspect.signature(renderer).parameters)
    return frozenset(_signature_parameters(function)) - {"self"}


def _cell_function(renderer, wants: frozenset[str], default: Any, empty_values: tuple):
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


def _change(record: dict[str, Any], pct_key: str, pp_key: str) -> str:
    if record["measure"].is_percent:
        return format_change_pp(record.get(pp_key))
    return format_change_pct(record.get(pct_key))


def _rounded(value: Any, places: int) -> int | float | None:
    """Return `value` rounded as the page prints it (halves away from zero), as a number."""
    if value is None:
        return None
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return as_number(round_half_up(value, places))


def _figure(record: dict[str, Any], key: str) -> int | float | None:
    """Return a figure for a download: the number the page shows, at the measure's decimals."""
    return _rounded(record.get(key), record["measure"].decimals)


def _pct_change(record: dict[str, Any], key: str) -> int | float | None:
    """Return a change in per cent, to 1 decimal place; none for a percent measure, whose
    change the page gives in points (`_pp_change`)."""
    return None if record["measure"].is_percent else _rounded(record.get(key), 1)


def _pp_change(record: dict[str, Any], key: str) -> int | float | None:
    """Return a percent measure's change in percentage points, to 1 decimal place."""
    return _rounded(record.get(key), 1) if record["measure"].is_percent else None


def unit_label(measure) -> str:
    """Return the measure's unit as a download names it: "count", "%", "£", "days", "per 1,000"."""
    if measure.unit == "rate":
        return f"per {measure.rate_per:,}" if measure.rate_per else "rate"
    return UNIT_LABELS.get(measure.unit, measure.unit)


def figure_format(record: dict[str, Any]) -> str:
    """Return the spreadsheet number format of the row's figures: its measure's decimals,
    with "%" or "£" as the page prints them."""
    measure = record["measure"]
    return number_format(measure.unit, measure.decimals)


def difference_format(record: dict[str, Any]) -> str:
    """Return the number format of a signed difference in the measure's unit (percentage
    points for a percent measure), as the national comparison prints it."""
    measure = record["measure"]
    unit = "pp" if measure.is_percent else measure.unit
    return number_format(unit, measure.decimals, signed=True)


class NumberColumn(tables.Column):
    """A column of figures: right-aligned on the page, a number in downloads, written in a
    spreadsheet with `number_format` (a format, or a function of the row giving one)."""

    def __init__(self, *args, number_format: Any = figure_format, **kwargs):
        kwargs.setdefault("attrs", NUM)
        super().__init__(*args, **kwargs)
        self.number_format = number_format


class ExportColumn(tables.Column):
    """A column of the downloads only, hidden on the page: its value is the table's
    `value_<name>(record)`, its number format `number_format` (None for text).

    With `of`, its header is `verbose_name` filled with that page column's header, as the
    table labels it: "{} (pp)" of "plan" is "Against the plan baseline (…) (pp)".
    """

    def __init__(self, verbose_name: str, *, of: str = "", number_format: Any = None):
        super().__init__(verbose_name=verbose_name, visible=False, empty_values=())
        self.header_of = of
        self.header_template = verbose_name
        self.number_format = number_format


# Columns every table exports at its end, after the page's own.
EXPORT_TAIL = ("status", "notes")


class FigureTable(tables.Table):
    """Base for figure tables: labels from the data, a status column, marks after values."""

    status = tables.Column(verbose_name="Status", orderable=False)
    unit = ExportColumn("Unit")
    notes = ExportColumn("Notes")
    # In a published report the measure pages are out of reach (they need signing in): a
    # measure's name links to its definition in the report instead (`reports.templatetags`).
    published = False

    def __init__(self, data: TableData, **kwargs):
        # Passed here rather than in Meta: tables2 does not inherit Meta into subclasses.
        kwargs.setdefault("template_name", "reports/figure_table.html")
        kwargs.setdefault("orderable", False)
        extra = [name for name, _ in kwargs.get("extra_columns", ())]
        kwargs.setdefault("sequence", self._sequence(extra))
        kwargs.setdefault("attrs", {"class": "figures"})
        super().__init__(data.rows, **kwargs)
        for name, label in data.labels.items():
            if name in self.columns:
                self.columns[name].column.verbose_name = label
        for bound in self.columns.iterall():
            if getattr(bound.column, "header_of", ""):
                page_header = self.columns[bound.column.header_of].header
                bound.column.verbose_name = bound.column.header_template.format(page_header)
        self.title = data.title
        self.caption = data.caption
        self.footnotes = data.footnotes.as_list()
        # Where the report prints it (under the Key Headlines heading naming its group) and
        # the sources printed under it.
        self.group = data.group
        self.source_systems = data.source_systems
        for bound in self.columns:
            renderer = getattr(self, f"render_{bound.name}", None)
            if renderer and "record" in inspect.signature(renderer).parameters:
                # A renderer that reads the record (a figure with its marks, say) decides
                # what an empty value shows, for tables2 and for `cell_rows` alike.
                bound.column.empty_values = ()

    @classmethod
    def _sequence(cls, extra: list[str]) -> list[str]:
        """Return the columns' order: the page's, then status; in downloads the unit
        follows the measure (or the first column) and the footnote marks come last."""
        names = [n for n in cls.base_columns if n not in (*EXPORT_TAIL, "unit")] + extra
        at = names.index("measure") + 1 if "measure" in names else 1
        return [*names[:at], "unit", *names[at:], *EXPORT_TAIL]

    def export_formats(self) -> list[list[str | None]]:
        """Return each exported cell's spreadsheet number format (None for text), row by
        row, in the order of `as_values()`' cells after its header."""
        formats = [
            getattr(bound.column, "number_format", None)
            for bound in self.columns.iterall()
            if not bound.column.exclude_from_export
        ]
        return [[f(record) if callable(f) else f for f in formats] for record in self.data.data]

    def _cell_plan(self) -> list[tuple[str, Any, str]]:
        """Return (accessor, cell function, td class) per column.

        A cell function takes the record and returns the cell's HTML, escaped unless safe:
        the table's `render_<name>` (or the column's own `render`) called with what it asks
        for (value, record), or the value itself, or the column's default when it is empty.
        """
        cached = self.__dict__.get("_plan")
        if cached is not None:  # the same for every row and both of its callers
            return cached
        plan = []
        for bound in self.columns:
            renderer = getattr(self, f"render_{bound.name}", None)
            if renderer is None and type(bound.column).render is not tables.Column.render:
                renderer = bound.column.render
            wants = _parameters(renderer) if renderer else frozenset()
            css = bound.column.attrs.get("td", {}).get("class", "")
            cell = _cell_function(renderer, wants, bound.default, bound.column.empty_values)
            plan.append((str(bound.accessor), cell, css))
        self._plan = plan
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

    def value_status(self, value):
        return value.capitalize()

    def value_unit(self, record):
        return unit_label(record["measure"])

    def value_notes(self, record):
        return record.get("marks", "") + record.get("change_marks", "")

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
    base = NumberColumn(verbose_name="Baseline")
    current = NumberColumn(verbose_name="Current")
    change = tables.Column(
        verbose_name="Change", empty_values=(), attrs=NUM, exclude_from_export=True
    )
    change_pct = ExportColumn("{} (%)", of="change", number_format=PCT_CHANGE_FORMAT)
    change_pp = ExportColumn("{} (pp)", of="change", number_format=PP_CHANGE_FORMAT)
    rag = tables.Column(verbose_name="Against target", default="–")

    def render_base(self, record):
        return f"{_value(record, 'base')}{record['marks']}"

    def render_current(self, record):
        return f"{_value(record, 'current')}{record['marks']}"

    def render_change(self, record):
        return _change(record, "change_pct", "change_pp") + record.get("change_marks", "")

    def value_base(self, record):
        return _figure(record, "base")

    def value_current(self, record):
        return _figure(record, "current")

    def value_change_pct(self, record):
        return _pct_change(record, "change_pct")

    def value_change_pp(self, record):
        return _pp_change(record, "change_pp")


class YearToDateTable(FigureTable):
    year = tables.Column(verbose_name="Year")
    total = NumberColumn(verbose_name="Total", accessor="value")
    change = tables.Column(
        verbose_name="Percentage change vs. previous year",
        empty_values=(),
        attrs=NUM,
        exclude_from_export=True,
    )
    change_pct = ExportColumn("Change vs. previous year (%)", number_format=PCT_CHANGE_FORMAT)

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
        return _figure(record, "value")

    def value_change_pct(self, record):
        return _rounded(record["change_pct"], 1)


class MonthColumn(NumberColumn):
    """One month's figure: formatted for its measure on the page, a number in exports."""

    def render(self, value, record):
        return format_value(value, record["measure"].unit, record["measure"].decimals)

    def value(self, value, record):
        return _rounded(value, record["measure"].decimals)


class MonthlyTable(FigureTable):
    measure = tables.Column(verbose_name="Measure")

    def __init__(self, data: TableData, **kwargs):
        months = [key for key in data.labels if key[:4].isdigit()]
        extra = [(key, MonthColumn(verbose_name=data.labels[key])) for key in months]
        super().__init__(data, extra_columns=extra, **kwargs)


class ScorecardTable(FigureTable):
    group = tables.Column(verbose_name="Group")
    measure = tables.Column(verbose_name="Activity")
    value = NumberColumn(verbose_name="This quarter")
    previous = NumberColumn(verbose_name="Previous quarter")
    change = tables.Column(
        verbose_name="Change", empty_values=(), attrs=NUM, exclude_from_export=True
    )
    change_pct = ExportColumn("{} (%)", of="change", number_format=PCT_CHANGE_FORMAT)

    def render_value(self, record):
        return f"{_value(record, 'value')}{record['marks']}"

    def render_previous(self, record):
        return _value(record, "previous")

    def render_change(self, record):
        return format_change_pct(record["change_pct"])

    def value_value(self, record):
        return _figure(record, "value")

    def value_previous(self, record):
        return _figure(record, "previous")

    def value_change_pct(self, record):
        return _rounded(record["change_pct"], 1)


class PerformanceTable(FigureTable):
    priority = tables.Column(verbose_name="Priority")
    measure = tables.Column(verbose_name="Measure")
    area = tables.Column(verbose_name="Area")
    r12_base = NumberColumn(verbose_name="Previous 12 months")
    r12_current = NumberColumn(verbose_name="Rolling 12 months")
    r12_change = tables.Column(
        verbose_name="Change", empty_values=(), attrs=NUM, exclude_from_export=True
    )
    r12_change_pct = ExportColumn("Rolling 12 months change (%)", number_format=PCT_CHANGE_FORMAT)
    r12_change_pp = ExportColumn("Rolling 12 months change (pp)", number_format=PP_CHANGE_FORMAT)
    ytd_base = NumberColumn(verbose_name="Previous year to date")
    ytd_current = NumberColumn(verbose_name="Year to date")
    ytd_change = tables.Column(
        verbose_name="Change", empty_values=(), attrs=NUM, exclude_from_export=True
    )
    ytd_change_pct = ExportColumn("Year to date change (%)", number_format=PCT_CHANGE_FORMAT)
    ytd_change_pp = ExportColumn("Year to date change (pp)", number_format=PP_CHANGE_FORMAT)
    direction = tables.Column(verbose_name="Direction", accessor="r12_direction")
    plan = tables.Column(
        verbose_name="Against the plan baseline",
        empty_values=(),
        attrs=NUM,
        exclude_from_export=True,
    )
    plan_change_pct = ExportColumn("{} (%)", of="plan", number_format=PCT_CHANGE_FORMAT)
    plan_change_pp = ExportColumn("{} (pp)", of="plan", number_format=PP_CHANGE_FORMAT)
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

    def value_r12_base(self, record):
        return _figure(record, "r12_base")

    def value_r12_current(self, record):
        return _figure(record, "r12_current")

    def value_r12_change_pct(self, record):
        return _pct_change(record, "r12_change_pct")

    def value_r12_change_pp(self, record):
        return _pp_change(record, "r12_change_pp")

    def value_ytd_base(self, record):
        return _figure(record, "ytd_base")

    def value_ytd_current(self, record):
        return _figure(record, "ytd_current")

    def value_ytd_change_pct(self, record):
        return _pct_change(record, "ytd_change_pct")

    def value_ytd_change_pp(self, record):
        return _pp_change(record, "ytd_change_pp")

    def value_plan_change_pct(self, record):
        if record["plan_current"] is None and record["plan_base"] is None:
            return None
        return _pct_change(record, "plan_change_pct")

    def value_plan_change_pp(self, record):
        if record["plan_current"] is None and record["plan_base"] is None:
            return None
        return _pp_change(record, "plan_change_pp")


class NationalComparisonTable(FigureTable):
    measure = tables.Column(verbose_name="Measure")
    current = NumberColumn(verbose_name="Area")
    national = NumberColumn(verbose_name="National")
    difference = tables.Column(
        verbose_name="Difference from national", attrs=NUM, exclude_from_export=True
    )
    # A difference is in the measure's unit (the "Unit" column); a percent measure's is in
    # percentage points, in a column that says so.
    difference_in_unit = ExportColumn("{}", of="difference", number_format=difference_format)
    difference_pp = ExportColumn("{} (pp)", of="difference", number_format=difference_format)
    previous = NumberColumn(verbose_name="Previous release")
    change = tables.Column(
        verbose_name="Change since previous", attrs=NUM, exclude_from_export=True
    )
    change_in_unit = ExportColumn("{}", of="change", number_format=difference_format)
    change_pp = ExportColumn("{} (pp)", of="change", number_format=difference_format)
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
        measure = record["measure"]
        # The sign of the figure as printed: -0.3 days at no decimals is "0 days", not "-0".
        rounded = round_half_up(value, measure.decimals)
        text = format_value(abs(rounded), measure.unit, measure.decimals)
        sign = "+" if rounded > 0 else "-" if rounded < 0 else ""
        if measure.is_percent:
            return f"{sign}{text.rstrip('%')} pp"
        return f"{sign}{text}"

    def render_difference(self, record):
        return self._signed(record, "difference")

    def render_change(self, record):
        return self._signed(record, "change")

    def render_period(self, value):
        return value.label

    def value_current(self, record):
        return _figure(record, "current")

    def value_national(self, record):
        return _figure(record, "national")

    def value_difference_in_unit(self, record):
        return None if record["measure"].is_percent else _figure(record, "difference")

    def value_difference_pp(self, record):
        return _figure(record, "difference") if record["measure"].is_percent else None

    def value_previous(self, record):
        return _figure(record, "previous")

    def value_change_in_unit(self, record):
        return None if record["measure"].is_percent else _figure(record, "change")

    def value_change_pp(self, record):
        return _figure(record, "change") if record["measure"].is_percent else None

    def value_period(self, value):
        return value.label


TABLE_CLASSES = {
    "national-picture": NationalPictureTable,
    "national-comparison": NationalComparisonTable,
    "scorecard": ScorecardTable,
    "year-to-date": YearToDateTable,
    "monthly": MonthlyTable,
}
