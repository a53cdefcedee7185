"""ES_FACTS.md section 1 as data: documents, a retriever (ES JSON), a deterministic
scorer, and what Elasticsearch returns. ``"inference_id": "@NAME"`` means "the endpoint
applying the scorer NAME" in whichever executor runs the case.

Child retrievers here score every match alike (match_all, term filters), so the child's
order is the indexing order on every backend (ES with one shard breaks ties by doc id).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from es_rerank.errors import (
    ElasticsearchError,
    InferenceEndpointNotFoundError,
    RerankError,
    RetrieverValidationError,
)


def norm(raw: float) -> float:
    """ES's normalization, written out from its documentation."""
    return max(raw, 0.0) + min(math.exp(raw), 1.0)


@dataclass(frozen=True)
class Case:
    name: str
    docs: list[dict[str, Any]]
    retriever: dict[str, Any]
    size: int = 10
    from_: int = 0
    min_score_space: str = "raw"
    ids: list[str] | None = None
    scores: list[float] | None = None
    error: type[BaseException] | tuple[type[BaseException], ...] | None = None
    message: str | None = None
    notes: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)


MATCH_ALL: dict[str, Any] = {"standard": {"query": {"match_all": {}}}}

# raw scores under score_is_text: d1=1, d2=3, d3=-2, d4=0.5, d5=2
DOCS = [
    {"_id": "d1", "text": "1", "tag": "a", "g1": "x"},
    {"_id": "d2", "text": "3", "tag": "a", "g1": "x"},
    {"_id": "d3", "text": "-2", "tag": "a", "g1": "x", "g2": "y"},
    {"_id": "d4", "text": "0.5", "tag": "b", "g2": "y"},
    {"_id": "d5", "text": "2", "tag": "b"},
]
# typical cross-encoder logits: all negative
NEGATIVE_DOCS = [
    {"_id": "n1", "text": "-0.5"},
    {"_id": "n2", "text": "-3"},
    {"_id": "n3", "text": "-1"},
    {"_id": "n4", "text": "-8"},
]


def rerank(child: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "retriever": child or MATCH_ALL,
        "field": "text",
        "inference_text": "conformance query",
        "inference_id": "@score_is_text",
    }
    body.update(params)
    return {"text_similarity_reranker": body}


ALL_ORDER = ["d2", "d5", "d1", "d4", "d3"]
ALL_SCORES = [norm(3), norm(2), norm(1), norm(0.5), norm(-2)]

