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
    #: ES's hits.total.value, when the case pins it
    total: int | None = None
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
# constant scores every backend gives alike (bool sums its clauses; match_all scores boost)
LINEAR_A: dict[str, Any] = {
    "standard": {
        "query": {
            "bool": {
                "should": [
                    {"match_all": {}},
                    {
                        "bool": {
                            "must": {"match_all": {"boost": 2}},
                            "filter": {"term": {"tag": "b"}},
                        }
                    },
                ]
            }
        }
    }
}
LINEAR_B: dict[str, Any] = {
    "standard": {
        "query": {"bool": {"must": {"match_all": {"boost": 3}}, "filter": {"term": {"g2": "y"}}}}
    }
}
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
    Case("high_min_score_gives_no_hits", DOCS, rerank(min_score=100.0), ids=[], total=0),
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
    # hits.total: the child's matches; with a min_score, the rank docs that pass it
    # (RankDocsRetrieverBuilder @ afe3d8fd40539ba46fb036e2e6ed2d89aaa17817, sourceHasMinScore)
    Case(
        "total_without_min_score_is_the_childs",
        DOCS,
        rerank({"standard": {"query": {"term": {"tag": "a"}}}}, rank_window_size=2),
        size=2,
        ids=["d2", "d1"],
        total=3,
    ),
    Case(
        "total_with_min_score_counts_the_docs_that_pass",
        DOCS,
        rerank(min_score=1.5),
        ids=["d2", "d5"],
        total=2,
    ),
    Case(
        "rrf_total_with_a_min_score_child_counts_the_rank_docs",
        DOCS,
        {
            "rrf": {
                "retrievers": [
                    rerank(min_score=1.5, rank_window_size=5),
                    {"standard": {"query": {"term": {"g1": "x"}}}},
                ],
                "rank_window_size": 5,
            }
        },
        size=5,
        ids=["d2", "d1", "d5", "d3"],
        total=4,
        notes="d2 1/61+1/62, d1 1/61, d5 1/62, d3 1/63; without the rule: 5 (match_all)",
    ),
    # allow_rerank_failures: a missing endpoint is an allowed failure (ES REST test
    # "Text similarity reranking with allowed failure maintains custom sorting")
    Case(
        "allowed_failure_of_a_missing_endpoint_keeps_child_order",
        DOCS,
        rerank(inference_id="conformance-no-such-endpoint", allow_rerank_failures=True),
        ids=["d1", "d2", "d3", "d4", "d5"],
        total=5,
    ),
    Case(
        "allowed_failure_of_a_missing_endpoint_nested_in_rrf",
        DOCS,
        {
            "rrf": {
                "retrievers": [
                    rerank(
                        inference_id="conformance-no-such-endpoint",
                        allow_rerank_failures=True,
                        rank_window_size=5,
                    ),
                    {"standard": {"query": {"term": {"g2": "y"}}}},
                ],
                "rank_window_size": 5,
            }
        },
        size=5,
        ids=["d3", "d4", "d1", "d2", "d5"],
        notes="child order d1..d5 fused with g2=y's d3, d4",
    ),
    # linear (LinearRetrieverBuilder @ 773c33ae; a top-level normalizer normalizes the
    # sums, as ES 9.2's REST tests show; minmax of equal scores is 1.0 since ES PR #128689,
    # MinMaxScoreNormalizer @ a7776012). LINEAR_A scores d4, d5 3 and the rest 1; LINEAR_B
    # scores d3, d4 3 (equal scores: minmax makes them 1.0)
    Case(
        "linear_per_retriever_minmax_with_weights",
        DOCS,
        {
            "linear": {
                "retrievers": [
                    {"retriever": LINEAR_A, "normalizer": "minmax"},
                    {"retriever": LINEAR_B, "weight": 2, "normalizer": "minmax"},
                ]
            }
        },
        ids=["d4", "d3", "d5", "d1", "d2"],
        scores=[3.0, 2.0, 1.0, 0.0, 0.0],
        total=5,
    ),
    Case(
        "linear_top_level_minmax_normalizes_the_sums",
        DOCS,
        {
            "linear": {
                "retrievers": [{"retriever": LINEAR_A}, {"retriever": LINEAR_B, "weight": 2}],
                "normalizer": "minmax",
            }
        },
        ids=["d4", "d3", "d5", "d1", "d2"],
        scores=[1.0, 0.75, 0.25, 0.0, 0.0],
        notes="sums d1 1, d2 1, d3 7, d4 9, d5 3",
    ),
    Case(
        "rrf_with_weights",
        DOCS,
        {
            "rrf": {
                "retrievers": [
                    {"retriever": MATCH_ALL, "weight": 1},
                    {"retriever": {"standard": {"filter": {"term": {"g2": "y"}}}}, "weight": 3},
                ],
                "rank_constant": 1,
            }
        },
        ids=["d3", "d4", "d1", "d2", "d5"],
        scores=[1 / 4 + 3 / 2, 1 / 5 + 3 / 3, 1 / 2, 1 / 3, 1 / 6],
    ),
    Case(
        "reranker_over_linear",
        DOCS,
        rerank(
            {
                "linear": {
                    "retrievers": [
                        {"retriever": LINEAR_A, "normalizer": "minmax"},
                        {"retriever": LINEAR_B, "weight": 2, "normalizer": "minmax"},
                    ],
                    "rank_window_size": 3,
                }
            },
            rank_window_size=3,
        ),
        size=3,
        ids=["d5", "d4", "d3"],
        scores=[norm(2), norm(0.5), norm(-2)],
        notes="linear's top 3 are d4, d3, d5; reranked by raw 2, 0.5, -2",
    ),
    Case(
        "a_compound_child_window_smaller_than_its_parents_is_refused",
        DOCS,
        {"rrf": {"retrievers": [rerank(rank_window_size=5), MATCH_ALL]}},
        size=5,
        error=RetrieverValidationError,
        message="[rrf] requires [rank_window_size: 10] to be smaller than or equal to its sub "
        "retriever's text_similarity_reranker [rank_window_size: 5]",
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
                ],
                # ES refuses a compound child with a smaller window than its parent's
                # (CompoundRetrieverBuilder.validate)
                "rank_window_size": 5,
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

