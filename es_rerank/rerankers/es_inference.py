"""Reranking through a cluster's inference API (``POST _inference/rerank/<id>``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from es_rerank.errors import RerankError
from es_rerank.rerankers.base import check_scores

__all__ = ["ElasticInferenceReranker", "scores_from_rerank_response"]


def scores_from_rerank_response(body: Mapping[str, Any], n_inputs: int) -> list[float]:
    """Map ``{"rerank": [{"index", "relevance_score"}]}`` (any order) back to input order.

    >>> scores_from_rerank_response({"rerank": [{"index": 1, "relevance_score": 2.0},
    ...                                         {"index": 0, "relevance_score": -1.0}]}, 2)
    [-1.0, 2.0]
    """
    items = body.get("rerank") if isinstance(body, Mapping) else None
    if not isinstance(items, list):
        raise RerankError(f"rerank response has no [rerank] list: {str(body)[:200]}")
    scores: list[float | None] = [None] * n_inputs
    for item in items:
        try:
            index = int(item["index"])
            score = float(item["relevance_score"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RerankError(f"malformed rerank result {item!r}") from exc
        if not 0 <= index < n_inputs or scores[index] is not None:
            raise RerankError(f"rerank result index {index} is out of range or repeated")
        scores[index] = score
    if len(items) != n_inputs:
        raise RerankError(
            "Reranker input document count and returned score count mismatch: "
            f"[{n_inputs}] vs [{len(items)}]"
        )
    return check_scores([s for s in scores if s is not None], n_inputs)


class ElasticInferenceReranker:
    """Scores with a rerank inference endpoint of an Elasticsearch cluster.

    ``client`` is an ``elasticsearch.Elasticsearch``. ES errors become typed
    :mod:`es_rerank.errors` exceptions carrying ES's reason (e.g.
    ``Inference endpoint not found [ID]``).

    >>> from elasticsearch import Elasticsearch
    >>> r = ElasticInferenceReranker(Elasticsearch("http://localhost:9200"), "my-rerank")
    >>> r.rerank("q", ["a", "b"])  # doctest: +SKIP
    [0.12, -3.4]
    """

    def __init__(self, client: Any, inference_id: str) -> None:
        if not isinstance(inference_id, str) or not inference_id:
            raise ValueError("inference_id must be a non-empty string")
        self.client = client
        self.inference_id = inference_id

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        from elasticsearch import ApiError

        from es_rerank.backends.elasticsearch import error_from_api_error

        try:
            response = self.client.inference.rerank(
                inference_id=self.inference_id, query=query, input=list(texts)
            )
        except ApiError as exc:
            raise error_from_api_error(exc) from exc
        body = response.body if hasattr(response, "body") else response
        return scores_from_rerank_response(body, len(texts))

    def __repr__(self) -> str:
        return f"ElasticInferenceReranker(inference_id={self.inference_id!r})"
