"""The house plan, checked: layers import downward only, connectors never import the fit, model/ and
connectors/ never import Streamlit or the app's folder, and no two modules import each other in a circle.

Reads every import statement (function-local ones too) with `ast`; nothing is imported or run. The
layers and what each may import are described in docs/architecture.md and each package's __init__.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("model", "connectors", "streamlit_ui", "pages", "commands")
TOP_FILES = ("app.py", "cli.py")

# Bottom to top: a module may import modules of its own layer or of a lower one. The most specific prefix wins.
LAYERS: dict[str, int] = {
    "model": 0,  # the package itself holds a docstring only
    "model.scenario": 0,  # schema, call graph, traces, YAML lines
    "model.pricing": 1,  # catalog, cost (refresh/ too: it reads the catalog's path)
    "model.scenario.reader": 2,  # YAML -> Scenario, checks prices
    "model.queueing": 3,  # stations, offered load, results, statistics, distributions, run sizes
    "model.queueing.sim": 4,
    "model.queueing.analytic": 4,
    "model.queueing.evaluate": 5,  # picks a solver, prices the result
    "model.queueing.crosscheck": 5,  # a simulated run checked against the analytic solver
    "connectors": 6,  # metric sources: may read a scenario, nothing above
    "model.planning": 7,
    "model.fit": 7,
    "streamlit_ui": 8,
    "pages": 9,
    "app": 9,
    "commands": 9,  # the command line's commands, one module each
    "cli": 9,
}
# Same layer, different packages: neither may import the other.
SIBLINGS = [("model.planning", "model.fit"), ("model.queueing.sim", "model.queueing.analytic")]


def modules() -> dict[str, Path]:
    found = {path.stem: path for path in (ROOT / f for f in TOP_FILES)}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = modules()


def resolve(name: str) -> str | None:
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports(module: str) -> set[str]:
    """Every name the module imports (absolute; `from a import b` gives a.b when b is a module)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            out.add(base)
            out.update(
                f"{base}.{alias.name}"
                for alias in node.names
                if resolve(f"{base}.{alias.name}") == f"{base}.{alias.name}"
            )
    return out


EDGES = {m: {t for t in (resolve(n) for n in imports(m)) if t and t != m} for m in MODULES}
EXTERNAL = {m: {n.split(".")[0] for n in imports(m) if not resolve(n)} for m in MODULES}


def layer_of(module: str) -> tuple[str, int]:
    prefix = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return prefix, LAYERS[prefix]


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    upward = []
    for a, targets in edges.items():
        for b in targets:
            (pa, la), (pb, lb) = layer_of(a), layer_of(b)
            siblings = any(
                (a.startswith(x) and b.startswith(y)) or (a.startswith(y) and b.startswith(x))
                for x, y in SIBLINGS
            )
            if lb > la or siblings:
                upward.append(f"{a} ({pa}) imports {b} ({pb})")
    return sorted(upward)


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or around a loop (Tarjan's components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in edges:
        if module not in index:
            visit(module)
    return found


def test_every_module_has_a_layer():
    assert all(layer_of(m) for m in MODULES)


def test_layers_import_downward_only():
    upward = upward_imports(EDGES)
    assert not upward, "imports that climb a layer:\n" + "\n".join(upward)


def test_connectors_read_only_the_scenario_from_model():
    """Connectors never import the fit (nor planning, queueing, pricing): a source knows metrics, not models."""
    bad = [
        f"{a} -> {b}"
        for a, targets in EDGES.items()
        if a.startswith("connectors")
        for b in targets
        if b.startswith("model") and not b.startswith("model.scenario")
    ]
    assert not bad, bad


@pytest.mark.parametrize("package", ["model", "connectors"])
def test_model_and_connectors_never_import_streamlit_or_the_app(package):
    bad = [
        m
        for m in MODULES
        if m.split(".")[0] == package
        and (
            {"streamlit", "altair"} & EXTERNAL[m]
            or any(t.split(".")[0] in ("streamlit_ui", "pages", "app", "cli") for t in EDGES[m])
        )
    ]
    assert not bad, bad


def test_no_import_circles():
    assert not circles(EDGES)


def test_the_checks_catch_what_they_are_for():
    """Yesterday's structure fails them: a connector importing the fit file, the fit importing a connector's
    dump that imports it back, planning importing the fit, and the app's folder imported by the model."""
    old = {
        "connectors.dump": {"model.fit.file"},
        "model.fit.file": {"connectors.dump"},
        "model.planning.spend": {"model.fit.observed"},
        "model.queueing.topology": {"streamlit_ui.cached"},
    }
    assert len(upward_imports(old)) == 3  # dump -> fit.file, planning -> fit, queueing -> streamlit_ui
    assert circles(old) == [["connectors.dump", "model.fit.file"]]
    assert "model.fit.file" in imports_of_source("def f():\n    from model.fit.file import FitFile\n")


def imports_of_source(source: str) -> set[str]:
    return {n.module for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom)}
