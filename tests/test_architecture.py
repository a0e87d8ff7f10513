"""The house rules of docs/architecture.md, checked on the code itself.

- `reports/` queries `measures` models only in `reports/selectors.py` (catalogue reads) —
  figures come through `measures.selectors` for a Reader.
- Imports follow the allowed directions between packages, and there is no import circle.
- No module names a measure: which measures a table or chart shows is the plan's and the
  report layout's to say (files and the admin), not a code constant's.
"""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

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


# --- no measure named in code ---------------------------------------------------------------

# Modules that may spell a measure's code, and why.
NAMING_MEASURES = {
    "measures/returns/api.py": "the OpenAPI schema's example request, documentation only",
}


def measure_codes() -> set[str]:
    """Return the codes of the demo plan's measures (the seed report's)."""
    plan = yaml.safe_load((ROOT / "measures" / "demo" / "plan.yaml").read_text())
    return {m["code"] for priority in plan["priorities"] for m in priority["measures"]}


def measures_named(path: Path, codes: set[str]) -> list[str]:
    """Return each string constant of the module that is a measure's code."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in codes
    ]


def test_no_module_names_a_measure_the_plan_and_layout_choose_them():
    codes = measure_codes()
    assert {"calls-999", "calls-101", "asb-incidents"} <= codes
    named = [
        found
        for package in ("measures", "reports", "pcp")
        for path in _python_files(package)
        if str(path.relative_to(ROOT)) not in NAMING_MEASURES
        for found in measures_named(path, codes)
    ]

    assert named == [], "say which measures a chart or table shows in the plan or layout"


def test_the_measure_check_finds_a_code_constant(tmp_path):
    planted = tmp_path / "planted.py"
    # As reports/charts/series_charts.py once chose the seed's call volumes.
    planted.write_text(
        'CALL_VOLUMES = ("calls-999", "calls-101")\n"""calls-999 in a sentence"""\n'
    )
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert measures_named(planted, {"calls-999", "calls-101"}) == [
            "planted.py:1 'calls-999'",
            "planted.py:1 'calls-101'",
        ]
    finally:
        ROOT = saved


# --- allowed imports ------------------------------------------------------------------------

# Which project packages each package may import (beyond itself), as docs/architecture.md
# draws them. A key is a module prefix; the longest prefix that matches a module decides.
ALLOWED_IMPORTS = {
    "measures.arithmetic": set(),
    "measures.models": {"measures.arithmetic"},
    "measures.access": {"measures.models"},
    "measures.selectors": {"measures.models", "measures.access", "measures.arithmetic"},
    "measures.engine": {"measures.models", "measures.arithmetic"},
    "measures.returns": {
        "measures.models",
        "measures.access",
        "measures.selectors",
        "measures.arithmetic",
        "measures.engine",
        "pcp.security",
    },
    "measures.services": {"measures.models", "measures.access", "measures.engine"},
    "measures.importing": {
        "measures.services",
        "measures.models",
        "measures.arithmetic",
        "measures.engine",
        "measures.returns",
    },
    "measures.accounts": {"measures.models"},
    "measures.api": {
        "measures.models",
        "measures.access",
        "measures.selectors",
        "measures.arithmetic",
    },
    "measures.api_urls": {"measures.api", "measures.returns"},
    "measures.pagination": set(),
    # apps connects the change log's installation to migrate and registers the checks.
    "measures.apps": {"measures.checks", "measures.engine"},
    "measures.checks": {"measures.engine", "measures.models"},
    "measures.admin": {"measures"},
    "measures.management": {"measures"},
    "reports.management": {"measures", "reports"},
    # reports/ reads figures through selectors for a Reader, and the workflow only to list
    # returns and check who may publish; it never writes through measures' services.
    "reports": {
        "reports",
        "measures.models",
        "measures.access",
        "measures.selectors",
        "measures.arithmetic",
        "measures.returns.workflow",
        "pcp.celery",
    },
    "pcp": {"pcp", "measures", "reports"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_imports() -> dict[str, set[str]]:
    """Return each project module's imports of project modules (function-level ones too)."""
    graph: dict[str, set[str]] = {}
    for package in ("measures", "reports", "pcp"):
        for path in _python_files(package):
            module = _module_name(path)
            found = set()
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    if node.module.split(".")[0] in {"measures", "reports", "pcp"}:
                        for alias in node.names:
                            candidate = f"{node.module}.{alias.name}"
                            is_module = (ROOT / candidate.replace(".", "/")).with_suffix(
                                ".py"
                            ).exists() or (ROOT / candidate.replace(".", "/")).is_dir()
                            found.add(candidate if is_module else node.module)
                elif isinstance(node, ast.Import):
                    found |= {
                        a.name
                        for a in node.names
                        if a.name.split(".")[0] in {"measures", "reports", "pcp"}
                    }
            graph[module] = found
    return graph


def _rule_for(module: str) -> tuple[str, set[str]]:
    matches = [key for key in ALLOWED_IMPORTS if module == key or module.startswith(key + ".")]
    assert matches, f"{module} is in no package of ALLOWED_IMPORTS: add it, and to the doc"
    key = max(matches, key=len)
    return key, ALLOWED_IMPORTS[key]


def _allowed(module: str, imported: str) -> bool:
    key, allowed = _rule_for(module)
    targets = {key} | allowed
    return any(imported == t or imported.startswith(t + ".") for t in targets)


def test_every_import_goes_an_allowed_way():
    wrong = [
        f"{module} imports {imported}"
        for module, imports in sorted(project_imports().items())
        if not module.endswith("migrations") and ".migrations." not in module
        for imported in sorted(imports)
        if not _allowed(module, imported)
    ]

    assert wrong == [], "see docs/architecture.md for the allowed directions"


def test_there_is_no_import_circle():
    graph = project_imports()
    modules = set(graph)
    edges = {m: {i for i in imports if i in modules and i != m} for m, imports in graph.items()}
    seen, on_path, circles = set(), [], []

    def visit(module):
        if module in on_path:
            circles.append([*on_path[on_path.index(module) :], module])
            return
        if module in seen:
            return
        seen.add(module)
        on_path.append(module)
        for target in sorted(edges[module]):
            visit(target)
        on_path.pop()

    for module in sorted(modules):
        visit(module)

    assert circles == []


def test_the_arithmetic_uses_no_django():
    for path in _python_files("measures/arithmetic"):
        tree = ast.parse(path.read_text())
        imported = {
            (n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
        } | {
            a.name.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.Import)
            for a in n.names
        }
        assert "django" not in imported, path


def test_the_rules_refuse_the_wrong_directions():
    assert not _allowed("measures.arithmetic.figures", "measures.models")
    assert not _allowed("measures.returns.services", "reports.publishing")
    assert not _allowed("measures.engine.derived", "measures.returns.services")
    assert not _allowed("reports.views", "measures.returns.services")
    assert _allowed("reports.views", "measures.selectors")
