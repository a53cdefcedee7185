"""Every endpoint kind the CLI creates, against a real cluster calling a real shim: ES's
``_inference/rerank`` answers carry exactly the scorer's raw scores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
from tests.elasticsearch.shim_process import ShimOnAllInterfaces

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
def shim() -> Iterator[ShimOnAllInterfaces]:
    proc = ShimOnAllInterfaces(
        ["--scorer", "tests.elasticsearch.es_scorers:word_overlap"], api_key=KEY
    )
    yield proc
    proc.stop()


@pytest.mark.parametrize("service", ["hugging_face", "custom", "cohere"])
def test_endpoint_kind_returns_the_scorer_scores(
    cluster: Cluster, shim: ShimOnAllInterfaces, service: str
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


def test_wrong_key_and_unreachable_url_are_explained(
    cluster: Cluster, shim: ShimOnAllInterfaces
) -> None:
    body = endpoint_body("hugging_face", url="http://127.0.0.1:9", api_key=KEY)
    with pytest.raises(ElasticsearchError, match="reachable from the Elasticsearch nodes"):
        create_endpoint(cluster.client, inference_id=cluster.unique("es-rerank-nowhere"), body=body)
    body = endpoint_body("hugging_face", url=shim.url_for(cluster.shim_host), api_key="wrong")
    with pytest.raises(ElasticsearchError):
        create_endpoint(cluster.client, inference_id=cluster.unique("es-rerank-badkey"), body=body)
