"""First-stage searches and native retriever searches on a real cluster
(elasticsearch-py 9.x), with ES errors mapped to typed :mod:`es_rerank.errors`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from es_rerank.backends.base import Hit
from es_rerank.errors import (
    ElasticsearchError,
    ElasticsearchRequestError,
    InferenceEndpointNotFoundError,
    LicenseError,
)

__all__ = ["NATIVE_LICENSES", "ElasticsearchBackend", "error_from_api_error"]

#: License types under which a self-managed cluster runs ``text_similarity_reranker``.
NATIVE_LICENSES = frozenset({"enterprise", "trial"})


def _reason_of(body: Any) -> tuple[str, str]:
    """ES's most specific (type, reason) in an error body: a shard failure's cause beats
    the generic ``search_phase_execution_exception``."""
    if not isinstance(body, Mapping):
        return "", str(body)
    error = body.get("error")
    if isinstance(error, str):
        return "", error
    if not isinstance(error, Mapping):
        return "", str(body)[:500]
    candidates: list[Mapping[str, Any]] = []
    for failure in error.get("failed_shards") or []:
        if isinstance(failure, Mapping) and isinstance(failure.get("reason"), Mapping):
            candidates.append(failure["reason"])
    if isinstance(error.get("caused_by"), Mapping):
        candidates.append(error["caused_by"])
    candidates.append(error)
    for root in error.get("root_cause") or []:
        if isinstance(root, Mapping):
            candidates.append(root)
    generic = {"search_phase_execution_exception", "status_exception"}
    for c in candidates:
        if c.get("reason") and c.get("type") not in generic:
            return str(c.get("type", "")), str(c["reason"])
    return str(error.get("type", "")), str(error.get("reason") or error)


def error_from_api_error(exc: Exception) -> ElasticsearchError:
    """Turn an ``elasticsearch.ApiError`` into the matching typed error, keeping ES's reason.

    >>> from elasticsearch import NotFoundError
    >>> from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
    >>> meta = ApiResponseMeta(404, "1.1", HttpHeaders(), 0.0, NodeConfig("http", "h", 9200))
    >>> body = {"error": {"type": "resource_not_found_exception",
    ...                   "reason": "Inference endpoint not found [nope]"}, "status": 404}
    >>> err = error_from_api_error(NotFoundError("not found", meta, body))
    >>> type(err).__name__, str(err)
    ('InferenceEndpointNotFoundError', 'Inference endpoint not found [nope]')
    """
    status = getattr(getattr(exc, "meta", None), "status", None)
    if status is None:
        status = getattr(exc, "status_code", None)
    error_type, reason = _reason_of(getattr(exc, "body", None))
    if not reason:
        reason = str(exc)
    lowered = reason.lower()
    if status == 403 and "license" in lowered:
        return LicenseError(reason, status=status, error_type=error_type)
    if "inference endpoint not found" in lowered or (
        status == 404 and error_type == "resource_not_found_exception" and "inference" in lowered
    ):
        return InferenceEndpointNotFoundError(reason, status=status, error_type=error_type)
    if status == 400:
        return ElasticsearchRequestError(reason, status=status, error_type=error_type)
    return ElasticsearchError(reason, status=status, error_type=error_type)


def _body(response: Any) -> Any:
    return response.body if hasattr(response, "body") else response


class ElasticsearchBackend:
    """Runs leaf queries (for external reranking) and whole retrievers (native) on one
    index or index pattern.

    >>> from elasticsearch import Elasticsearch
    >>> backend = ElasticsearchBackend(Elasticsearch("http://localhost:9200"), "docs")
    >>> backend.search_query({"match": {"text": "moon"}}, size=10)  # doctest: +SKIP
    [Hit(id='3', score=2.1, source={...}), ...]
    """

    def __init__(self, client: Any, index: str) -> None:
        if not isinstance(index, str) or not index:
            raise ValueError("index must be a non-empty string")
        self.client = client
        self.index = index
        self._native: bool | None = None
        self._known_endpoints: set[str] = set()

    def _call(self, method: Any, **kwargs: Any) -> Any:
        from elasticsearch import ApiError

        try:
            return _body(method(**kwargs))
        except ApiError as exc:
            raise error_from_api_error(exc) from exc

    def search_query(self, query: Mapping[str, Any] | None, *, size: int) -> list[Hit]:
        body = self._call(
            self.client.search,
            index=self.index,
            query=dict(query) if query is not None else {"match_all": {}},
            size=size,
        )
        return [
            Hit(
                id=str(h["_id"]), score=float(h.get("_score") or 0.0), source=h.get("_source") or {}
            )
            for h in body["hits"]["hits"]
        ]

    def search_retriever(
        self,
        retriever: Mapping[str, Any],
        *,
        size: int,
        from_: int = 0,
        source: bool | Sequence[str] = True,
    ) -> dict[str, Any]:
        """``_search`` with ``retriever=``; returns ES's response body."""
        src: bool | list[str] = source if isinstance(source, bool) else list(source)
        body = self._call(
            self.client.search,
            index=self.index,
            retriever=dict(retriever),
            size=size,
            from_=from_,
            source=src,
        )
        return dict(body)

    def license_type(self) -> str:
        body = self._call(self.client.license.get)
        lic = body.get("license") or {}
        if lic.get("status", "active") != "active":
            return "expired"
        return str(lic.get("type", "")).lower()

    def supports_native(self) -> bool:
        """True when the cluster's license runs ``text_similarity_reranker`` (cached)."""
        if self._native is None:
            try:
                self._native = self.license_type() in NATIVE_LICENSES
            except ElasticsearchError:
                # No license API (e.g. a security-restricted user): don't guess native.
                self._native = False
        return self._native

    def inference_reranker(self, inference_id: str) -> Any:
        """A reranker calling this cluster's ``_inference/rerank/<inference_id>``.

        The endpoint is looked up first (once per id), so an unknown one fails with ES's
        ``Inference endpoint not found [ID]`` even when the child matches nothing, as a
        native search does.
        """
        from es_rerank.rerankers.es_inference import ElasticInferenceReranker

        if inference_id not in self._known_endpoints:
            self._call(self.client.inference.get, task_type="rerank", inference_id=inference_id)
            self._known_endpoints.add(inference_id)
        return ElasticInferenceReranker(self.client, inference_id)
