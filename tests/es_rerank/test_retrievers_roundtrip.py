"""Property: every spec survives to_dict -> JSON text -> retriever_from_dict unchanged."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from es_rerank import (
    KnnRetriever,
    Retriever,
    RRFRetriever,
    StandardRetriever,
    TextSimilarityReranker,
    retriever_from_dict,
)
from es_rerank.retrievers import (
    LinearRetriever,
    PinnedRetriever,
    RescorerRetriever,
    RuleRetriever,
    WeightedRetriever,
)

words = st.text(alphabet="abcdefghij xyz", min_size=1, max_size=12).filter(str.strip)
queries = st.one_of(
    st.just({"match_all": {}}),
    st.builds(lambda f, t: {"match": {f: t}}, st.sampled_from(["text", "title"]), words),
    st.builds(lambda t: {"term": {"tag": t}}, words),
)
filters = st.one_of(st.none(), queries, st.lists(queries, min_size=1, max_size=2))
opt = st.none
numbers = st.floats(min_value=-50, max_value=50, allow_nan=False)

standard = st.builds(
    StandardRetriever,
    query=st.one_of(opt(), queries),
    filter=filters,
    sort=st.one_of(opt(), st.just(["tag", {"num": {"order": "desc"}}])),
    search_after=st.one_of(opt(), st.just(["a", 3])),
    terminate_after=st.one_of(opt(), st.integers(0, 20)),
    collapse=st.one_of(opt(), st.just({"field": "tag"})),
    min_score=st.one_of(opt(), numbers),
    name=st.one_of(opt(), words),
)
knn = st.builds(
    lambda k, extra, vec, f, sim: KnnRetriever(
        field="vector", query_vector=vec, k=k, num_candidates=k + extra, filter=f, similarity=sim
    ),
    st.integers(1, 50),
    st.integers(0, 50),
    st.lists(numbers, min_size=1, max_size=4),
    filters,
    st.one_of(opt(), numbers),
)


def extend(children: st.SearchStrategy[Retriever]) -> st.SearchStrategy[Retriever]:
    rrf = st.builds(
        RRFRetriever,
        retrievers=st.lists(children, min_size=1, max_size=3),
        rank_constant=st.one_of(opt(), st.integers(1, 100)),
        rank_window_size=st.one_of(opt(), st.integers(0, 100)),
        filter=filters,
    )
    weights = st.one_of(opt(), st.floats(min_value=0, max_value=10))
    normalizers = st.one_of(opt(), st.sampled_from(["none", "minmax", "l2_norm"]))
    weighted_rrf = st.builds(
        RRFRetriever,
        retrievers=st.lists(
            st.one_of(children, st.builds(WeightedRetriever, retriever=children, weight=weights)),
            min_size=1,
            max_size=3,
        ),
        min_score=st.one_of(opt(), numbers),
    )
    multi_field = st.builds(
        RRFRetriever, query=words, fields=st.one_of(opt(), st.just(["title^2", "text"]))
    )
    linear = st.builds(
        LinearRetriever,
        retrievers=st.lists(
            st.builds(
                WeightedRetriever, retriever=children, weight=weights, normalizer=normalizers
            ),
            min_size=1,
            max_size=3,
        ),
        rank_window_size=st.one_of(opt(), st.integers(0, 100)),
        min_score=st.one_of(opt(), numbers),
        filter=filters,
    )
    linear_top = st.builds(
        LinearRetriever,
        retrievers=st.lists(
            st.builds(WeightedRetriever, retriever=children, weight=weights), min_size=1, max_size=2
        ),
        normalizer=st.sampled_from(["none", "minmax", "l2_norm"]),
    )
    rescorer = st.builds(
        RescorerRetriever,
        retriever=children,
        rescore=st.just({"window_size": 5, "query": {"rescore_query": {"match_all": {}}}}),
    )
    pinned = st.builds(
        PinnedRetriever, ids=st.just(["d1", "d2"]), retriever=children, filter=filters
    )
    rule = st.builds(
        RuleRetriever,
        retriever=children,
        ruleset_ids=st.just(["rules"]),
        match_criteria=st.just({"query_string": "pugs"}),
    )
    rerank = st.builds(
        TextSimilarityReranker,
        retriever=children,
        field=st.sampled_from(["text", "body.text"]),
        inference_text=words,
        inference_id=st.one_of(opt(), words),
        rank_window_size=st.one_of(opt(), st.integers(0, 100)),
        min_score=st.one_of(opt(), numbers),
        filter=filters,
        allow_rerank_failures=st.one_of(opt(), st.booleans()),
        name=st.one_of(opt(), words),
    )
    return st.one_of(
        rrf, rerank, weighted_rrf, multi_field, linear, linear_top, rescorer, pinned, rule
    )


specs = st.recursive(st.one_of(standard, knn), extend, max_leaves=6)


@settings(max_examples=150, deadline=None)
@given(specs)
def test_round_trip_through_json_text(spec: Retriever) -> None:
    body: dict[str, Any] = json.loads(json.dumps(spec.to_dict()))
    parsed = retriever_from_dict(body)
    assert parsed.to_dict() == body
    assert parsed == spec
