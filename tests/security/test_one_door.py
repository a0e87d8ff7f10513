"""One door for reading figures (issue 10; STYLE §9): no code reads figure rows around it.

Every module of the project is parsed; a module that touches the rows of values, derived
figures or Key Headlines directly (`Value.objects`, `Headline.history`, …) must be one of
the few that are allowed to, each for a stated reason. Everything else — pages, charts,
exports, the API, publishing — reads through `measures.selectors` for a `Reader`, so a
new module that queries figures itself fails here the day it is written.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from measures.access import MissingReader, Reader
from measures.selectors import SeriesBook, latest_data_month, series_for

ROOT = Path(__file__).resolve().parents[2]
FIGURE_MODELS = {"Value", "DerivedFigure", "Headline", "HistoricalValue", "HistoricalHeadline"}
MANAGERS = {"objects", "history", "_default_manager", "_base_manager"}

# The modules that may touch figure rows directly, and why.
ALLOWED = {
    "measures/selectors.py": "the door itself: every read is for a Reader",
    "measures/access.py": "the Reader's own filters",
    "measures/returns/services.py": "the door for writes",
    "measures/importing/values.py": "writes (imports), checked and audited",
    "measures/importing/values_copy.py": "writes (imports by COPY), checked and audited",
    "measures/importing/headlines.py": "writes (headline imports), checked and audited",
    "measures/returns/rows.py": "a return's own rows, shown only to those who may see the return",
    "measures/returns/progress.py": "returns' progress counts, shown to those who may see them",
    "measures/admin.py": "the admin site, for admins (who see every figure); writes via services",
    "reports/management/commands/bench.py": (
        "the benchmark: changes and polls its own generated data to time the engine; no reader"
    ),
}


def _figure_reads(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in MANAGERS
            and isinstance(node.value, ast.Name)
            and node.value.id in FIGURE_MODELS
        ):
            found.append(f"{path.relative_to(root)}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def _modules() -> list[Path]:
    return sorted(
        p
        for package in ("measures", "reports", "pcp")
        for p in (ROOT / package).rglob("*.py")
        if "migrations" not in p.parts
    )


def test_only_the_allowed_modules_touch_figure_rows():
    outside = [
        read
        for path in _modules()
        if str(path.relative_to(ROOT)) not in ALLOWED
        for read in _figure_reads(path)
    ]

    assert outside == [], "read figures through measures.selectors for a Reader"


def test_every_allowed_module_exists_and_still_needs_its_exception():
    for name in ALLOWED:
        path = ROOT / name
        assert path.exists(), name
        assert _figure_reads(path), f"{name} no longer touches figure rows: drop it from ALLOWED"


def test_the_check_finds_a_direct_read(tmp_path):
    planted = tmp_path / "reports" / "planted.py"
    planted.parent.mkdir()
    planted.write_text("from measures.models import Value\n\nrows = Value.objects.all()\n")

    assert _figure_reads(planted, tmp_path) == ["reports/planted.py:3 Value.objects"]


def test_there_is_no_reader_that_reads_everything_by_default():
    with pytest.raises(TypeError):
        SeriesBook()  # type: ignore[call-arg]
    with pytest.raises(MissingReader):
        SeriesBook(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        series_for(measures=[], areas=[])  # type: ignore[call-arg]
    with pytest.raises(MissingReader):
        series_for(measures=[], areas=[], reader=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        latest_data_month(plan=None)  # type: ignore[call-arg]
    with pytest.raises(MissingReader):
        Reader.of(None)
    with pytest.raises(MissingReader):
        Reader("user")
    with pytest.raises(MissingReader):
        Reader("public", approved_only=False)
    with pytest.raises(MissingReader):
        Reader("everyone")


@pytest.mark.django_db
def test_the_public_reader_sees_approved_figures_only(alice):
    from measures.models import Measure

    assaults = Measure.objects.get(code="t-assaults")

    assert Reader.public().sees_unapproved(assaults) is False
    assert Reader.of(alice).sees_unapproved(assaults) is True
    assert Reader.of(alice, approved_only=True).sees_unapproved(assaults) is False
    assert Reader.department(assaults.owner_id).sees_unapproved(assaults) is True
    assert "status" in str(Reader.public().values().query).lower()
