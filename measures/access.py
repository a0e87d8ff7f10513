"""Who may see and do what (SPEC §1). Every view, form, API endpoint and import asks here.

Returns are invisible (404) to people who may not see them at all, and forbidden (403)
to people who may see them but not act on them. Leads see only their departments'
returns and unapproved figures; approved figures are visible to every signed-in user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from measures.models import Headline, Profile, Return, ReturnEvent, ReviewStatus, Value

Role = Profile.Role

Status = Return.Status


@dataclass(frozen=True)
class Action:
    """One action on a return: who may take it, from which states, and what it changes.

    `WORKFLOW` below is the workflow's one declaration: `can`, the refusal messages and the
    services' transitions (`measures.services`) all read it.
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
        ),
        Action(
            "approve",
            roles=REVIEWING_ROLES,
            from_states=frozenset({Status.SUBMITTED}),
            to_state=Status.APPROVED,
            values_become=ReviewStatus.APPROVED,
            four_eyes=True,
            wrong_state=_NOT_SUBMITTED,
        ),
        Action(
            "send_back",
            roles=REVIEWING_ROLES,
            from_states=frozenset({Status.SUBMITTED}),
            to_state=Status.RETURNED,
            values_become=ReviewStatus.DRAFT,
            reason_required=True,
            wrong_state=_NOT_SUBMITTED,
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
        ),
    )
}
# Kept for callers that ask only who may take an action.
ACTION_ROLES = {name: set(action.roles) for name, action in WORKFLOW.items()}


class WrongState(PermissionDenied):
    """The action is allowed for this person, but not while the return is in this state."""


def role_of(user) -> str | None:
    """Return the user's role, or None for anonymous users and users without a profile."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    try:
        return user.profile.role
    except Profile.DoesNotExist:
        return None


def department_ids(user) -> set[int]:
    """Return the ids of the departments a lead answers for (empty for everyone else)."""
    if role_of(user) != Role.LEAD:
        return set()
    cached = getattr(user, "_pcp_department_ids", None)
    if cached is None:
        cached = set(user.profile.departments.values_list("pk", flat=True))
        user._pcp_department_ids = cached
    return cached


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


def _visible(user, qs: QuerySet, *, own: Q, approved: Q) -> QuerySet:
    """Filter rows to those the user may see: approved ones, and unapproved ones they own."""
    role = role_of(user)
    if role in {Role.REVIEWER, Role.ADMIN}:
        return qs
    if role == Role.LEAD:
        return qs.filter(approved | own)
    if role == Role.VIEWER:
        return qs.filter(approved)
    return qs.none()


def values_visible_to(user, qs: QuerySet[Value] | None = None) -> QuerySet[Value]:
    """Return the values the user may see: approved ones, and unapproved ones they answer for."""
    return _visible(
        user,
        Value.objects.all() if qs is None else qs,
        own=Q(measure__owner_id__in=department_ids(user)),
        approved=Q(status=Value.Status.APPROVED),
    )


def sees_unapproved(user, measure) -> bool:
    """Return whether the user may see the measure's unapproved figures and their history."""
    role = role_of(user)
    return role in {Role.REVIEWER, Role.ADMIN} or (
        role == Role.LEAD and measure.owner_id in department_ids(user)
    )


def headlines_visible_to(user, qs: QuerySet[Headline] | None = None) -> QuerySet[Headline]:
    """Return the headlines the user may see, on the same rule as values."""
    return _visible(
        user,
        Headline.objects.all() if qs is None else qs,
        own=Q(department_id__in=department_ids(user)),
        approved=Q(status=Headline.Status.APPROVED),
    )


class MissingReader(TypeError):
    """Figures were asked for without saying who reads them: a programming error."""


@dataclass(frozen=True)
class Reader:
    """Who figures are read for, and in which scope: the one door every read goes through.

    Every figure that reaches a page, chart, export, API answer, published snapshot or PDF
    is read for a `Reader` (issue 10). There is no default: a signed-in user
    (`Reader.of(request.user)`, who sees approved figures and the drafts SPEC §1 lets them
    see, or approved figures only), the public (`Reader.public()`: approved figures only,
    which is what publishing reads), or a return's own department (`Reader.department`:
    the context a return form shows beside its rows, to people who may see that return).
    """

    kind: str
    user: Any = None
    approved_only: bool = True
    department_id: int | None = None

    def __post_init__(self):
        if self.kind not in ("user", "public", "department"):
            raise MissingReader(f"Unknown kind of reader: {self.kind!r}.")
        if self.kind == "user" and self.user is None:
            raise MissingReader(
                "Figures must be read for a user or for the public, not for nobody."
            )
        if self.kind == "public" and not self.approved_only:
            raise MissingReader("The public reads approved figures only.")
        if self.kind == "department" and self.department_id is None:
            raise MissingReader("A department reader needs its department.")

    @classmethod
    def of(cls, user, *, approved_only: bool = False) -> Reader:
        """Return the reader for a signed-in (or anonymous) user."""
        if user is None:
            raise MissingReader(
                "Figures must be read for a user or for the public, not for nobody."
            )
        return cls("user", user=user, approved_only=approved_only)

    @classmethod
    def public(cls) -> Reader:
        """Return the public reader: approved figures only."""
        return cls("public")

    @classmethod
    def department(cls, department_id: int) -> Reader:
        """Return a department reading its own drafts and everyone's approved figures."""
        return cls("department", approved_only=False, department_id=department_id)

    def sees_unapproved(self, measure) -> bool:
        """Return whether this reader reads the measure's unapproved figures."""
        if self.approved_only:
            return False
        if self.kind == "user":
            return sees_unapproved(self.user, measure)
        return self.kind == "department" and measure.owner_id == self.department_id

    def values(self, qs: QuerySet[Value] | None = None) -> QuerySet[Value]:
        """Return the values this reader reads."""
        qs = Value.objects.all() if qs is None else qs
        if self.approved_only:
            qs = qs.filter(status=Value.Status.APPROVED)
        if self.kind == "user":
            return values_visible_to(self.user, qs)
        if self.kind == "department":
            return qs.filter(
                Q(status=Value.Status.APPROVED) | Q(measure__owner_id=self.department_id)
            )
        return qs

    def headlines(self, qs: QuerySet[Headline] | None = None) -> QuerySet[Headline]:
        """Return the headlines this reader reads, on the same rule as values."""
        qs = Headline.objects.all() if qs is None else qs
        if self.approved_only:
            qs = qs.filter(status=Headline.Status.APPROVED)
        if self.kind == "user":
            return headlines_visible_to(self.user, qs)
        if self.kind == "department":
            return qs.filter(
                Q(status=Headline.Status.APPROVED) | Q(department_id=self.department_id)
            )
        return qs


def may_administer(user) -> bool:
    return role_of(user) == Role.ADMIN


def require_admin(user) -> None:
    if not may_administer(user):
        raise PermissionDenied("Only admins may do this.")
