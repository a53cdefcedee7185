"""Every environment variable es_rerank reads is in one table, :mod:`es_rerank.env`: no
other module reads ``os.environ`` itself (tables of flags take an ``environ`` mapping, and
writing a variable for a library is not reading one)."""

from __future__ import annotations

import ast

from es_rerank import env
from tests.helpers.import_graph import modules

#: Modules that read ``os.environ`` on purpose: the table itself.
READERS = {"es_rerank.env"}


def _reads(tree: ast.AST) -> list[int]:
    """Lines that read ``os.environ`` (``.get``, ``[...]``) or call ``os.getenv``."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = ast.unparse(node.func)
            if target in ("os.environ.get", "os.getenv"):
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and ast.unparse(node.value) == "os.environ"
        ):
            lines.append(node.lineno)
    return lines


def test_only_the_table_reads_the_environment() -> None:
    found = {
        name: lines
        for name, path in modules()
        if name.startswith("es_rerank") and name not in READERS
        if (lines := _reads(ast.parse(path.read_text())))
    }
    assert found == {}


def test_the_reader_sees_each_way_of_reading() -> None:
    tree = ast.parse(
        'os.environ.get("A")\nos.getenv("B")\nx = os.environ["C"]\nos.environ["D"] = "1"'
    )
    assert _reads(tree) == [1, 2, 3]


def test_the_table_names_each_variable_once() -> None:
    names = [v.name for v in env.VARIABLES]
    assert len(names) == len(set(names))
    assert {"ES_RERANK_CACHE", "ES_RERANK_MODEL", "HF_HUB_OFFLINE"} <= set(names)
    assert all(v.about for v in env.VARIABLES)
