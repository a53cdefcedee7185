"""The package's shape: the public API, an import graph without cycles, one place that talks
to Elasticsearch, and every error under ``EsRerankError``."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import es_rerank
import es_rerank.errors
from tests.helpers import ROOT

PACKAGES = ("es_rerank", "inference_shim")

# The public API is pinned by derivation from the package: test_public_api.py.

# The graph walker is shared with the other structure tests (test_package_faces.py).
from tests.helpers.import_graph import cycles as _cycles  # noqa: E402
from tests.helpers.import_graph import graph as _graph  # noqa: E402
from tests.helpers.import_graph import imports as _imports  # noqa: E402
from tests.helpers.import_graph import modules as _modules  # noqa: E402


def test_the_import_graph_has_no_cycle() -> None:
    graph = _graph()
    assert "es_rerank.elastic.backend" in graph  # the walk sees the modules
    assert "es_rerank.rerankers.base" in graph["es_rerank.elastic.inference"]
    assert _cycles(graph) == []


def test_importing_a_module_counts_its_packages_init(tmp_path: Path) -> None:
    # es_rerank.elastic.async_backend imported es_rerank.asyncio.bridge, so the
    # es_rerank.asyncio package that re-exports it: imported first, it failed half-made.
    path = tmp_path / "async_backend.py"
    path.write_text("from pkg.facade.bridge import run_sync\n")
    known = {"pkg", "pkg.facade", "pkg.facade.bridge", "pkg.other", "pkg.other.async_backend"}
    assert _imports("pkg.other.async_backend", path, known) == {
        "pkg.facade.bridge",
        "pkg.facade",  # its __init__ runs first; pkg itself already ran before this module
    }


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_only_es_rerank_elastic_talks_to_a_cluster() -> None:
    graph_modules = dict(_modules())
    clients = ("elasticsearch", "elastic_transport", "eland")
    offenders = []
    for name, path in graph_modules.items():
        if name.startswith("es_rerank.elastic"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                mods = [node.module or ""]
            else:
                continue
            offenders += [f"{name}: {m}" for m in mods if m.split(".")[0] in clients]
    assert offenders == []
    seed = (ROOT / "docker" / "seed.py").read_text()
    assert "from elasticsearch" not in seed and "import elasticsearch" not in seed


def test_es_rerank_does_not_import_the_shim() -> None:
    graph = _graph()
    assert not [
        (a, b)
        for a, targets in graph.items()
        if a.startswith("es_rerank")
        for b in targets
        if b.startswith("inference_shim")
    ]


def test_every_error_class_derives_from_es_rerank_error() -> None:
    errors = {
        name: obj
        for name, obj in vars(es_rerank).items()
        if inspect.isclass(obj) and issubclass(obj, BaseException)
    }
    assert len(errors) >= 15
    for name, cls in errors.items():
        assert issubclass(cls, es_rerank.EsRerankError), name
    # and the tree in errors.py's docstring names every one of them
    doc = es_rerank.errors.__doc__ or ""
    for name in errors:
        assert name in doc, name
