"""The code's shape, as the next engineer meets it: small modules with one job, functions that fit
on a screen, and layers that import one way (no module imports, through others, one that imports
it). Migrations aside: each is written once and never edited."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "scheduler"
MODULE_LINES, CLASS_LINES, FUNCTION_LINES = 500, 300, 80


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.relative_to(PACKAGE).parts:
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = modules()
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def spans(kind) -> list[tuple[int, str]]:
    return sorted(((node.end_lineno - node.lineno + 1, f"{name}:{node.lineno} {node.name}")
                   for name, tree in TREES.items() for node in ast.walk(tree) if isinstance(node, kind)), reverse=True)


def test_no_module_is_longer_than_500_lines():
    lines = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()}
    assert [(n, name) for name, n in lines.items() if n > MODULE_LINES] == []


def test_no_class_is_longer_than_300_lines():
    assert [s for s in spans(ast.ClassDef) if s[0] > CLASS_LINES] == []


def test_no_function_is_longer_than_80_lines():
    assert [s for s in spans((ast.FunctionDef, ast.AsyncFunctionDef)) if s[0] > FUNCTION_LINES] == []


def imports() -> dict[str, set[str]]:
    """Each module's imports of the package's modules at its top level (those inside a function,
    made when it runs, and TYPE_CHECKING's are not an order of loading)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for name, tree in TREES.items():
        for node in tree.body:
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            graph[name].update(t for t in targets if t in MODULES and t != name)
    return graph


def circles(graph: dict[str, set[str]], nodes) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_no_import_circle():
    assert circles(imports(), MODULES) == []


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
])
def test_the_circle_finder_finds_a_circle_and_only_that(graph, expected):
    assert circles(defaultdict(set, graph), graph) == expected
