"""Workflow actions on returns (SPEC §5): each one atomic, permission-checked and audited.

Every state change of a return goes through one function here, and so does every write of
a figure, headline or target, whatever the door (STYLE §9): the return form and the API
(`return_save`), the admin site (`value_correct`, `headline_correct`, `target_save`), the
imports (`returns_record_import` records their figures in the returns they fall in). A
change to a return's figures, by any door, is a saved event naming who made it, so they
cannot approve it. Each takes a row lock on the return first (`select_for_update`), so two
people acting at once are serialised: the second sees the first one's result (a new
version, or a new status) and is refused rather than overwriting it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, Q
from django.http import Http404
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from measures import access
from measures.arithmetic.formatting import plain_number
from measures.arithmetic.periods import Month, Period
from measures.engine.marks import recompute_mark
from measures.models import (
    Area,
    Department,
    Headline,
    Measure,
    Plan,
    Priority,
    ReportingPeriod,
    Return,
    ReturnEvent,
    ReviewStatus,
    UnavailableFigure,
    Value,
)
from measures.returns import notifications, workflow
from measures.returns.rows import (
    ReturnRow,
    return_headline_map,
    return_headlines,
    return_measures,
    return_priorities,
    return_rows,
    return_slots,
    return_unavailable,
    return_values,
    returns_asking,
    row_key,
)
from measures.returns.validation import value_errors
from measures.selectors import reporting_area


class WorkflowError(Exception):
    """An action was refused; the message says why in words a person can act on."""


class ReturnLocked(WorkflowError):
    pass


@dataclass(frozen=True)
class OtherEdit:
    """One change someone else made to a figure or headline since a version was read."""

    who: str
    change: dict  # as ReturnEvent.changes keeps it (see _figure_change)


class ReturnConflict(WorkflowError):
    """Someone else saved the return since this form was loaded.

    `changes` says in words what happened since, event by event; `edits` are the figure
    and headline changes among them, oldest first, so a form can mark each field.
    """

    def __init__(self, message: str, changes: list[str], edits: Iterable[OtherEdit] = ()):
        super().__init__(message)
        self.changes = changes
        self.edits = list(edits)


class ReturnInvalid(WorkflowError):
    """Some figures cannot be saved; `errors` maps row keys (or field names) to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(f"{sum(len(v) for v in errors.values())} problem(s) to fix")
        self.errors = errors


@dataclass(frozen=True)
class ValueEntry:
    """A figure as typed: `value` None means the row was left blank."""

    measure_code: str
    period: Period
    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    note: str = ""
    # Why the figure is not available: None leaves what is stored alone, "" clears it.
    unavailable: str | None = None
    # For a figure of a periodic release, the month the source published it; None: unchanged.
    released: Month | None = None

    @property
    def key(self) -> str:
        return row_key(self.measure_code, self.period)


def _event(ret: Return, kind: str, actor, *, from_status: str, reason: str = "", changes=()):
    ReturnEvent.objects.create(
        return_obj=ret,
        kind=kind,
        from_status=from_status,
        to_status=ret.status,
        version=ret.version,
        actor=actor,
        reason=reason,
        changes=list(changes),
    )


def _audited(obj, actor, reason: str) -> None:
    """Set who and why simple-history records with the next save or delete of `obj`."""
    obj._history_user = actor
    obj._change_reason = reason


# --- reporting periods ----------------------------------------------------------------------


