"""E-mails about returns (SPEC §5): the other side hears of every submission and decision.

Called from `transaction.on_commit`, so nobody is told of a change that was rolled back.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import reverse

from measures.models import Profile, Return, ReturnEvent


def _site_url(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def _emails(users) -> list[str]:
    return sorted({u.email for u in users if u.email and u.is_active})


def reviewers():
    User = get_user_model()
    return User.objects.filter(profile__role__in=[Profile.Role.REVIEWER, Profile.Role.ADMIN])


def leads_of(ret: Return):
    User = get_user_model()
    return User.objects.filter(
        profile__role=Profile.Role.LEAD, profile__departments=ret.department_id
    )


def _send(subject: str, body: str, recipients: list[str]) -> None:
    if recipients:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)


def return_submitted(ret: Return) -> None:
    _send(
        f"Return submitted for review: {ret}",
        f"{ret.submitted_by} submitted the return of {ret.department.name} for "
        f"{ret.reporting_period.period.label}.\n\nReview it: "
        f"{_site_url(reverse('returns:detail', args=[ret.pk]))}\n",
        _emails(reviewers()),
    )


DECISION_WORDS: dict[str, str] = {
    ReturnEvent.Kind.APPROVED: "approved",
    ReturnEvent.Kind.RETURNED: "returned for changes",
    ReturnEvent.Kind.REOPENED: "reopened",
}


def return_decided(ret: Return, kind: str, reason: str) -> None:
    words = DECISION_WORDS[kind]
    body = (
        f"{ret.decided_by} {words} the return of {ret.department.name} for "
        f"{ret.reporting_period.period.label}.\n"
    )
    if reason:
        body += f"\nReason: {reason}\n"
    body += f"\nOpen it: {_site_url(reverse('returns:detail', args=[ret.pk]))}\n"
    _send(f"Return {words}: {ret}", body, _emails(leads_of(ret)))


def return_reminder(ret: Return, *, overdue: bool) -> None:
    deadline = ret.reporting_period.deadline.strftime("%d %B %Y")
    state = f"was due on {deadline} and is overdue" if overdue else f"is due on {deadline}"
    _send(
        f"{'Overdue' if overdue else 'Due soon'}: return for {ret}",
        f"The return of {ret.department.name} for {ret.reporting_period.period.label} "
        f"{state}. It is {ret.get_status_display().lower()}.\n\n"
        f"Complete it: {_site_url(reverse('returns:detail', args=[ret.pk]))}\n",
        _emails(leads_of(ret)),
    )
