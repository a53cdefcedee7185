"""The LangChain, LlamaIndex and Haystack adapters, with the real packages: scores belong to
documents by position (duplicates, reordered server replies), both scores are kept,
ES's order and ``min_score`` rule apply, inputs are not changed, and importing
``es_rerank`` imports no framework."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from es_rerank import (
    CrossEncoderReranker,
    RetrieverRequest,
    StandardRetriever,
    TextSimilarityReranker,
    normalize,
)
from es_rerank.errors import ConfigurationError, RerankError
from es_rerank.integrations import RAW_SCORE_KEY, SCORE_KEY, rank
from es_rerank.rerankers.base import scores_from_rerank_response
from es_rerank.results import SearchHit, SearchResult
from tests.helpers.memory_backend import MemoryBackend

langchain_core = pytest.importorskip("langchain_core", reason="extra 'langchain' not installed")
llama_index = pytest.importorskip("llama_index.core", reason="extra 'llamaindex' not installed")
haystack = pytest.importorskip("haystack", reason="extra 'haystack' not installed")

from haystack import Document as HaystackDocument  # noqa: E402
from langchain_core.documents import Document  # noqa: E402
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode  # noqa: E402

from es_rerank.integrations.haystack import EsRerankRanker  # noqa: E402
from es_rerank.integrations.langchain import EsRerankCompressor, EsRerankRetriever  # noqa: E402
from es_rerank.integrations.llamaindex import EsRerankNodePostprocessor  # noqa: E402

# The same text twice (ids tell them apart); scores by a hidden per-call order.
TEXTS = ["alpha", "beta", "alpha", "gamma"]
RAW = [0.5, -1.0, 2.0, -3.0]  # the two "alpha"s get different scores: only position tells


class ReorderedReply:
    """A server-shaped reranker: its reply lists results best first (reordered), read back
    by ``index`` as the HTTP and inference rerankers do."""

    def __init__(self, scores: Sequence[float]) -> None:
        self.scores = list(scores)
        self.calls: list[tuple[str, list[str]]] = []

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        self.calls.append((query, list(texts)))
        reply = sorted(
            ({"index": i, "relevance_score": s} for i, s in enumerate(self.scores)),
            key=lambda r: -float(r["relevance_score"]),
        )
        return scores_from_rerank_response({"rerank": reply}, len(texts))


EXPECTED_ORDER = [2, 0, 1, 3]  # by raw score, i.e. by normalized score


def test_rank_keeps_scores_at_their_positions() -> None:
    ranked = rank(ReorderedReply(RAW), "q", TEXTS)
    assert [r.index for r in ranked] == EXPECTED_ORDER
    assert [r.raw for r in ranked] == [2.0, 0.5, -1.0, -3.0]
    assert [r.score for r in ranked] == [normalize(s) for s in [2.0, 0.5, -1.0, -3.0]]


def test_ties_keep_input_order_and_min_score_reads_raw_scores() -> None:
    ranked = rank(lambda q, ts: [1.0, 3.0, 1.0], "q", ["a", "b", "c"], min_score=1.0)
    assert [r.index for r in ranked] == [1, 0, 2]
    assert rank(lambda q, ts: [-0.5], "q", ["a"], min_score=0.0) == []  # normalized 0.61


def test_a_wrong_number_of_scores_is_an_error_not_a_partial_result() -> None:
    with pytest.raises(RerankError, match=r"mismatch: \[3\] vs \[2\]"):
        rank(lambda q, ts: [1.0, 2.0], "q", ["a", "b", "c"])


@pytest.mark.parametrize("top_n", [0, -1, 1.5, True])
def test_bad_top_n_is_refused(top_n: Any) -> None:
    with pytest.raises(ConfigurationError, match="top_n must be a positive integer"):
        rank(lambda q, ts: [1.0], "q", ["a"], top_n=top_n)


# -- LangChain -----------------------------------------------------------------------------


def test_langchain_compressor_maps_by_position() -> None:
    docs = [Document(page_content=t, metadata={"n": i}, id=f"d{i}") for i, t in enumerate(TEXTS)]
    out = EsRerankCompressor(reranker=ReorderedReply(RAW)).compress_documents(docs, "q")
    assert [d.metadata["n"] for d in out] == EXPECTED_ORDER
    assert [d.id for d in out] == [f"d{i}" for i in EXPECTED_ORDER]
    assert out[0].metadata == {"n": 2, RAW_SCORE_KEY: 2.0, SCORE_KEY: 3.0}
    assert docs[2].metadata == {"n": 2}  # the input is not changed


def test_langchain_compressor_top_n_min_score_and_validation() -> None:
    docs = [Document(page_content=t) for t in TEXTS]
    out = EsRerankCompressor(reranker=ReorderedReply(RAW), top_n=2, min_score=0.0)
    assert [d.metadata[RAW_SCORE_KEY] for d in out.compress_documents(docs, "q")] == [2.0, 0.5]
    with pytest.raises(ValueError, match="top_n must be a positive integer"):
        EsRerankCompressor(reranker=ReorderedReply(RAW), top_n=0)


def test_langchain_compressor_with_a_tiny_cross_encoder(tiny_cross_encoder: Path) -> None:
    model = CrossEncoderReranker(str(tiny_cross_encoder))
    texts = ["berlin has many people", "cats purr", "berlin has many people"]
    docs = [Document(page_content=t, metadata={"i": i}) for i, t in enumerate(texts)]
    out = EsRerankCompressor(reranker=model).compress_documents(docs, "berlin population")
    raw = list(model.rerank("berlin population", texts))
    by_input = {d.metadata["i"]: d.metadata[RAW_SCORE_KEY] for d in out}
    assert by_input == pytest.approx(dict(enumerate(raw)))
    assert by_input[0] == pytest.approx(by_input[2])  # same text, same model score
    assert [d.metadata[SCORE_KEY] for d in out] == sorted((normalize(s) for s in raw), reverse=True)


DOCS = [
    {"_id": "a", "text": "moon tides", "title": "A"},
    {"_id": "b", "text": "moon eclipse sun", "title": "B"},
    {"_id": "c", "text": "moon eclipse sun", "title": "C"},
]


def _tree(query: str) -> TextSimilarityReranker:
    return TextSimilarityReranker(
        retriever=StandardRetriever(query={"match": {"text": query}}),
        field="text",
        inference_text=query,
        rank_window_size=10,
    )


def test_langchain_retriever_runs_the_tree_externally() -> None:
    reranker = ReorderedReply([-1.0, 1.0, 3.0])  # the window is a, b, c (equal child scores)
    retriever = EsRerankRetriever(
        retriever=_tree, backend=MemoryBackend(DOCS), reranker=reranker, mode="external", size=3
    )
    found = retriever.invoke("moon")
    assert reranker.calls == [("moon", ["moon tides", "moon eclipse sun", "moon eclipse sun"])]
    assert [d.metadata["_id"] for d in found] == ["c", "b", "a"]
    assert [d.page_content for d in found] == ["moon eclipse sun", "moon eclipse sun", "moon tides"]
    assert found[0].metadata == {
        "title": "C", "_id": "c", "rank": 1, SCORE_KEY: 4.0, RAW_SCORE_KEY: 3.0
    }  # fmt: skip
    assert found[2].metadata[RAW_SCORE_KEY] == -1.0  # exact, from the external run


class NativeCluster(MemoryBackend):
    """A backend that runs retrievers itself, as ES would, recording what it was sent."""

    def __init__(self) -> None:
        super().__init__(DOCS)
        self.sent: list[dict[str, Any]] = []

    def supports_native(self) -> bool:
        return True

    def search_retriever(self, request: RetrieverRequest) -> SearchResult:
        self.sent.append(dict(request.retriever))
        hits = [
            SearchHit("b", normalize(1.25), {"text": "moon eclipse sun", "title": "B"}, rank=1),
            SearchHit("a", normalize(-2.0), {"text": "moon tides", "title": "A"}, rank=2),
        ]
        return SearchResult(hits=hits, mode="native", total=2, took_ms=1)


def test_langchain_retriever_runs_the_tree_natively() -> None:
    cluster = NativeCluster()
    found = EsRerankRetriever(retriever=_tree, backend=cluster).invoke("eclipse")
    assert cluster.sent == [_tree("eclipse").to_dict()]
    assert [d.metadata["_id"] for d in found] == ["b", "a"]
    assert found[0].metadata[SCORE_KEY] == normalize(1.25)
    assert found[0].metadata[RAW_SCORE_KEY] == pytest.approx(1.25)  # denormalized
    assert found[1].metadata[RAW_SCORE_KEY] == pytest.approx(-2.0)


def test_langchain_retriever_needs_a_content_field_without_a_reranker_on_top() -> None:
    retriever = EsRerankRetriever(
        retriever=lambda q: StandardRetriever(query={"match": {"text": q}}),
        backend=MemoryBackend(DOCS),
        mode="external",
    )
    with pytest.raises(ConfigurationError, match="content_field is required"):
        retriever.invoke("moon")


# -- LlamaIndex ----------------------------------------------------------------------------


def test_llamaindex_postprocessor_maps_by_position() -> None:
    nodes = [
        NodeWithScore(node=TextNode(text=t, id_=f"n{i}", metadata={"i": i}), score=0.1)
        for i, t in enumerate(TEXTS)
    ]
    post = EsRerankNodePostprocessor(reranker=ReorderedReply(RAW), top_n=3)
    out = post.postprocess_nodes(nodes, query_bundle=QueryBundle("q"))
    assert [n.node.node_id for n in out] == ["n2", "n0", "n1"]
    assert [n.score for n in out] == [normalize(2.0), normalize(0.5), normalize(-1.0)]
    assert out[0].node.metadata == {"i": 2, RAW_SCORE_KEY: 2.0, SCORE_KEY: 3.0}
    assert nodes[2].node.metadata == {"i": 2} and nodes[2].score == 0.1  # inputs unchanged


def test_llamaindex_postprocessor_reads_text_without_metadata() -> None:
    seen: list[list[str]] = []

    def scorer(query: str, texts: Sequence[str]) -> list[float]:
        seen.append(list(texts))
        return [1.0] * len(texts)

    node = TextNode(text="body", metadata={"title": "T"})
    EsRerankNodePostprocessor(reranker=scorer).postprocess_nodes(
        [NodeWithScore(node=node)], query_str="q"
    )
    assert seen == [["body"]]


# -- Haystack ------------------------------------------------------------------------------


def test_haystack_ranker_maps_by_position() -> None:
    docs = [HaystackDocument(content=t, meta={"i": i}) for i, t in enumerate(TEXTS)]
    out = EsRerankRanker(reranker=ReorderedReply(RAW)).run(query="q", documents=docs)["documents"]
    assert [d.meta["i"] for d in out] == EXPECTED_ORDER
    assert [d.score for d in out] == [normalize(s) for s in [2.0, 0.5, -1.0, -3.0]]
    assert out[0].meta == {"i": 2, RAW_SCORE_KEY: 2.0, SCORE_KEY: 3.0}
    assert docs[2].meta == {"i": 2} and docs[2].score is None


def test_haystack_ranker_top_k_at_run_time_and_in_a_pipeline() -> None:
    from haystack import Pipeline

    ranker = EsRerankRanker(reranker=ReorderedReply(RAW), top_k=3)
    pipe = Pipeline()
    pipe.add_component("ranker", ranker)
    docs = [HaystackDocument(content=t) for t in TEXTS]
    out = pipe.run({"ranker": {"query": "q", "documents": docs, "top_k": 1}})
    assert [d.meta[RAW_SCORE_KEY] for d in out["ranker"]["documents"]] == [2.0]
    with pytest.raises(ConfigurationError, match="top_k must be a positive integer"):
        EsRerankRanker(reranker=ReorderedReply(RAW), top_k=0)


# -- import isolation ----------------------------------------------------------------------


def test_importing_es_rerank_imports_no_framework() -> None:
    code = (
        "import sys, es_rerank, es_rerank.integrations\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'langchain_core', 'llama_index', 'haystack', 'langsmith'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
