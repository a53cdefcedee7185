"""Elasticsearch client exceptions -> the typed errors of :mod:`es_rerank.errors`.

One table, modelled on elasticsearch-py's ``exceptions.HTTP_EXCEPTIONS`` (status -> class),
refined by ES's error type and reason (a 403 about the license is a :class:`LicenseError`,
``Inference endpoint not found [ID]`` an :class:`InferenceEndpointNotFoundError`...). ES's
most specific ``reason`` is kept as the message; a hint saying what usually fixes it is
added. Answers that do not come from Elasticsearch at all (a wrong port, a web server, the
rerank shim) become :class:`NotElasticsearchError` instead of ES errors with no reason.

>>> from elasticsearch import NotFoundError
>>> from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
>>> headers = HttpHeaders({"X-Elastic-Product": "Elasticsearch"})
>>> meta = ApiResponseMeta(404, "1.1", headers, 0.0, NodeConfig("http", "h", 9200))
>>> body = {"error": {"type": "resource_not_found_exception",
...                   "reason": "Inference endpoint not found [nope]"}, "status": 404}
>>> err = translate(NotFoundError("not found", meta, body))
>>> type(err).__name__, err.reason
('InferenceEndpointNotFoundError', 'Inference endpoint not found [nope]')
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

import elastic_transport
import elasticsearch

from es_rerank.errors import (
    AuthenticationError,
    AuthorizationError,
    ElasticsearchConflictError,
    ElasticsearchConnectionError,
    ElasticsearchError,
    ElasticsearchNotFoundError,
    ElasticsearchRequestError,
    InferenceEndpointNotFoundError,
    LicenseError,
    NotElasticsearchError,
)

__all__ = ["error_reason", "translate", "translated"]

#: elasticsearch-py's table, with our classes.
STATUS_ERRORS: Final[Mapping[int, type[ElasticsearchError]]] = {
    400: ElasticsearchRequestError,
    401: AuthenticationError,
    403: AuthorizationError,
    404: ElasticsearchNotFoundError,
    409: ElasticsearchConflictError,
}

Rule = Callable[[int, str, str], bool]

# Checked in order before the status table: (status, ES error type, lower-cased reason).
REFINEMENTS: Final[list[tuple[Rule, type[ElasticsearchError]]]] = [
    (lambda status, _, reason: status == 403 and "license" in reason, LicenseError),
    (
        lambda status, kind, reason: (
            "inference endpoint not found" in reason
            or (status == 404 and kind == "resource_not_found_exception" and "inference" in reason)
        ),
        InferenceEndpointNotFoundError,
    ),
    (
        lambda _, kind, reason: (
            kind == "resource_already_exists_exception" or "already exists" in reason
        ),
        ElasticsearchConflictError,
    ),
]

HINTS: Final[Mapping[type[ElasticsearchError], str]] = {
    LicenseError: "text_similarity_reranker and the inference API need an Enterprise or trial "
    "license: start a trial with `POST _license/start_trial?acknowledge=true` (or run ES with "
    "xpack.license.self_generated.type=trial), or rerank client-side with --mode external",
    AuthenticationError: "check the credentials: --es-api-key (ES_API_KEY) or "
    "--es-username/--es-password (ES_USERNAME/ES_PASSWORD)",
    AuthorizationError: "the credentials lack a privilege this request needs",
    InferenceEndpointNotFoundError: "`es-rerank endpoint list` shows the rerank endpoints",
}

# Errors that only say the request failed; a shard's or a cause's reason is more useful.
_GENERIC_TYPES = frozenset({"search_phase_execution_exception", "status_exception"})


def error_reason(body: Any) -> tuple[str, str]:
    """ES's most specific (type, reason) in an error body: a shard failure's cause beats
    the generic ``search_phase_execution_exception``; ``("", "")`` when there is none."""
    if not isinstance(body, Mapping):
        return "", ""
    error = body.get("error")
    if isinstance(error, str):
        return "", error
    if not isinstance(error, Mapping):
        return "", ""
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
    for c in candidates:
        if c.get("reason") and c.get("type") not in _GENERIC_TYPES:
            return str(c.get("type", "")), str(c["reason"])
    # Only generic wrappers: their chain of reasons says what failed underneath.
    return str(error.get("type", "")), "; ".join(all_reasons(body))


def all_reasons(body: Any) -> list[str]:
    """Every ``reason`` in an ES error body, outermost first, without repeats."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            reason = node.get("reason")
            if isinstance(reason, str) and reason not in found:
                found.append(reason)
            for key in ("caused_by", "root_cause", "error"):
                if key in node:
                    walk(node[key])
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(body)
    return found


def _is_es_body(body: Any) -> bool:
    """ES's error shape (``{"error": {"type", "reason"}, "status"}``, or an old-style string
    error beside an integer ``status``): a proxy may drop ES's product header but keeps this."""
    if not isinstance(body, Mapping):
        return False
    error = body.get("error")
    if isinstance(error, Mapping):
        return "type" in error or "reason" in error
    return isinstance(error, str) and type(body.get("status")) is int


