"""The nine retrievers ES 9.x documents, as typed specs: every example body of ES's
reference pages parses and round-trips unchanged, and bad parameters get ES's messages.

Rules and messages from elastic/elasticsearch (path, then commit):
- server/.../search/retriever/StandardRetrieverBuilder.java
  037299c29cba55b1e008074e17b6a4cc923dfc94
- x-pack/plugin/rank-rrf/.../rrf/RRFRetrieverBuilder.java
  4b066361dd48f6c2e1570e579190e274c806928f
- x-pack/plugin/rank-rrf/.../rrf/RRFRetrieverComponent.java
  bd6fc7e4b9aa1beded22c129c3fd06b07f9c131b
- x-pack/plugin/rank-rrf/.../linear/LinearRetrieverBuilder.java and
  x-pack/plugin/rank-rrf/.../MultiFieldsInnerRetrieverUtils.java
  773c33ae4c4ba5f874c4b11e937dcf4eb2edd8c3
- server/.../search/retriever/RescorerRetrieverBuilder.java
  ed82f0d8810bc15962325253557f1252d57bc041
- x-pack/plugin/search-business-rules/.../retriever/PinnedRetrieverBuilder.java
  4eddd89eff25efe8aab3f239e38d2b4dfe451f77
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from es_rerank import RetrieverValidationError, retriever_from_dict
from es_rerank.retrievers import (
    DiversifyRetriever,
    KnnRetriever,
    LinearRetriever,
    PinnedRetriever,
    RescorerRetriever,
    RRFRetriever,
    RuleRetriever,
    StandardRetriever,
    TextSimilarityReranker,
    WeightedRetriever,
)
from es_rerank.rules import check_request
from es_rerank.search import default_size
from tests.es_rerank.es_doc_retriever_examples import COMMITS, EXAMPLES

KINDS = {
    "standard": StandardRetriever,
    "knn": KnnRetriever,
    "rrf": RRFRetriever,
    "linear": LinearRetriever,
    "text_similarity_reranker": TextSimilarityReranker,
    "rescorer": RescorerRetriever,
    "rule": RuleRetriever,
    "pinned": PinnedRetriever,
    "diversify": DiversifyRetriever,
}


@pytest.mark.parametrize("body", [e[2] for e in EXAMPLES], ids=[f"{e[0]}#{e[1]}" for e in EXAMPLES])
def test_every_reference_page_example_parses_and_round_trips_unchanged(
    body: dict[str, Any],
) -> None:
    wire = json.loads(json.dumps(body))
    spec = retriever_from_dict(wire)
    ((kind, _),) = body.items()
    assert isinstance(spec, KINDS[kind])
    assert spec.to_dict() == body
    assert retriever_from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize("body", [e[2] for e in EXAMPLES], ids=[f"{e[0]}#{e[1]}" for e in EXAMPLES])
def test_every_example_passes_the_request_checks_es_passes(body: dict[str, Any]) -> None:
    spec = retriever_from_dict(body)
    check_request(spec, default_size(spec), 0, {})  # ES runs them: no client-side refusal


def test_the_examples_cover_all_nine_documented_retrievers() -> None:
    assert {next(iter(e[2])) for e in EXAMPLES} == set(KINDS)
    assert {e[0] for e in EXAMPLES} == set(COMMITS)


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        # MultiFieldsInnerRetrieverUtils.validateParams
        ({"linear": {}}, "retrievers", "[linear] must provide [retrievers] or [query]"),
        (
            {"linear": {"retrievers": [{"retriever": {"standard": {}}}], "query": "q"}},
            "retrievers",
            "[linear] cannot combine [retrievers] and [query]",
        ),
        (
            {"linear": {"fields": ["a"]}},
            "query",
            "[linear] [query] must be provided when [fields] is specified",
        ),
        (
            {"linear": {"query": "", "normalizer": "minmax"}},
            "query",
            "[linear] [query] cannot be empty",
        ),
        # LinearRetrieverBuilder.validate
        (
            {"linear": {"query": "q"}},
            "normalizer",
            "[linear] [normalizer] must be provided when [query] is specified",
        ),
        (
            {"linear": {"retrievers": [{"retriever": {"standard": {}}, "normalizer": "zscore"}]}},
            "normalizer",
            "Unknown normalizer [zscore]",
        ),
        (
            {"linear": {"retrievers": [{"retriever": {"standard": {}}, "weight": -1}]}},
            "weight",
            "[weight] must be non-negative",
        ),
        ({"linear": {"retrievers": [{"standard": {}}]}}, "standard", "unknown field [standard]"),
        # RRFRetrieverComponent.fromXContent
        (
            {"rrf": {"retrievers": [{"retriever": {"standard": {}}, "weight": -2}]}},
            "weight",
            "[weight] must be non-negative, found [-2.0]",
        ),
        (
            {"rrf": {"retrievers": [{"retriever": {"standard": {}}, "boost": 2}]}},
            "boost",
            "unknown field [boost], expected [retriever] or [weight]",
        ),
        (
            {"rrf": {"retrievers": [{"weight": 2}]}},
            "retriever",
            "retriever component must contain a retriever",
        ),
        (
            {"rrf": {"retrievers": [{"standard": {}, "weight": 2}]}},
            "weight",
            "unknown field [weight] after retriever",
        ),
        # the multi-field format's messages in ES's REST test 310_rrf_retriever_simplified.yml
        # ("Missing required params", "Negative weight validation")
        (
            {"rrf": {"retrievers": [{"standard": {}}], "fields": ["a"]}},
            "query",
            "[rrf] [query] must be provided when [fields] is specified",
        ),
        ({"rrf": {"fields": ["a"], "query": ""}}, "query", "[rrf] [query] cannot be empty"),
        ({"rrf": {"fields": [], "query": "foo"}}, "fields", "[rrf] [fields] cannot be empty"),
        ({"rrf": {}}, "retrievers", "[rrf] must provide [retrievers] or [query]"),
        (
            {"rrf": {"fields": ["text_1^-1"], "query": "foo"}},
            "fields",
            "[rrf] per-field weights must be non-negative",
        ),
        (
            {"rrf": {"retrievers": [{"standard": {}}], "query": "q"}},
            "retrievers",
            "[rrf] cannot combine [retrievers] and [query]",
        ),
        # RescorerRetrieverBuilder
        (
            {"rescorer": {"retriever": {"standard": {}}, "rescore": []}},
            "rescore",
            "Missing rescore definition",
        ),
        (
            {"rescorer": {"retriever": {"standard": {}}, "rescore": "q"}},
            "rescore",
            "Unknown format for [rescorer.rescore], expects an object or an array of objects",
        ),
        ({"rescorer": {"rescore": {"query": {}}}}, "retriever", "required field [retriever]"),
        # PinnedRetrieverBuilder.validateIdsAndDocs
        (
            {"pinned": {"ids": ["a"], "docs": [{"_id": "b"}], "retriever": {"standard": {}}}},
            "ids",
            "Both 'ids' and 'docs' cannot be specified at the same time",
        ),
        (
            {"pinned": {"ids": [], "retriever": {"standard": {}}}},
            "ids",
            "Either 'ids' or 'docs' must be provided and non-empty for pinned retriever",
        ),
        ({"pinned": {"ids": ["a"]}}, "retriever", "required field [retriever]"),
        (
            {"pinned": {"ids": ["a", "a"], "retriever": {"standard": {}}}},
            "ids",
            "duplicate id found",
        ),
        (
            {"pinned": {"docs": [{"_id": "a"}, {"_id": "a"}], "retriever": {"standard": {}}}},
            "docs",
            "duplicate doc found",
        ),
        # rule: ruleset ids are required and at most 10 (rule-retriever.md)
        (
            {
                "rule": {
                    "retriever": {"standard": {}},
                    "ruleset_ids": [],
                    "match_criteria": {"q": 1},
                }
            },
            "ruleset_ids",
            "rulesetIds must not be null or empty",
        ),
        (
            {
                "rule": {
                    "retriever": {"standard": {}},
                    "ruleset_ids": [str(i) for i in range(11)],
                    "match_criteria": {"q": 1},
                }
            },
            "ruleset_ids",
            "more than 10 rulesets",
        ),
        # diversify: mmr only, lambda in [0, 1] (diversify-retriever.md)
        (
            {"diversify": {"type": "mmr", "field": "v", "retriever": {"standard": {}}}},
            "lambda",
            "requires a lambda value",
        ),
        (
            {
                "diversify": {
                    "type": "mmr",
                    "field": "v",
                    "lambda": 2,
                    "retriever": {"standard": {}},
                }
            },
            "lambda",
            "between 0.0 and 1.0",
        ),
        # StandardRetrieverBuilder options
        ({"standard": {"terminate_after": -1}}, "terminate_after", "terminateAfter must be > 0"),
        ({"standard": {"search_after": "x"}}, "search_after", "must be an array"),
        (
            {"standard": {"collapse": {"inner_hits": {}}}},
            "collapse",
            "[collapse] requires a [field]",
        ),
        ({"standard": {"size": 3}}, "size", "[standard] unknown field [size]"),
        # knn options
        (
            {
                "knn": {
                    "field": "v",
                    "query_vector": [1.0],
                    "k": 1,
                    "num_candidates": 1,
                    "rescore_vector": {},
                }
            },
            "rescore_vector",
            "[rescore_vector] requires [oversample]",
        ),
    ],
)
def test_invalid_bodies_get_es_messages(body: dict[str, Any], param: str, message: str) -> None:
    with pytest.raises(RetrieverValidationError) as info:
        retriever_from_dict(body)
    assert info.value.param == param
    assert message in str(info.value)


def test_standard_options_are_typed_and_round_trip() -> None:
    body = {
        "standard": {
            "query": {"term": {"topic": "science"}},
            "sort": ["subtopic", {"year": {"order": "desc"}}],
            "search_after": ["a", 2020],
            "terminate_after": 5,
            "min_score": 1.0,
            "collapse": {"field": "topic"},
        }
    }
    spec = retriever_from_dict(body)
    assert isinstance(spec, StandardRetriever)
    assert spec.terminate_after == 5 and spec.collapse == {"field": "topic"}
    assert spec.options == {k: v for k, v in body["standard"].items() if k != "query"}
    assert spec.to_dict() == body


def test_weights_and_normalizers_resolve_like_es() -> None:
    std = StandardRetriever()
    rrf = RRFRetriever(retrievers=[std, WeightedRetriever(retriever=std, weight=2.0)])
    assert rrf.weights == [1.0, 2.0]
    per_child = LinearRetriever(
        retrievers=[std, WeightedRetriever(retriever=std, weight=3, normalizer="l2_norm")]
    )
    assert per_child.weights == [1.0, 3.0]
    assert per_child.normalizers == ["none", "l2_norm"] and per_child.final_normalizer is None
    # ES 9.2's REST tests (10_linear_retriever_normalizers.yml): with a top-level
    # normalizer, [5] and [12] from two children score 5/13 and 12/13: the sums are
    # normalized, and a child's own normalizer must be the same one
    top = LinearRetriever(
        retrievers=[std, WeightedRetriever(retriever=std, normalizer="l2_norm")],
        normalizer="l2_norm",
    )
    assert top.normalizers == ["none", "none"] and top.final_normalizer == "l2_norm"
    with pytest.raises(RetrieverValidationError, match="must match the top-level normalizer"):
        LinearRetriever(
            retrievers=[WeightedRetriever(retriever=std, normalizer="minmax")],
            normalizer="l2_norm",
        )
    # a bare retriever is wrapped, so the JSON is ES's wrapped form
    assert LinearRetriever(retrievers=[std]).to_dict() == {
        "linear": {"retrievers": [{"retriever": {"standard": {}}}]}
    }


def test_rescorer_window_is_the_smallest_window_size() -> None:
    rescore: list[dict[str, Any]] = [
        {"window_size": 50, "query": {"rescore_query": {"match_all": {}}}},
        {"query": {"rescore_query": {"match_all": {}}}},
    ]
    spec = RescorerRetriever(retriever=StandardRetriever(), rescore=rescore)
    assert spec.effective_rank_window_size == 10  # RescorerBuilder.DEFAULT_WINDOW_SIZE


def test_pinned_ids_come_from_ids_or_docs() -> None:
    child = StandardRetriever()
    assert PinnedRetriever(ids=["a", "b"], retriever=child).pinned_ids == ["a", "b"]
    docs = [{"_id": "c", "_index": "i"}, {"_id": "d"}]
    assert PinnedRetriever(docs=docs, retriever=child).pinned_ids == ["c", "d"]


def test_knn_takes_a_hex_vector_and_sends_its_newer_options() -> None:
    from es_rerank.rules import knn_query

    body = {
        "knn": {
            "field": "v",
            "query_vector": "0a1bff",
            "k": 3,
            "num_candidates": 9,
            "rescore_vector": {"oversample": 2.0},
            "visit_percentage": 5.0,
        }
    }
    spec = retriever_from_dict(body)
    assert spec.to_dict() == body
    assert isinstance(spec, KnnRetriever)
    sent = knn_query(spec, [])["knn"]
    assert sent["query_vector"] == "0a1bff"
    assert sent["rescore_vector"] == {"oversample": 2.0} and sent["visit_percentage"] == 5.0
    with pytest.raises(RetrieverValidationError, match="hex-encoded"):
        retriever_from_dict({"knn": {**body["knn"], "query_vector": "xyz"}})
