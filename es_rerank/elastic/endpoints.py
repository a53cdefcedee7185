"""Bodies of rerank inference endpoints (``PUT _inference/rerank/<id>``), built from the
``mappings/endpoint-<service>.json`` templates: a string that is exactly ``{{name}}`` is
filled in and an entry left without a value is dropped. Secrets travel in the fields ES
keeps as secret settings (``service_settings.api_key`` / ``service_account_json``, or the
custom service's ``secret_parameters``) and :func:`redact` masks them for display. No I/O.

>>> body = endpoint_body("hugging_face", url="http://shim:8080", api_key="s3cret")
>>> body["service_settings"]["url"], body["task_settings"]
('http://shim:8080/rerank', {'top_n': 1000})
>>> redact(body)["service_settings"]["api_key"]
'********'
>>> endpoint_body("elasticsearch", model_id="my__model")["service_settings"]
{'model_id': 'my__model', 'num_allocations': 1, 'num_threads': 1}
>>> endpoint_body("jinaai", model_id="jina-reranker-v2-base-multilingual", api_key="k")["service"]
'jinaai'

The window guard
----------------
ES's ``text_similarity_reranker`` reads the endpoint before it reranks and refuses a
``rank_window_size`` larger than the endpoint's ``task_settings.top_n`` ("Inference endpoint
[ID] is configured to return the top [N] results, but rank_window_size is [W]"); the
retriever itself sends no request-level ``top_n`` (``generateRequest`` passes null), so the
stored ``top_n`` is the only cap a search can hit. Which services ES checks, from
``TextSimilarityRankFeaturePhaseRankCoordinatorContext`` in elastic/elasticsearch:

- every 9.x: ``cohere`` and ``googlevertexai`` (stored version 0196a7c3);
- later 9.x code also ``hugging_face`` (the versions that resolve ``chunk_rescorer``
  defaults per endpoint);
- since elastic/elasticsearch#142039 (main, backported to 9.2 and 9.3 by #142317 / #142314,
  February 2026) any task settings that implement ``TopNProvider``: read in source for
  ``cohere``, ``hugging_face``, ``jinaai`` (stored 0acd53a8), ``contextualai``,
  ``openshift_ai``.

Elsewhere a ``top_n`` smaller than the window makes ES fail after the call ("Reranker
input document count and returned score count mismatch" / "Is the reranker service using
an unreported top N task setting?"), so :data:`WINDOW_KEYS` is written only when asked
for, except for the shim's services (``hugging_face``, ``cohere``), where it is the shim's
``--max-client-batch-size``. ``POST _inference/rerank`` takes ``top_n`` and
``return_documents`` per request (:func:`es_rerank.elastic.rerank`); reviewers of #142039
call reading ``top_n`` from ``task_settings`` deprecated for that API, but the retriever
still has no other way.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, cast, get_args

from es_rerank.errors import ConfigurationError
from es_rerank.resources import load_json_resource
from es_rerank.urls import check_http_url
from es_rerank.wire import WIRE_FORMATS, WireFormat, format_of_service, resolve_route

__all__ = [
    "DEFAULT_MAX_WINDOW",
    "ELASTIC_RERANKER",
    "LONG_DOCUMENT_STRATEGIES",
    "MASK",
    "SECRET_PARAMETERS",
    "SERVICES",
    "SERVICE_ALIASES",
    "SHIM_ROUTES",
    "WINDOW_KEYS",
    "AdaptiveAllocations",
    "Service",
    "endpoint_body",
    "redact",
    "required_parameters",
    "service_name",
    "shim_route",
]

Service = Literal[
    "elastic",
    "jinaai",
    "voyageai",
    "watsonxai",
    "azureaistudio",
    "googlevertexai",
    "alibabacloud-ai-search",
    "cohere",
    "hugging_face",
    "custom",
    "elasticsearch",
]
SERVICES: Final[tuple[str, ...]] = get_args(Service)
#: Shorter names accepted for ES's service names.
SERVICE_ALIASES: Final[Mapping[str, str]] = {
    "watsonx": "watsonxai",
    "alibabacloud": "alibabacloud-ai-search",
    "eis": "elastic",
}

#: The shim route each service speaks to (a base URL given without a path gets it), from
#: the registry of wire formats.
SHIM_ROUTES: Final[Mapping[str, str]] = {f.service: f.route for f in WIRE_FORMATS.values()}
# The shim's default --max-client-batch-size. As the endpoint's task_settings.top_n it makes
# ES refuse a larger rank_window_size up front, with its own clear message, instead of
# calling the shim with more texts than the shim accepts.
DEFAULT_MAX_WINDOW: Final = 1000
#: The task setting that caps how many results a service returns (the window guard).
WINDOW_KEYS: Final[Mapping[str, str]] = {
    "hugging_face": "top_n",
    "cohere": "top_n",
    "jinaai": "top_n",
    "azureaistudio": "top_n",
    "googlevertexai": "top_n",
    "voyageai": "top_k",
}
#: ``service_settings.long_document_strategy`` of the elasticsearch service (9.2+), read
#: only for the Elastic Rerank model (``ElasticRerankerServiceSettings``).
LONG_DOCUMENT_STRATEGIES: Final = ("truncate", "chunk")
ELASTIC_RERANKER: Final = ".rerank-v1"
#: Parameters whose values are secrets: read from the environment or a prompt.
SECRET_PARAMETERS: Final = ("api_key", "service_account_json")

# Keys whose values are secrets wherever they appear in a body.
_SECRET_KEYS: Final[frozenset[str]] = frozenset(
    {"api_key", "secret_parameters", "service_account_json"}
)
MASK: Final = "********"
_PLACEHOLDER = re.compile(r"^\{\{(\w+)\}\}$")
_MISSING = object()

# What each service needs (ES refuses the body without it), with why, for the message.
_NEEDS: Final[Mapping[str, tuple[str, ...]]] = {
    "elastic": ("model_id",),
    "jinaai": ("model_id", "api_key"),
    "voyageai": ("model_id", "api_key"),
    "watsonxai": ("url", "api_key", "model_id", "project_id", "api_version"),
    "azureaistudio": ("target", "provider", "endpoint_type", "api_key"),
    "googlevertexai": ("project_id", "service_account_json"),
    "alibabacloud-ai-search": ("model_id", "host", "workspace", "api_key"),
    "cohere": ("api_key", "model_id"),
    "hugging_face": ("url", "api_key"),
    "custom": ("url",),
    "elasticsearch": ("model_id",),
}
_WHY: Final[Mapping[str, str]] = {
    "url": "the URL ES will call",
    "model_id": "the model name",
    "project_id": "the cloud project id",
    "api_version": "the watsonx API version, e.g. 2024-05-02",
    "target": "the Azure AI Studio deployment's target URI",
    "provider": "the model provider, e.g. cohere",
    "endpoint_type": "token or realtime",
    "host": "the AlibabaCloud AI Search host",
    "workspace": "the AlibabaCloud AI Search workspace",
    "service_account_json": "the Google service account key (JSON text)",
}


@dataclass(frozen=True)
class AdaptiveAllocations:
    """``service_settings.adaptive_allocations`` of the elasticsearch service: ES scales
    the deployment between ``min`` and ``max`` allocations (``min`` 0 scales to zero).

    >>> AdaptiveAllocations(0, 4).to_dict()
    {'enabled': True, 'min_number_of_allocations': 0, 'max_number_of_allocations': 4}
    """

    min: int
    max: int

    def __post_init__(self) -> None:
        if self.min < 0 or self.max < 1 or self.min > self.max:
            raise ConfigurationError(
                f"--adaptive-allocations needs 0 <= MIN <= MAX and MAX >= 1, got "
                f"{self.min}:{self.max}"
            )

    @classmethod
    def parse(cls, text: str) -> AdaptiveAllocations:
        """``"MIN:MAX"`` as given on the command line."""
        lo, sep, hi = text.partition(":")
        try:
            if not sep:
                raise ValueError
            return cls(int(lo), int(hi))
        except ValueError:
            raise ConfigurationError(
                f"--adaptive-allocations takes MIN:MAX (e.g. 0:4), got {text!r}"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "enabled": True,
            "min_number_of_allocations": self.min,
            "max_number_of_allocations": self.max,
        }


def service_name(service: str) -> str:
    """ES's name for ``service`` (aliases resolved); unknown names are refused.

    >>> service_name("watsonx"), service_name("cohere")
    ('watsonxai', 'cohere')
    """
    name = SERVICE_ALIASES.get(service, service)
    if name not in SERVICES:
        raise ConfigurationError(
            f"unknown service {service!r}; choose one of {', '.join(SERVICES)}"
        )
    return name


def required_parameters(service: str) -> tuple[str, ...]:
    """The parameters ES requires for ``service``.

    >>> required_parameters("watsonx")
    ('url', 'api_key', 'model_id', 'project_id', 'api_version')
    """
    return _NEEDS[service_name(service)]


def _service_flag(wire: WireFormat) -> str:
    return f"--service {wire.service}"


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
    if service not in SHIM_ROUTES:
        return url
    wire = format_of_service(service)
    return resolve_route(wire.name, url, name=name, target="shim", call=_service_flag)


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


def _why(name: str, service: str) -> str:
    if name == "api_key":
        if service == "hugging_face":
            return (
                "ES requires one for the hugging_face service and sends it as a bearer "
                "token; any value works when the shim runs without a key"
            )
        return f"the {service} API key"
    if service == "elasticsearch":
        return "the id of a model uploaded with es-rerank upload-model (or .rerank-v1)"
    if name == "url" and service in SHIM_ROUTES:
        return "the shim URL ES will call, e.g. http://shim:8080"
    return _WHY[name]


def _positive(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise ConfigurationError(f"--{name.replace('_', '-')} must be at least 1, got {value}")


def endpoint_body(
    service: str,
    *,
    url: str | None = None,
    api_key: str | None = None,
    model_id: str | None = None,
    num_allocations: int | None = 1,
    num_threads: int = 1,
    adaptive_allocations: AdaptiveAllocations | None = None,
    long_document_strategy: str | None = None,
    max_chunks_per_doc: int | None = None,
    max_window: int | None = None,
    return_documents: bool | None = None,
    truncation: bool | None = None,
    project_id: str | None = None,
    api_version: str | None = None,
    target: str | None = None,
    provider: str | None = None,
    endpoint_type: str | None = None,
    host: str | None = None,
    workspace: str | None = None,
    service_account_json: str | None = None,
    requests_per_minute: int | None = None,
) -> dict[str, Any]:
    """The ``PUT _inference/rerank/<id>`` body for ``service`` from its template.

    ``max_window`` is written as the service's :data:`WINDOW_KEYS` task setting (``top_n``,
    voyageai ``top_k``): the most texts one call may return. For ``hugging_face`` and
    ``cohere`` (the shim's services) it defaults to the shim's ``--max-client-batch-size``;
    elsewhere it is left out unless given, and giving it to a service without such a
    setting is refused. ``alibabacloud-ai-search`` takes its ``service_id`` as ``model_id``.

    Raises :class:`~es_rerank.errors.ConfigurationError` naming the missing or bad
    parameter (ES would refuse the body anyway).
    """
    service = service_name(service)
    given: dict[str, Any] = {
        "url": url,
        "api_key": api_key,
        "model_id": model_id,
        "project_id": project_id,
        "api_version": api_version,
        "target": target,
        "provider": provider,
        "endpoint_type": endpoint_type,
        "host": host,
        "workspace": workspace,
        "service_account_json": service_account_json,
    }
    for name in _NEEDS[service]:
        if not given[name]:
            flag = name.replace("_", "-")
            where = " (or its environment variable)" if name in SECRET_PARAMETERS else ""
            raise ConfigurationError(
                f"--{flag}{where} is required for --service {service}: {_why(name, service)}"
            )
    for name, n in (
        ("num_allocations", num_allocations),
        ("num_threads", num_threads),
        ("max_window", max_window),
        ("max_chunks_per_doc", max_chunks_per_doc),
        ("requests_per_minute", requests_per_minute),
    ):
        _positive(name, n)
    _check_elasticsearch_only(
        service,
        model_id=model_id,
        adaptive_allocations=adaptive_allocations,
        long_document_strategy=long_document_strategy,
        max_chunks_per_doc=max_chunks_per_doc,
    )
    if max_window is not None and service not in WINDOW_KEYS:
        raise ConfigurationError(
            f"--max-window: the {service} service has no task setting that caps its results; "
            f"services with one: {', '.join(WINDOW_KEYS)}"
        )
    if max_window is None and service in SHIM_ROUTES and service in WINDOW_KEYS:
        max_window = DEFAULT_MAX_WINDOW
    if return_documents is None and service == "custom":
        return_documents = False  # ES renders ${return_documents} at creation: it needs a value
    values: dict[str, Any] = {
        **given,
        "url": shim_route(service, url) if url else None,
        "num_allocations": None if adaptive_allocations else num_allocations,
        "num_threads": num_threads,
        "adaptive_allocations": adaptive_allocations.to_dict() if adaptive_allocations else None,
        "long_document_strategy": long_document_strategy,
        "max_chunks_per_doc": max_chunks_per_doc,
        "max_window": max_window,
        "return_documents": return_documents,
        "truncation": truncation,
        "requests_per_minute": requests_per_minute,
    }
    body = cast(dict[str, Any], _fill(load_json_resource(f"endpoint-{service}"), values))
    settings = body["service_settings"]
    if service == "custom" and "secret_parameters" not in settings:
        # No key: drop the headers that would reference the missing ${api_key}.
        headers = settings.get("headers", {})
        settings["headers"] = {k: v for k, v in headers.items() if "${api_key}" not in v}
    return body


def _check_elasticsearch_only(
    service: str,
    *,
    model_id: str | None,
    adaptive_allocations: AdaptiveAllocations | None,
    long_document_strategy: str | None,
    max_chunks_per_doc: int | None,
) -> None:
    named = {
        "--adaptive-allocations": adaptive_allocations,
        "--long-document-strategy": long_document_strategy,
        "--max-chunks-per-doc": max_chunks_per_doc,
    }
    if service != "elasticsearch":
        for flag, value in named.items():
            if value is not None:
                raise ConfigurationError(f"{flag} applies to --service elasticsearch only")
        return
    if long_document_strategy is not None and long_document_strategy not in (
        LONG_DOCUMENT_STRATEGIES
    ):
        raise ConfigurationError(
            f"--long-document-strategy must be one of {', '.join(LONG_DOCUMENT_STRATEGIES)}, "
            f"got {long_document_strategy!r}"
        )
    if long_document_strategy is not None and model_id != ELASTIC_RERANKER:
        raise ConfigurationError(
            f"--long-document-strategy is read only for the Elastic Rerank model "
            f"({ELASTIC_RERANKER}; ElasticRerankerServiceSettings), not for {model_id!r}"
        )
    if max_chunks_per_doc is not None and long_document_strategy != "chunk":
        raise ConfigurationError(
            "--max-chunks-per-doc needs --long-document-strategy chunk (ES reads it only then)"
        )


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
