"""The import graph of the project's packages, read from their source: which of our modules
each module imports when it runs (or, asked for, for type checkers too), and its cycles.
The structure tests (tests of the package's shape) are written against it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("es_rerank", "inference_shim")

__all__ = ["PACKAGES", "ROOT", "cycles", "graph", "imports", "modules"]


def modules() -> Iterator[tuple[str, Path]]:
    """(dotted name, file) of every module of :data:`PACKAGES`."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except the bodies of ``if TYPE_CHECKING:`` (never executed)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in ast.walk(child))
            continue
        yield node
        yield from _runtime_nodes(node)


def imports(name: str, path: Path, known: set[str], *, type_checking: bool = False) -> set[str]:
    """Modules of ours that ``name`` imports when it runs, anywhere in the file: lazy
    imports inside functions count (a cycle through them is still a design cycle), imports
    for type checkers only do not (unless ``type_checking``). ``from pkg import x`` points at
    ``pkg.x`` when that is a module, else at ``pkg``. Importing ``a.b.c`` also runs the
    ``__init__`` of the packages ``a`` and ``a.b``: those count too, unless they contain
    ``name`` (Python has started them before ``name``)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree) if type_checking else _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        found.update(t for t in targets if t in known and t != name)
    own = _packages_of(name) | {name}
    return found | {p for t in found for p in _packages_of(t) if p in known and p not in own}


def _packages_of(module: str) -> set[str]:
    """The packages containing ``module``: ``a`` and ``a.b`` for ``a.b.c``."""
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def graph(*, type_checking: bool = False) -> dict[str, set[str]]:
    """module -> the modules of ours it imports (with ``type_checking``, also those
    imported only under ``if TYPE_CHECKING:``)."""
    found = dict(modules())
    known = set(found)
    return {
        name: imports(name, path, known, type_checking=type_checking)
        for name, path in found.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out
