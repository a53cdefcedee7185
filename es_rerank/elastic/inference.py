"""The cluster's ``_inference`` API for rerank endpoints: scoring through one
(:class:`ElasticInferenceReranker`, :func:`rerank`) and managing them (:func:`create_endpoint`,
:func:`get_endpoint`, :func:`list_endpoints`, :func:`delete_endpoint`). Refusals come back as
the typed errors of :mod:`es_rerank.errors`, with a hint that fits the operation.

>>> from elasticsearch import Elasticsearch
>>> r = ElasticInferenceReranker(Elasticsearch("http://localhost:9200"), "my-rerank")
>>> r
ElasticInferenceReranker(inference_id='my-rerank')
>>> r.rerank("q", ["a", "b"])  # doctest: +SKIP
[0.12, -3.4]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch

from es_rerank.elastic.errors import translated
from es_rerank.errors import (
    AuthorizationError,
    ConfigurationError,
    ElasticsearchConflictError,
    ElasticsearchError,
    ElasticsearchRequestError,
    EsRerankError,
    LicenseError,
    NotElasticsearchError,
    RerankError,
)
from es_rerank.rerankers.base import scores_from_rerank_response
from es_rerank.wire import InferenceRerankRequest, InferenceRerankResponse, WireError, validate

__all__ = [
    "ElasticInferenceReranker",
    "RankedText",
    "create_endpoint",
    "delete_endpoint",
    "get_endpoint",
    "list_endpoints",
    "rerank",
]

# ES's wording when the service it calls is unreachable while validating an endpoint.
_UNREACHABLE = re.compile(
    r"Failed to send|Connection refused|UnknownHost|connect timed out|No route to host|"
    r"Connect to .* failed|ConnectException",
    re.IGNORECASE,
)
# ES's wording when the called service answers 401/403 (e.g. a wrong shim key).
_SERVICE_AUTH = re.compile(r"authentication error|status \[40[13]\]", re.IGNORECASE)


def _endpoint_hint(
    inference_id: str, url: str | None
) -> Callable[[ElasticsearchError], str | None]:
    """What usually fixes a refused endpoint operation (``None``: the default hint)."""

    def hint(err: ElasticsearchError) -> str | None:
        if err.status is None or isinstance(err, LicenseError | NotElasticsearchError):
            return None  # no answer from ES, or not ES: the default hint says what to check
        if isinstance(err, AuthorizationError):
            return "managing inference endpoints needs the manage_inference cluster privilege"
        if isinstance(err, ElasticsearchConflictError):
            return (
                f"inference endpoint [{inference_id}] already exists: delete it first with "
                f"`es-rerank endpoint delete {inference_id}` or choose another id"
            )
        if _SERVICE_AUTH.search(err.reason):
            return (
                "the service refused the key Elasticsearch sent: pass the shim's key with "
                "--api-key (SHIM_API_KEY on the shim)"
            )
        if _UNREACHABLE.search(err.reason):
            where = f" at {url}" if url else ""
            return (
                f"Elasticsearch could not call the service{where}. The URL must be reachable "
                "from the Elasticsearch nodes, not only from this machine: inside Docker use "
                "the compose service name (http://shim:8080) or host.docker.internal for a "
                "shim on the host, and bind the shim to 0.0.0.0"
            )
        if isinstance(err, ElasticsearchRequestError):
            return "Elasticsearch rejected the endpoint settings"
        return None

    return hint


@dataclass(frozen=True)
class RankedText:
    """One entry of a rerank response: input position, raw score, text if returned."""

    index: int
    score: float
    text: str | None = None


def _check_id(inference_id: str) -> str:
    if not isinstance(inference_id, str) or not inference_id:
        raise ConfigurationError("inference_id must be a non-empty string")
    return inference_id


def _request(
    query: str,
    texts: Sequence[str],
    *,
    top_n: int | None = None,
    return_documents: bool | None = None,
    error: type[EsRerankError] = ConfigurationError,
) -> dict[str, Any]:
    """The ``POST _inference/rerank`` body, checked against the declared
    :class:`~es_rerank.wire.InferenceRerankRequest` before it is sent (an empty query, no
    texts, a bad ``top_n`` or a lone surrogate fail here as ``error``, naming the field)."""
    body: dict[str, Any] = {"query": query, "input": list(texts)}
    if top_n is not None:
        body["top_n"] = top_n
    if return_documents is not None:
        body["return_documents"] = return_documents
    try:
        return validate(InferenceRerankRequest, body).model_dump(mode="json", exclude_none=True)
    except WireError as exc:
        raise error(f"rerank request: {exc.message}") from None


def create_endpoint(
    client: Elasticsearch,
    *,
    inference_id: str,
    body: Mapping[str, Any],
    timeout: str | None = None,
) -> dict[str, Any]:
    """``PUT _inference/rerank/<inference_id>`` with ``body``; returns ES's answer (which
    never contains the secrets). ES calls the service once to validate it."""
    url = body.get("service_settings", {}).get("url")
    with translated(_endpoint_hint(_check_id(inference_id), url)):
        resp = client.inference.put(
            task_type="rerank", inference_id=inference_id, inference_config=body, timeout=timeout
        )
    return dict(resp.body)


def get_endpoint(client: Elasticsearch, inference_id: str) -> dict[str, Any]:
    """``GET _inference/rerank/<inference_id>``: the endpoint's public settings;
    :class:`~es_rerank.errors.InferenceEndpointNotFoundError` when there is none."""
    with translated(_endpoint_hint(_check_id(inference_id), None)):
        resp = client.inference.get(task_type="rerank", inference_id=inference_id)
    endpoints = resp.body.get("endpoints") or [{}]
    return dict(endpoints[0])


def delete_endpoint(client: Elasticsearch, *, inference_id: str, force: bool = False) -> None:
    """``DELETE _inference/rerank/<inference_id>`` (``force`` also when ingest uses it)."""
    with translated(_endpoint_hint(_check_id(inference_id), None)):
        client.inference.delete(task_type="rerank", inference_id=inference_id, force=force or None)


def list_endpoints(client: Elasticsearch) -> list[dict[str, Any]]:
    """All rerank endpoints (``GET _inference/rerank/_all``), ES's own included."""
    with translated(_endpoint_hint("_all", None)):
        resp = client.inference.get(task_type="rerank")
    return [dict(e) for e in resp.body.get("endpoints", [])]