def reporting_period_open(
    *,
    plan: Plan,
    period: Period,
    deadline: datetime.date,
    area: Area | None = None,
    actor=None,
) -> ReportingPeriod:
    """Open a reporting period: one return per department that owns measures in the plan.

    Opening the same period again creates only the returns that are missing.
    """
    if actor is not None:
        access.require_admin(actor)
    if area is None:
        area = reporting_area()
        if area is None:
            raise WorkflowError("The plan has no force area to report on; add one first.")
    with transaction.atomic():
        reporting, created = ReportingPeriod.objects.get_or_create(
            plan=plan,
            start=period.start.first_day,
            end=period.end.first_day,
            defaults={
                "deadline": deadline,
                "area": area,
                "opened_by": actor,
                "asks_from": _asks_from(plan, period),
            },
        )
        if created:
            # A period opened in a gap before a later one takes the months it covers from
            # the later one's due window, so the windows still follow on from each other.
            ReportingPeriod.objects.filter(
                plan=plan, start__gt=reporting.end, asks_from__lte=reporting.end
            ).update(asks_from=period.end.shift(1).first_day)
        if not created and reporting.deadline != deadline:
            # Opening an open period again with a new deadline moves the deadline.
            reporting.deadline = deadline
            reporting.save(update_fields=["deadline"])
        departments = Department.objects.filter(measures__priority__plan=plan).distinct()
        existing = set(reporting.returns.values_list("department_id", flat=True))
        for department in departments:
            if department.pk in existing:
                continue
            ret = Return.objects.create(reporting_period=reporting, department=department)
            _event(ret, ReturnEvent.Kind.OPENED, actor, from_status="")
    return reporting


def _asks_from(plan: Plan, period: Period) -> datetime.date:
    """Return the first month whose figures a new reporting period asks for: the month after
    the plan's previous reporting period (so late figures are asked for), or its start."""
    before = ReportingPeriod.objects.filter(plan=plan, end__lt=period.start.first_day).aggregate(
        end=Max("end")
    )["end"]
    if before is None:
        return period.start.first_day
    return min(Month.from_date(before).shift(1).first_day, period.start.first_day)


def reporting_period_mark_approved(*, reporting: ReportingPeriod, reason: str) -> int:
    """Record every return of a period as approved outside the app (a bulk load of history).

    Used when a period's figures were approved before the force used this system (the
    demo's published quarter): the values themselves are loaded with `import_values
    --approve`. Returns already approved are left alone; the count changed is returned.
    """
    changed = 0
    with transaction.atomic():
        for ret in reporting.returns.select_for_update().exclude(status=Return.Status.APPROVED):
            from_status = ret.status
            ret.status = Return.Status.APPROVED
            ret.version += 1
            ret.decided_at = timezone.now()
            ret.save(update_fields=["status", "version", "decided_at", "updated_at"])
            _set_status(ret, Value.Status.APPROVED, actor=None, reason=reason)
            recompute_mark(m.pk for m in return_measures(ret))
            _event(ret, ReturnEvent.Kind.APPROVED, None, from_status=from_status, reason=reason)
            changed += 1
    return changed


def reporting_period_open_due(*, today: datetime.date, deadline_days: int = 21) -> list:
    """Open, for every plan, the quarter that ended most recently (run daily by beat)."""
    quarter_end = Month(today.year, today.month).shift(-1)
    while quarter_end.month not in (3, 6, 9, 12):
        quarter_end = quarter_end.shift(-1)
    quarter = Period.range(quarter_end.shift(-2), quarter_end)
    opened = []
    for plan in Plan.objects.all():
        if ReportingPeriod.objects.filter(
            plan=plan, start=quarter.start.first_day, end=quarter.end.first_day
        ).exists():
            continue
        deadline = quarter.end.last_day + datetime.timedelta(days=deadline_days)
        opened.append(reporting_period_open(plan=plan, period=quarter, deadline=deadline))
    return opened


# --- saving -----------------------------------------------------------------------------------


def _check_version(ret: Return, version: int) -> None:
    conflict = return_conflict(ret=ret, version=version)
    if conflict is not None:
        raise conflict


def return_conflict(*, ret: Return, version: int) -> ReturnConflict | None:
    """Return what others did to the return since `version` was read (None: nothing)."""
    if ret.version == version:
        return None
    events = ReturnEvent.objects.filter(return_obj=ret, version__gt=version).select_related(
        "actor"
    )
    changes, edits = [], []
    for event in events.order_by("version", "pk"):
        who = event.actor.get_username() if event.actor else "the system"
        when = timezone.localtime(event.at).strftime("%d %b %Y %H:%M")
        if event.changes:
            changes += [f"{who} ({when}): {change_text(c)}" for c in event.changes]
            edits += [OtherEdit(who=who, change=c) for c in event.changes]
        else:
            changes.append(f"{who} ({when}): {event.get_kind_display().lower()}")
    return ReturnConflict(
        "Someone else changed this return after you opened it, so nothing was saved. "
        "Check their changes, then try again.",
        changes,
        edits,
    )


