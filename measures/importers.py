"""Reading plan definitions and value files (SPEC §8 `import_plan`, `import_values`).

Both imports are all-or-nothing: every row is checked before anything is written, and every
problem is reported with where it is, so a file is fixed in one pass rather than one error
at a time.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.db import models, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from measures import services
from measures.models import (
    ApprovedLocked,
    Area,
    ComparisonGroup,
    Department,
    Headline,
    Measure,
    Plan,
    Priority,
    Return,
    Target,
    Value,
)
from measures.periods import Month, Period, PeriodError, parse_period
from measures.recompute import recompute_mark
from measures.validation import value_errors

VALUE_COLUMNS = ("measure", "area", "period", "value")
OPTIONAL_VALUE_COLUMNS = ("numerator", "denominator", "note", "source")
MAX_FILE_BYTES = 200 * 1024 * 1024
# Value.value is DecimalField(max_digits=18, decimal_places=4).
MAX_FIGURE = Decimal(10) ** 14
FIGURE_DECIMALS = 4
_FIGURE_RE = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.[0-9]*)?")
_EXPONENT_RE = re.compile(r"[+-]?[0-9.,]*[0-9][eE][+-]?[0-9]+")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class ImportRejected(Exception):
    """The file was rejected as a whole; nothing was written."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors[:5]))


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


# --- reading tables -------------------------------------------------------------------------


def _cell_text(cell: Any, number_format: str | None = None) -> str:
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    if cell is None:
        return ""
    if isinstance(cell, ArrayFormula):
        return cell.text or "="
    if isinstance(cell, DataTableFormula):
        return "=TABLE()"
    if isinstance(cell, datetime.datetime | datetime.date):
        # A spreadsheet turns "2022-12" into a date; the month is what was meant.
        return f"{cell.year:04d}-{cell.month:02d}"
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        # Excel stores 17 significant digits and shows 15: 0.30000000000000004 is 0.3.
        number = Decimal(format(cell, ".15g")) if isinstance(cell, float) else Decimal(cell)
        if not number.is_finite():
            return str(cell)
        if number_format and "%" in number_format:
            # Shown as 70.2%: give the text the person sees, which the value check refuses.
            return f"{(number * 100).normalize():f}%"
        return f"{number.normalize():f}"
    return str(cell).strip()


def read_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, cells) for every row of a CSV or XLSX file, header first."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImportRejected([RowError(0, f"{path.name} is larger than 200 MB")])
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        yield from _read_xlsx(path)
    elif suffix in {".csv", ".txt"}:
        yield from _read_csv(path)
    else:
        raise ImportRejected(
            [RowError(0, f"{path.name}: unsupported file type {suffix!r}; use .csv or .xlsx")]
        )


