"""Rerank inference endpoints on a cluster: build their bodies from ``mappings/`` templates,
create, list, test and delete them, and turn Elasticsearch's refusals into advice.

The bodies come from ``mappings/endpoint-<service>.json``; a string that is exactly
``{{name}}`` is filled in and an entry left without a value is dropped. Secrets travel in the
fields ES keeps as secret settings (``service_settings.api_key``, or the custom service's
``secret_parameters``) and :func:`redact` masks them for display.

>>> from es_rerank.endpoints import endpoint_body, redact
>>> body = endpoint_body("hugging_face", url="http://shim:8080/rerank", api_key="s3cret")
>>> body["service_settings"]["url"]
'http://shim:8080/rerank'
>>> redact(body)["service_settings"]["api_key"]
'********'
>>> endpoint_body("elasticsearch", model_id="my__model")["service_settings"]
{'model_id': 'my__model', 'num_allocations': 1, 'num_threads': 1}
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, cast, get_args

from elasticsearch import ApiError, Elasticsearch
from elasticsearch import ConnectionError as EsConnectionError

from es_rerank.resources import load_json_resource

__all__ = [
    "DEFAULT_MAX_WINDOW",
    "SERVICES",
    "EndpointError",
    "RankedText",
    "Service",
    "create_endpoint",
    "delete_endpoint",
    "endpoint_body",
    "explain_api_error",
    "list_endpoints",
    "redact",
    "rerank",
    "shim_route",
]

Service = Literal["hugging_face", "custom", "cohere", "elasticsearch"]
SERVICES: Final[tuple[str, ...]] = get_args(Service)

# The shim route each service speaks to (a base URL given without a path gets it appended).
_SHIM_ROUTES: Final[dict[str, str]] = {
    "hugging_face": "/rerank",
    "custom": "/inference/rerank",
    "cohere": "/v2/rerank",
}
# The shim's default --max-client-batch-size. As the endpoint's task_settings.top_n it makes
# ES refuse a larger rank_window_size up front, with its own clear message, instead of
# calling the shim with more texts than the shim accepts (hugging_face and cohere only: the
# custom service has no such check).
DEFAULT_MAX_WINDOW: Final = 1000
# Keys whose values are secrets wherever they appear in a body.
_SECRET_KEYS: Final[frozenset[str]] = frozenset({"api_key", "secret_parameters"})
MASK: Final = "********"
_PLACEHOLDER = re.compile(r"^\{\{(\w+)\}\}$")
_MISSING = object()


class EndpointError(ValueError):
    """Elasticsearch refused an endpoint operation; the message says why and what to do."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RankedText:
    """One entry of a rerank response: input position, raw score, text if returned."""

    index: int
    score: float
    text: str | None = None


def shim_route(service: str, url: str) -> str:
    """``url`` with the shim's route for ``service`` appended when it has no path.

    >>> shim_route("custom", "http://shim:8080")
    'http://shim:8080/inference/rerank'
    >>> shim_route("custom", "http://shim:8080/my/path")
    'http://shim:8080/my/path'
    """
    route = _SHIM_ROUTES.get(service)
    scheme, sep, rest = url.partition("://")
    if route is None or not sep:
        return url
    host, _, path = rest.partition("/")
    if path.strip("/"):
        return url
    return f"{scheme}://{host}{route}"