def rerank(
    client: Elasticsearch,
    *,
    inference_id: str,
    query: str,
    texts: Sequence[str],
    top_n: int | None = None,
    return_documents: bool | None = None,
) -> list[RankedText]:
    """``POST _inference/rerank/<inference_id>``: raw scores, best first, as ES returns them
    (no normalization: that happens only inside the retriever)."""
    body = _request(query, texts, top_n=top_n, return_documents=return_documents)
    with translated(_endpoint_hint(_check_id(inference_id), None)):
        resp = client.inference.rerank(inference_id=inference_id, **body)
    try:
        answer = validate(InferenceRerankResponse, resp.body)
    except WireError as exc:
        raise ElasticsearchError(f"unexpected rerank response: {exc.message}") from None
    return [RankedText(index=r.index, score=r.relevance_score, text=r.text) for r in answer.rerank]


class ElasticInferenceReranker:
    """Scores with a rerank inference endpoint of an Elasticsearch cluster
    (``POST _inference/rerank/<inference_id>``); raw scores in input order.

    ``client`` is an ``elasticsearch.Elasticsearch``. ES errors become typed
    :mod:`es_rerank.errors` exceptions carrying ES's reason (e.g.
    ``Inference endpoint not found [ID]``).
    """

    def __init__(self, client: Elasticsearch, inference_id: str) -> None:
        self.client = client
        self.inference_id = _check_id(inference_id)

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        body = _request(query, texts, error=RerankError)
        with translated():
            response = self.client.inference.rerank(inference_id=self.inference_id, **body)
        return scores_from_rerank_response(response.body, len(texts))

    def __repr__(self) -> str:
        return f"ElasticInferenceReranker(inference_id={self.inference_id!r})"