def _read_csv(path: Path) -> Iterator[tuple[int, list[str]]]:
    raw = path.read_bytes()
    head = raw[:4096]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b"PK\x03\x04")) or (
        head.count(b"\x00") * 8 > len(head)
    ):
        raise ImportRejected(
            [RowError(0, f"{path.name} is not a text CSV file (is it UTF-16 or a spreadsheet?)")]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1
        raise ImportRejected(
            [RowError(line, "the file is not UTF-8 encoded; save it as CSV UTF-8")]
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for cells in reader:
            yield reader.line_num, [c.strip() for c in cells]
    except csv.Error as exc:
        raise ImportRejected([RowError(reader.line_num, f"malformed CSV: {exc}")]) from exc


def _read_xlsx(path: Path) -> Iterator[tuple[int, list[str]]]:
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ImportRejected(
            [RowError(0, f"{path.name} is not a readable XLSX workbook")]
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        number = 0
        for number, row in enumerate(sheet.iter_rows(), start=1):
            cells = [_cell_text(c.value, getattr(c, "number_format", None)) for c in row]
            while cells and cells[-1] == "":
                cells.pop()
            yield number, cells
        if number == 0 and len(workbook.worksheets) > 1:
            raise ImportRejected(
                [
                    RowError(
                        0,
                        f"{path.name}: the first sheet, {sheet.title!r}, is empty; values are "
                        "read from the first sheet only",
                    )
                ]
            )
    finally:
        workbook.close()


# --- values -----------------------------------------------------------------------------------


def _decimal(text: str) -> Decimal:
    cleaned = text.replace(",", "")
    number = Decimal(cleaned)
    if not number.is_finite():
        raise InvalidOperation
    return number


def _figure(text: str) -> Decimal:
    """Return the figure written as `text`, or raise ValueError saying why it is not one.

    Digits with an optional sign and decimal point; commas only between thousands (1,234.5).
    """
    if _EXPONENT_RE.fullmatch(text):
        raise ValueError(
            f"{text!r} is in scientific notation, which may have lost digits; format the "
            "column as a number showing every digit"
        )
    if not _FIGURE_RE.fullmatch(text) or not any(c in "0123456789" for c in text):
        raise ValueError(f"{text!r} is not a number")
    number = Decimal(text.replace(",", ""))
    if abs(number) >= MAX_FIGURE:
        raise ValueError(f"{text!r} is too large; figures must be below 100,000,000,000,000")
    if number != number.quantize(Decimal(1).scaleb(-FIGURE_DECIMALS)):
        raise ValueError(f"{text!r} has more than {FIGURE_DECIMALS} decimal places")
    return number


def _is_formula(text: str) -> bool:
    """Whether a spreadsheet would take the cell for a formula: = or @ first, or + or -
    first in anything but a plain number."""
    if text[:1] in ("=", "@"):
        return True
    return text[:1] in ("+", "-") and len(text) > 1 and not _FIGURE_RE.fullmatch(text)


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


def _check_header(line: int, cells: list[str]) -> tuple[dict[str, int], list[RowError]]:
    names = [c.strip().lower() for c in cells]
    errors = []
    missing = [c for c in VALUE_COLUMNS if c not in names]
    if missing:
        errors.append(
            RowError(
                line,
                f"header is missing {', '.join(missing)}; expected "
                f"{','.join(VALUE_COLUMNS)} and optionally {','.join(OPTIONAL_VALUE_COLUMNS)}",
            )
        )
    unknown = [c for c in names if c and c not in VALUE_COLUMNS + OPTIONAL_VALUE_COLUMNS]
    if unknown:
        errors.append(RowError(line, f"unknown column(s) {', '.join(map(repr, unknown))}"))
    repeated = sorted({c for c in names if c and names.count(c) > 1})
    if repeated:
        errors.append(RowError(line, f"column(s) {', '.join(repeated)} appear more than once"))
    return {name: i for i, name in enumerate(names) if name}, errors


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
        if _is_formula(text):
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
            return _figure(text)
        except ValueError as exc:
            problems.append(f"{name} {exc}")
            return None

    value = number("value", required=True)
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
        ),
        [],
    )


def _differences(existing: Value, row: _ParsedRow) -> list[str]:
    """Return "field old → new" for each stored field the row would change."""
    wanted = {
        "value": row.value,
        "numerator": row.numerator,
        "denominator": row.denominator,
        "note": row.note,
        "source": row.source or row.measure.source,
    }
    return [
        f"{name} {_plain(getattr(existing, name))} → {_plain(new)}"
        for name, new in wanted.items()
        if getattr(existing, name) != new
    ]


def _plain(value: Any) -> str:
    """Return a stored value as a person would write it: 73.7, not 73.7000; '' as (blank)."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return repr(value) if value not in (None, "") else "(blank)"


def values_import(
    *, path: Path, approve: bool = False, user=None, reason: str = ""
) -> ImportSummary:
    """Import a CSV/XLSX file of values all-or-nothing; raise ImportRejected for bad rows.

    A good CSV file on PostgreSQL is imported by COPY and set-based SQL (importers_sql); any
    other file, and any file that path is not sure of, is read and checked row by row here.
    """
    from measures import importers_sql

    summary = importers_sql.values_import_copy(
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
    columns, errors = _check_header(header_line, header)
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

    Found in one query, matched to the rows in memory, and then exactly those are locked
    (and read again, so their states are the ones the lock holds).
    """

    def __init__(self, rows: list[_ParsedRow]):
        self._by_key: dict[tuple[int, int, int], list[Return]] = {}
        if not rows:
            return
        candidates = Return.objects.select_related("department", "reporting_period").filter(
            department_id__in={r.measure.owner_id for r in rows},
            reporting_period__plan_id__in={r.measure.priority.plan_id for r in rows},
            reporting_period__area_id__in={r.area.pk for r in rows},
            reporting_period__start__lte=max(r.period.end.first_day for r in rows),
            reporting_period__end__gte=min(r.period.start.first_day for r in rows),
        )
        self._index(candidates)
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
        start, end = row.period.start.first_day, row.period.end.first_day
        return [
            ret
            for ret in self._by_key.get(key, [])
            if ret.reporting_period.start <= start and end <= ret.reporting_period.end
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


# --- plan definitions ------------------------------------------------------------------------


class PlanInvalid(Exception):
    """The plan file is malformed; nothing was written."""


def load_structured_file(path: Path) -> Any:
    """Return the parsed YAML or JSON content of a file, or raise PlanInvalid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlanInvalid(f"{path.name} is not UTF-8 encoded") from exc
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise PlanInvalid(f"{path.name} is not valid YAML/JSON: {exc}") from exc


class _Reader:
    """Typed access to one mapping of the plan file, with errors naming where they are."""

    def __init__(self, data: Any, where: str):
        if not isinstance(data, dict):
            raise PlanInvalid(f"{where}: expected a mapping, got {type(data).__name__}")
        self.data, self.where = data, where

    def text(self, key: str, *, required: bool = False, default: str = "") -> str:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise PlanInvalid(f"{self.where}.{key} is required")
            return default
        return str(value).strip()

    def choice(
        self, key: str, choices: type[models.TextChoices], default: str | None = None
    ) -> str:
        value = self.text(key, required=default is None, default=default or "")
        if value not in choices.values:
            raise PlanInvalid(
                f"{self.where}.{key}: {value!r} is not one of {', '.join(choices.values)}"
            )
        return value

    def integer(self, key: str, default: int) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise PlanInvalid(f"{self.where}.{key}: {value!r} is not a whole number >= 0")
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            raise PlanInvalid(f"{self.where}.{key}: {value!r} is not true or false")
        return value

    def number(self, key: str) -> Decimal | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        try:
            return _decimal(str(value))
        except (InvalidOperation, ValueError) as exc:
            raise PlanInvalid(f"{self.where}.{key}: {value!r} is not a number") from exc

    def period(self, key: str) -> Period | None:
        value = self.text(key)
        if not value:
            return None
        try:
            return parse_period(value)
        except PeriodError as exc:
            raise PlanInvalid(f"{self.where}.{key}: {exc}") from exc

    def names(self, key: str) -> list[str]:
        value = self.data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise PlanInvalid(f"{self.where}.{key}: expected a list of names")
        return [v.strip() for v in value]

    def items(self, key: str) -> list[Any]:
        value = self.data.get(key) or []
        if not isinstance(value, list):
            raise PlanInvalid(f"{self.where}.{key}: expected a list")
        return value


def _upsert(
    model,
    lookup: dict[str, Any],
    fields: dict[str, Any],
    summary: ImportSummary,
    *,
    save: Callable[[Any, list[str] | None], None] | None = None,
):
    """Create or update one row, writing (and so recording history) only if something changed.

    `save(obj, changed_fields)` writes it instead of `obj.save()` (None: a new row): how
    rows that have a service of their own are written.
    """
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **fields)
        obj.full_clean(validate_unique=False, validate_constraints=False)
        if save is None:
            obj.save()
        else:
            save(obj, None)
        summary.created += 1
        summary.details.append(f"created {model._meta.verbose_name} {lookup}")
        return obj
    changed = [name for name, value in fields.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, fields[name])
        obj.full_clean(validate_unique=False, validate_constraints=False)
        if save is None:
            obj.save(update_fields=changed)
        else:
            save(obj, changed)
        summary.updated += 1
        summary.details.append(
            f"updated {model._meta.verbose_name} {lookup}: {', '.join(changed)}"
        )
    else:
        summary.unchanged += 1
    return obj


def _period_dates(period: Period | None) -> tuple[datetime.date | None, datetime.date | None]:
    if period is None:
        return None, None
    return period.start.first_day, period.end.first_day


def plan_import(*, data: Any) -> ImportSummary:
    """Create or update a plan, its departments, areas, priorities, measures and targets."""
    from django.core.exceptions import ValidationError

    summary = ImportSummary()
    root = _Reader(data, "file")
    try:
        with transaction.atomic():
            _plan_import(root, summary)
    except ValidationError as exc:
        raise PlanInvalid(f"invalid plan: {exc}") from exc
    return summary


def _plan_import(root: _Reader, summary: ImportSummary) -> None:
    plan_data = _Reader(root.data.get("plan"), "plan")
    baseline = plan_data.period("baseline")
    b_start, b_end = _period_dates(baseline)
    plan = _upsert(
        Plan,
        {"code": plan_data.text("code", required=True)},
        {
            "name": plan_data.text("name", required=True),
            "title": plan_data.text("title"),
            "baseline_start": b_start,
            "baseline_end": b_end,
        },
        summary,
    )
    departments = {d.code: d for d in Department.objects.all()}
    for i, item in enumerate(root.items("departments")):
        row = _Reader(item, f"departments[{i}]")
        code = row.text("code", required=True)
        departments[code] = _upsert(
            Department, {"code": code}, {"name": row.text("name", required=True)}, summary
        )

    areas = {a.code: a for a in Area.objects.all()}
    for i, item in enumerate(root.items("areas")):
        row = _Reader(item, f"areas[{i}]")
        code = row.text("code", required=True)
        parent_code = row.text("parent")
        if parent_code and parent_code not in areas:
            raise PlanInvalid(
                f"areas[{i}].parent: unknown area {parent_code!r} (list parents before children)"
            )
        areas[code] = _upsert(
            Area,
            {"code": code},
            {
                "name": row.text("name", required=True),
                "kind": row.choice("kind", Area.Kind),
                "parent": areas.get(parent_code) if parent_code else None,
            },
            summary,
        )

    for i, item in enumerate(root.items("comparison_groups")):
        row = _Reader(item, f"comparison_groups[{i}]")
        group = _upsert(
            ComparisonGroup,
            {"code": row.text("code", required=True)},
            {"name": row.text("name", required=True)},
            summary,
        )
        wanted = []
        for code in row.items("areas"):
            if code not in areas:
                raise PlanInvalid(f"comparison_groups[{i}].areas: unknown area {code!r}")
            wanted.append(areas[code])
        if {a.pk for a in group.areas.all()} != {a.pk for a in wanted}:
            group.areas.set(wanted)

    measures: dict[str, Measure] = {}
    for p_index, item in enumerate(root.items("priorities")):
        row = _Reader(item, f"priorities[{p_index}]")
        priority = _upsert(
            Priority,
            {"plan": plan, "code": row.text("code", required=True)},
            {
                "name": row.text("name", required=True),
                "description": row.text("description"),
                "position": p_index + 1,
            },
            summary,
        )
        for m_index, m_item in enumerate(row.items("measures")):
            where = f"priorities[{p_index}].measures[{m_index}]"
            m = _Reader(m_item, where)
            owner = m.text("owner", required=True)
            if owner not in departments:
                raise PlanInvalid(f"{where}.owner: unknown department {owner!r}")
            code = m.text("code", required=True)
            if code in measures:
                raise PlanInvalid(f"{where}.code: measure {code!r} is defined twice")
            unit = m.choice("unit", Measure.Unit, default="count")
            rate_per = m.data.get("rate_per")
            if unit == Measure.Unit.RATE and not rate_per:
                raise PlanInvalid(f"{where}.rate_per is required for unit 'rate'")
            measures[code] = _upsert(
                Measure,
                {"code": code},
                {
                    "priority": priority,
                    "name": m.text("name", required=True),
                    "definition": m.text("definition"),
                    "unit": unit,
                    "rate_per": m.integer("rate_per", 0) or None,
                    "aggregation": m.choice("aggregation", Measure.Aggregation, default="sum"),
                    "polarity": m.choice("polarity", Measure.Polarity, default="lower_is_better"),
                    "frequency": m.choice("frequency", Measure.Frequency, default="monthly"),
                    "data_lag_months": m.integer("data_lag_months", 0),
                    "decimals": m.integer("decimals", 0),
                    "owner": departments[owner],
                    "source": m.text("source"),
                    "year_to_date_table": m.flag("year_to_date_table"),
                    "monthly_table": m.flag("monthly_table"),
                    "scorecard_group": m.text("scorecard_group"),
                    "aliases": m.names("aliases"),
                    "position": m_index + 1,
                },
                summary,
            )

    for i, item in enumerate(root.items("targets")):
        where = f"targets[{i}]"
        row = _Reader(item, where)
        code = row.text("measure", required=True)
        measure = measures.get(code) or Measure.objects.filter(code=code).first()
        if measure is None:
            raise PlanInvalid(f"{where}.measure: unknown measure {code!r}")
        area_code = row.text("area")
        if area_code and area_code not in areas:
            raise PlanInvalid(f"{where}.area: unknown area {area_code!r}")
        start, end = _period_dates(row.period("baseline"))
        tolerance = row.number("tolerance") or Decimal(0)
        _upsert(
            Target,
            {
                "measure": measure,
                "area": areas.get(area_code) if area_code else None,
                "kind": row.choice("kind", Target.Kind),
            },
            {
                "name": row.text("name", required=True),
                "baseline_start": start,
                "baseline_end": end,
                "target_value": row.number("target_value"),
                "tolerance": tolerance,
                "position": i + 1,
            },
            summary,
            save=_target_save,
        )


def _target_save(target: Target, changed: list[str] | None) -> None:
    # Through the service, so a changed target marks its measure for recompute.
    services.target_save(target=target, actor=None)


def headlines_import(
    *, data: Iterable[Any], approve: bool = False, user=None, reason: str = ""
) -> ImportSummary:
    """Create or update Key Headlines from a list of {priority, period, department, text}.

    As the value import: a headline of a return under review or approved is refused, and so
    is approving one whose return is not approved; a change to a draft return's headline is
    recorded in that return's history, naming `user`.
    """
    summary = ImportSummary()
    if not isinstance(data, list):
        raise PlanInvalid("headlines: expected a list")
    status = Value.Status.APPROVED if approve else Value.Status.DRAFT
    reason = reason or "headlines import"
    with transaction.atomic():
        for i, item in enumerate(data):
            row = _Reader(item, f"headlines[{i}]")
            priority = Priority.objects.filter(code=row.text("priority", required=True)).first()
            if priority is None:
                raise PlanInvalid(f"headlines[{i}].priority: unknown priority")
            period = row.period("period")
            if period is None:
                raise PlanInvalid(f"headlines[{i}].period is required")
            dept_code = row.text("department", required=True)
            department = Department.objects.filter(code=dept_code).first()
            if department is None:
                raise PlanInvalid(f"headlines[{i}].department: unknown department {dept_code!r}")
            lookup = {
                "priority": priority,
                "department": department,
                "start": period.start.first_day,
                "end": period.end.first_day,
            }
            text = row.text("text", required=True)
            holding = services.returns_holding_headline(Headline(**lookup), lock=True)
            stored = Headline.objects.filter(**lookup).first()
            if stored is not None and stored.text == text and stored.status == status:
                summary.unchanged += 1
                continue
            for ret in holding:
                if not ret.is_editable or approve:
                    raise PlanInvalid(
                        f"headlines[{i}]: {priority.name} for {period.label} belongs to the "
                        f"return of {department.name}, which is "
                        f"{ret.get_status_display().lower()}; "
                        + (
                            "it cannot change until that return is reopened or sent back"
                            if not ret.is_editable
                            else "approve it by approving the return, not by importing it"
                        )
                    )

            def audited_save(headline: Headline, changed: list[str] | None) -> None:
                headline._history_user = user  # type: ignore[attr-defined]
                headline._change_reason = reason  # type: ignore[attr-defined]
                headline.save(update_fields=changed)

            try:
                _upsert(
                    Headline, lookup, {"text": text, "status": status}, summary, save=audited_save
                )
            except ApprovedLocked as exc:
                raise PlanInvalid(f"headlines[{i}]: {exc}") from exc
            old = stored.text if stored is not None else None
            if holding and old != text:
                change = {
                    "kind": "headline",
                    "priority": priority.code,
                    "label": f"Key Headlines: {priority.name}",
                    "field": "text",
                    "old": old,
                    "new": text,
                }
                services.returns_record_import(
                    changes={ret.pk: [change] for ret in holding}, actor=user, reason=reason
                )
    return summary


__all__ = [
    "ImportRejected",
    "ImportSummary",
    "Month",
    "PlanInvalid",
    "RowError",
    "headlines_import",
    "load_structured_file",
    "plan_import",
    "values_import",
]
