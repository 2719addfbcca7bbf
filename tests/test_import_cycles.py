"""The package's layers point one way: no import cycle among alexnet_repro's modules, counting the imports
inside functions too (a function-level import hides a cycle from Python until the function runs)."""

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "alexnet_repro"


def import_graph(package: Path) -> dict:
    """{module: modules of the package it imports anywhere in its source}. A package's __init__ importing
    its own submodules is left out: importing a submodule always runs its package's __init__ first."""
    modules = {}
    for f in package.rglob("*.py"):
        parts = list(f.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = f
    graph = {}
    for name, f in modules.items():
        here = name.split(".") if f.name == "__init__.py" else name.split(".")[:-1]
        graph[name] = set()
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            if isinstance(node, ast.ImportFrom):
                base = ".".join(here[: len(here) - node.level + 1] + [node.module or ""]) if node.level else node.module
                wanted = [base.rstrip(".")] + [f"{base.rstrip('.')}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                wanted = [a.name for a in node.names]
            else:
                continue
            for target in wanted:
                while target and target not in modules:  # `from .x import name`: name is not a module
                    target = target.rpartition(".")[0]
                if target and target != name and not target.startswith(name + "."):
                    graph[name].add(target)
    return graph


def cycles(graph: dict) -> list:
    """Each strongly connected component of more than one module (Tarjan), as a sorted list."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph)))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_in_the_package():
    graph = import_graph(PACKAGE)
    assert len(graph) > 40 and "alexnet_repro.engine" in graph["alexnet_repro.runs"]
    assert cycles(graph) == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles(graph))


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "data" / "__init__.py").write_text("from . import folder\n")
    (pkg / "data" / "folder.py").write_text("def load():\n    from .. import engine\n")
    (pkg / "engine.py").write_text("from . import seeds\nfrom .data.folder import load\n")
    (pkg / "seeds.py").write_text("import os\n")
    assert cycles(import_graph(pkg)) == [["pkg.data.folder", "pkg.engine"]]
    (pkg / "data" / "folder.py").write_text("def load():\n    from ..seeds import os\n")
    assert cycles(import_graph(pkg)) == []
