"""Reading plan definitions and value files (SPEC §8 `import_plan`, `import_values`).

Both imports are all-or-nothing: every row is checked before anything is written, and every
problem is reported with where it is, so a file is fixed in one pass rather than one error
at a time."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from measures.arithmetic.formatting import plain_number
from measures.arithmetic.periods import Month, Period, PeriodError, parse_month, parse_period
from measures.engine.marks import recompute_mark
from measures.importing.files import read_rows
from measures.importing.rules import (
    ImportRejected,
    ImportSummary,
    RowError,
    check_header,
    is_formula,
    parse_figure,
)
from measures.models import (
    Area,
    Measure,
    Return,
    UnavailableFigure,
    Value,
)
from measures.returns import services
from measures.returns.rows import due_month, due_span
from measures.returns.validation import value_errors


@dataclass
class _ParsedRow:
    line: int
    measure: Measure
    area: Area
    period: Period
    value: Decimal
    numerator: Decimal | None
    denominator: Decimal | None
    note: str
    source: str
    released: Month | None = None


def _parse_value_row(
    line: int,
    cells: list[str],
    columns: dict[str, int],
    measures: dict[str, Measure],
    areas: dict[str, Area],
) -> tuple[_ParsedRow | None, list[str]]:
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    problems: list[str] = []
    if any("\x00" in text for text in cells):
        problems.append(
            "contains a NUL character (0x00); remove it, or save the file again as CSV UTF-8"
        )
    for text in cells:
        if is_formula(text):
            problems.append(f"formula {text[:30]!r} is not accepted; paste values only")
            break
    measure = measures.get(cell("measure"))
    if measure is None:
        problems.append(
            f"unknown measure {cell('measure')!r}" if cell("measure") else "measure is empty"
        )
    area = areas.get(cell("area"))
    if area is None:
        problems.append(f"unknown area {cell('area')!r}" if cell("area") else "area is empty")
    period = None
    try:
        period = parse_period(cell("period"))
    except PeriodError as exc:
        problems.append(str(exc))

    def number(name: str, required: bool) -> Decimal | None:
        text = cell(name)
        if not text:
            if required:
                problems.append(f"{name} is empty")
            return None
        try:
            return parse_figure(text)
        except ValueError as exc:
            problems.append(f"{name} {exc}")
            return None

    value = number("value", required=True)
    released = None
    if cell("released"):
        try:
            released = parse_month(cell("released"))
        except PeriodError as exc:
            problems.append(f"released: {exc}")
        if measure is not None and measure.frequency != Measure.Frequency.RELEASE:
            problems.append(
                f"released is only for a measure published in periodic releases; "
                f"{measure.code} is {measure.get_frequency_display().lower()}"
            )
    numerator = number("numerator", required=False)
    denominator = number("denominator", required=False)

    if bool(cell("numerator")) != bool(cell("denominator")):
        problems.append("numerator and denominator must be given together")
    elif measure is not None:
        problems += value_errors(
            unit=measure.unit,
            aggregation=measure.aggregation,
            decimals=measure.decimals,
            value=value,
            numerator=numerator,
            denominator=denominator,
            unit_name=Measure.Unit(measure.unit).label.lower(),
        )
    if problems or measure is None or area is None or period is None or value is None:
        return None, problems
    return (
        _ParsedRow(
            line,
            measure,
            area,
            period,
            value,
            numerator,
            denominator,
            cell("note"),
            cell("source"),
            released,
        ),
        [],
    )


def _differences(existing: Value, row: _ParsedRow) -> list[str]:
    """Return "field old → new" for each stored field the row would change."""
    wanted: dict[str, Any] = {
        "value": row.value,
        "numerator": row.numerator,
        "denominator": row.denominator,
        "note": row.note,
        "source": row.source or row.measure.source,
    }
    if row.released is not None:
        wanted["released_on"] = row.released.first_day
    return [
        f"{name} {_plain(getattr(existing, name))} → {_plain(new)}"
        for name, new in wanted.items()
        if getattr(existing, name) != new
    ]


def _plain(value: Any) -> str:
    """Return a stored value as a person would write it: 73.7, not 73.7000; '' as (blank)."""
    if isinstance(value, Decimal):
        return plain_number(value) or ""
    if isinstance(value, datetime.date):
        return Month.from_date(value).long_label
    return repr(value) if value not in (None, "") else "(blank)"


def values_import(
    *, path: Path, approve: bool = False, user=None, reason: str = ""
) -> ImportSummary:
    """Import a CSV/XLSX file of values all-or-nothing; raise ImportRejected for bad rows.

    A good CSV file on PostgreSQL is imported by COPY and set-based SQL (importers_sql); any
    other file, and any file that path is not sure of, is read and checked row by row here.
    """
    from measures.importing import values_copy

    summary = values_copy.values_import_copy(
        path=Path(path), approve=approve, user=user, reason=reason
    )
    if summary is not None:
        return summary
    rows = read_rows(Path(path))
    try:
        header_line, header = next(rows)
    except StopIteration:
        empty = RowError(0, f"{Path(path).name} is empty; expected a header row")
        raise ImportRejected([empty]) from None
    columns, errors = check_header(header_line, header)
    if errors:
        raise ImportRejected(errors)

    measures = {m.code: m for m in Measure.objects.select_related("priority")}
    areas = {a.code: a for a in Area.objects.all()}
    parsed: list[_ParsedRow] = []
    seen: dict[tuple[int, int, Period], int] = {}
    named = set(columns.values())
    for line, cells in rows:
        if not any(cells):
            continue
        stray = [i for i, text in enumerate(cells) if text and i not in named]
        if stray:
            errors.append(
                RowError(
                    line,
                    f"{cells[stray[0]]!r} in column {stray[0] + 1} has no heading; remove it, "
                    'or put a number with commas in quotes ("1,234")',
                )
            )
        row, problems = _parse_value_row(line, cells, columns, measures, areas)
        errors.extend(RowError(line, p) for p in problems)
        if row is None:
            continue
        key = (row.measure.pk, row.area.pk, row.period)
        if key in seen:
            errors.append(
                RowError(
                    line,
                    f"duplicate of line {seen[key]} ({row.measure.code}, {row.area.code}, "
                    f"{row.period.notation})",
                )
            )
            continue
        seen[key] = line
        parsed.append(row)
    if not parsed and not errors:
        errors.append(RowError(header_line, "the file has a header but no rows"))
    if errors:
        raise ImportRejected(errors)

    reason = reason or f"import {Path(path).name}"
    with transaction.atomic():
        # The returns first, then the values: the order return_save takes its locks in, so
        # an import and a save of the same return cannot deadlock, and no return is
        # submitted or approved between the checks below and the writes.
        holding = _ReturnsHolding(parsed)
        existing = _existing_values(parsed, lock=True)
        summary, to_create, to_update = ImportSummary(), [], []
        # Each row written, in file order, with its figure as stored before (None: new).
        written: list[tuple[_ParsedRow, dict[str, Any] | None]] = []
        status = Value.Status.APPROVED if approve else Value.Status.DRAFT
        now = timezone.now()
        for row in parsed:
            current = existing.get(
                (row.measure.pk, row.area.pk, row.period.start.first_day, row.period.end.first_day)
            )
            if current is None:
                to_create.append(
                    Value(
                        measure=row.measure,
                        area=row.area,
                        start=row.period.start.first_day,
                        end=row.period.end.first_day,
                        value=row.value,
                        numerator=row.numerator,
                        denominator=row.denominator,
                        note=row.note,
                        source=row.source or row.measure.source,
                        released_on=row.released.first_day if row.released else None,
                        status=status,
                        updated_by=user,
                    )
                )
                written.append((row, None))
                continue
            differences = _differences(current, row)
            if not differences and (current.status == status or not approve):
                summary.unchanged += 1
                continue
            if current.is_approved:
                errors.append(
                    RowError(
                        row.line,
                        f"{row.measure.code} for {row.area.code} {row.period.notation} is "
                        f"approved and the file changes it ({'; '.join(differences)}); "
                        "reopen its return before importing a revised figure",
                    )
                )
                continue
            written.append((row, _stored_figure(current)))
            current.value, current.numerator, current.denominator = (
                row.value,
                row.numerator,
                row.denominator,
            )
            current.note, current.source = row.note, row.source or row.measure.source
            if row.released is not None:
                current.released_on = row.released.first_day
            # bulk_update does not touch auto_now fields; the fast path sets it too.
            current.status, current.updated_by, current.updated_at = status, user, now
            to_update.append(current)
        errors += _locked_rows(written, holding, approve=approve)
        if errors:
            raise ImportRejected(errors)
        if to_create:
            bulk_create_with_history(
                to_create, Value, batch_size=2000, default_user=user, default_change_reason=reason
            )
        if to_update:
            bulk_update_with_history(
                to_update,
                Value,
                [
                    "value",
                    "numerator",
                    "denominator",
                    "note",
                    "source",
                    "released_on",
                    "status",
                    "updated_by",
                    "updated_at",
                ],
                batch_size=2000,
                default_user=user,
                default_change_reason=reason,
            )
        summary.created, summary.updated = len(to_create), len(to_update)
        # Without --approve only drafts change, which readers of approved figures never see.
        recompute_mark({v.measure_id for v in to_create + to_update}, drafts_only=not approve)
        changes: dict[int, list[dict]] = {}
        for row, before in written:
            for ret in holding.of(row):
                changes.setdefault(ret.pk, []).extend(
                    services.figure_changes(
                        measure=row.measure,
                        period=_stored_period(row.period),
                        before=before,
                        after=_imported_figure(row),
                    )
                )
        services.returns_record_import(changes=changes, actor=user, reason=reason)
    return summary


def _stored_figure(value: Value) -> dict[str, Any]:
    return {name: getattr(value, name) for name in services.FIGURE_FIELDS}


def _imported_figure(row: _ParsedRow) -> dict[str, Any]:
    return {
        "value": row.value,
        "numerator": row.numerator,
        "denominator": row.denominator,
        "note": row.note,
        "source": row.source or row.measure.source,
    }


def _stored_period(period: Period) -> Period:
    """Return the period as a stored value names it ("2022-12/2022-12" is "2022-12")."""
    return Value(start=period.start.first_day, end=period.end.first_day).period


class _ReturnsHolding:
    """The returns whose rows the imported figures fall in (returns.return_values, inverted).

    Found in one query, matched to the rows in memory by the month each figure falls due
    (returns.rows.due_month), and then exactly those are locked (and read again, so their
    states are the ones the lock holds).
    """

    def __init__(self, rows: list[_ParsedRow]):
        self._by_key: dict[tuple[int, int, int], list[Return]] = {}
        self._unavailable: set[tuple[int, int, Any, Any]] = set()
        self._windows: set[tuple[int, Any, Any]] = set()
        spans = [due_span(r.measure, r.period) for r in rows]
        if not spans:
            return
        self._unavailable = set(
            UnavailableFigure.objects.filter(
                measure_id__in={r.measure.pk for r in rows},
                area_id__in={r.area.pk for r in rows},
            ).values_list("measure_id", "area_id", "start", "end")
        )
        candidates = Return.objects.select_related("department", "reporting_period").filter(
            department_id__in={r.measure.owner_id for r in rows},
            reporting_period__plan_id__in={r.measure.priority.plan_id for r in rows},
            reporting_period__area_id__in={r.area.pk for r in rows},
            reporting_period__end__gte=min(span.end for span in spans).first_day,
        )
        if not self._unavailable:
            # A figure marked not available is asked for by the period after, so only
            # without any may the later periods be left out.
            candidates = candidates.filter(
                reporting_period__asks_from__lte=max(span.start for span in spans).first_day
            )
        self._index(candidates)
        # The due windows of the reporting periods, kept to find where a gap was marked.
        self._windows = {
            (r.reporting_period.plan_id, r.reporting_period.asks_from, r.reporting_period.end)
            for found in self._by_key.values()
            for r in found
        }
        held = {ret.pk for row in rows for ret in self.of(row)}
        self._by_key = {}
        if held:
            self._index(
                Return.objects.select_related("department", "reporting_period")
                .select_for_update(of=("self",))
                .filter(pk__in=held)
                .order_by("pk")
            )

    def _index(self, returns: Iterable[Return]) -> None:
        for ret in returns:
            key = (ret.department_id, ret.reporting_period.plan_id, ret.reporting_period.area_id)
            self._by_key.setdefault(key, []).append(ret)

    def of(self, row: _ParsedRow) -> list[Return]:
        key = (row.measure.owner_id, row.measure.priority.plan_id, row.area.pk)
        candidates = self._by_key.get(key, [])
        stored = (
            row.measure.pk,
            row.area.pk,
            row.period.start.first_day,
            row.period.end.first_day,
        )
        due = due_month(row.measure, row.period)
        if due is not None and stored in self._unavailable:
            plan_id, day = row.measure.priority.plan_id, due.first_day
            ends = [e for p, a, e in self._windows if p == plan_id and a <= day <= e]
            if ends:
                after = Month.from_date(ends[0]).shift(1).first_day
                return [r for r in candidates if r.reporting_period.asks_from == after]
        span = due_span(row.measure, row.period)
        first, last = span.start.first_day, span.end.first_day
        return [
            r
            for r in candidates
            if r.reporting_period.asks_from <= first and last <= r.reporting_period.end
        ]


def _locked_rows(
    written: list[tuple[_ParsedRow, dict[str, Any] | None]],
    holding: _ReturnsHolding,
    *,
    approve: bool,
) -> list[RowError]:
    """Return an error for each figure written into a return under review or approved, and,
    with --approve, into any return not approved (its figure would be approved before it)."""
    errors = []
    for row, _ in written:
        for ret in holding.of(row):
            reporting = ret.reporting_period
            where = (
                f"{row.measure.code} {_stored_period(row.period).notation} belongs to the "
                f"return of {ret.department.name} for {reporting.period.label}"
            )
            if ret.status in (Return.Status.SUBMITTED, Return.Status.APPROVED):
                state = "approved" if ret.status == Return.Status.APPROVED else "under review"
                errors.append(
                    RowError(
                        row.line,
                        f"{where}, which is {state}; it cannot change until that return is "
                        "reopened or sent back",
                    )
                )
                break
            if approve:
                errors.append(
                    RowError(
                        row.line,
                        f"{where}, which is {ret.get_status_display().lower()}; --approve "
                        "cannot approve a figure its return has not approved: import it as "
                        "a draft and let the return be reviewed",
                    )
                )
                break
    return sorted(errors, key=lambda e: e.line)


def _existing_values(rows: list[_ParsedRow], *, lock: bool) -> dict[tuple, Value]:
    """Return the stored values the rows would touch, keyed by (measure, area, start, end)."""
    measure_ids = {r.measure.pk for r in rows}
    qs = Value.objects.filter(measure_id__in=measure_ids)
    if lock:
        # Lock the rows this import may change so a concurrent approval cannot slip in
        # between our check of their status and the update.
        qs = qs.select_for_update()
    return {(v.measure_id, v.area_id, v.start, v.end): v for v in qs}
