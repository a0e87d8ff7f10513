"""Who may see what (SPEC §1): roles, departments, and the `Reader` every figure is read for.

Leads see their departments' unapproved figures and everyone's approved ones; reviewers and
admins see everything; viewers see approved figures; the public, published reports only.
What each role may *do* to a return is the workflow's table, `measures.returns.workflow`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from measures.models import Headline, Profile, UnavailableFigure, Value

Role = Profile.Role


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

    def unavailable(
        self, qs: QuerySet[UnavailableFigure] | None = None
    ) -> QuerySet[UnavailableFigure]:
        """Return the figures marked not available this reader reads, on the rule of values."""
        qs = UnavailableFigure.objects.all() if qs is None else qs
        if self.approved_only:
            qs = qs.filter(status=UnavailableFigure.Status.APPROVED)
        if self.kind == "user":
            return _visible(
                self.user,
                qs,
                own=Q(measure__owner_id__in=department_ids(self.user)),
                approved=Q(status=UnavailableFigure.Status.APPROVED),
            )
        if self.kind == "department":
            return qs.filter(
                Q(status=UnavailableFigure.Status.APPROVED)
                | Q(measure__owner_id=self.department_id)
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
