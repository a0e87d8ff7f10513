"""The site navigation offers each person only the pages their role can open."""

from __future__ import annotations

from measures.returns import workflow


def navigation(request) -> dict[str, bool]:
    user = getattr(request, "user", None)
    return {
        # Leads, reviewers and admins work with returns; viewers and the public do not.
        "nav_returns": workflow.may_see_returns(user),
        # Only reviewers and admins review.
        "nav_review": workflow.sees_all_returns(user),
    }
