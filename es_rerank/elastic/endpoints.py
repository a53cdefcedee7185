"""Bodies of rerank inference endpoints (``PUT _inference/rerank/<id>``), built from the
``mappings/endpoint-<service>.json`` templates: a string that is exactly ``{{name}}`` is
filled in and an entry left without a value is dropped. Secrets travel in the fields ES
keeps as secret settings (``service_settings.api_key``, or the custom service's
``secret_parameters``) and :func:`redact` masks them for display. No I/O here.

>>> body = endpoint_body("hugging_face", url="http://shim:8080", api_key="s3cret")
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
from collections.abc import Mapping
from typing import Any, Final, Literal, cast, get_args

from es_rerank.errors import ConfigurationError
from es_rerank.resources import load_json_resource
from es_rerank.urls import check_http_url, url_path

__all__ = [
    "DEFAULT_MAX_WINDOW",
    "MASK",
    "SERVICES",
    "SHIM_ROUTES",
    "Service",
    "endpoint_body",
    "redact",
    "shim_route",
]

Service = Literal["hugging_face", "custom", "cohere", "elasticsearch"]
SERVICES: Final[tuple[str, ...]] = get_args(Service)

#: The shim route each service speaks to (a base URL given without a path gets it).
SHIM_ROUTES: Final[Mapping[str, str]] = {
    "hugging_face": "/rerank",
    "custom": "/inference/rerank",
    "cohere": "/v2/rerank",
}
# The shim's default --max-client-batch-size. As the endpoint's task_settings.top_n it makes
# ES refuse a larger rank_window_size up front, with its own clear message, instead of
# calling the shim with more texts than the shim accepts (hugging_face and cohere only: the
# custom service has no such check).
DEFAULT_MAX_WINDOW: Final = 1000
# Every rerank route the shim serves, with the format it speaks.
_KNOWN_ROUTES: Final[Mapping[str, str]] = {
    "/rerank": "TEI (--service hugging_face)",
    "/inference/rerank": "Elasticsearch inference (--service custom)",
    "/v1/rerank": "Cohere v1",
    "/v2/rerank": "Cohere v2 (--service cohere)",
}
# Keys whose values are secrets wherever they appear in a body.
_SECRET_KEYS: Final[frozenset[str]] = frozenset({"api_key", "secret_parameters"})
MASK: Final = "********"
_PLACEHOLDER = re.compile(r"^\{\{(\w+)\}\}$")
_MISSING = object()


def shim_route(service: str, url: str, *, name: str = "--url") -> str:
    """The URL ES should call for ``service``: a base URL (no path) gets the shim's route
    for the service; a URL ending in another of the shim's routes is refused (it would
    speak the wrong format); any other path is used as given (e.g. behind a proxy).

    >>> shim_route("custom", "http://shim:8080")
    'http://shim:8080/inference/rerank'
    >>> shim_route("custom", "http://gateway/shim/inference/rerank")
    'http://gateway/shim/inference/rerank'
    """
    check_http_url(url, name=name)
    route = SHIM_ROUTES.get(service)
    if route is None:
        return url
    path = url_path(url)
    if not path:
        return url.rstrip("/") + route
    ends_in = max((r for r in _KNOWN_ROUTES if path.endswith(r)), key=len, default=None)
    if ends_in is not None and ends_in != route:
        raise ConfigurationError(
            f"{name} {url!r} ends in the shim's {ends_in} route, which speaks "
            f"{_KNOWN_ROUTES[ends_in]}; --service {service} calls {route}: give the base URL "
            f"(then {route} is appended) or a URL ending in it"
        )
    return url


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


_NEEDS: Final[Mapping[str, tuple[str, ...]]] = {
    "hugging_face": ("url", "api_key"),
    "custom": ("url",),
    "cohere": ("url", "api_key", "model_id"),
    "elasticsearch": ("model_id",),
}


def _why(name: str, service: str) -> str:
    if name == "url":
        return "the shim URL ES will call, e.g. http://shim:8080"
    if name == "api_key":
        return (
            f"ES requires one for the {service} service and sends it as a bearer token; any "
            "value works when the shim runs without a key"
        )
    if service == "cohere":
        return "the model name"
    return "the id of a model uploaded with es-rerank upload-model"


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

    Raises :class:`~es_rerank.errors.ConfigurationError` naming the missing or bad
    parameter (ES would refuse the body anyway).
    """
    if service not in SERVICES:
        raise ConfigurationError(
            f"unknown service {service!r}; choose one of {', '.join(SERVICES)}"
        )
    given = {"url": url, "api_key": api_key, "model_id": model_id}
    for name in _NEEDS[service]:
        if not given[name]:
            flag = name.replace("_", "-")
            raise ConfigurationError(
                f"--{flag} is required for --service {service}: {_why(name, service)}"
            )
    for name, n in (
        ("num_allocations", num_allocations),
        ("num_threads", num_threads),
        ("max_window", max_window),
    ):
        if n < 1:
            raise ConfigurationError(f"--{name.replace('_', '-')} must be at least 1, got {n}")
    values: dict[str, Any] = {
        "url": shim_route(service, url) if url and "url" in _NEEDS[service] else None,
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
