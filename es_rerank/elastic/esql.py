"""The cluster's ES|QL API (``POST _query``): one query in, the JSON body out, refusals as
the typed errors of :mod:`es_rerank.errors` (ES's own reason kept, such as a ``RERANK``
parse error or ``Unknown column``). :class:`ElasticsearchEsql` is a cluster as the source
of :func:`es_rerank.esql.run_external` and :func:`es_rerank.esql.run_native`.

>>> from elasticsearch import Elasticsearch
>>> source = ElasticsearchEsql(Elasticsearch("http://localhost:9200"))
>>> source.esql("FROM books | LIMIT 1")  # doctest: +SKIP
{'columns': [...], 'values': [[...]], ...}
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from es_rerank.elastic.errors import translated
from es_rerank.elastic.inference import ElasticInferenceReranker, get_endpoint

__all__ = ["ElasticsearchEsql", "esql_query"]


def esql_query(client: Elasticsearch, query: str) -> dict[str, Any]:
    """Run ``query`` and return the response body (``columns`` and ``values``)."""
    with translated():
        response = client.esql.query(query=query)
    body: dict[str, Any] = dict(response.body)
    return body


class ElasticsearchEsql:
    """Runs ES|QL on ``client`` and serves the cluster's rerank inference endpoints."""

    def __init__(self, client: Elasticsearch) -> None:
        self.client = client

    def esql(self, query: str) -> dict[str, Any]:
        return esql_query(self.client, query)

    def inference_reranker(self, inference_id: str) -> ElasticInferenceReranker:
        """The endpoint as a reranker; ES's ``Inference endpoint not found [ID]`` first
        when there is none."""
        get_endpoint(self.client, inference_id)
        return ElasticInferenceReranker(self.client, inference_id)

    def __repr__(self) -> str:
        return "ElasticsearchEsql()"
