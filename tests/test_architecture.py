"""The package's shape: stages import downwards only, and no module grows past what one can read."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pelvicvoice"
MAX_MODULE_LINES = 300


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Return the pelvicvoice modules a module imports when it is loaded (not inside functions)."""
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
                break
            if isinstance(inner, ast.ImportFrom) and inner.module and inner.module.startswith("pelvicvoice"):
                found.add(inner.module)
            elif isinstance(inner, ast.Import):
                found.update(alias.name for alias in inner.names if alias.name.startswith("pelvicvoice"))
    return found


def modules() -> dict[str, set[str]]:
    return {module_name(path): imports_of(path) for path in sorted(PACKAGE.rglob("*.py"))}


def test_no_import_cycles():
    graph = modules()
    for start in graph:
        stack, seen = [(start, (start,))], set()
        while stack:
            name, trail = stack.pop()
            for target in graph.get(name, ()):
                assert target != start, " -> ".join((*trail, target))
                if target not in seen:
                    seen.add(target)
                    stack.append((target, (*trail, target)))


def test_every_module_is_short_enough_to_read():
    long = {
        module_name(p): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, long


def test_the_pure_stages_do_not_reach_the_edges():
    """Definitions and expansion touch no engine, encoder or publisher."""
    for name, imported in modules().items():
        if name.startswith(("pelvicvoice.definitions", "pelvicvoice.script")):
            edges = {
                m for m in imported if m.startswith(("pelvicvoice.audio", "pelvicvoice.mp3", "pelvicvoice.publishing"))
            }
            assert not edges, (name, edges)
