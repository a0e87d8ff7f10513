"""RAG status against targets."""

from decimal import Decimal as D

import pytest

from measures.arithmetic.targets import AMBER, GREEN, RED, target_status


@pytest.mark.parametrize(
    ("kind", "current", "baseline", "target", "tolerance", "expected"),
    [
        ("reduce_vs_baseline", D(14), D(23), None, D(0), GREEN),
        ("reduce_vs_baseline", D(23), D(23), None, D(0), AMBER),
        ("reduce_vs_baseline", D(79), D(44), None, D(0), RED),
        ("reduce_vs_baseline", D(46), D(44), None, D(5), AMBER),
        ("reduce_vs_baseline", D(20), D(23), D(18), D(1), RED),
        ("reduce_vs_baseline", D(18), D(23), D(18), D(1), GREEN),
        ("increase_vs_baseline", D("70.2"), D("69.8"), None, D(0), GREEN),
        ("increase_vs_baseline", D("82.5"), D("85.3"), None, D(0), RED),
        ("increase_vs_baseline", D("82.5"), D("85.3"), None, D(3), AMBER),
        ("at_most", D(90), None, D(100), D(0), GREEN),
        ("at_most", D(104), None, D(100), D(5), AMBER),
        ("at_least", D("91.5"), None, D(90), D(0), GREEN),
        ("at_least", D(60), None, D(90), D(5), RED),
    ],
)
def test_status_against_each_kind_of_target(kind, current, baseline, target, tolerance, expected):
    status = target_status(
        kind=kind, current=current, baseline=baseline, target_value=target, tolerance=tolerance
    )
    assert status == expected


def test_nothing_to_judge_gives_no_status():
    assert target_status(kind="at_most", current=D(1), baseline=None, target_value=None) is None
    assert (
        target_status(kind="reduce_vs_baseline", current=None, baseline=D(1), target_value=None)
        is None
    )
