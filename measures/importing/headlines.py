"""Importing Key Headlines (the demo's, or a file of them), checked like the value import."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from measures.importing.plan import PlanInvalid, _Reader, _upsert
from measures.importing.rules import ImportSummary
from measures.models import (
    ApprovedLocked,
    Department,
    Headline,
    Priority,
    Value,
)
from measures.returns import services


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
