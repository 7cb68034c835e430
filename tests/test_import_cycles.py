"""No two modules of the package import each other, directly or through others.

Every import counts, at module level or deferred inside a function, except those under
``if TYPE_CHECKING:`` (they never run). An import of a package's own ``__init__`` from
inside that package is a re-export, not a cycle of logic, and is left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import workflows

PACKAGE = Path(workflows.__file__).parent



def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _typing_only(tree: ast.AST) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            for inner in node.body:
                skipped.update(id(sub) for sub in ast.walk(inner))
    return skipped


def _imported(path: Path, module: str, modules: set[str]) -> set[str]:
    """The package's modules that ``module`` (at ``path``) imports."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    skipped = _typing_only(tree)
    targets: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            candidates = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in candidates:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module and not module.startswith(name + "."):
                targets.add(name)
    return targets


def import_graph() -> dict[str, set[str]]:
    """Each module of the package and the package's modules it imports."""
    paths = {_module(path): path for path in PACKAGE.rglob("*.py")}
    return {module: _imported(path, module, set(paths)) for module, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> set[tuple[str, ...]]:
    """The groups of modules that reach each other through imports (each a sorted tuple)."""
    reach: dict[str, set[str]] = {}
    for start in graph:
        seen, pending = set(), list(graph[start])
        while pending:
            current = pending.pop()
            if current not in seen:
                seen.add(current)
                pending.extend(graph[current])
        reach[start] = seen
    return {tuple(sorted({start} | {other for other in reach[start] if start in reach[other]}))
            for start in graph if start in reach[start]}


def test_the_cycle_finder_sees_direct_and_indirect_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"f"}, "f": {"e"}, "g": set()}
    assert cycles(graph) == {("a", "b", "c"), ("e", "f")}


def test_the_graph_reads_relative_deferred_and_typing_only_imports() -> None:
    graph = import_graph()
    assert "workflows.compiler.workflow" in graph["workflows.operations.base"]  # deferred, inside to_workflow
    assert "workflows.tasks.template" in graph["workflows.compiler.workflow"]
    assert "workflows.operations.options" not in graph["workflows.compiler.workflow"]  # TYPE_CHECKING only
    assert len(graph) > 100


def test_no_import_cycles_in_the_package() -> None:
    assert cycles(import_graph()) == set()
