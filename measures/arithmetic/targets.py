"""Red, amber or green against a target (SPEC §2). Pure functions over plain values.

`tolerance` is in the measure's own units (a count, percentage points, days): how far on
the wrong side of the goal a figure may be and still count as amber.
"""

from __future__ import annotations

from decimal import Decimal

GREEN, AMBER, RED = "green", "amber", "red"
LABELS = {GREEN: "On track", AMBER: "Close to target", RED: "Off track"}


def target_status(
    *,
    kind: str,
    current: Decimal | None,
    baseline: Decimal | None,
    target_value: Decimal | None,
    tolerance: Decimal = Decimal(0),
) -> str | None:
    """Return "green", "amber" or "red", or None when there is not enough to judge."""
    if current is None:
        return None
    lower_is_better = kind in ("reduce_vs_baseline", "at_most")
    if kind in ("reduce_vs_baseline", "increase_vs_baseline"):
        if target_value is not None:
            goal, strict = target_value, False
        elif baseline is not None:
            # With no level set, the target is to move from the baseline at all.
            goal, strict = baseline, True
        else:
            return None
    elif target_value is not None:
        goal, strict = target_value, False
    else:
        return None
    # Distance past the goal on the wrong side (negative or zero: the goal is met).
    past = current - goal if lower_is_better else goal - current
    if past < 0 or (past == 0 and not strict):
        return GREEN
    if past <= tolerance:
        return AMBER
    return RED
