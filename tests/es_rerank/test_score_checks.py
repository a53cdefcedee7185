"""A reranker's scores are checked once, where they enter the ranking rules: the executors
(external retrievers, ES|QL RERANK, the framework integrations) call
:func:`es_rerank.rerankers.check_scores` on what a reranker returns, and a wire answer is
checked where it is read back into input order; nothing downstream checks them again."""

from __future__ import annotations

import ast
import math
from collections.abc import Sequence

import pytest

from es_rerank import (
    ChunkRescorer,
    RerankError,
    StandardRetriever,
    TextSimilarityReranker,
    search,
)
from es_rerank.hits import Hit
from tests.helpers.import_graph import modules

#: Where a reranker's scores enter: the executors, and a wire answer read into input order.
ENTRIES = {
    "es_rerank.external",
    "es_rerank.esql.execute",
    "es_rerank.integrations.ranking",
    "es_rerank.rerankers.base",
}


def _callers(name: str) -> set[str]:
    found = set()
    for module, path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name:
                found.add(module)
    return found


def test_scores_are_checked_only_where_they_enter() -> None:
    assert _callers("check_scores") == ENTRIES


class Docs:
    def search_query(self, query: object, *, size: int) -> list[Hit]:
        texts = ["alpha beta", "beta gamma", " ".join(["delta"] * 30)]
        return [Hit(f"d{i}", 3.0 - i, {"text": t}) for i, t in enumerate(texts)][:size]


def _run(scores: Sequence[float], *, chunks: bool = False) -> object:
    spec = TextSimilarityReranker(
        retriever=StandardRetriever(),
        field="text",
        inference_text="beta",
        chunk_rescorer=ChunkRescorer.from_dict({}) if chunks else None,
    )
    return search(spec, backend=Docs(), reranker=lambda q, texts: list(scores)[: len(texts)])


@pytest.mark.parametrize("chunks", [False, True])
def test_a_bad_score_is_refused_once_with_the_reason(chunks: bool) -> None:
    with pytest.raises(RerankError, match="non-finite score nan for input 1"):
        _run([1.0, math.nan, 0.5, 0.5, 0.5, 0.5], chunks=chunks)
    with pytest.raises(RerankError, match="input document count and returned score count"):
        _run([1.0], chunks=chunks)
