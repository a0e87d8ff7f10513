"""The shared factories build what they say."""

from __future__ import annotations

import pytest

from measures.models import ReturnEvent, Value
from tests.factories import return_in_state


@pytest.mark.parametrize("state", ["draft", "submitted", "returned", "approved", "reopened"])
def test_a_return_can_be_made_in_each_state(state, alice, charlie):
    ret = return_in_state(state, lead=alice, reviewer=charlie)

    assert ret.status == state
    assert ReturnEvent.objects.filter(return_obj=ret, kind="saved").exists()
    statuses = set(
        Value.objects.filter(measure__code="t-assaults").values_list("status", flat=True)
    )
    expected = {"draft": "draft", "submitted": "submitted", "returned": "draft"}
    assert statuses == {expected.get(state, "approved" if state == "approved" else "draft")}
