"""An Elasticsearch index as a backend: leaf queries for external reranking, whole retrievers
natively, and the cluster's rerank inference endpoints as rerankers. It implements
:class:`~es_rerank.backends.Backend`, :class:`~es_rerank.backends.SearchRequestBackend`,
:class:`~es_rerank.backends.RetrieverBackend` and
:class:`~es_rerank.backends.InferenceRerankBackend`.

>>> from elasticsearch import Elasticsearch
>>> from es_rerank.backends import InferenceRerankBackend, RetrieverBackend
>>> backend = ElasticsearchBackend(Elasticsearch("http://localhost:9200"), "docs")
>>> isinstance(backend, RetrieverBackend), isinstance(backend, InferenceRerankBackend)
(True, True)
>>> backend.search_query({"match": {"text": "moon"}}, size=10)  # doctest: +SKIP
[Hit(id='3', score=2.1, source={...}), ...]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from elasticsearch import Elasticsearch

from es_rerank.backends.base import Hits
from es_rerank.backends.retriever_request import RetrieverRequest, as_request
from es_rerank.chunking.endpoint_defaults import ENDPOINT_CHUNK_SIZE_SINCE, for_cluster
from es_rerank.chunking.settings import ChunkRescorer
from es_rerank.elastic.cluster import cluster_version, license_type
from es_rerank.elastic.errors import translated
from es_rerank.elastic.inference import ElasticInferenceReranker, get_endpoint
from es_rerank.elastic.responses import hits_from_response, result_from_response
from es_rerank.errors import (
    AuthenticationError,
    AuthorizationError,
    ConfigurationError,
    ElasticsearchError,
    ElasticsearchNotFoundError,
    ElasticsearchRequestError,
)
from es_rerank.results import SearchResult
from es_rerank.retrievers import STANDARD_OPTIONS

__all__ = ["NATIVE_LICENSES", "ElasticsearchBackend"]

#: License types under which a self-managed cluster runs ``text_similarity_reranker``.
NATIVE_LICENSES: Final = frozenset({"enterprise", "trial"})


class ElasticsearchBackend:
    """Runs leaf queries (for external reranking) and whole retrievers (native) on one
    index or index pattern of ``client``."""

    def __init__(self, client: Elasticsearch, index: str) -> None:
        if not isinstance(index, str) or not index:
            raise ConfigurationError("index must be a non-empty string (--index NAME)")
        self.client = client
        self.index = index
        self._native: bool | None = None
        self._known_endpoints: set[str] = set()
        self._version: tuple[int, int, int] | None = None
        self._endpoints: dict[str, dict[str, Any]] = {}

    def search_query(self, query: Mapping[str, Any] | None, *, size: int) -> Hits:
        with translated():
            response = self.client.search(
                index=self.index,
                query=dict(query) if query is not None else {"match_all": {}},
                size=size,
            )
        return hits_from_response(response.body)

    def search_request(
        self, query: Mapping[str, Any] | None, *, size: int, options: Mapping[str, Any]
    ) -> Hits:
        """``_search`` with the standard retriever's own options (``sort``,
        ``search_after``, ``terminate_after``, ``min_score``, ``collapse``) beside the query;
        hits carry their ``sort`` values."""
        unknown = [key for key in options if key not in STANDARD_OPTIONS]
        if unknown:
            raise ValueError(f"search_request does not take the option [{unknown[0]}]")
        with translated():
            response = self.client.search(
                index=self.index,
                query=dict(query) if query is not None else {"match_all": {}},
                size=size,
                **dict(options),
            )
        return hits_from_response(response.body)

    def search_retriever(
        self, request: RetrieverRequest | Mapping[str, Any], /, **old: Any
    ) -> SearchResult:
        """``_search`` with ``retriever=``: ES runs the whole tree (``explain`` adds each
        hit's ``_explanation``, kept in ``result.raw``; ``collapse`` is the request's
        top-level ``collapse``). The old call form ``search_retriever(retriever, size=...,
        ...)`` still works, with a ``DeprecationWarning``."""
        request = as_request(request, old)
        # ES takes a list of fields as _source too; the client's annotation is narrower.
        source: Any = request.source if isinstance(request.source, bool) else list(request.source)
        extra: dict[str, Any] = {"explain": True} if request.explain else {}
        if request.collapse is not None:
            extra["collapse"] = dict(request.collapse)
        with translated():
            response = self.client.search(
                index=self.index,
                retriever=dict(request.retriever),
                size=request.size,
                from_=request.from_,
                source=source,
                **extra,
            )
        return result_from_response(response.body, from_=request.from_)

    def supports_native(self) -> bool:
        """True when the cluster's license runs ``text_similarity_reranker`` (asked once)."""
        if self._native is None:
            try:
                self._native = license_type(self.client) in NATIVE_LICENSES
            except (
                AuthenticationError,
                AuthorizationError,
                ElasticsearchNotFoundError,
                ElasticsearchRequestError,
            ):
                # No license API for this user (or this deployment): don't guess native.
                self._native = False
        return self._native

    def inference_reranker(self, inference_id: str) -> ElasticInferenceReranker:
        """A reranker calling this cluster's ``_inference/rerank/<inference_id>``.

        The endpoint is looked up first (once per id), so an unknown one fails with ES's
        ``Inference endpoint not found [ID]`` even when the child matches nothing, as a
        native search does.
        """
        if inference_id not in self._known_endpoints:
            get_endpoint(self.client, inference_id)
            self._known_endpoints.add(inference_id)
        return ElasticInferenceReranker(self.client, inference_id)

    def chunk_rescorer_for(self, inference_id: str, rescorer: ChunkRescorer) -> ChunkRescorer:
        """``rescorer`` with the default chunk size this cluster's version uses for the
        endpoint (:func:`~es_rerank.chunking.endpoint_defaults.for_cluster`); explicit
        ``chunking_settings`` win, and an endpoint that cannot be read changes nothing (the
        search itself then fails as ES would)."""
        if rescorer.chunking_settings is not None:
            return rescorer
        try:
            if self._version is None:
                self._version = cluster_version(self.client)
            if self._version < ENDPOINT_CHUNK_SIZE_SINCE:
                return for_cluster(rescorer, self._version, {})
            if inference_id not in self._endpoints:
                self._endpoints[inference_id] = get_endpoint(self.client, inference_id)
        except ElasticsearchError:
            return rescorer
        return for_cluster(rescorer, self._version, self._endpoints[inference_id])

    def __repr__(self) -> str:
        return f"ElasticsearchBackend(index={self.index!r})"