CASES: list[Case] = [
    Case("simple_rerank", DOCS, rerank(), ids=ALL_ORDER, scores=ALL_SCORES),
    Case(
        "filter_narrows_child_before_window",
        DOCS,
        rerank(filter={"term": {"tag": "a"}}, rank_window_size=2),
        size=2,
        ids=["d2", "d1"],
        scores=[norm(3), norm(1)],
        notes="the filter runs inside the child, so the window of 2 holds d1, d2 (not d4)",
    ),
    Case(
        "filter_list_and_child_filter_combine",
        DOCS,
        rerank(
            {"standard": {"query": {"match_all": {}}, "filter": {"term": {"tag": "a"}}}},
            filter=[{"term": {"g2": "y"}}],
        ),
        ids=["d3"],
        scores=[norm(-2)],
    ),
    Case(
        "min_score_on_raw_negative_logits",
        NEGATIVE_DOCS,
        rerank(min_score=-2.0),
        ids=["n1", "n3"],
        scores=[norm(-0.5), norm(-1)],
    ),
    Case(
        "min_score_is_raw_not_normalized",
        NEGATIVE_DOCS,
        rerank(min_score=0.5),
        ids=[],
        notes="normalized -0.5 is 0.61 >= 0.5, but ES compares the raw -0.5: nothing passes",
    ),
    Case(
        "min_score_zero_drops_negative_scores",
        [*DOCS, {"_id": "d6", "text": "0"}],
        rerank(min_score=0),
        ids=["d2", "d5", "d1", "d4", "d6"],
        scores=[norm(3), norm(2), norm(1), norm(0.5), norm(0)],
        notes="raw 0 passes min_score 0 (>=), raw -2 does not",
    ),
    Case("high_min_score_gives_no_hits", DOCS, rerank(min_score=100.0), ids=[]),
    Case(
        "min_score_in_normalized_units",
        DOCS,
        rerank(min_score=1.5),
        min_score_space="normalized",
        ids=["d2", "d5", "d1", "d4"],
        scores=[norm(3), norm(2), norm(1), norm(0.5)],
        notes="1.5 normalized is 0.5 raw; d4 (raw 0.5) is kept, d3 (raw -2) is not",
    ),
    Case(
        "missing_field_is_dropped",
        [{"_id": "m1", "text": "1"}, {"_id": "m2", "title": "9"}, {"_id": "m3", "text": "2"}],
        rerank(),
        ids=["m3", "m1"],
        scores=[norm(2), norm(1)],
    ),
    Case(
        "no_hit_has_the_field_gives_empty_result",
        [{"_id": "m1", "title": "1"}, {"_id": "m2", "title": "2"}],
        rerank(),
        ids=[],
    ),
    Case(
        "multi_valued_field_uses_first_value",
        [{"_id": "v1", "text": ["5", "-1"]}, {"_id": "v2", "text": ["2", "9"]}],
        rerank(),
        ids=["v1", "v2"],
        scores=[norm(5), norm(2)],
    ),
    Case(
        "keyword_field_as_text",
        [{"_id": "k1", "code": "-1"}, {"_id": "k2", "code": "4"}],
        rerank(field="code"),
        ids=["k2", "k1"],
        scores=[norm(4), norm(-1)],
    ),
    Case(
        "number_field_as_text",
        [{"_id": "k1", "num": 7}, {"_id": "k2", "num": -3}, {"_id": "k3", "num": 11}],
        rerank(field="num"),
        ids=["k3", "k1", "k2"],
        scores=[norm(11), norm(7), norm(-3)],
    ),
    Case(
        "window_smaller_than_child_hits",
        DOCS,
        rerank(rank_window_size=3),
        size=3,
        ids=["d2", "d1", "d3"],
        scores=[norm(3), norm(1), norm(-2)],
        notes="d5 (raw 2) is outside the window of 3 and must never be reranked",
    ),
    Case(
        "from_size_page_inside_window",
        DOCS,
        rerank(rank_window_size=5),
        size=2,
        from_=1,
        ids=["d5", "d1"],
        scores=[norm(2), norm(1)],
    ),
    Case(
        "page_past_window_end_is_short",
        DOCS,
        rerank(rank_window_size=4),
        size=3,
        from_=3,
        ids=["d3"],
        scores=[norm(-2)],
        notes="window 4 holds d1..d4; ranked d2,d1,d4,d3; from 3 leaves one hit",
    ),
    Case(
        "ties_keep_child_order",
        [{"_id": f"t{i}", "text": "1"} for i in range(1, 5)],
        rerank(),
        ids=["t1", "t2", "t3", "t4"],
        scores=[norm(1)] * 4,
    ),
    Case(
        "later_input_scores_higher_reverses_window",
        DOCS,
        rerank(inference_id="@later_scores_higher", rank_window_size=3),
        size=3,
        ids=["d3", "d2", "d1"],
        scores=[norm(2), norm(1), norm(0)],
    ),
    Case(
        "allow_rerank_failures_keeps_child_order",
        DOCS,
        rerank(inference_id="@always_fails", allow_rerank_failures=True),
        ids=["d1", "d2", "d3", "d4", "d5"],
        scores=[1.0] * 5,
    ),
    Case(
        "rerank_failure_is_an_error",
        DOCS,
        rerank(inference_id="@always_fails"),
        error=(RerankError, ElasticsearchError),
    ),
    Case(
        "wrong_score_count_is_an_error",
        DOCS,
        rerank(inference_id="@one_score_short"),
        error=(RerankError, ElasticsearchError),
        notes="the words differ by path (client check, shim refusal, ES's own check)",
    ),
    Case(
        "rank_window_size_smaller_than_size",
        DOCS,
        rerank(rank_window_size=2),
        size=5,
        error=RetrieverValidationError,
        message="requires [rank_window_size: 2] be greater than or equal to [size: 5]",
    ),
    Case(
        "negative_rank_window_size",
        DOCS,
        rerank(rank_window_size=-1),
        size=0,
        error=RetrieverValidationError,
        message="[rank_window_size] parameter cannot be negative, found [-1]",
    ),
    Case(
        "empty_inference_text",
        DOCS,
        rerank(inference_text=""),
        error=RetrieverValidationError,
        message="Field [query] cannot be empty for task type [rerank]",
    ),
    Case(
        "unknown_inference_endpoint",
        DOCS,
        rerank(inference_id="no-such-endpoint"),
        error=InferenceEndpointNotFoundError,
        message="Inference endpoint not found [no-such-endpoint]",
    ),
    Case(
        "unknown_inference_endpoint_even_when_child_matches_nothing",
        DOCS,
        rerank({"standard": {"query": {"term": {"tag": "zzz"}}}}, inference_id="no-such-endpoint"),
        error=InferenceEndpointNotFoundError,
        message="Inference endpoint not found [no-such-endpoint]",
    ),
    Case(
        "reranker_over_rrf",
        DOCS,
        rerank(
            {
                "rrf": {
                    "retrievers": [
                        {"standard": {"query": {"term": {"g1": "x"}}}},
                        {"standard": {"query": {"term": {"g2": "y"}}}},
                    ]
                }
            },
            rank_window_size=2,
        ),
        size=2,
        ids=["d1", "d3"],
        scores=[norm(1), norm(-2)],
        notes="rrf ranks d3 (1/63+1/61) then d1 (1/61); the window of 2 reranks those two",
    ),
    Case(
        "rrf_containing_a_reranker",
        DOCS,
        {
            "rrf": {
                "retrievers": [
                    rerank(rank_window_size=5),
                    {"standard": {"query": {"term": {"g2": "y"}}}},
                ]
            }
        },
        size=5,
        ids=["d3", "d4", "d2", "d5", "d1"],
        scores=[
            1 / 65 + 1 / 61,
            1 / 64 + 1 / 62,
            1 / 61,
            1 / 62,
            1 / 63,
        ],
    ),
    Case(
        "chained_rerankers",
        DOCS,
        rerank(
            rerank(rank_window_size=5),
            inference_id="@later_scores_higher",
            rank_window_size=3,
        ),
        size=3,
        ids=["d1", "d5", "d2"],
        scores=[norm(2), norm(1), norm(0)],
        notes="inner: d2,d5,d1,d4,d3; outer takes 3 and reverses them",
    ),
]
