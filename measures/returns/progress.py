"""django-tables2 tables of returns: a lead's list of returns and the reviewers' queue."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import reduce
from operator import or_

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html

from measures.arithmetic.periods import Period
from measures.models import Measure, Return, UnavailableFigure, Value
from measures.returns.rows import slot_filter, slots_due

STATUS_BADGE = '<span class="status status-{0}">{1}</span>'


def progress_by_return(returns: Iterable[Return]) -> dict[int, tuple[int, int]]:
    """Return (required rows answered, required rows) of each return, in three queries.

    It counts what `measures.returns.rows.progress(return_rows(ret))` counts, without reading
    each return's rows (and their history) one return at a time: a row is answered by a
    value or by a reason it is not available.
    """
    returns = list(returns)
    if not returns:
        return {}
    reporting_periods = {ret.reporting_period_id: ret.reporting_period for ret in returns}
    measures_of: dict[tuple[int, int], list[Measure]] = defaultdict(list)
    for measure in Measure.objects.filter(
        owner_id__in={ret.department_id for ret in returns},
        priority__plan_id__in={rp.plan_id for rp in reporting_periods.values()},
    ).select_related("priority"):
        measures_of[(measure.owner_id, measure.priority.plan_id)].append(measure)
    wanted = {
        ret.pk: [
            (measure.pk, ret.reporting_period.area_id, slot)
            for measure in measures_of[(ret.department_id, ret.reporting_period.plan_id)]
            for slot in slots_due(measure, ret.reporting_period.due_window)
        ]
        for ret in returns
    }
    by_area: dict[int, set[tuple[int, Period]]] = defaultdict(set)
    for rows in wanted.values():
        for pk, area, slot in rows:
            by_area[area].add((pk, slot))
    answered = set()
    if by_area:
        in_any = reduce(or_, (slot_filter(pairs, area) for area, pairs in by_area.items()))
        fields = ("measure_id", "area_id", "start", "end")
        # A row is answered by its figure or by the reason it is not available.
        answered |= set(Value.objects.filter(in_any).values_list(*fields))
        answered |= set(UnavailableFigure.objects.filter(in_any).values_list(*fields))
    return {
        pk: (
            sum((m, a, s.start.first_day, s.end.first_day) in answered for m, a, s in rows),
            len(rows),
        )
        for pk, rows in wanted.items()
    }


def is_overdue(ret: Return) -> bool:
    """A return is overdue when its deadline has passed and it is still with its lead."""
    return ret.is_editable and ret.reporting_period.deadline < timezone.localdate()


class ReturnTable(tables.Table):
    """Returns with their state, deadline and how many required figures are in."""

    department = tables.Column(
        verbose_name="Department", accessor="department__name", order_by=("department__name",)
    )
    reporting_period = tables.Column(
        verbose_name="Reporting period",
        order_by=("reporting_period__end", "reporting_period__start"),
    )
    deadline = tables.DateColumn(
        verbose_name="Deadline", accessor="reporting_period__deadline", format="j M Y"
    )
    status = tables.Column(verbose_name="State")
    overdue = tables.Column(verbose_name="Overdue", empty_values=(), orderable=False)
    progress = tables.Column(
        verbose_name="Figures entered",
        empty_values=(),
        orderable=False,
        attrs={"td": {"class": "num"}},
    )
    link = tables.Column(verbose_name="Return", empty_values=(), orderable=False)
    caption = "Returns"

    class Meta:
        attrs = {"class": "figures returns"}
        template_name = "returns/table.html"
        empty_text = "No returns match these filters."

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._progress: dict[int, tuple[int, int]] | None = None

    def progress_of(self, ret: Return) -> tuple[int, int]:
        # Computed once for the rows on this page, the first time a cell asks.
        if self._progress is None:
            self._progress = progress_by_return(row.record for row in self.paginated_rows)
        return self._progress.get(ret.pk, (0, 0))

    def render_reporting_period(self, value):
        return value.period.label

    def render_status(self, record):
        return format_html(STATUS_BADGE, record.status, record.get_status_display())

    def render_overdue(self, record):
        if is_overdue(record):
            return format_html('<span class="status status-overdue">{}</span>', "Overdue")
        return "No"

    def render_progress(self, record):
        filled, required = self.progress_of(record)
        return f"{filled} / {required}"

    def render_link(self, record):
        return format_html(
            '<a href="{}">Open<span class="visually-hidden"> the return of {}, {}</span></a>',
            record.get_absolute_url(),
            record.department.name,
            record.reporting_period.period.label,
        )


class ReviewQueueTable(ReturnTable):
    """Submitted returns, oldest submission first: the order they should be reviewed in."""

    submitted_at = tables.DateTimeColumn(verbose_name="Submitted", format="j M Y H:i")
    submitted_by = tables.Column(verbose_name="Submitted by", accessor="submitted_by")
    caption = "Returns waiting for review"

    class Meta(ReturnTable.Meta):
        orderable = False
        empty_text = "No returns are waiting for review."
        sequence = (
            "department",
            "reporting_period",
            "submitted_at",
            "submitted_by",
            "deadline",
            "progress",
            "link",
        )
        exclude = ("status", "overdue")

    def render_submitted_by(self, value):
        return value.get_username()
