"""Typed errors of ``es_rerank``. Every one names what went wrong; Elasticsearch errors keep
ES's own ``reason`` so that native and external runs fail with the same words, and may add
a ``hint`` saying what usually fixes it.

Every error the package raises derives from :class:`EsRerankError`::

    EsRerankError
    ├── ConfigurationError (ValueError)          a bad argument, flag or environment value
    │   ├── RetrieverValidationError             breaks one of Elasticsearch's rules (.param)
    │   ├── RerankerNotConfiguredError           external execution has nothing to score with
    │   ├── ChildRetrieversFailedError           children of an rrf/linear refused (.failures)
    │   └── EsqlError                            an ES|QL query that cannot run as asked
    ├── LocalIndexError (ValueError)             a path that is not (or cannot be) a local index
    ├── MissingExtraError (ImportError)          an optional extra is not installed
    ├── ModelLoadError (RuntimeError)            a model could not be loaded
    ├── RuntimeUnavailableError (ValueError)     a runtime/dtype cannot serve the model here
    ├── RerankError (RuntimeError)               a reranker failed or miscounted its scores
    ├── UploadError (ValueError)                 a model cannot be traced or uploaded
    └── ElasticsearchError                       talking to a cluster failed (.status, .reason)
        ├── ElasticsearchConnectionError (ConnectionError)   unreachable, TLS, timeout
        ├── NotElasticsearchError                the URL answers, but not as Elasticsearch
        ├── ElasticsearchRequestError (ValueError)           400
        ├── AuthenticationError (PermissionError)            401
        ├── AuthorizationError (PermissionError)             403
        │   └── LicenseError                     403: the license does not allow the feature
        ├── ElasticsearchNotFoundError (LookupError)         404
        │   └── InferenceEndpointNotFoundError   ``Inference endpoint not found [ID]``
        └── ElasticsearchConflictError           409, or ``... already exists``

(``MissingExtraError`` is defined in :mod:`es_rerank.extras`, ``EsqlError`` in
:mod:`es_rerank.esql.commands`, ``ModelLoadError`` in
:mod:`es_rerank.models` and ``RuntimeUnavailableError`` in :mod:`es_rerank.runtime.base`,
beside the code that raises them.)

>>> err = RetrieverValidationError("size", "[size] must be an integer >= 0, got -1")
>>> isinstance(err, ValueError), isinstance(err, EsRerankError), err.param
(True, True, 'size')
>>> str(LicenseError("current license is non-compliant", status=403, hint="start a trial"))
'current license is non-compliant; start a trial'
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "AuthorizationError",
    "ChildRetrieversFailedError",
    "ConfigurationError",
    "ElasticsearchConflictError",
    "ElasticsearchConnectionError",
    "ElasticsearchError",
    "ElasticsearchNotFoundError",
    "ElasticsearchRequestError",
    "EsRerankError",
    "InferenceEndpointNotFoundError",
    "LicenseError",
    "LocalIndexError",
    "NotElasticsearchError",
    "RerankError",
    "RerankerNotConfiguredError",
    "RetrieverValidationError",
    "UploadError",
]


class EsRerankError(Exception):
    """Base class of every error raised by ``es_rerank``."""


class ConfigurationError(EsRerankError, ValueError):
    """A caller-supplied value is wrong: an argument, a command-line flag or an environment
    variable. The message names it."""


class RetrieverValidationError(ConfigurationError):
    """A retriever or search parameter breaks one of Elasticsearch's rules.

    ``param`` names the offending parameter (``rank_window_size``, ``inference_text``...).
    """

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


class ChildRetrieversFailedError(ConfigurationError):
    """Children of an ``rrf`` or ``linear`` retriever refused their requests (4xx), as ES's
    ``CompoundRetrieverBuilder`` reports it: ``[rrf] search failed - retrievers '[standard]'
    returned errors. All failures are attached as suppressed exceptions.``, with the
    children's errors in ``failures`` (``__cause__`` is the first) and ``status`` the
    highest of theirs (400 for a refused query).

    >>> err = ChildRetrieversFailedError("rrf", ["standard"], [ValueError("bad field")])
    >>> str(err).split(" - ")[1][:40], err.status, [str(f) for f in err.failures]
    ("retrievers '[standard]' returned errors.", 400, ['bad field'])
    """

    def __init__(self, node: str, children: list[str], failures: list[BaseException]) -> None:
        super().__init__(
            f"[{node}] search failed - retrievers '[{', '.join(children)}]' returned errors. "
            "All failures are attached as suppressed exceptions."
        )
        self.failures = list(failures)
        self.status = max(int(getattr(f, "status", None) or 400) for f in failures)
        self.__cause__ = failures[0] if failures else None


class RerankerNotConfiguredError(ConfigurationError):
    """External execution has no way to score a ``text_similarity_reranker`` node."""


class LocalIndexError(EsRerankError, ValueError):
    """A path that is not an es-rerank local index (or cannot become one)."""


class RerankError(EsRerankError, RuntimeError):
    """A reranker failed, or returned a different number of scores than it was given texts."""


class UploadError(EsRerankError, ValueError):
    """A model cannot be traced or uploaded; the message says why."""


class ElasticsearchError(EsRerankError):
    """Talking to Elasticsearch failed. ``status`` is the HTTP status (``None`` when there
    was no answer), ``error_type`` ES's error type (``resource_not_found_exception``...),
    ``reason`` ES's reason text and ``hint`` what usually fixes it (may be empty)."""

    def __init__(
        self, reason: str, *, status: int | None = None, error_type: str = "", hint: str = ""
    ) -> None:
        super().__init__(f"{reason}; {hint}" if hint else reason)
        self.reason = reason
        self.status = status
        self.error_type = error_type
        self.hint = hint


class ElasticsearchConnectionError(ElasticsearchError, ConnectionError):
    """No answer from the cluster: refused, unknown host, TLS failure or timeout."""


class NotElasticsearchError(ElasticsearchError):
    """The URL answered, but not as Elasticsearch does (no ``X-Elastic-Product`` header and
    no Elasticsearch error body): usually a wrong URL or port."""


class ElasticsearchRequestError(ElasticsearchError, ValueError):
    """Elasticsearch rejected the request as invalid (HTTP 400)."""


class AuthenticationError(ElasticsearchError, PermissionError):
    """Elasticsearch did not accept the credentials (HTTP 401)."""


class AuthorizationError(ElasticsearchError, PermissionError):
    """The credentials lack a privilege for the request (HTTP 403)."""


class LicenseError(AuthorizationError):
    """The cluster's license does not allow the feature (ES answers 403 non-compliant)."""


class ElasticsearchNotFoundError(ElasticsearchError, LookupError):
    """What the request names does not exist (HTTP 404)."""


class InferenceEndpointNotFoundError(ElasticsearchNotFoundError):
    """``Inference endpoint not found [ID]``: no rerank endpoint (or reranker) with that id."""


class ElasticsearchConflictError(ElasticsearchError):
    """The thing to create already exists, or a concurrent change conflicts (HTTP 409)."""