def _is_rerank_server_body(body: Any) -> bool:
    # TEI's and the shim's error body: {"error": "...", "error_type": "..."}.
    return (
        isinstance(body, Mapping)
        and isinstance(body.get("error"), str)
        and isinstance(body.get("error_type"), str)
    )


def _snippet(body: Any) -> str:
    text = " ".join(str(body).split()) if body not in (None, "") else "an empty body"
    return text if len(text) <= 120 else text[:117] + "..."


def _where(exc: Any) -> str:
    node = getattr(getattr(exc, "meta", None), "node", None)
    if node is None:
        return "the URL"
    return f"{node.scheme}://{node.host}:{node.port}{node.path_prefix}"


def _from_api_error(exc: elastic_transport.ApiError) -> ElasticsearchError:
    status = exc.meta.status
    body = exc.body
    product = exc.meta.headers.get("x-elastic-product", "")
    if product != "Elasticsearch" and _is_rerank_server_body(body):
        return NotElasticsearchError(
            f"{_where(exc)} is a rerank server (the es-rerank shim or Text Embeddings "
            f"Inference), not Elasticsearch: it answered HTTP {status} {_snippet(body)}",
            status=status,
            hint="give the cluster's URL to --es-url (ES_URL), usually port 9200; the rerank "
            "server's URL belongs to `es-rerank endpoint create --url`",
        )
    if isinstance(exc, elasticsearch.UnsupportedProductError) or (
        product != "Elasticsearch" and not _is_es_body(body)
    ):
        return NotElasticsearchError(
            f"{_where(exc)} is not Elasticsearch: it answered HTTP {status} without the "
            f"X-Elastic-Product header ({_snippet(body)})",
            status=status,
            hint="check --es-url (ES_URL): the cluster's HTTP port is usually 9200",
        )
    error_type, reason = error_reason(body)
    reason = reason or f"HTTP {status}: {_snippet(body)}"
    lowered = reason.lower()
    cls = next(
        (c for rule, c in REFINEMENTS if rule(status, error_type, lowered)),
        STATUS_ERRORS.get(status, ElasticsearchError),
    )
    return cls(reason, status=status, error_type=error_type, hint=HINTS.get(cls, ""))


def _from_transport_error(exc: elastic_transport.TransportError) -> ElasticsearchError:
    cause = exc.message
    node = re.search(r"host='([^']+)', port=(\d+)", cause)
    # elastic-transport nests the urllib3 error; its innermost text is the useful part.
    for marker in ("Failed to establish a new connection: ", "caused by: "):
        if marker in cause:
            cause = cause.rsplit(marker, 1)[1].rstrip(")")
    cause = re.sub(r"\w*Connection\(host='[^']*', port=\d+\): ", "", cause)
    where = f" at {node.group(1)}:{node.group(2)}" if node else ""
    if isinstance(exc, elastic_transport.TlsError):
        hint = "pass the cluster's CA with --ca-certs (ES_CA_CERTS), or --insecure to skip checks"
        return ElasticsearchConnectionError(
            f"TLS failure talking to Elasticsearch{where}: {cause}", hint=hint
        )
    if isinstance(exc, elastic_transport.ConnectionTimeout):
        return ElasticsearchConnectionError(
            f"Elasticsearch{where} did not answer in time: {cause}",
            hint="the cluster may be overloaded or the URL wrong",
        )
    if isinstance(exc, elastic_transport.SerializationError):
        return NotElasticsearchError(
            f"the answer could not be read as Elasticsearch's JSON: {cause}",
            hint="check --es-url (ES_URL)",
        )
    return ElasticsearchConnectionError(
        f"cannot reach Elasticsearch{where}: {cause}",
        hint="check --es-url / --cloud-id (ES_URL / ES_CLOUD_ID) and that the cluster is running",
    )


def translate(exc: BaseException) -> ElasticsearchError:
    """The typed error for an exception raised by elasticsearch-py (``ApiError`` or a
    transport error); anything else becomes a plain :class:`ElasticsearchError`."""
    if isinstance(exc, ElasticsearchError):
        return exc
    if isinstance(exc, elastic_transport.ApiError):
        return _from_api_error(exc)
    if isinstance(exc, elastic_transport.TransportError):
        return _from_transport_error(exc)
    return ElasticsearchError(f"{type(exc).__name__}: {exc}")


@contextmanager
def translated(hint: Callable[[ElasticsearchError], str | None] | None = None) -> Iterator[None]:
    """Re-raise elasticsearch-py's exceptions as typed errors. ``hint(err)`` may replace
    the hint with one that fits the operation (``None`` keeps the default)."""
    try:
        yield
    except (elastic_transport.ApiError, elastic_transport.TransportError) as exc:
        err = translate(exc)
        better = hint(err) if hint is not None else None
        if better:
            err = type(err)(err.reason, status=err.status, error_type=err.error_type, hint=better)
        raise err from exc
