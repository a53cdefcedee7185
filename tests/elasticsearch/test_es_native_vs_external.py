"""The same ``text_similarity_reranker`` searches run natively (ES calls a shim serving a
deterministic rule) and externally (the client applies ES's rules with the same rule, and
with the cluster's own ``_inference`` endpoint): same hits, same order, same scores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from es_rerank import ElasticInferenceReranker, ElasticsearchBackend, search
from es_rerank.elastic import bulk_index, create_endpoint, delete_endpoint, endpoint_body
from tests.elasticsearch.conftest import Cluster
from tests.elasticsearch.es_scorers import word_overlap
from tests.helpers.shim import shim_for_cluster

pytestmark = pytest.mark.elasticsearch


CORPUS = Path(__file__).resolve().parents[2] / "docker" / "sample-corpus.jsonl"
KEY = "native-vs-external"


@pytest.fixture(scope="module")
def setup(cluster: Cluster) -> Iterator[tuple[Any, str]]:
    index = cluster.unique("es-rerank-passages")
    client = cluster.client
    docs = [json.loads(line) for line in CORPUS.read_text().splitlines() if line]
    # A passage without the reranked field: dropped by both executions.
    docs.append({"id": "no-text", "title": "Berlin people"})
    result = bulk_index(client, index, docs, id_field="id", mapping="passages", progress=False)
    assert result.indexed == len(docs) and not result.rejected
    shim = shim_for_cluster(
        ["--scorer", "tests.elasticsearch.es_scorers:word_overlap"], api_key=KEY
    )
    inference_id = cluster.unique("es-rerank-rule")
    body = endpoint_body("hugging_face", url=shim.url_for(cluster.shim_host), api_key=KEY)
    try:
        create_endpoint(client, inference_id=inference_id, body=body)
        yield ElasticsearchBackend(client, index), inference_id
    finally:
        delete_endpoint(client, inference_id=inference_id, force=True)
        shim.terminate()
        client.indices.delete(index=index, ignore_unavailable=True)


def reranker_node(inference_id: str, **params: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "retriever": {"standard": {"query": {"match": {"text": "berlin people city capital"}}}},
        "field": "text",
        "inference_text": "how many people live in berlin",
        "inference_id": inference_id,
    }
    node.update(params)
    return {"text_similarity_reranker": node}


CASES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "small-window": {"rank_window_size": 3},
    "min-score": {"min_score": 0.2},
    "filter": {"filter": {"ids": {"values": ["berlin-1", "berlin-3", "pop-1", "paris-1"]}}},
    "match-all": {"retriever": {"standard": {}}, "rank_window_size": 25},
    "title-field": {"field": "title"},
}


def assert_same(a: Any, b: Any) -> None:
    assert len(a.hits) == len(b.hits)
    for x, y in zip(a.hits, b.hits, strict=True):
        assert x.score == pytest.approx(y.score, rel=1e-5, abs=1e-5)
    # Equal scores may come in a different order (ES breaks ties by doc id); the rest may not.
    groups_a: dict[float, set[str]] = {}
    groups_b: dict[float, set[str]] = {}
    for x, y in zip(a.hits, b.hits, strict=True):
        groups_a.setdefault(round(x.score, 4), set()).add(x.id)
        groups_b.setdefault(round(x.score, 4), set()).add(y.id)
    assert groups_a == groups_b


@pytest.mark.parametrize("case", list(CASES))
def test_native_equals_external(setup: tuple[Any, str], case: str) -> None:
    backend, inference_id = setup
    retriever = reranker_node(inference_id, **CASES[case])
    native = search(retriever, backend=backend, mode="native", size=10)
    by_rule = search(retriever, backend=backend, mode="external", size=10, reranker=word_overlap)
    by_endpoint = search(
        retriever,
        backend=backend,
        mode="external",
        size=10,
        reranker=ElasticInferenceReranker(backend.client, inference_id),
    )
    assert native.mode == "native" and by_rule.mode == "external"
    assert native.hits, "a case that returns nothing proves nothing"
    assert "no-text" not in {h.id for h in native.hits}
    assert_same(native, by_rule)
    assert_same(native, by_endpoint)
    if "min_score" not in CASES[case]:
        # hits.total is the child's total (ES counts the child query's matches), not the window
        assert (by_rule.total, by_rule.total_relation) == (native.total, native.total_relation)