def change_text(change: dict) -> str:
    """Return a recorded change of a return in words: "Assaults, Oct 2022 value: 11 → 14"."""
    old = change.get("old") if change.get("old") is not None else "(blank)"
    new = change.get("new") if change.get("new") is not None else "(blank)"
    return f"{change.get('label', '')} {change.get('field', 'value')}: {old} → {new}"


def return_save(
    *,
    return_id: int,
    version: int,
    entries: Iterable[ValueEntry],
    headlines: dict[str, str] | None = None,
    actor,
) -> Return:
    """Save draft figures and headlines; refuse a stale version or a locked return."""
    entries = list(entries)
    with transaction.atomic():
        ret = workflow.return_for(actor, return_id, action="view", for_update=True)
        # The version first: someone who typed while a colleague submitted the return hears
        # what happened ("alice: submitted") and keeps what they typed (the form's conflict
        # page), rather than only that the return is now locked.
        _check_version(ret, version)
        if not ret.is_editable:
            raise ReturnLocked(
                f"This return is {ret.get_status_display().lower()}; its figures are locked"
                + (" until it is reopened." if ret.status == Return.Status.APPROVED else ".")
            )
        if not workflow.can(actor, "edit", ret):
            raise PermissionDenied(workflow.refusal_reason(actor, "edit", ret))
        rows = {row.key: row for row in return_rows(ret, with_context=False)}
        errors = _entry_errors(entries, rows)
        priorities = {p.code: p for p in return_priorities(ret)}
        unknown = sorted(set(headlines or {}) - set(priorities))
        if unknown:
            errors.setdefault("headlines", []).append(
                f"not a priority of this return: {', '.join(unknown)}"
            )
        if errors:
            raise ReturnInvalid(errors)
        changes = _write_values(ret, entries, rows, actor)
        changes += _write_headlines(ret, headlines or {}, priorities, actor)
        if not changes:
            # Nothing changed: no new version, so a source system that re-sends the same
            # figures on a schedule does not collide with a person editing the return.
            return ret
        _record_save(ret, actor, changes=changes)
        changed = {c["measure"] for c in changes if c["kind"] == "value"}
        recompute_mark(
            (row.measure.pk for row in rows.values() if row.measure.code in changed),
            drafts_only=True,
        )
    return ret


