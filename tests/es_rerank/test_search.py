"""External execution details the conformance cases do not show directly."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

import es_rerank
from es_rerank import (
    KnnRetriever,
    RerankerNotConfiguredError,
    RerankError,
    RetrieverValidationError,
    StandardRetriever,
    TextSimilarityReranker,
    search,
)
from es_rerank.rules import field_text
from tests.helpers.memory_backend import MemoryBackend

DOCS = [{"_id": f"d{i}", "text": str(i), "tag": "a" if i % 2 else "b"} for i in range(1, 8)]


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        self.calls.append((query, list(texts)))
        return [float(t) for t in texts]


def spec(**kw: Any) -> TextSimilarityReranker:
    params: dict[str, Any] = {
        "retriever": StandardRetriever(query={"match_all": {}}),
        "field": "text",
        "inference_text": "the query",
    }
    params.update(kw)
    return TextSimilarityReranker(**params)


def test_reranker_is_called_once_with_only_the_window() -> None:
    rec = Recorder()
    result = search(spec(rank_window_size=3), backend=MemoryBackend(DOCS), reranker=rec, size=3)
    assert rec.calls == [("the query", ["1", "2", "3"])]
    assert [h.id for h in result.hits] == ["d3", "d2", "d1"]
    assert [h.first_stage_rank for h in result.hits] == [3, 2, 1]


def test_filter_reaches_the_backend_as_bool_filter() -> None:
    backend = MemoryBackend(DOCS)
    child = StandardRetriever(query={"match": {"text": "1 2 3"}}, filter={"term": {"tag": "a"}})
    search(
        spec(retriever=child, filter=[{"range": {"text": {"gte": 2}}}]),
        backend=backend,
        reranker=Recorder(),
    )
    query, size = backend.calls[0]
    assert size == 10
    assert query == {
        "bool": {
            "must": [{"match": {"text": "1 2 3"}}],
            "filter": [{"range": {"text": {"gte": 2}}}, {"term": {"tag": "a"}}],
        }
    }


def test_a_plain_function_is_a_reranker() -> None:
    result = search(
        spec(), backend=MemoryBackend(DOCS), reranker=lambda q, ts: [-float(t) for t in ts]
    )
    assert result.hits[0].id == "d1"


def test_mapping_picks_the_reranker_by_inference_id() -> None:
    inner = spec(inference_id="first", rank_window_size=5)
    outer = spec(retriever=inner, inference_id="second", rank_window_size=3)
    first, second = Recorder(), Recorder()
    search(outer, backend=MemoryBackend(DOCS), reranker={"first": first, "second": second}, size=3)
    assert first.calls == [("the query", ["1", "2", "3", "4", "5"])]
    assert second.calls == [("the query", ["5", "4", "3"])]


def test_no_reranker_and_no_cluster_is_a_clear_error() -> None:
    with pytest.raises(RerankerNotConfiguredError, match=r"needs a reranker: pass reranker="):
        search(spec(), backend=MemoryBackend(DOCS))


def test_reranker_exception_becomes_rerank_error_naming_the_endpoint() -> None:
    def broken(query: str, texts: Sequence[str]) -> list[float]:
        raise ConnectionError("refused")

    with pytest.raises(RerankError, match=r"\[\.rerank-v1-elasticsearch\] failed: ConnectionError"):
        search(spec(), backend=MemoryBackend(DOCS), reranker=broken)


@pytest.mark.parametrize("bad", [[1.0], [float("nan")] * 7, ["x"] * 7])
def test_bad_scores_are_an_error_never_partial(bad: list[Any]) -> None:
    with pytest.raises(RerankError):
        search(spec(), backend=MemoryBackend(DOCS), reranker=lambda q, ts: bad)


def test_normalized_min_score_must_be_positive() -> None:
    with pytest.raises(ValueError, match="min_score"):
        search(
            spec(min_score=0.0),
            backend=MemoryBackend(DOCS),
            reranker=Recorder(),
            min_score_space="normalized",
        )


@pytest.mark.parametrize(
    "key", ["query", "knn", "sort", "rescore", "search_after", "terminate_after"]
)
def test_top_level_options_cannot_be_combined_with_a_retriever(key: str) -> None:
    with pytest.raises(
        RetrieverValidationError, match=rf"cannot specify \[retriever\] and \[{key}\]"
    ):
        search(spec(), backend=MemoryBackend(DOCS), reranker=Recorder(), **{key: {}})


def test_bad_mode_size_and_space_are_value_errors() -> None:
    backend = MemoryBackend(DOCS)
    with pytest.raises(ValueError, match="mode must be"):
        search(spec(), backend=backend, reranker=Recorder(), mode="fast")  # type: ignore[arg-type]
    with pytest.raises(RetrieverValidationError, match=r"\[size\] must be an integer >= 0"):
        search(spec(), backend=backend, reranker=Recorder(), size=-1)
    with pytest.raises(ValueError, match="min_score_space"):
        search(spec(), backend=backend, reranker=Recorder(), min_score_space="log")  # type: ignore[arg-type]


def test_native_mode_needs_a_cluster_backend() -> None:
    with pytest.raises(ValueError, match="mode='native' needs a backend that runs retrievers"):
        search(spec(), backend=MemoryBackend(DOCS), mode="native")


def test_native_mode_refuses_a_reranker_it_would_not_use() -> None:
    with pytest.raises(ValueError, match="reranker= is not used in mode='native'"):
        search(spec(), backend=MemoryBackend(DOCS), reranker=Recorder(), mode="native")


def test_auto_mode_runs_externally_on_a_plain_backend() -> None:
    assert search(spec(), backend=MemoryBackend(DOCS), reranker=Recorder()).mode == "external"


def test_chunk_rescorer_sends_every_documents_best_chunks_in_one_call() -> None:
    from es_rerank.chunking import ChunkRescorer, best_chunks

    sentence = "The {} of the old harbour town was measured again in the spring of {}. "
    docs = [
        {
            "_id": "a",
            "text": "".join(
                sentence.format(w, y) for w, y in [("sun", 1), ("tide", 9), ("sun", 4)]
            ),
        },
        {"_id": "b", "text": "".join(sentence.format("rain", y) for y in (2, 3))},
        {"_id": "c", "title": "no text"},
    ]
    body = {"size": 2, "chunking_settings": {"max_chunk_size": 20}}
    expected = [
        c.text
        for d in docs[:2]
        for c in best_chunks(d["text"], "sun", ChunkRescorer.from_dict(body))
    ]
    assert len(expected) == 4  # a: its two sun sentences; b: no match, its first two
    calls: list[tuple[str, list[str]]] = []

    def year(query: str, texts: Sequence[str]) -> list[float]:
        calls.append((query, list(texts)))
        return [float(t.split()[-1].rstrip(".")) for t in texts]

    result = search(
        spec(chunk_rescorer=body, inference_text="sun"), backend=MemoryBackend(docs), reranker=year
    )
    assert calls == [("sun", expected)]
    # a scores its best chunk (4; the tide's 9 was never sent), b its best (3)
    assert [(h.id, h.score) for h in result.hits] == [("a", 5.0), ("b", 4.0)]


def test_chunk_rescorer_given_as_a_typed_value() -> None:
    from es_rerank import ChunkRescorer
    from es_rerank.chunking import WordChunking

    typed = ChunkRescorer(size=1, chunking_settings=WordChunking(max_chunk_size=10, overlap=1))
    s = spec(chunk_rescorer=typed)
    assert s.effective_chunk_rescorer is typed
    assert s.to_dict()["text_similarity_reranker"]["chunk_rescorer"] == {
        "size": 1,
        "chunking_settings": {"strategy": "word", "max_chunk_size": 10, "overlap": 1},
    }
    with pytest.raises(RetrieverValidationError, match="size must be greater than 0, was: 0"):
        spec(chunk_rescorer={"size": 0})


def test_leaf_retriever_runs_without_reranking() -> None:
    result = search(
        StandardRetriever(query={"term": {"tag": "b"}}),
        backend=MemoryBackend(DOCS),
        size=2,
        from_=1,
    )
    assert [h.id for h in result.hits] == ["d4", "d6"]
    assert [h.rank for h in result.hits] == [2, 3]


def test_knn_leaf_is_sent_as_a_knn_query_with_filters() -> None:
    class KnnBackend:
        def __init__(self) -> None:
            self.seen: list[Any] = []

        def search_query(self, query: Any, *, size: int) -> list[es_rerank.Hit]:
            self.seen.append((query, size))
            return [es_rerank.Hit("v1", 0.9, {"text": "2"})]

    backend = KnnBackend()
    knn = KnnRetriever(
        field="vec", query_vector=[0.1, 0.2], k=4, num_candidates=20, filter={"term": {"tag": "a"}}
    )
    result = search(
        spec(retriever=knn, filter={"term": {"lang": "en"}}), backend=backend, reranker=Recorder()
    )
    assert backend.seen == [
        (
            {
                "knn": {
                    "field": "vec",
                    "k": 4,
                    "num_candidates": 20,
                    "query_vector": [0.1, 0.2],
                    "filter": [{"term": {"lang": "en"}}, {"term": {"tag": "a"}}],
                }
            },
            4,
        )
    ]
    assert [h.id for h in result.hits] == ["v1"]


def test_result_to_dict_is_shaped_like_es_search() -> None:
    result = search(
        spec(rank_window_size=2),
        backend=MemoryBackend(DOCS),
        reranker=Recorder(),
        size=2,
        source=["tag"],
    )
    body = result.to_dict()
    assert set(body) == {"took", "timed_out", "hits"}
    # the child's total (match_all over 7 documents), as ES reports it: not the window
    assert body["hits"]["total"] == {"value": 7, "relation": "eq"}
    assert body["hits"]["max_score"] == pytest.approx(3.0)
    assert body["hits"]["hits"] == [
        {"_id": "d2", "_score": pytest.approx(3.0), "_source": {"tag": "b"}},
        {"_id": "d1", "_score": pytest.approx(2.0), "_source": {"tag": "a"}},
    ]


def test_retriever_json_is_accepted_directly() -> None:
    result = search(spec().to_dict(), backend=MemoryBackend(DOCS), reranker=Recorder(), size=1)
    assert [h.id for h in result.hits] == ["d7"]


@pytest.mark.parametrize(
    ("source", "path", "expected"),
    [
        ({"a": {"b": "x"}}, "a.b", "x"),
        ({"a.b": "flat"}, "a.b", "flat"),
        ({"a": [{"b": "first"}, {"b": "second"}]}, "a.b", "first"),
        ({"t": []}, "t", None),
        ({"t": None}, "t", None),
        ({"t": {"nested": 1}}, "t", None),
        ({"t": True}, "t", "true"),
        ({"t": 2.5}, "t", "2.5"),
        ({"t": [3, 4]}, "t", "3"),
    ],
)
def test_field_text(source: dict[str, Any], path: str, expected: str | None) -> None:
    assert field_text(source, path) == expected


def test_memory_backend_refuses_what_it_cannot_run() -> None:
    backend = MemoryBackend(DOCS)
    with pytest.raises(ValueError, match=r"does not support the \[query_string\] query"):
        backend.search_query({"query_string": {"query": "x"}}, size=3)
    with pytest.raises(ValueError, match=r"does not support the \[knn\] query"):
        search(
            spec(retriever=KnnRetriever(field="v", query_vector=[1.0], k=1, num_candidates=1)),
            backend=backend,
            reranker=Recorder(),
        )


def test_memory_backend_filter_only_bool_scores_zero_like_es() -> None:
    hits = MemoryBackend(DOCS).search_query({"bool": {"filter": [{"term": {"tag": "b"}}]}}, size=9)
    assert [(h.id, h.score) for h in hits] == [("d2", 0.0), ("d4", 0.0), ("d6", 0.0)]


def test_total_is_the_childs_total_not_the_window() -> None:
    child = StandardRetriever(query={"match": {"text": "1 2 3 4 5"}}, filter={"term": {"tag": "a"}})
    result = search(
        spec(retriever=child, rank_window_size=2), backend=MemoryBackend(DOCS), reranker=Recorder(),
        size=1,
    )  # fmt: skip
    # d1, d3, d5 match the filtered child; the window holds 2
    assert (result.total, result.total_relation) == (3, "eq")


def test_total_with_min_score_counts_the_documents_that_pass_it() -> None:
    """With a ``min_score`` on the reranker, ES runs the final search with it over the rank
    docs, so hits.total counts only the documents that pass it
    (elastic/elasticsearch server/src/main/java/org/elasticsearch/search/retriever/
    RankDocsRetrieverBuilder.java @ afe3d8fd40539ba46fb036e2e6ed2d89aaa17817,
    ``sourceHasMinScore``; REST test "Text similarity reranker respects min_score" in
    x-pack/plugin/inference/.../70_text_similarity_rank_retriever.yml)."""
    child = StandardRetriever(query={"match": {"text": "1 2 3 4 5"}}, filter={"term": {"tag": "a"}})
    result = search(
        spec(retriever=child, rank_window_size=2, min_score=2.5),
        backend=MemoryBackend(DOCS),
        reranker=Recorder(),
        size=1,
    )
    # d1, d3, d5 match the filtered child; the window holds 2; min_score keeps only d3
    assert [h.id for h in result.hits] == ["d3"]
    assert (result.total, result.total_relation) == (1, "eq")
    excluded = search(
        spec(retriever=child, rank_window_size=2, min_score=1000.0),
        backend=MemoryBackend(DOCS),
        reranker=Recorder(),
        size=2,
    )
    assert (excluded.hits, excluded.total) == ([], 0)


def test_rrf_total_counts_documents_matching_any_child() -> None:
    from es_rerank import RRFRetriever

    rrf = RRFRetriever(
        retrievers=[
            StandardRetriever(query={"match": {"text": "1 2"}}),
            StandardRetriever(query={"term": {"tag": "b"}}),
        ],
        rank_window_size=3,
    )
    result = search(spec(retriever=rrf, rank_window_size=3), backend=MemoryBackend(DOCS),
                    reranker=Recorder(), size=3)  # fmt: skip
    # d1, d2 match the first child; d2, d4, d6 the second: 4 distinct documents
    assert (result.total, result.total_relation) == (4, "eq")


def test_a_backend_without_totals_gives_a_lower_bound() -> None:
    class PlainList:
        def search_query(self, query: Any, *, size: int) -> list[es_rerank.Hit]:
            return [es_rerank.Hit(d["_id"], 1.0, d) for d in DOCS][:size]

    result = search(spec(rank_window_size=3), backend=PlainList(), reranker=Recorder(), size=2)
    assert (result.total, result.total_relation) == (3, "gte")
