"""The house rules of docs/architecture.md, checked on the code itself.

- `reports/` queries `measures` models only in `reports/selectors.py` (catalogue reads) —
  figures come through `measures.selectors` for a Reader.
- Imports follow the allowed directions between packages, and there is no import circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Modules of reports/ that may query measures models, and why.
REPORTS_QUERYING = {
    "reports/selectors.py": "the one place reports/ reads the catalogue",
    "reports/management/commands/bench.py": "the benchmark builds its own data set",
}


def _python_files(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts)


def _measures_models_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "measures.models":
            names |= {alias.asname or alias.name for alias in node.names}
    return names


def model_queries(path: Path) -> list[str]:
    """Return each place the module queries a `measures` model (`Measure.objects`, or a
    model handed to `get_object_or_404`)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    models = _measures_models_names(tree)
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in {"objects", "history", "_default_manager"}
            and isinstance(node.value, ast.Name)
            and node.value.id in models
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value.id}.{node.attr}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "get_object_or_404"
            and node.args
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id in models
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} get_object_or_404")
    return sorted(found, key=lambda text: int(text.split(":")[1].split()[0]))


def test_reports_queries_measures_models_only_in_its_selectors():
    outside = [
        query
        for path in _python_files("reports")
        if str(path.relative_to(ROOT)) not in REPORTS_QUERYING
        for query in model_queries(path)
    ]

    assert outside == [], "read the catalogue through reports/selectors.py"


def test_the_query_check_finds_a_query(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(
        "from measures.models import Measure as M\n"
        "from django.shortcuts import get_object_or_404\n"
        "a = M.objects.all()\n"
        "b = get_object_or_404(M, code='x')\n"
    )
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert model_queries(planted) == [
            "planted.py:3 M.objects",
            "planted.py:4 get_object_or_404",
        ]
    finally:
        ROOT = saved
