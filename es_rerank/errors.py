"""Typed errors of the client. Every one names what went wrong; Elasticsearch errors keep
ES's own ``reason`` so that native and external runs fail with the same words.

>>> err = RetrieverValidationError("size", "[size] must be an integer >= 0, got -1")
>>> isinstance(err, ValueError), err.param
(True, 'size')
"""

from __future__ import annotations

__all__ = [
    "ElasticsearchError",
    "ElasticsearchRequestError",
    "EsRerankError",
    "InferenceEndpointNotFoundError",
    "LicenseError",
    "RerankError",
    "RerankerNotConfiguredError",
    "RetrieverValidationError",
]


class EsRerankError(Exception):
    """Base class of every error raised by ``es_rerank``'s client."""


class RetrieverValidationError(EsRerankError, ValueError):
    """A retriever or search parameter breaks one of Elasticsearch's rules.

    ``param`` names the offending parameter (``rank_window_size``, ``inference_text``...).
    """

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


class RerankerNotConfiguredError(EsRerankError, ValueError):
    """External execution has no way to score a ``text_similarity_reranker`` node."""


class RerankError(EsRerankError, RuntimeError):
    """A reranker failed, or returned a different number of scores than it was given texts."""


class ElasticsearchError(EsRerankError):
    """Elasticsearch refused a request. ``status`` is the HTTP status, ``error_type`` ES's
    error type (``resource_not_found_exception``...), ``reason`` ES's reason text."""

    def __init__(self, reason: str, *, status: int | None = None, error_type: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.error_type = error_type


class LicenseError(ElasticsearchError, PermissionError):
    """The cluster's license does not allow the feature (ES answers 403 non-compliant)."""


class InferenceEndpointNotFoundError(ElasticsearchError, LookupError):
    """``Inference endpoint not found [ID]``: no rerank endpoint (or reranker) with that id."""


class ElasticsearchRequestError(ElasticsearchError, ValueError):
    """Elasticsearch rejected the request as invalid (HTTP 400)."""
