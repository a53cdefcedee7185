"""External execution of every retriever with ES's rules, over the in-memory backend.

Rules from elastic/elasticsearch (path @ commit):
- linear: x-pack/plugin/rank-rrf/.../linear/LinearRetrieverBuilder.java @ 773c33ae4c4b,
  MinMaxScoreNormalizer.java @ a7776012b20a, L2ScoreNormalizer.java @ 2ddd3e9b442f
- rrf weights: x-pack/plugin/rank-rrf/.../rrf/RRFRetrieverComponent.java @ bd6fc7e4b9aa
  and docs/.../retrievers/rrf-retriever.md @ d5f298bd1e62
- multi-field format: x-pack/plugin/rank-rrf/.../MultiFieldsInnerRetrieverUtils.java @ 773c33ae4c4b
- rescorer: server/.../search/retriever/RescorerRetrieverBuilder.java @ ed82f0d8810b
- pinned: x-pack/plugin/search-business-rules/.../PinnedRetrieverBuilder.java @ 4eddd89eff25
  and PinnedQueryBuilder.java (pin scores above MAX_ORGANIC_SCORE)
- hits.total with min_score: server/.../search/retriever/RankDocsRetrieverBuilder.java
  @ afe3d8fd40539ba46fb036e2e6ed2d89aaa17817 (``sourceHasMinScore``)
- standard options under a compound: StandardRetrieverBuilder.java @ 037299c29cba
- allow_rerank_failures with a missing endpoint: REST test "Text similarity reranking with
  allowed failure maintains custom sorting" (x-pack/plugin/inference/src/yamlRestTest/
  .../70_text_similarity_rank_retriever.yml, elastic/elasticsearch main)
- equal rerank scores: x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/
  inference/rank/textsimilarity/TextSimilarityRankFeaturePhaseRankCoordinatorContext.java
  @ 0196a7c31b5f4dd50f045c857a59a48557131a4c (``preprocess``: ``docs.sort(null)``) with
  server/src/main/java/org/elasticsearch/search/rank/RankDoc.java (``compareTo``: score,
  then shard index, then Lucene doc id)
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

import es_rerank.asyncio
from es_rerank import (
    Hit,
    InferenceEndpointNotFoundError,
    RetrieverRequest,
    RetrieverValidationError,
    search,
)
from es_rerank.backends.base import Hits
from es_rerank.errors import ConfigurationError
from es_rerank.fusion import pin_scores
from es_rerank.results import SearchHit, SearchResult
from es_rerank.retrievers import (
    DiversifyRetriever,
    LinearRetriever,
    PinnedRetriever,
    RescorerRetriever,
    Retriever,
    RRFRetriever,
    RuleRetriever,
    StandardRetriever,
    TextSimilarityReranker,
    WeightedRetriever,
)
from tests.helpers.memory_backend import MemoryBackend

DOCS = [
    {"_id": "d1", "text": "moon sun", "tag": "a", "num": 3, "score": "1"},
    {"_id": "d2", "text": "moon", "tag": "b", "num": 1, "score": "3"},
    {"_id": "d3", "text": "sun lake", "tag": "a", "num": 2, "score": "-2"},
    {"_id": "d4", "text": "moon sun lake", "tag": "b", "num": 5, "score": "0.5"},
    {"_id": "d5", "text": "lake", "tag": "c", "num": 4, "score": "2"},
]
# the memory backend scores match by distinct terms found: d4 3, d1 2, d3 2, d2 1, d5 1
A = StandardRetriever(query={"match": {"text": "moon sun lake"}})
A_ORDER = ["d4", "d1", "d3", "d2", "d5"]
B = StandardRetriever(query={"term": {"tag": "b"}})  # d2, d4 (score 1.0)


def by_score_field(query: str, texts: Sequence[str]) -> list[float]:
    return [float(t) for t in texts]


def rerank(child: Retriever, **kw: Any) -> TextSimilarityReranker:
    params: dict[str, Any] = {"field": "score", "inference_text": "q", "inference_id": "present"}
    params.update(kw)
    return TextSimilarityReranker(retriever=child, **params)


RERANKERS = {"present": by_score_field}


def run(retriever: Retriever, backend: Any = None, **kw: Any) -> SearchResult:
    return search(
        retriever, backend=backend or MemoryBackend(DOCS), reranker=RERANKERS, mode="external", **kw
    )


def pairs(result: SearchResult) -> list[tuple[str, float]]:
    return [(h.id, round(h.score, 6)) for h in result.hits]


# ------------------------------------------------------------------ linear


def test_linear_minmax_with_weights() -> None:
    linear = LinearRetriever(
        retrievers=[
            WeightedRetriever(retriever=A, normalizer="minmax"),
            WeightedRetriever(retriever=B, weight=2, normalizer="minmax"),
        ]
    )
    result = run(linear)
    # A minmax: d4 1, d1 .5, d3 .5, d2 0, d5 0; B's equal scores: 1.0 each
    assert pairs(result) == [("d4", 3.0), ("d2", 2.0), ("d1", 0.5), ("d3", 0.5), ("d5", 0.0)]
    assert (result.total, result.total_relation) == (5, "eq")  # A matches every doc


def test_minmax_gives_equal_scores_one() -> None:
    # elastic/elasticsearch PR #128689 (9.0+, 8.18, 8.19): min == max (one hit, or equal
    # scores) normalizes to 1.0 (MinMaxScoreNormalizer at a7776012; REST test "minmax
    # normalization properly handles a single doc result set", x-pack/plugin/rank-rrf/src/
    # yamlRestTest/.../linear/10_linear_retriever.yml at 9965f447); it kept the score before
    boosted = StandardRetriever(query={"match_all": {"boost": 4}})
    linear = LinearRetriever(retrievers=[WeightedRetriever(retriever=boosted, normalizer="minmax")])
    assert {h.score for h in run(linear).hits} == {1.0}


def test_top_level_normalizer_normalizes_the_weighted_sums() -> None:
    linear = LinearRetriever(
        retrievers=[A, WeightedRetriever(retriever=B, weight=2)], normalizer="minmax"
    )
    # sums: d4 3+2, d2 1+2, d1 2, d3 2, d5 1; minmax over [5, 3, 2, 2, 1]
    result = run(linear)
    assert pairs(result) == [("d4", 1.0), ("d2", 0.5), ("d1", 0.25), ("d3", 0.25), ("d5", 0.0)]


def test_linear_l2_norm_and_none() -> None:
    linear = LinearRetriever(
        retrievers=[
            WeightedRetriever(retriever=A, normalizer="l2_norm"),
            WeightedRetriever(retriever=B, weight=0.5),
        ]
    )
    norm = math.sqrt(3**2 + 2**2 + 2**2 + 1 + 1)
    expected = {
        "d4": 3 / norm + 0.5,
        "d2": 1 / norm + 0.5,
        "d1": 2 / norm,
        "d3": 2 / norm,
        "d5": 1 / norm,
    }
    result = run(linear)
    assert [h.id for h in result.hits] == ["d4", "d2", "d1", "d3", "d5"]
    assert [h.score for h in result.hits] == pytest.approx([expected[h.id] for h in result.hits])


def test_linear_min_score_drops_hits_and_the_total_counts_what_passes() -> None:
    linear = LinearRetriever(
        retrievers=[
            WeightedRetriever(retriever=A, normalizer="minmax"),
            WeightedRetriever(retriever=B, weight=2, normalizer="minmax"),
        ],
        min_score=1.0,
    )
    result = run(linear)
    assert pairs(result) == [("d4", 3.0), ("d2", 2.0)]
    assert (result.total, result.total_relation) == (2, "eq")


def test_linear_multi_field_format_runs_one_most_fields_query() -> None:
    backend = MemoryBackend(DOCS)
    linear = LinearRetriever(query="moon lake", fields=["text", "tag"], normalizer="minmax")
    result = run(linear, backend)
    # text: d4 matches both terms (2), the others one (1): minmax 1 and 0
    assert pairs(result)[:2] == [("d4", 1.0), ("d1", 0.0)]
    multi = {
        "multi_match": {"query": "moon lake", "type": "most_fields", "fields": ["text", "tag"]}
    }
    assert backend.calls[0] == (multi, 10)


# ------------------------------------------------------------------ rrf


def test_rrf_weights_multiply_each_retrievers_contribution() -> None:
    rrf = RRFRetriever(retrievers=[A, WeightedRetriever(retriever=B, weight=3.0)], rank_constant=1)
    result = run(rrf)
    # A ranks d4 d1 d3 d2 d5; B ranks d2 d4
    expected = {"d2": 1 / 5 + 3 / 2, "d4": 1 / 2 + 3 / 3, "d1": 1 / 3, "d3": 1 / 4, "d5": 1 / 6}
    assert [h.id for h in result.hits] == ["d2", "d4", "d1", "d3", "d5"]
    assert [h.score for h in result.hits] == pytest.approx([expected[h.id] for h in result.hits])


def test_rrf_multi_field_format() -> None:
    backend = MemoryBackend(DOCS)
    result = run(RRFRetriever(query="moon lake", fields=["text"]), backend)
    assert [h.id for h in result.hits][:1] == ["d4"]
    assert result.hits[0].score == pytest.approx(1 / 61)


def test_rrf_min_score_of_a_child_makes_the_total_count_the_rank_docs() -> None:
    # the reranker child keeps d2 only (raw 3 >= 2.5); rrf fuses [d2] and B's [d2, d4]
    with_min = RRFRetriever(retrievers=[rerank(A, min_score=2.5), B])
    result = run(with_min)
    assert [h.id for h in result.hits] == ["d2", "d4"]
    assert (result.total, result.total_relation) == (2, "eq")
    without = run(RRFRetriever(retrievers=[rerank(A), B]))
    assert (without.total, without.total_relation) == (5, "eq")  # A or B: every doc


# ------------------------------------------------------------------ rescorer


def test_rescorer_combines_scores_in_the_window_and_resorts() -> None:
    rescore = {
        "window_size": 3,
        "query": {
            "rescore_query": {"term": {"tag": "a"}},
            "query_weight": 0.5,
            "rescore_query_weight": 2,
        },
    }
    result = run(RescorerRetriever(retriever=A, rescore=rescore), size=3)
    # window d4 3, d1 2, d3 2; tag a matches d1, d3 (score 1)
    assert pairs(result) == [("d1", 3.0), ("d3", 3.0), ("d4", 1.5)]
    assert result.total == 5


def test_rescorer_score_modes_and_sequential_rescorers() -> None:
    multiply = {
        "window_size": 5,
        "query": {"rescore_query": {"term": {"tag": "b"}}, "score_mode": "multiply"},
    }
    then_max = {
        "window_size": 2,
        "query": {"rescore_query": {"match": {"text": "lake"}}, "score_mode": "max",
                  "rescore_query_weight": 10},
    }  # fmt: skip
    result = run(RescorerRetriever(retriever=A, rescore=[multiply, then_max]), size=2)
    # multiply: d4 3*1, d2 1*1, d1 2, d3 2, d5 1 -> d4 3, d1 2, d3 2, d2 1, d5 1
    # the second rescorer's window (2): d4 max(3, 10), d1 (no lake) 2
    assert pairs(result) == [("d4", 10.0), ("d1", 2.0)]


def test_rescorer_refuses_a_sorted_child_and_non_query_rescorers() -> None:
    sorted_child = StandardRetriever(query={"match_all": {}}, sort=["num"])
    rescore = {"query": {"rescore_query": {"match_all": {}}}}
    with pytest.raises(RetrieverValidationError, match=r"Cannot use \[sort\] option"):
        run(RescorerRetriever(retriever=sorted_child, rescore=rescore))
    ltr = {"learning_to_rank": {"model_id": "m"}}
    with pytest.raises(ConfigurationError, match=r"the \[query\] rescorer only"):
        run(RescorerRetriever(retriever=A, rescore=ltr))


def test_rescorer_window_bounds_size_with_its_parameter_name() -> None:
    rescore = {"window_size": 3, "query": {"rescore_query": {"match_all": {}}}}
    with pytest.raises(RetrieverValidationError) as info:
        run(RescorerRetriever(retriever=A, rescore=rescore), size=5)
    assert info.value.param == "window_size"
    assert "[rescorer] requires [window_size: 3] be greater than or equal to [size: 5]" in str(
        info.value
    )


# ------------------------------------------------------------------ pinned


def test_pinned_documents_come_first_in_order_with_es_pin_scores() -> None:
    result = run(PinnedRetriever(ids=["d5", "missing", "d3"], retriever=B))
    scores = pin_scores(3)
    assert [h.id for h in result.hits] == ["d5", "d3", "d2", "d4"]
    assert [h.score for h in result.hits[:2]] == [scores[0], scores[2]]
    assert result.hits[0].score > 1e38  # above every organic score
    # B's matches or the pinned ids: d2, d4, d5, d3
    assert (result.total, result.total_relation) == (4, "eq")


def test_pinned_document_is_not_repeated_among_organic_hits() -> None:
    result = run(PinnedRetriever(docs=[{"_id": "d4"}], retriever=B, rank_window_size=2), size=2)
    assert [h.id for h in result.hits] == ["d4", "d2"]


def test_reranking_a_pinned_subtree() -> None:
    result = run(rerank(PinnedRetriever(ids=["d3"], retriever=B)))
    # raw scores: d2 3, d4 0.5, d3 -2
    assert [h.id for h in result.hits] == ["d2", "d4", "d3"]


# ------------------------------------------------------------------ server-side retrievers


def test_rule_and_diversify_fail_clearly_without_elasticsearch() -> None:
    rule = RuleRetriever(retriever=A, ruleset_ids=["r"], match_criteria={"query_string": "x"})
    with pytest.raises(
        ConfigurationError, match=r"\[rule\] retriever applies the cluster's query rulesets"
    ):
        run(rerank(rule))
    diversify = DiversifyRetriever(type="mmr", field="v", lambda_=0.5, retriever=A)
    with pytest.raises(ConfigurationError, match=r"\[diversify\] retriever compares dense_vector"):
        run(diversify)


class FakeCluster(MemoryBackend):
    """An Elasticsearch-like backend: it runs whole retrievers (returning fixed hits)."""

    def __init__(self, docs: list[dict[str, Any]], *, native: bool) -> None:
        super().__init__(docs)
        self.native = native
        self.retriever_calls: list[tuple[Mapping[str, Any], int]] = []

    def supports_native(self) -> bool:
        return self.native

    def search_retriever(self, request: RetrieverRequest) -> SearchResult:
        self.retriever_calls.append((request.retriever, request.size))
        size = request.size
        hits = [
            SearchHit(id=d, score=1.0, source=dict(DOCS[int(d[1]) - 1]), rank=i + 1)
            for i, d in enumerate(["d5", "d2"][:size])
        ]
        return SearchResult(hits=hits, mode="native", total=7, took_ms=0)


def test_a_subtree_without_a_reranker_runs_in_elasticsearch_as_one_retriever() -> None:
    cluster = FakeCluster(DOCS, native=True)
    rrf = RRFRetriever(retrievers=[A, B], rank_window_size=5)
    tree = rerank(rrf, filter={"term": {"tag": "b"}}, rank_window_size=5)
    result = run(tree, cluster, size=5)
    (sent, size), = cluster.retriever_calls  # fmt: skip
    # the rrf subtree with the reranker's filter, asked for its window
    assert sent == {"rrf": {**rrf.to_dict()["rrf"], "filter": [{"term": {"tag": "b"}}]}}
    assert size == 5
    assert cluster.calls == []  # no leaf query ran client-side
    assert [h.id for h in result.hits] == ["d2", "d5"]  # reranked: raw 3, 2
    assert result.total == 7


def test_rule_subtree_runs_natively_on_elasticsearch() -> None:
    cluster = FakeCluster(DOCS, native=True)
    rule = RuleRetriever(retriever=A, ruleset_ids=["r"], match_criteria={"query_string": "x"})
    result = run(rerank(rule), cluster)
    assert [call[0] for call in cluster.retriever_calls] == [rule.to_dict()]
    assert [h.id for h in result.hits] == ["d2", "d5"]


def test_rule_subtree_goes_to_the_cluster_whatever_its_license() -> None:
    cluster = FakeCluster(DOCS, native=False)
    rule = RuleRetriever(retriever=A, ruleset_ids=["r"], match_criteria={"query_string": "x"})
    run(rerank(rule), cluster)
    assert [call[0] for call in cluster.retriever_calls] == [rule.to_dict()]


def test_without_native_retrievers_the_subtree_is_computed_client_side() -> None:
    cluster = FakeCluster(DOCS, native=False)
    result = run(rerank(RRFRetriever(retrievers=[A, B])), cluster)
    assert cluster.retriever_calls == []
    assert [h.id for h in result.hits] == ["d2", "d5", "d1", "d4", "d3"]


# ------------------------------------------------------------------ allow_rerank_failures


def test_a_missing_endpoint_with_allow_rerank_failures_keeps_the_childs_order() -> None:
    result = run(rerank(A, inference_id="absent", allow_rerank_failures=True))
    assert pairs(result) == [("d4", 3.0), ("d1", 2.0), ("d3", 2.0), ("d2", 1.0), ("d5", 1.0)]


def test_a_missing_endpoint_nested_in_rrf_is_an_allowed_failure() -> None:
    tree = RRFRetriever(
        retrievers=[rerank(A, inference_id="absent", allow_rerank_failures=True), B]
    )
    result = run(tree)
    # A's order fused with B's d2, d4
    assert [h.id for h in result.hits] == ["d4", "d2", "d1", "d3", "d5"]


def test_a_missing_endpoint_without_the_flag_is_es_error() -> None:
    with pytest.raises(
        InferenceEndpointNotFoundError, match=r"Inference endpoint not found \[absent\]"
    ):
        run(RRFRetriever(retrievers=[rerank(A, inference_id="absent"), B]))


def test_an_inference_backend_without_the_endpoint_is_an_allowed_failure() -> None:
    class Cluster(MemoryBackend):
        def inference_reranker(self, inference_id: str) -> Any:
            raise InferenceEndpointNotFoundError(
                f"Inference endpoint not found [{inference_id}]", status=404
            )

    tree = rerank(A, inference_id="absent", allow_rerank_failures=True)
    result = search(tree, backend=Cluster(DOCS), mode="external")
    assert [h.id for h in result.hits] == A_ORDER


# ------------------------------------------------------------------ standard options


def test_allowed_failure_keeps_a_sorted_childs_order() -> None:
    child = StandardRetriever(query={"match_all": {}}, sort=[{"num": "desc"}])
    result = run(rerank(child, inference_id="absent", allow_rerank_failures=True))
    assert [h.id for h in result.hits] == ["d4", "d5", "d1", "d3", "d2"]


def test_top_level_standard_options_run_through_search_request() -> None:
    def ids(**options: Any) -> list[str]:
        spec = StandardRetriever(query={"match_all": {}}, **options)
        return [h.id for h in run(spec).hits]

    assert ids(sort=["num"], search_after=[2]) == ["d1", "d5", "d4"]
    assert ids(sort=[{"num": "desc"}], terminate_after=2) == ["d1", "d2"]
    assert ids(collapse={"field": "tag"}) == ["d1", "d2", "d5"]


def test_search_after_and_terminate_after_are_refused_under_a_compound() -> None:
    for option in ({"search_after": [1]}, {"terminate_after": 3}):
        child = StandardRetriever(query={"match_all": {}}, sort=["num"], **option)
        (key,) = option
        with pytest.raises(RetrieverValidationError) as info:
            run(rerank(child))
        assert info.value.param == key
        assert f"[{key}] cannot be used in children of compound retrievers" in str(info.value)


class QueryOnly:
    """A backend that runs queries only (no search_request)."""

    def __init__(self) -> None:
        self.inner = MemoryBackend(DOCS)

    def search_query(self, query: Mapping[str, Any] | None, *, size: int) -> Hits:
        return self.inner.search_query(query, size=size)


def test_a_backend_without_search_request_names_the_option() -> None:
    child = StandardRetriever(query={"match_all": {}}, sort=["num"])
    with pytest.raises(ConfigurationError, match=r"standard retriever's \[sort\] needs a backend"):
        run(rerank(child), QueryOnly())


def test_standard_min_score_total_counts_the_documents_that_pass() -> None:
    spec = StandardRetriever(query={"match": {"text": "moon sun lake"}}, min_score=2)
    native = run(spec)
    assert [h.id for h in native.hits] == ["d4", "d1", "d3"]
    assert (native.total, native.total_relation) == (3, "eq")
    # a query-only backend: exact when the window saw a score below min_score or every match
    assert (run(spec, QueryOnly()).total, run(spec, QueryOnly()).total_relation) == (3, "eq")
    partial = run(spec, QueryOnly(), size=2)
    assert (partial.total, partial.total_relation) == (2, "gte")


# ------------------------------------------------------------------ async, one executor


class AsyncMemory:
    def __init__(self) -> None:
        self.inner = MemoryBackend(DOCS)
        self.requests = 0

    async def search_query(self, query: Mapping[str, Any] | None, *, size: int) -> Hits:
        await asyncio.sleep(0)
        return self.inner.search_query(query, size=size)

    async def search_request(
        self, query: Mapping[str, Any] | None, *, size: int, options: Mapping[str, Any]
    ) -> Hits:
        await asyncio.sleep(0)
        self.requests += 1
        return self.inner.search_request(query, size=size, options=options)


def test_async_search_runs_the_same_rules() -> None:
    backend = AsyncMemory()
    sorted_child = StandardRetriever(query={"match_all": {}}, sort=[{"num": "desc"}])
    tree = LinearRetriever(
        retrievers=[A, WeightedRetriever(retriever=sorted_child, weight=0.0)], normalizer="minmax"
    )
    result = asyncio.run(
        es_rerank.asyncio.search(
            rerank(tree, rank_window_size=10), backend=backend, reranker=RERANKERS
        )
    )
    assert [h.id for h in result.hits] == ["d2", "d5", "d1", "d4", "d3"]
    # the sorted child, then the index order of linear's tied documents
    assert backend.requests == 2
    hits = asyncio.run(es_rerank.asyncio.search(PinnedRetriever(ids=["d3"], retriever=B),
                                                backend=backend))  # fmt: skip
    assert [h.id for h in hits.hits] == ["d3", "d2", "d4"]


def test_hits_carry_sort_values() -> None:
    hits = MemoryBackend(DOCS).search_request(None, size=2, options={"sort": ["num"]})
    assert [(h.id, h.sort) for h in hits] == [("d2", (1,)), ("d3", (2,))]
    assert isinstance(hits[0], Hit)


def test_es_checks_of_children_run_before_anything() -> None:
    """CompoundRetrieverBuilder.validate (a2c648923183b8c31f1075db6a90e7e996334d2b) and
    PinnedRetrieverBuilder (4eddd89eff25): checked before any query runs."""
    backend = MemoryBackend(DOCS)
    nested = RRFRetriever(retrievers=[rerank(A, rank_window_size=5), B])
    with pytest.raises(RetrieverValidationError) as info:
        run(nested, backend)
    assert str(info.value) == (
        "[rrf] requires [rank_window_size: 10] to be smaller than or equal to its sub "
        "retriever's text_similarity_reranker [rank_window_size: 5]"
    )
    rescore = {"window_size": 10, "query": {"rescore_query": {"match_all": {}}}}
    small_rrf = RRFRetriever(retrievers=[A, B], rank_window_size=5)
    with pytest.raises(RetrieverValidationError, match=r"\[window_size: 10\] to be smaller"):
        run(RescorerRetriever(retriever=small_rrf, rescore=rescore), backend, size=5)
    # the message of PinnedRetrieverBuilder.finalizeSourceBuilder at elastic/elasticsearch
    # 4eddd89eff25efe8aab3f239e38d2b4dfe451f77 (the older "Underlying query cannot be null")
    with pytest.raises(
        RetrieverValidationError,
        match=r"^pinned retriever requires retriever with associated query$",
    ):
        run(PinnedRetriever(ids=["d1"], retriever=StandardRetriever()), backend)
    by_id = StandardRetriever(query={"match_all": {}}, sort=[{"_id": "desc"}])
    with pytest.raises(RetrieverValidationError, match="only supports sorting by score"):
        run(PinnedRetriever(ids=["d1"], retriever=by_id), backend)
    assert backend.calls == []
    by_score = StandardRetriever(query={"match_all": {}}, sort=["_score"])
    assert run(PinnedRetriever(ids=["d5"], retriever=by_score), size=2).hits[0].id == "d5"


def test_without_size_a_compound_top_returns_its_window_as_es_does() -> None:
    """ES's REST test "pinned retriever with rank window size" (10_pinned_retriever.yml):
    rank_window_size 1 and no size give 1 hit; RankDocsRetrieverBuilder sets an unset size
    to the window, and only a given size is checked against it."""
    pinned = PinnedRetriever(ids=["d1", "d2"], retriever=A, rank_window_size=1)
    result = search(pinned, backend=MemoryBackend(DOCS))
    assert [h.id for h in result.hits] == ["d1"]
    assert result.hits[0].score == pytest.approx(1.7014124e38)
    assert (
        len(
            search(
                RRFRetriever(retrievers=[A], rank_window_size=4), backend=MemoryBackend(DOCS)
            ).hits
        )
        == 4
    )
    assert len(search(A, backend=MemoryBackend(DOCS * 3)).hits) == 10
    with pytest.raises(RetrieverValidationError, match=r"\[size: 10\]"):
        search(pinned, backend=MemoryBackend(DOCS), size=10)


def test_equal_fused_scores_break_ties_by_index_order_as_lucene_does() -> None:
    """ES sorts RRF and linear rank docs by score, then by Lucene doc id (RRFRankDoc,
    LinearRankDoc compareTo); REST test 350_rrf_retriever_pagination ("doc 4 before doc 5
    at 1/11 each"). d4 is seen first here, but d2 was indexed first."""
    desc = StandardRetriever(query={"term": {"tag": "b"}}, sort=[{"num": "desc"}])  # d4, d2
    asc = StandardRetriever(query={"term": {"tag": "b"}}, sort=[{"num": "asc"}])  # d2, d4
    fused = run(RRFRetriever(retrievers=[desc, asc]))
    assert [h.id for h in fused.hits] == ["d2", "d4"]
    assert fused.hits[0].score == fused.hits[1].score
    linear = run(LinearRetriever(retrievers=[desc, asc]))
    assert [h.id for h in linear.hits] == ["d2", "d4"]


def test_a_min_score_deep_in_the_tree_makes_the_total_count_the_rank_docs() -> None:
    """ES's retrievers-examples.md @ 676c3e985a541a68db6676787a5088734eb6b47e, "Multi-level
    nested retrievers with min_score": rrf > rrf > linear(min_score) > standard; "the
    total_hits value reflects only the documents passing the inner min_score threshold"."""
    linear = LinearRetriever(
        retrievers=[WeightedRetriever(retriever=A, normalizer="minmax")],
        min_score=0.5,
        rank_window_size=100,
    )
    tree = RRFRetriever(
        retrievers=[RRFRetriever(retrievers=[linear], rank_window_size=50)], rank_window_size=20
    )
    result = run(tree)
    # A minmax: d4 1, d1 .5, d3 .5 pass; d2, d5 (0) do not
    assert [h.id for h in result.hits] == ["d4", "d1", "d3"]
    assert (result.total, result.total_relation) == (3, "eq")
    without = run(
        dataclasses.replace(tree, retrievers=[RRFRetriever(retrievers=[A], rank_window_size=50)])
    )
    assert without.total == 5


def test_top_level_collapse_keeps_the_best_hit_of_each_group() -> None:
    """ES accepts a top-level collapse beside a retriever (REST test "Rescorer retriever and
    collapsing", 30_rescorer_retriever.yml; retrievers-examples.md "Grouping results by year
    with collapse"): the best rank doc of each group; hits.total is not changed."""
    rrf = RRFRetriever(retrievers=[A, B])
    plain = run(rrf)
    collapsed = run(rrf, collapse={"field": "tag"})
    firsts: dict[Any, str] = {}
    for h in plain.hits:
        firsts.setdefault(h.source["tag"], h.id)
    assert [h.id for h in collapsed.hits] == list(firsts.values())
    assert collapsed.total == plain.total
    # a leaf collapses in its own search
    leaf = run(A, collapse={"field": "tag"})
    assert [h.id for h in leaf.hits] == ["d4", "d1", "d5"]
    with pytest.raises(ConfigurationError, match="inner_hits"):
        run(rrf, collapse={"field": "tag", "inner_hits": {"name": "x"}})
    with pytest.raises(RetrieverValidationError, match=r"\[collapse\] requires a \[field\]"):
        run(rrf, collapse={"inner_hits": {}})


# ------------------------------------------------------------------ multi-field + semantic_text


def test_multi_field_format_queries_semantic_text_fields_apart() -> None:
    # MultiFieldsInnerRetrieverUtils (x-pack/plugin/rank-rrf, 2be548cc): the fields that
    # are semantic_text leave the multi_match and each gets a match in an inner rrf /
    # linear, weighted by its field weight (a field a pattern matches again multiplies)
    from es_rerank.retriever_tree import expand_multi_field

    rrf = RRFRetriever(query="moon", fields=["title", "body^2", "b*"], rank_constant=5)
    body = expand_multi_field(rrf, ["body", "bio", "other"]).to_dict()["rrf"]
    lexical, inner = body["retrievers"]
    assert lexical["standard"]["query"]["multi_match"]["fields"] == ["title", "b*"]
    assert inner["rrf"]["rank_constant"] == 5
    assert {
        next(iter(e["retriever"]["standard"]["query"]["match"])): e["weight"]
        for e in inner["rrf"]["retrievers"]
    } == {"body": 2.0, "bio": 1.0}
    linear = LinearRetriever(query="moon", fields=["body"], normalizer="minmax")
    (entry,) = expand_multi_field(linear, ["body"]).to_dict()["linear"]["retrievers"]
    assert entry["normalizer"] == "minmax"
    (per_field,) = entry["retriever"]["linear"]["retrievers"]
    assert per_field["normalizer"] == "minmax" and per_field["weight"] == 1.0


def test_children_refused_by_the_backend_fail_as_es_reports_them() -> None:
    # CompoundRetrieverBuilder: every child runs; the failures come back together, the
    # status the highest of theirs (400 for refused queries)
    from es_rerank import ChildRetrieversFailedError

    class Refusing(MemoryBackend):
        def search_query(self, query: Any, *, size: int) -> Any:
            if "refuse" in str(query):
                raise ValueError("Field [v] of type [dense_vector] does not support match queries")
            return super().search_query(query, size=size)

    bad = StandardRetriever(query={"match": {"refuse": "x"}})
    rrf = RRFRetriever(retrievers=[A, bad, bad])
    with pytest.raises(ChildRetrieversFailedError) as caught:
        run(rrf, backend=Refusing(DOCS))
    err = caught.value
    assert str(err).startswith("[rrf] search failed - retrievers '[standard, standard]' returned")
    assert err.status == 400 and len(err.failures) == 2
    assert isinstance(err, ValueError) and "dense_vector" in str(err.__cause__)
    # es_rerank's own validation is ES's parse-time refusal: not wrapped
    with pytest.raises(RetrieverValidationError):
        run(RRFRetriever(retrievers=[A, StandardRetriever(query={}, sort=["num"])]))


def test_equal_rerank_scores_rank_in_index_order_not_the_childs() -> None:
    """ES sorts the reranked docs by RankDoc.compareTo: a tie goes to the lower Lucene doc
    id (index order), whatever the child's order; one extra request, only for ties."""
    flat = {"flat": lambda query, texts: [0.5] * len(texts)}
    tree = rerank(A, inference_id="flat", rank_window_size=4)
    backend = MemoryBackend(DOCS)
    result = search(tree, backend=backend, reranker=flat, mode="external", size=4)
    # the child's window is d4, d1, d3, d2 (A_ORDER); tied, they come back in index order
    assert [h.id for h in result.hits] == ["d1", "d2", "d3", "d4"]
    assert [h.first_stage_rank for h in result.hits] == [2, 4, 3, 1]
    async_result = asyncio.run(
        es_rerank.asyncio.search(tree, backend=AsyncMemory(), reranker=flat, size=4)
    )
    assert [h.id for h in async_result.hits] == ["d1", "d2", "d3", "d4"]
    # a window cut by rank_window_size keeps the first in index order among the tied
    cut = search(rerank(A, inference_id="flat", rank_window_size=2), backend=backend,
                 reranker=flat, mode="external", size=2)  # fmt: skip
    assert [h.id for h in cut.hits] == ["d1", "d4"]
    distinct = search(rerank(A, rank_window_size=4), backend=backend, reranker=RERANKERS,
                      mode="external", size=4)  # fmt: skip
    assert [h.id for h in distinct.hits] == ["d2", "d1", "d4", "d3"]  # scores 3, 1, 0.5, -2
