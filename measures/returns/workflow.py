"""The returns workflow as one table, and the questions every view asks of it.

`WORKFLOW` declares each action on a return: the roles that may take it, the states it goes
from and to, whether it needs a reason, what its values' status becomes, and four-eyes.
`can`, the refusal messages and the services' transitions all read it. Returns are
invisible (404) to people who may not see them, and forbidden (403) to people who may see
them but not act on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from measures.access import Role, department_ids, role_of
from measures.models import Return, ReturnEvent, ReviewStatus

Status = Return.Status


@dataclass(frozen=True)
class Action:
    """One action on a return: who may take it, from which states, and what it changes.

    `WORKFLOW` below is the workflow's one declaration: `can`, the refusal messages and the
    services' transitions (`measures.returns.services`) all read it.
    """

    name: str
    roles: frozenset[str]
    # The states the return may be in; None means any.
    from_states: frozenset[str] | None = None
    # The state it moves to, and the status its values and headlines take (None: no move).
    to_state: str | None = None
    values_become: str | None = None
    reason_required: bool = False
    # Nobody takes it on figures they entered or submitted themselves.
    four_eyes: bool = False
    # Said when the return's state is the reason for a refusal.
    wrong_state: str = "You may not do that."
    # Undoes an approval: approved figures in the return go back to draft with the rest.
    unlocks: bool = False
    # The event recorded in the return's history, and which of its stamps the action sets
    # ("submitted": submitted_at/by; "decided": decided_at/by).
    event: str | None = None
    stamp: str | None = None
    # Whether approved figures change, so the derived figures must be recomputed.
    changes_approved: bool = False

    @property
    def verb(self) -> str:
        return self.name.replace("_", " ")


EDITING_ROLES = frozenset({Role.LEAD, Role.ADMIN})


REVIEWING_ROLES = frozenset({Role.REVIEWER, Role.ADMIN})


_LOCKED = "This return is {status} and cannot be changed."


_NOT_SUBMITTED = "Only a submitted return can be approved or returned."


WORKFLOW: dict[str, Action] = {
    action.name: action
    for action in (
        Action("view", roles=EDITING_ROLES | REVIEWING_ROLES),
        Action(
            "edit",
            roles=EDITING_ROLES,
            from_states=frozenset(Return.EDITABLE),
            values_become=ReviewStatus.DRAFT,
            wrong_state=_LOCKED,
        ),
        Action(
            "submit",
            roles=EDITING_ROLES,
            from_states=frozenset(Return.EDITABLE),
            to_state=Status.SUBMITTED,
            values_become=ReviewStatus.SUBMITTED,
            wrong_state=_LOCKED,
            event=ReturnEvent.Kind.SUBMITTED,
            stamp="submitted",
        ),
        Action(
            "approve",
            roles=REVIEWING_ROLES,
            from_states=frozenset({Status.SUBMITTED}),
            to_state=Status.APPROVED,
            values_become=ReviewStatus.APPROVED,
            four_eyes=True,
            wrong_state=_NOT_SUBMITTED,
            event=ReturnEvent.Kind.APPROVED,
            stamp="decided",
            changes_approved=True,
        ),
        Action(
            "send_back",
            roles=REVIEWING_ROLES,
            from_states=frozenset({Status.SUBMITTED}),
            to_state=Status.RETURNED,
            values_become=ReviewStatus.DRAFT,
            reason_required=True,
            wrong_state=_NOT_SUBMITTED,
            event=ReturnEvent.Kind.RETURNED,
            stamp="decided",
        ),
        Action(
            "reopen",
            roles=REVIEWING_ROLES,
            from_states=frozenset({Status.APPROVED}),
            to_state=Status.REOPENED,
            values_become=ReviewStatus.DRAFT,
            reason_required=True,
            wrong_state="Only an approved return can be reopened.",
            unlocks=True,
            event=ReturnEvent.Kind.REOPENED,
            stamp="decided",
            changes_approved=True,
        ),
    )
}


# Kept for callers that ask only who may take an action.
ACTION_ROLES = {name: set(action.roles) for name, action in WORKFLOW.items()}


class WrongState(PermissionDenied):
    """The action is allowed for this person, but not while the return is in this state."""


def may_see_returns(user) -> bool:
    """Return whether the user works with returns at all (viewers and the public do not)."""
    return role_of(user) in ACTION_ROLES["view"]


def require_returns_access(user) -> None:
    if not may_see_returns(user):
        raise PermissionDenied(f"Your role ({role_of(user) or 'none'}) has no returns.")


def sees_all_returns(user) -> bool:
    return role_of(user) in {Role.REVIEWER, Role.ADMIN}


def returns_visible_to(user) -> QuerySet[Return]:
    """Return the returns the user may see."""
    qs = Return.objects.select_related("department", "reporting_period", "reporting_period__plan")
    if sees_all_returns(user):
        return qs
    if role_of(user) == Role.LEAD:
        return qs.filter(department_id__in=department_ids(user))
    return qs.none()


def editors_of(ret: Return) -> set[int]:
    """Return the ids of everyone who saved or submitted the return: they may not approve it."""
    return set(
        ReturnEvent.objects.filter(
            return_obj=ret, kind__in=[ReturnEvent.Kind.SAVED, ReturnEvent.Kind.SUBMITTED]
        )
        .exclude(actor=None)
        .values_list("actor_id", flat=True)
    )


def _in_role(user, action: Action, ret: Return) -> bool:
    """Return whether the user's role (and, for a lead, department) allows the action."""
    role = role_of(user)
    if role not in action.roles:
        return False
    return role != Role.LEAD or ret.department_id in department_ids(user)


def _in_state(action: Action, ret: Return) -> bool:
    return action.from_states is None or ret.status in action.from_states


def can(user, action: str, ret: Return) -> bool:
    """Return whether the user may take the action on the return in its current state."""
    step = WORKFLOW[action]
    if not _in_role(user, step, ret) or not _in_state(step, ret):
        return False
    # Four-eyes: nobody approves figures they entered or submitted themselves.
    return not step.four_eyes or user.pk not in editors_of(ret)


def return_for(user, pk, *, action: str = "view", for_update: bool = False) -> Return:
    """Return the return the user may see (else 404) and may act on (else 403)."""
    qs = returns_visible_to(user)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    ret = qs.filter(pk=pk).first()
    if ret is None:
        raise Http404("No such return")
    if action != "view" and not can(user, action, ret):
        reason = refusal_reason(user, action, ret)
        if _state_is_the_reason(user, action, ret):
            raise WrongState(reason)
        raise PermissionDenied(reason)
    return ret


def _state_is_the_reason(user, action: str, ret: Return) -> bool:
    step = WORKFLOW[action]
    return _in_role(user, step, ret) and not _in_state(step, ret)


def refusal_reason(user, action: str, ret: Return) -> str:
    """Return why the action is refused, in words a person can act on."""
    step = WORKFLOW[action]
    role = role_of(user)
    if role not in step.roles:
        return f"Your role ({role or 'none'}) may not {step.verb} returns."
    if not _in_state(step, ret):
        return step.wrong_state.format(status=ret.get_status_display().lower())
    if step.four_eyes:
        return "You entered or submitted figures in this return, so someone else must approve it."
    return "You may not do that."
