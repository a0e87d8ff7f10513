"""Helpers shared by the tests: readers of figures for tests that are not about access."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from measures.access import Reader
from measures.models import Profile
from measures.selectors import SeriesBook


def reviewer_reader(*, approved_only: bool = False) -> Reader:
    """Return a reviewer's reader: every figure, drafts included (or approved only)."""
    user, _ = get_user_model().objects.get_or_create(username="test-reviewer-reader")
    Profile.objects.update_or_create(user=user, defaults={"role": Profile.Role.REVIEWER})
    return Reader.of(user, approved_only=approved_only)


def reviewer_book(**kwargs) -> SeriesBook:
    """Return a series book read for a reviewer (every figure, drafts included)."""
    return SeriesBook(reviewer_reader(), **kwargs)
