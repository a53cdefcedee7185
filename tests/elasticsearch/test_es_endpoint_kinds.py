"""Every endpoint kind the CLI creates, against a real cluster calling a real shim: ES's
``_inference/rerank`` answers carry exactly the scorer's raw scores."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest

from es_rerank import ElasticsearchBackend, StandardRetriever, TextSimilarityReranker, search
from es_rerank.elastic import (
    create_endpoint,
    delete_endpoint,
    endpoint_body,
    list_endpoints,
    rerank,
)
from es_rerank.errors import ElasticsearchConflictError, ElasticsearchError
from tests.elasticsearch.conftest import Cluster
from tests.elasticsearch.es_scorers import word_overlap
from tests.helpers.shim import ShimProcess, shim_for_cluster

pytestmark = pytest.mark.elasticsearch

KEY = "es-rerank-test-key"
QUERY = "how many people live in berlin"
TEXTS = [
    "Berlin has about 3.7 million people.",
    "The Eiffel Tower is in Paris.",
    "How many people live in Berlin today?",
    "Cats purr.",
]


@pytest.fixture(scope="module")
def shim() -> Iterator[ShimProcess]:
    proc = shim_for_cluster(
        ["--scorer", "tests.elasticsearch.es_scorers:word_overlap"], api_key=KEY
    )
    yield proc
    proc.terminate()


@pytest.mark.parametrize("service", ["hugging_face", "custom", "cohere"])
def test_endpoint_kind_returns_the_scorer_scores(
    cluster: Cluster, shim: ShimProcess, service: str
) -> None:
    inference_id = cluster.unique(f"es-rerank-{service.replace('_', '-')}")
    body = endpoint_body(
        service,
        url=shim.url_for(cluster.shim_host),
        api_key=KEY,
        model_id="word-overlap" if service == "cohere" else None,
    )
    create_endpoint(cluster.client, inference_id=inference_id, body=body)
    try:
        assert inference_id in {e["inference_id"] for e in list_endpoints(cluster.client)}
        ranked = rerank(cluster.client, inference_id=inference_id, query=QUERY, texts=TEXTS)
        expected = word_overlap(QUERY, TEXTS)
        assert sorted(r.index for r in ranked) == list(range(len(TEXTS)))
        for r in ranked:
            assert r.score == pytest.approx(expected[r.index], abs=1e-5)
        assert [r.index for r in ranked] == sorted(range(len(TEXTS)), key=lambda i: -expected[i])
        top2 = rerank(cluster.client, inference_id=inference_id, query=QUERY, texts=TEXTS, top_n=2)
        assert [r.index for r in top2] == [r.index for r in ranked[:2]]
        with pytest.raises(ElasticsearchConflictError, match="already exists"):
            create_endpoint(cluster.client, inference_id=inference_id, body=body)
    finally:
        delete_endpoint(cluster.client, inference_id=inference_id)


def test_wrong_key_and_unreachable_url_are_explained(cluster: Cluster, shim: ShimProcess) -> None:
    body = endpoint_body("hugging_face", url="http://127.0.0.1:9", api_key=KEY)
    with pytest.raises(ElasticsearchError, match="reachable from the Elasticsearch nodes"):
        create_endpoint(cluster.client, inference_id=cluster.unique("es-rerank-nowhere"), body=body)
    body = endpoint_body("hugging_face", url=shim.url_for(cluster.shim_host), api_key="wrong")
    with pytest.raises(ElasticsearchError):
        create_endpoint(cluster.client, inference_id=cluster.unique("es-rerank-badkey"), body=body)


@pytest.mark.parametrize("service", ["cohere", "hugging_face"])
def test_max_window_is_the_guard_es_applies_to_the_retriever(
    cluster: Cluster, shim: ShimProcess, service: str
) -> None:
    """``--max-window`` as the endpoint's ``task_settings.top_n``: a larger
    ``rank_window_size`` fails. ES refuses it up front for cohere on every 9.x and for
    hugging_face where its guard reads that service; elsewhere the call returns fewer
    scores than inputs and ES fails on the count. Never a silent partial result."""
    inference_id = cluster.unique(f"es-rerank-window-{service.replace('_', '-')}")
    index = cluster.unique("es-rerank-window")
    cluster.client.indices.create(index=index)
    for i, text in enumerate(TEXTS):
        cluster.client.index(index=index, id=str(i), document={"text": text})
    cluster.client.indices.refresh(index=index)
    body = endpoint_body(
        service,
        url=shim.url_for(cluster.shim_host),
        api_key=KEY,
        model_id="word-overlap" if service == "cohere" else None,
        max_window=2,
    )
    create_endpoint(cluster.client, inference_id=inference_id, body=body)
    try:
        backend = ElasticsearchBackend(cluster.client, index)
        spec = TextSimilarityReranker(
            retriever=StandardRetriever(),
            field="text",
            inference_text=QUERY,
            inference_id=inference_id,
            rank_window_size=2,
        )
        assert len(search(spec, backend=backend, mode="native", size=2).hits) == 2
        wide = dataclasses.replace(spec, rank_window_size=3)
        with pytest.raises(ElasticsearchError) as refused:
            search(wide, backend=backend, mode="native", size=2)
        guard = "is configured to return the top [2] results, but rank_window_size is [3]"
        if service == "cohere":
            assert guard in str(refused.value)
        else:
            assert re.search(
                r"configured to return the top \[2\]|count mismatch|unreported top N",
                str(refused.value),
            )
    finally:
        delete_endpoint(cluster.client, inference_id=inference_id)
        cluster.client.indices.delete(index=index)
