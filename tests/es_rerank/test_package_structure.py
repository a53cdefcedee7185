"""The package's shape: the public API, an import graph without cycles, one place that talks
to Elasticsearch, and every error under ``EsRerankError``."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path

import es_rerank
import es_rerank.errors
from tests.helpers import ROOT

PACKAGES = ("es_rerank", "inference_shim")

PUBLIC_API = [
    "AuthenticationError",
    "AuthorizationError",
    "Backend",
    "Calibration",
    "Chunk",
    "ChunkRescorer",
    "ConfigurationError",
    "ConnectionOptions",
    "CrossEncoderReranker",
    "DiversifyRetriever",
    "ElasticInferenceReranker",
    "ElasticsearchBackend",
    "ElasticsearchConflictError",
    "ElasticsearchConnectionError",
    "ElasticsearchError",
    "ElasticsearchEsql",
    "ElasticsearchNotFoundError",
    "ElasticsearchRequestError",
    "EsRerankError",
    "EsqlColumn",
    "EsqlError",
    "EsqlExpression",
    "EsqlQuery",
    "EsqlResult",
    "Evaluation",
    "Hit",
    "HitExplanation",
    "Hits",
    "HttpReranker",
    "InferenceEndpointNotFoundError",
    "InferenceRerankBackend",
    "KnnRetriever",
    "LicenseError",
    "LinearRetriever",
    "LocalIndex",
    "LocalIndexError",
    "MissingExtraError",
    "ModelLoadError",
    "ModelRuntime",
    "NotElasticsearchError",
    "PinnedRetriever",
    "RRFRetriever",
    "RerankError",
    "RerankExplanation",
    "Reranker",
    "RerankerNotConfiguredError",
    "RescorerRetriever",
    "Retriever",
    "RetrieverBackend",
    "RetrieverValidationError",
    "RuleRetriever",
    "RuntimeUnavailableError",
    "SearchHit",
    "SearchRequestBackend",
    "SearchResult",
    "ShimReranker",
    "StandardRetriever",
    "TextSimilarityReranker",
    "ThresholdPoint",
    "UploadError",
    "WeightedRetriever",
    "best_chunks",
    "calibrate",
    "denormalize",
    "document_score",
    "evaluate",
    "load_runtime",
    "min_score_to_raw",
    "normalize",
    "retriever_from_dict",
    "search",
]


def test_public_api_is_pinned() -> None:
    assert es_rerank.__all__ == PUBLIC_API
    for name in PUBLIC_API:
        assert getattr(es_rerank, name) is not None


def _modules() -> Iterator[tuple[str, Path]]:
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


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of ours that ``name`` imports when it runs, anywhere in the file: lazy
    imports inside functions count (a cycle through them is still a design cycle), imports
    for type checkers only do not. ``from pkg import x`` points at ``pkg.x`` when that is a
    module, else at ``pkg``."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
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
    return found


def _graph() -> dict[str, set[str]]:
    modules = dict(_modules())
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
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


def test_the_import_graph_has_no_cycle() -> None:
    graph = _graph()
    assert "es_rerank.elastic.backend" in graph  # the walk sees the modules
    assert "es_rerank.rerankers.base" in graph["es_rerank.elastic.inference"]
    assert _cycles(graph) == []


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