def _entry_errors(entries: list[ValueEntry], rows: dict[str, ReturnRow]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    seen = set()
    for entry in entries:
        row = rows.get(entry.key)
        if row is None:
            errors.setdefault(entry.key, []).append(
                f"{entry.measure_code} for {entry.period.label} is not part of this return"
            )
            continue
        if entry.key in seen:
            errors.setdefault(entry.key, []).append("given twice")
        seen.add(entry.key)
        measure = row.measure
        stored = row.value
        if stored is not None and stored.is_approved and _differs(stored, entry):
            errors.setdefault(entry.key, []).append(
                f"{measure.name}, {row.period.label} is approved ({plain_number(stored.value)}); "
                "a reviewer must reopen the return before it can change"
            )
            continue
        if entry.value is None and (entry.numerator is not None or entry.denominator is not None):
            errors.setdefault(entry.key, []).append("enter the value as well as its parts")
        errors_of_gap = _unavailable_errors(row, entry)
        if errors_of_gap:
            errors.setdefault(entry.key, []).extend(errors_of_gap)
        problems = value_errors(
            unit=measure.unit,
            aggregation=measure.aggregation,
            decimals=measure.decimals,
            value=entry.value,
            numerator=entry.numerator,
            denominator=entry.denominator,
            unit_name=measure.get_unit_display().lower(),
        )
        if problems:
            errors.setdefault(entry.key, []).extend(problems)
    return errors


def _unavailable_errors(row: ReturnRow, entry: ValueEntry) -> list[str]:
    """Return what is wrong with marking the row not available, or with its release month."""
    problems = []
    reason = (entry.unavailable or "").strip()
    if reason and entry.value is not None:
        problems.append("enter a figure or say why it is not available, not both")
    if reason and row.carried is not None:
        problems.append(
            "it was marked not available in the last return; leave it blank if it still is"
        )
    if entry.released is not None and not row.is_release:
        problems.append("only a figure from a periodic release has a release month")
    if entry.released is not None and entry.released < row.period.end:
        problems.append(
            f"the release month ({entry.released.long_label}) is before the data it covers "
            f"({row.period.label})"
        )
    return problems


def _differs(stored: Value, entry: ValueEntry) -> bool:
    return (stored.value, stored.numerator, stored.denominator, stored.note) != (
        entry.value,
        entry.numerator,
        entry.denominator,
        entry.note,
    )


def _write_values(ret, entries, rows, actor) -> list[dict]:
    """Create, change or clear the typed values; return the changes made."""
    changes = []
    area_id = ret.reporting_period.area_id
    for entry in entries:
        row = rows[entry.key]
        stored = row.value
        label = f"{row.measure.name}, {row.period.label}"
        wanted = {
            "value": entry.value,
            "numerator": entry.numerator,
            "denominator": entry.denominator,
            "note": entry.note,
        }
        changes += _write_unavailable(row, entry, label, area_id, actor, ret)
        if entry.released is not None and row.is_release:
            wanted["released_on"] = entry.released.first_day
        if stored is None and entry.value is None:
            continue
        if stored is not None and entry.value is None:
            changes.append(
                _change(row, label, "value", stored.value, None),
            )
            _audited(stored, actor, "cleared in return")
            stored.delete()
            continue
        if stored is None:
            stored = Value(
                measure=row.measure,
                area_id=area_id,
                start=row.period.start.first_day,
                end=row.period.end.first_day,
                source=row.measure.source,
            )
            changed = [name for name, new in wanted.items() if new not in (None, "")]
            before = dict.fromkeys(wanted)
        else:
            changed = [name for name, new in wanted.items() if getattr(stored, name) != new]
            before = {name: getattr(stored, name) for name in wanted}
        if not changed and stored.pk is not None:
            continue
        for name, new in wanted.items():
            setattr(stored, name, new)
        stored.status = Value.Status.DRAFT
        stored.updated_by = actor
        _audited(stored, actor, f"return {ret.pk} saved")
        stored.save()
        for name in changed:
            changes.append(_change(row, label, name, before[name], wanted[name]))
    return changes


def _write_unavailable(row: ReturnRow, entry: ValueEntry, label, area_id, actor, ret):
    """Mark the row not available with the typed reason, change the reason, or clear it."""
    if entry.unavailable is None or row.carried is not None:
        return []
    reason = entry.unavailable.strip()
    gap = row.unavailable
    old = gap.reason if gap else None
    if (old or "") == reason:
        return []
    if not reason:
        assert gap is not None  # a reason was stored, since it differs from ""
        _audited(gap, actor, "cleared in return")
        gap.delete()
    else:
        if gap is None:
            gap = UnavailableFigure(
                measure=row.measure,
                area_id=area_id,
                start=row.period.start.first_day,
                end=row.period.end.first_day,
            )
        gap.reason, gap.status, gap.updated_by = reason, UnavailableFigure.Status.DRAFT, actor
        _audited(gap, actor, f"return {ret.pk} saved")
        gap.save()
    return [_change(row, label, "not available", old, reason or None)]


def _change(row: ReturnRow, label: str, field: str, old, new) -> dict:
    return _figure_change(row.measure, row.period, label, field, old, new)


def _figure_change(measure: Measure, period: Period, label: str, field: str, old, new) -> dict:
    """Return one change of a figure in the shape a return's events keep it."""

    def text(value):
        if isinstance(value, Decimal):
            return plain_number(value)
        if isinstance(value, datetime.date):
            return Month.from_date(value).long_label
        return value if value not in ("",) else None

    return {
        "kind": "value",
        "measure": measure.code,
        "period": period.notation,
        "label": label,
        "field": field,
        "old": text(old),
        "new": text(new),
    }


def _record_save(ret: Return, actor, *, changes: list[dict], reason: str = "") -> None:
    """Record changed figures in the return: a new version, back to draft, a saved event.

    The saved event names whoever made the change, which is what keeps them from approving
    the return (workflow.editors_of), whichever door the change came in by.
    """
    from_status = ret.status
    ret.version += 1
    ret.status = Return.Status.DRAFT
    ret.save(update_fields=["version", "status", "updated_at"])
    _event(
        ret, ReturnEvent.Kind.SAVED, actor, from_status=from_status, reason=reason, changes=changes
    )


def _write_headlines(ret, headlines: dict[str, str], priorities: dict[str, Priority], actor):
    changes = []
    stored = return_headline_map(ret)
    reporting = ret.reporting_period
    for code, text in headlines.items():
        priority = priorities[code]
        text = (text or "").strip()
        headline = stored.get(priority.pk)
        old = headline.text if headline else None
        if (old or "") == text:
            continue
        if headline is None:
            headline = Headline(
                priority=priority,
                department_id=ret.department_id,
                start=reporting.start,
                end=reporting.end,
            )
        if not text:
            _audited(headline, actor, "cleared in return")
            headline.delete()
        else:
            headline.text = text
            headline.status = Headline.Status.DRAFT
            _audited(headline, actor, f"return {ret.pk} saved")
            headline.save()
        changes.append(
            {
                "kind": "headline",
                "priority": code,
                "label": f"Key Headlines: {priority.name}",
                "field": "text",
                "old": old,
                "new": text or None,
            }
        )
    return changes


# --- corrections outside the return form (the admin site) -------------------------------------


class FigureLocked(ReturnLocked):
    """The figure is approved, or belongs to a return under review or approved."""


def returns_holding_value(value: Value, *, lock: bool = False) -> list[Return]:
    """Return the returns whose rows include the stored value (returns.return_values, inverted).

    `value.measure.priority` should be loaded. Usually one return; none for a figure no
    return asks for (a national figure, a figure due before the first reporting period).
    """
    asking = returns_asking(value.measure, value.area_id, value.period)
    qs = Return.objects.select_related("department", "reporting_period").filter(asking)
    if lock:
        qs = qs.select_for_update(of=("self",))
    return list(qs.order_by("pk"))


def returns_holding_headline(headline: Headline, *, lock: bool = False) -> list[Return]:
    """Return the returns a headline is written for (returns.return_headlines, inverted)."""
    qs = Return.objects.select_related("department", "reporting_period").filter(
        department_id=headline.department_id,
        reporting_period__plan_id=headline.priority.plan_id,
        reporting_period__start=headline.start,
        reporting_period__end=headline.end,
    )
    if lock:
        qs = qs.select_for_update(of=("self",))
    return list(qs.order_by("pk"))


def _lock_reason(what: str, *, approved: bool, returns: Iterable[Return]) -> str:
    """Return why `what` cannot be corrected now, or "" when it can."""
    if approved:
        return f"{what} is approved; a reviewer must reopen its return before it can change."
    for ret in returns:
        if ret.is_editable:
            continue
        after = (
            "a reviewer reopens it"
            if ret.status == Return.Status.APPROVED
            else "a reviewer sends it back"
        )
        return (
            f"{what} belongs to the return of {ret.department.name} for "
            f"{ret.reporting_period.period.label}, which is "
            f"{ret.get_status_display().lower()}; it can change only after {after}."
        )
    return ""


def value_lock_reason(*, value_id: int) -> str:
    """Return why an admin may not correct the value now, or "" when they may."""
    value = Value.objects.select_related("measure__priority").filter(pk=value_id).first()
    if value is None:
        return "This figure no longer exists."
    return _lock_reason(
        f"{value.measure.name}, {value.period.label}",
        approved=value.is_approved,
        returns=returns_holding_value(value),
    )


def headline_lock_reason(*, headline_id: int) -> str:
    """Return why an admin may not correct the headline now, or "" when they may."""
    headline = Headline.objects.select_related("priority").filter(pk=headline_id).first()
    if headline is None:
        return "This headline no longer exists."
    return _lock_reason(
        f"Key Headlines: {headline.priority.name}, {headline.period.label}",
        approved=headline.status == Headline.Status.APPROVED,
        returns=returns_holding_headline(headline),
    )


def _required_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReturnInvalid(
            {"reason": ["Give a reason for the change: it is kept in the return's history."]}
        )
    return reason


def value_correct(
    *,
    value_id: int,
    value: Decimal,
    numerator: Decimal | None,
    denominator: Decimal | None,
    note: str,
    reason: str,
    actor,
) -> Value:
    """Correct a draft figure outside the return form (an admin, on the admin site).

    Recorded as a save of the return form is: the figure goes back to draft with its history
    and the reason, the return that holds it gets a new version and a saved event naming the
    admin (who may then not approve it), and the measure is marked for recompute. Refused
    for an approved figure and for a figure of a return under review or approved.
    """
    access.require_admin(actor)
    reason = _required_reason(reason)
    with transaction.atomic():
        found = Value.objects.select_related("measure__priority").filter(pk=value_id).first()
        if found is None:
            raise Http404("No such figure")
        # The returns first, then the figure: the order return_save and the imports take
        # their locks in, so a correction and a save of the same return cannot deadlock,
        # and the return cannot be submitted between the check below and the write.
        returns = returns_holding_value(found, lock=True)
        stored = (
            Value.objects.select_for_update(of=("self",))
            .select_related("measure__priority")
            .get(pk=value_id)
        )
        measure = stored.measure
        label = f"{measure.name}, {stored.period.label}"
        refusal = _lock_reason(label, approved=stored.is_approved, returns=returns)
        if refusal:
            raise FigureLocked(refusal)
        problems = value_errors(
            unit=measure.unit,
            aggregation=measure.aggregation,
            decimals=measure.decimals,
            value=value,
            numerator=numerator,
            denominator=denominator,
            unit_name=measure.get_unit_display().lower(),
        )
        if value is None:
            problems.insert(0, "enter a value (a figure is removed in its return, not here)")
        if problems:
            raise ReturnInvalid({"value": problems})
        wanted: dict[str, Any] = {
            "value": value,
            "numerator": numerator,
            "denominator": denominator,
            "note": note or "",
        }
        before = {name: getattr(stored, name) for name in wanted}
        changed = [name for name, new in wanted.items() if before[name] != new]
        if not changed:
            return stored
        for name, new in wanted.items():
            setattr(stored, name, new)
        stored.status, stored.updated_by = Value.Status.DRAFT, actor
        _audited(stored, actor, reason)
        stored.save(update_fields=[*wanted, "status", "updated_by", "updated_at"])
        changes = [
            _figure_change(measure, stored.period, label, name, before[name], wanted[name])
            for name in changed
        ]
        for ret in returns:
            _record_save(ret, actor, changes=changes, reason=reason)
        recompute_mark([measure.pk], drafts_only=True)
    return stored


def headline_correct(*, headline_id: int, text: str, reason: str, actor) -> Headline:
    """Correct a draft Key Headlines text outside the return form, as value_correct does."""
    access.require_admin(actor)
    reason = _required_reason(reason)
    text = (text or "").strip()
    if not text:
        raise ReturnInvalid(
            {"text": ["Enter the text (a headline is removed in its return, not here)."]}
        )
    with transaction.atomic():
        found = Headline.objects.select_related("priority").filter(pk=headline_id).first()
        if found is None:
            raise Http404("No such headline")
        returns = returns_holding_headline(found, lock=True)
        stored = (
            Headline.objects.select_for_update(of=("self",))
            .select_related("priority")
            .get(pk=headline_id)
        )
        label = f"Key Headlines: {stored.priority.name}"
        refusal = _lock_reason(
            f"{label}, {stored.period.label}",
            approved=stored.status == Headline.Status.APPROVED,
            returns=returns,
        )
        if refusal:
            raise FigureLocked(refusal)
        old = stored.text
        if old == text:
            return stored
        stored.text, stored.status = text, Headline.Status.DRAFT
        _audited(stored, actor, reason)
        stored.save(update_fields=["text", "status", "updated_at"])
        change = {
            "kind": "headline",
            "priority": stored.priority.code,
            "label": label,
            "field": "text",
            "old": old,
            "new": text,
        }
        for ret in returns:
            _record_save(ret, actor, changes=[change], reason=reason)
    return stored


# --- imports ----------------------------------------------------------------------------------

FIGURE_FIELDS = ("value", "numerator", "denominator", "note", "source")


def figure_changes(
    *,
    measure: Measure,
    period: Period,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
) -> list[dict]:
    """Return the changes of one figure, in the shape return events keep (see return_save).

    `before` is None for a figure that did not exist; blank and None count as the same.
    """
    label = f"{measure.name}, {period.label}"
    old = before or {}

    def blank(value):
        return None if value in (None, "") else value

    return [
        _figure_change(measure, period, label, name, old.get(name), new)
        for name, new in after.items()
        if blank(old.get(name)) != blank(new)
    ]


def returns_record_import(
    *, changes: Mapping[int, list[dict]], actor, reason: str
) -> list[Return]:
    """Record imported figures in the returns that hold them, as a save of the form would be.

    `changes` maps return ids to the changes made in them. The caller has already refused
    figures of returns under review or approved, and holds locks on these returns; each gets
    a new version, goes back to draft, and gets a saved event naming the importing user
    (who may then not approve it) with the import's reason.
    """
    recorded = []
    returns = Return.objects.select_for_update(of=("self",)).filter(
        pk__in=[pk for pk, made in changes.items() if made]
    )
    for ret in returns.order_by("pk"):
        _record_save(ret, actor, changes=changes[ret.pk], reason=reason)
        recorded.append(ret)
    return recorded


# --- transitions ------------------------------------------------------------------------------


def submission_problems(ret: Return) -> dict[str, list[str]]:
    """Return what stops the return being submitted: missing figures and unexplained warnings."""
    problems: dict[str, list[str]] = {}
    for row in return_rows(ret):
        if row.value is None:
            if row.required and row.unavailable is None:
                problems.setdefault(row.key, []).append(
                    f"{row.measure.name}, {row.period.label}: enter a figure"
                )
            continue
        if row.warnings and not row.value.note.strip():
            problems.setdefault(row.key, []).append(
                f"{row.measure.name}, {row.period.label}: {'; '.join(row.warnings)} — "
                "add a note explaining it"
            )
    return problems


def _set_status(ret: Return, status: str, *, actor, reason: str, unlock: bool = False) -> None:
    """Move the return's values and headlines to the status that goes with the return's.

    Done in bulk, with a history row per value so each figure's own history shows when
    it was submitted, approved or reopened, and by whom.
    """
    now = timezone.now()
    slots = return_slots(ret)
    # Three models with the same status field (LockedWhenApproved); typed loosely to loop.
    queries: dict[Any, Q] = {
        Value: return_values(ret, slots),
        UnavailableFigure: return_unavailable(ret, slots),
        Headline: return_headlines(ret),
    }
    fields = ["status", "updated_at"]
    for model, query in queries.items():
        rows_qs = model.objects.filter(query).exclude(status=status)
        if not unlock:
            # Figures already approved (an admin's bulk load) stay approved until a
            # reviewer reopens the return.
            rows_qs = rows_qs.exclude(status=ReviewStatus.APPROVED)
        rows = list(rows_qs)
        for row in rows:
            row.status, row.updated_at = status, now
        if rows:
            bulk_update_with_history(
                rows,
                model,
                fields,
                batch_size=1000,
                default_user=actor,
                default_change_reason=reason,
            )


def _transition(*, return_id: int, actor, action: str, reason: str = "", version=None):
    """Take a workflow action on a return, as `workflow.WORKFLOW` declares it: check who and
    which state, move the return and its figures to their new states, stamp and record it."""
    step = workflow.WORKFLOW[action]
    assert step.to_state and step.values_become and step.event, f"{action} moves nothing"
    with transaction.atomic():
        ret = workflow.return_for(actor, return_id, for_update=True)
        if version is not None:
            # Before the state: of two people who act on one return at once, the second
            # hears what the first did ("alice: submitted"), not just that it is now
            # submitted. The lock is held, so checking the action again reads the same row.
            _check_version(ret, version)
        ret = workflow.return_for(actor, return_id, action=action)
        if step.reason_required and not reason.strip():
            raise ReturnInvalid({"reason": ["Give a reason: the lead will see it."]})
        if action == "submit":
            problems = submission_problems(ret)
            if problems:
                raise ReturnInvalid(problems)
        from_status = ret.status
        ret.status = step.to_state
        ret.version += 1
        stamped = [f"{step.stamp}_at", f"{step.stamp}_by"] if step.stamp else []
        for name in stamped:
            setattr(ret, name, timezone.now() if name.endswith("_at") else actor)
        ret.save(update_fields=["status", "version", *stamped, "updated_at"])
        kind: str = step.event
        _set_status(
            ret,
            step.values_become,
            actor=actor,
            reason=f"return {ret.pk} {kind}",
            unlock=step.unlocks,
        )
        _event(ret, kind, actor, from_status=from_status, reason=reason.strip())
        if step.changes_approved:
            # Approved-only figures change both ways; marked in this transaction, so the
            # recompute cannot be lost even if enqueueing it after commit fails.
            recompute_mark(m.pk for m in return_measures(ret))
        if action == "submit":
            transaction.on_commit(lambda: notifications.return_submitted(ret))
        else:
            transaction.on_commit(lambda: notifications.return_decided(ret, kind, reason.strip()))
    return ret


def return_submit(*, return_id: int, actor, version: int | None = None) -> Return:
    """Submit a return for review: every required figure entered, every warning explained."""
    return _transition(return_id=return_id, actor=actor, action="submit", version=version)


def return_approve(*, return_id: int, actor, version: int | None = None) -> Return:
    """Approve a submitted return (never by someone who entered or submitted its figures)."""
    return _transition(return_id=return_id, actor=actor, action="approve", version=version)


def return_send_back(*, return_id: int, actor, reason: str) -> Return:
    """Return a submitted return to its lead for changes, with a reason."""
    return _transition(return_id=return_id, actor=actor, action="send_back", reason=reason)


def return_reopen(*, return_id: int, actor, reason: str) -> Return:
    """Reopen an approved return so its figures can be revised, with a reason."""
    return _transition(return_id=return_id, actor=actor, action="reopen", reason=reason)


def _reminder(ret: Return, *, overdue: bool):
    return lambda: notifications.return_reminder(ret, overdue=overdue)


# --- reminders ----------------------------------------------------------------------------------

REMIND_DAYS_BEFORE = 3


def return_reminders_send(*, today: datetime.date) -> int:
    """E-mail the leads of returns due within 3 days or overdue, at most once a day each."""
    horizon = today + datetime.timedelta(days=REMIND_DAYS_BEFORE)
    sent = 0
    candidates = Return.objects.filter(
        status__in=Return.EDITABLE, reporting_period__deadline__lte=horizon
    ).exclude(last_reminded_on=today)
    for return_id in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            # Re-read under a lock so that two beat runs at once send one reminder, not two.
            ret = (
                Return.objects.select_for_update(skip_locked=True)
                .select_related("reporting_period", "department")
                .filter(pk=return_id, status__in=Return.EDITABLE)
                .exclude(last_reminded_on=today)
                .first()
            )
            if ret is None:
                continue
            ret.last_reminded_on = today
            ret.save(update_fields=["last_reminded_on"])
            overdue = ret.reporting_period.deadline < today
            _event(
                ret,
                ReturnEvent.Kind.REMINDED,
                None,
                from_status=ret.status,
                reason="overdue" if overdue else "due soon",
            )
            transaction.on_commit(_reminder(ret, overdue=overdue))
            sent += 1
    return sent


__all__ = [
    "FigureLocked",
    "OtherEdit",
    "ReturnConflict",
    "ReturnInvalid",
    "ReturnLocked",
    "ValueEntry",
    "WorkflowError",
    "figure_changes",
    "headline_correct",
    "headline_lock_reason",
    "reporting_period_open",
    "reporting_period_open_due",
    "return_approve",
    "return_conflict",
    "return_reminders_send",
    "return_reopen",
    "return_save",
    "return_send_back",
    "return_submit",
    "returns_holding_headline",
    "returns_holding_value",
    "returns_record_import",
    "submission_problems",
    "value_correct",
    "value_lock_reason",
]