# ----------------------------------------------------------------- chunk_rescorer (ES 9.2+)
# Sources (elastic/elasticsearch; RANK = x-pack/plugin/inference/src/main/java/org/
# elasticsearch/xpack/inference/rank/textsimilarity): RANK/ChunkScorerConfig.java (defaults:
# size 1, sentence chunks of 300 words, overlap 0; {"max_chunk_size": N} alone = sentence, N,
# 0), RANK/TextSimilarityRerankingRankFeaturePhaseRankShardContext.java (the field's first
# value is chunked and only the best `size` chunks by MemoryIndexChunkScorer's BM25 against
# inference_text are sent; none matching: the first chunks), x-pack/plugin/core/src/main/
# java/org/elasticsearch/xpack/core/common/chunks/MemoryIndexChunkScorer.java (only chunks
# sharing a term are kept), RANK/TextSimilarityRankFeaturePhaseRankCoordinatorContext.java
# (one rerank call for the window; extractScoresFromRankedChunks: a document's raw score is
# the max over its chunks; preprocess: min_score against that raw max, then one
# normalization), and the YAML REST tests of x-pack/plugin/inference/src/yamlRestTest/
# resources/rest-api-spec/test/inference/70_text_similarity_rank_retriever.yml.
# Under largest_number a text scores the largest number written in it, so which chunk is
# sent decides the score.

CHUNK_DOCS = [
    {
        "_id": "c1",
        "text": "The tide over the northern harbour rises and falls twice each day, 9 metres "
        "high. A total moon eclipse was seen from the southern hills with a score of 2.",
    },
    {
        "_id": "c2",
        "text": "Nothing about the sky in this note, only a long report on farming with the "
        "number 5. The farmers plant wheat in spring and harvest it in autumn, 1 field at a "
        "time.",
    },
    {
        "_id": "c3",
        "text": "The moon eclipse of last year was brief: the moon eclipse left the sky dark "
        "for 3 minutes. Watchers say another eclipse next year may reach 7 on their scale of "
        "darkness.",
    },
]
SENTENCES_OF_20 = {"strategy": "sentence", "max_chunk_size": 20, "sentence_overlap": 0}
# 20 words; "moon eclipse" are words 11-12, "6" word 9, "1" word 15
WORD_DOCS = [
    {
        "_id": "w1",
        "text": "Records of the old observatory list entry number 6 then moon eclipse notes "
        "from 1 night watch and more pages",
    },
    {"_id": "w2", "text": "A moon eclipse rated 4."},
]
# the setup documents of 70_text_similarity_rank_retriever.yml, in its indexing order
YAML_DOCS = [
    {
        "_id": "doc_2",
        "tag": "science",
        "text": "The phases of the Moon come from the position of the Moon relative to the "
        "Earth and Sun.",
    },
    {
        "_id": "doc_3",
        "tag": "geography",
        "text": "Sun Moon Lake is a lake in Nantou County, Taiwan. It is the largest lake in "
        "Taiwan.",
    },
    {
        "_id": "doc_1",
        "tag": "science",
        "text": "As seen from Earth, a solar eclipse happens when the Moon is directly between "
        "the Earth and the Sun.",
    },
]
SCIENCE: dict[str, Any] = {"standard": {"query": {"term": {"tag": "science"}}}}


def chunked(chunk_rescorer: dict[str, Any], **params: Any) -> dict[str, Any]:
    params.setdefault("inference_id", "@largest_number")
    params.setdefault("inference_text", "moon eclipse")
    return rerank(chunk_rescorer=chunk_rescorer, **params)