def _fill(node: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            filled = _fill(v, values)
            if filled is _MISSING or filled == {}:
                continue
            out[k] = filled
        return out
    if isinstance(node, list):
        return [x for x in (_fill(v, values) for v in node) if x is not _MISSING]
    if isinstance(node, str):
        m = _PLACEHOLDER.match(node)
        if m:
            value = values.get(m.group(1))
            return _MISSING if value is None else value
    return node


def endpoint_body(
    service: str,
    *,
    url: str | None = None,
    api_key: str | None = None,
    model_id: str | None = None,
    num_allocations: int = 1,
    num_threads: int = 1,
    max_window: int = DEFAULT_MAX_WINDOW,
) -> dict[str, Any]:
    """The ``PUT _inference/rerank/<id>`` body for ``service`` from its template.

    ``max_window`` (hugging_face, cohere) is the most texts one call may carry: set it to
    the shim's ``--max-client-batch-size``.

    Raises ``ValueError`` naming the missing parameter (ES would refuse the body anyway).
    """
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; choose one of {', '.join(SERVICES)}")
    needs = {
        "hugging_face": ("url", "api_key"),
        "custom": ("url",),
        "cohere": ("url", "api_key", "model_id"),
        "elasticsearch": ("model_id",),
    }[service]
    given = {"url": url, "api_key": api_key, "model_id": model_id}
    for name in needs:
        if not given[name]:
            why = {
                "url": "the shim URL ES will call, e.g. http://shim:8080",
                "api_key": f"ES requires one for the {service} service and sends it as a bearer "
                "token; any value works when the shim runs without a key",
                "model_id": "the model name"
                if service == "cohere"
                else "the id of a model uploaded with es-rerank upload-model",
            }[name]
            flag = name.replace("_", "-")
            raise ValueError(f"--{flag} is required for --service {service}: {why}")
    for name, n in (
        ("num_allocations", num_allocations),
        ("num_threads", num_threads),
        ("max_window", max_window),
    ):
        if n < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {n}")
    values: dict[str, Any] = {
        "url": shim_route(service, url) if url else None,
        "api_key": api_key,
        "model_id": model_id,
        "num_allocations": num_allocations,
        "num_threads": num_threads,
        "max_window": max_window,
    }
    body = cast(dict[str, Any], _fill(load_json_resource(f"endpoint-{service}"), values))
    settings = body["service_settings"]
    if service == "custom" and "secret_parameters" not in settings:
        # No key: drop the headers that would reference the missing ${api_key}.
        headers = settings.get("headers", {})
        settings["headers"] = {k: v for k, v in headers.items() if "${api_key}" not in v}
    return body


def redact(body: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``body`` with every secret value replaced by ``********``."""

    def walk(node: Any) -> Any:
        if isinstance(node, Mapping):
            return {k: (_mask(v) if k in _SECRET_KEYS else walk(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return copy.copy(node)

    return cast(dict[str, Any], walk(body))


def _mask(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: MASK for k in value}
    return MASK


def _reasons(body: Any) -> list[str]:
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


def _error_type(body: Any) -> str:
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        return str(body["error"].get("type", ""))
    return ""


_UNREACHABLE = re.compile(
    r"validation call to service|Failed to send|Connection refused|UnknownHost|"
    r"connect timed out|No route to host|Connect to .* failed|ConnectException",
    re.IGNORECASE,
)


# ES's wording when the called service answers 401/403 (e.g. a wrong shim key).
_SERVICE_AUTH = re.compile(r"authentication error|status \[40[13]\]", re.IGNORECASE)


def explain_api_error(exc: ApiError, *, inference_id: str, url: str | None = None) -> EndpointError:
    """An :class:`EndpointError` that says what ES refused and what usually fixes it."""
    status = exc.meta.status
    reasons = _reasons(exc.body)
    reason = "; ".join(reasons) or str(exc.message)
    kind = _error_type(exc.body)
    if status == 403 and "non-compliant" in reason:
        return EndpointError(
            f"the cluster's license does not allow the inference API ({reason}). Rerank "
            "endpoints need an Enterprise or trial license: start a trial with "
            "`POST _license/start_trial?acknowledge=true` or run ES with "
            "xpack.license.self_generated.type=trial",
            status=status,
        )
    if status in (401, 403):
        return EndpointError(
            f"Elasticsearch refused the credentials or privileges ({reason}); creating "
            "endpoints needs the manage_inference cluster privilege",
            status=status,
        )
    if kind == "resource_already_exists_exception" or "already exists" in reason:
        return EndpointError(
            f"inference endpoint [{inference_id}] already exists; delete it first with "
            f"`es-rerank endpoint delete {inference_id}` or choose another id",
            status=status,
        )
    if status == 404:
        return EndpointError(
            f"inference endpoint [{inference_id}] not found ({reason}); "
            "`es-rerank endpoint list` shows the rerank endpoints",
            status=status,
        )
    if _SERVICE_AUTH.search(reason):
        return EndpointError(
            f"the service refused the key Elasticsearch sent ({reason}); pass the shim's key "
            "with --api-key (SHIM_API_KEY on the shim)",
            status=status,
        )
    if _UNREACHABLE.search(reason):
        where = f" at {url}" if url else ""
        return EndpointError(
            f"Elasticsearch could not call the service{where} while validating the endpoint "
            f"({reason}). The URL must be reachable from the Elasticsearch nodes, not only "
            "from this machine: inside Docker use the compose service name (http://shim:8080) "
            "or host.docker.internal for a shim on the host, and bind the shim to 0.0.0.0",
            status=status,
        )
    if status == 400:
        return EndpointError(
            f"Elasticsearch rejected the endpoint settings ({reason})", status=status
        )
    return EndpointError(f"Elasticsearch answered {status}: {reason}", status=status)


def create_endpoint(
    client: Elasticsearch,
    *,
    inference_id: str,
    body: Mapping[str, Any],
    timeout: str | None = None,
) -> dict[str, Any]:
    """``PUT _inference/rerank/<inference_id>`` with ``body``; returns ES's answer (which
    never contains the secrets). ES calls the service once to validate it."""
    try:
        resp = client.inference.put(
            task_type="rerank", inference_id=inference_id, inference_config=body, timeout=timeout
        )
    except ApiError as exc:
        url = body.get("service_settings", {}).get("url")
        raise explain_api_error(exc, inference_id=inference_id, url=url) from None
    except EsConnectionError as exc:
        raise EndpointError(f"cannot reach Elasticsearch: {exc.message}") from None
    return dict(resp.body)


def delete_endpoint(client: Elasticsearch, *, inference_id: str, force: bool = False) -> None:
    """``DELETE _inference/rerank/<inference_id>`` (``force`` also when ingest uses it)."""
    try:
        client.inference.delete(task_type="rerank", inference_id=inference_id, force=force or None)
    except ApiError as exc:
        raise explain_api_error(exc, inference_id=inference_id) from None
    except EsConnectionError as exc:
        raise EndpointError(f"cannot reach Elasticsearch: {exc.message}") from None


def list_endpoints(client: Elasticsearch) -> list[dict[str, Any]]:
    """All rerank endpoints (``GET _inference/rerank/_all``), ES's own included."""
    try:
        resp = client.inference.get(task_type="rerank")
    except ApiError as exc:
        raise explain_api_error(exc, inference_id="_all") from None
    except EsConnectionError as exc:
        raise EndpointError(f"cannot reach Elasticsearch: {exc.message}") from None
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
    if not query:
        raise ValueError("query must not be empty")
    if not texts:
        raise ValueError("texts must not be empty")
    try:
        resp = client.inference.rerank(
            inference_id=inference_id,
            query=query,
            input=list(texts),
            top_n=top_n,
            return_documents=return_documents,
        )
    except ApiError as exc:
        raise explain_api_error(exc, inference_id=inference_id) from None
    except EsConnectionError as exc:
        raise EndpointError(f"cannot reach Elasticsearch: {exc.message}") from None
    return [
        RankedText(index=int(r["index"]), score=float(r["relevance_score"]), text=r.get("text"))
        for r in resp.body.get("rerank", [])
    ]
