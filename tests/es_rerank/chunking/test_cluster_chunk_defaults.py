"""An external run against a cluster chunks as that cluster's chunk_rescorer would: up to
9.2 sentence chunks of 300 words, from 9.3 the window of the endpoint's service
(elastic/elasticsearch #137397; es_rerank.chunking.endpoint_defaults names the sources).
Real elasticsearch-py against a loopback server answering as ES does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from es_rerank import ElasticsearchBackend, StandardRetriever, TextSimilarityReranker, search
from tests.helpers.recording_server import Recorded, Reply, serve

PRODUCT = {"X-Elastic-Product": "Elasticsearch"}
# 50 sentences of 10 words: 500 words, more than one 300-word chunk
LONG = " ".join(f"Sentence number {i} talks about the moon and the sun." for i in range(50))


def _cluster(version: str, service: str) -> Any:
    def answer(rec: Recorded) -> Reply:
        path = rec.path.split("?")[0]
        if path == "/":
            return Reply(200, {"version": {"number": version}, "tagline": "You Know, for Search"})
        if path == "/_inference/rerank/ep":
            endpoint = {"inference_id": "ep", "task_type": "rerank", "service": service}
            return Reply(200, {"endpoints": [endpoint]})
        if path == "/docs/_search":
            hit = {"_index": "docs", "_id": "d1", "_score": 1.0, "_source": {"text": LONG}}
            total = {"value": 1, "relation": "eq"}
            return Reply(200, {"took": 1, "timed_out": False, "hits": {"total": total,
                                                                       "hits": [hit]}})  # fmt: skip
        return Reply(400, {"error": {"type": "x", "reason": path}, "status": 400})

    return answer


@pytest.mark.parametrize(
    ("version", "service", "chunks"),
    [("9.2.4", "cohere", 2), ("9.3.0", "cohere", 1), ("9.3.0", "elasticsearch", 2)],
)
def test_external_chunk_rescorer_follows_the_clusters_default(
    version: str, service: str, chunks: int
) -> None:
    sent: list[Sequence[str]] = []

    def reranker(query: str, texts: Sequence[str]) -> list[float]:
        sent.append(texts)
        return [1.0] * len(texts)

    spec = TextSimilarityReranker(
        retriever=StandardRetriever(query={"match": {"text": "moon"}}),
        field="text",
        inference_text="moon",
        inference_id="ep",
        chunk_rescorer={"size": 5},
    )
    with serve(_cluster(version, service), default_headers=PRODUCT) as es:
        backend = ElasticsearchBackend(Elasticsearch(es.url), "docs")
        search(spec, backend=backend, reranker=reranker, mode="external")
    assert len(sent[0]) == chunks
    assert all(len(text.split()) <= (300 if chunks == 2 else 2800) for text in sent[0])


def test_explicit_chunking_settings_win_over_the_clusters_default() -> None:
    sent: list[Sequence[str]] = []

    def reranker(query: str, texts: Sequence[str]) -> list[float]:
        sent.append(texts)
        return [1.0] * len(texts)

    settings = {"strategy": "sentence", "max_chunk_size": 100, "sentence_overlap": 0}
    spec = TextSimilarityReranker(
        retriever=StandardRetriever(query={"match": {"text": "moon"}}),
        field="text",
        inference_text="moon",
        inference_id="ep",
        chunk_rescorer={"size": 10, "chunking_settings": settings},
    )
    with serve(_cluster("9.3.0", "cohere"), default_headers=PRODUCT) as es:
        backend = ElasticsearchBackend(Elasticsearch(es.url), "docs")
        search(spec, backend=backend, reranker=reranker, mode="external")
    assert len(sent[0]) == 5 and all(len(t.split()) <= 100 for t in sent[0])