CHUNK_CASES: list[Case] = [
    Case(
        "chunk_rescorer_whole_text_without_it",
        CHUNK_DOCS,
        rerank(inference_id="@largest_number", inference_text="moon eclipse"),
        ids=["c1", "c3", "c2"],
        scores=[norm(9), norm(7), norm(5)],
        notes="the baseline: without chunk_rescorer the whole text is sent (9, 5, 7)",
    ),
    Case(
        "chunk_rescorer_sends_the_best_bm25_chunk",
        CHUNK_DOCS,
        chunked({"size": 1, "chunking_settings": SENTENCES_OF_20}),
        ids=["c2", "c3", "c1"],
        scores=[norm(5), norm(3), norm(2)],
        notes="c1 sends its eclipse sentence (2, not the tide's 9); c2 matches nothing and "
        "sends its first chunk (5); c3's first sentence has the most matches (3, not 7)",
    ),
    Case(
        "chunk_rescorer_document_score_is_the_max_of_its_chunks",
        CHUNK_DOCS,
        chunked({"size": 2, "chunking_settings": SENTENCES_OF_20}),
        ids=["c3", "c2", "c1"],
        scores=[norm(7), norm(5), norm(2)],
        notes="c3 sends both sentences (max 7); c2 backfills its first two chunks (max 5); "
        "c1 sends only its one matching chunk (2): non-matching chunks are never sent",
    ),
    Case(
        "chunk_rescorer_min_score_sees_the_raw_max",
        CHUNK_DOCS,
        chunked({"size": 2, "chunking_settings": SENTENCES_OF_20}, min_score=5.0),
        ids=["c3", "c2"],
        scores=[norm(7), norm(5)],
        notes="min_score 5 compared with each document's raw max (7, 5, 2), then normalized",
    ),
    Case(
        "chunk_rescorer_defaults_are_sentences_of_300_words",
        CHUNK_DOCS,
        chunked({}),
        ids=["c1", "c3", "c2"],
        scores=[norm(9), norm(7), norm(5)],
        notes="{} is size 1, sentence chunks of 300 words: each short text is one chunk",
    ),
    Case(
        "chunk_rescorer_max_chunk_size_alone",
        CHUNK_DOCS,
        chunked({"size": 1, "chunking_settings": {"max_chunk_size": 20}}),
        ids=["c2", "c3", "c1"],
        scores=[norm(5), norm(3), norm(2)],
        notes="ChunkScorerConfig: max_chunk_size alone means sentence chunks, overlap 0",
    ),
    Case(
        "chunk_rescorer_missing_field_is_dropped",
        [*CHUNK_DOCS[:2], {"_id": "c4", "title": "moon eclipse 99"}, CHUNK_DOCS[2]],
        chunked({"size": 1, "chunking_settings": SENTENCES_OF_20}),
        ids=["c2", "c3", "c1"],
        scores=[norm(5), norm(3), norm(2)],
    ),
    Case(
        "chunk_rescorer_word_overlap_carries_a_word_across",
        WORD_DOCS,
        chunked({"chunking_settings": {"strategy": "word", "max_chunk_size": 10, "overlap": 2}}),
        ids=["w1", "w2"],
        scores=[norm(6), norm(4)],
        notes="word chunks 1-10, 9-18, 17-20: the matching chunk starts at word 9 (6)",
    ),
    Case(
        "chunk_rescorer_word_overlap_of_one",
        WORD_DOCS,
        chunked({"chunking_settings": {"strategy": "word", "max_chunk_size": 10, "overlap": 1}}),
        ids=["w2", "w1"],
        scores=[norm(4), norm(1)],
        notes="word chunks 1-10, 10-19, 19-20: the matching chunk no longer holds word 9",
    ),
    Case(
        "chunk_rescorer_yaml_rescore_chunks",
        YAML_DOCS,
        rerank(
            SCIENCE,
            inference_id="@later_scores_higher",
            inference_text="How often does the moon hide the sun?",
            chunk_rescorer={"size": 2},
        ),
        ids=["doc_1", "doc_2"],
        scores=[norm(1), norm(0)],
        notes="YAML 'Reranking based on rescore_chunks': one chunk each, later input higher",
    ),
    Case(
        "chunk_rescorer_yaml_no_match_sends_the_first_chunk",
        YAML_DOCS,
        rerank(
            SCIENCE,
            inference_id="@later_scores_higher",
            inference_text="iamanonsensefieldthatshouldreturnnoresults",
            chunk_rescorer={},
        ),
        ids=["doc_1", "doc_2"],
        scores=[norm(1), norm(0)],
        notes="YAML 'will send in first chunk if no text matches found'",
    ),
    Case(
        "chunk_rescorer_yaml_size_must_be_positive",
        YAML_DOCS,
        rerank(chunk_rescorer={"size": 0}),
        error=RetrieverValidationError,
        message="size must be greater than 0, was: 0",
    ),
    Case(
        "chunk_rescorer_yaml_invalid_chunking_settings",
        YAML_DOCS,
        rerank(
            chunk_rescorer={
                "size": 20,
                "chunking_settings": {
                    "strategy": "sentence",
                    "max_chunk_size": 10,
                    "sentence_overlap": 20,
                },
            }
        ),
        error=RetrieverValidationError,
        message="[chunking_settings] Invalid value [10.0]. [max_chunk_size] must be greater "
        "than or equal to [20.0]",
    ),
]
CASES += CHUNK_CASES
