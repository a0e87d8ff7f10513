"""The navigation offers each role only the pages it can open (issue 12)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("person", "returns", "review"),
    [
        ("alice", True, False),
        ("charlie", True, True),
        ("admin_user", True, True),
        ("viewer", False, False),
    ],
)
def test_each_role_sees_only_the_pages_it_can_open(
    db, small_plan, client, request, person, returns, review
):
    user = request.getfixturevalue(person)
    client.force_login(user)

    nav = client.get("/").content.decode().split('<nav aria-label="Main">')[1].split("</nav>")[0]

    assert ('href="/returns/"' in nav) is returns
    assert ('href="/review/"' in nav) is review
    for name, url in (("Returns", "/returns/"), ("Review", "/review/")):
        if f'href="{url}"' in nav:
            assert client.get(url).status_code == 200, name
