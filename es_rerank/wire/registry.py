"""The one table of rerank wire formats: for each, the routes that serve it, its request and
response models, the Elasticsearch inference service that speaks it, how many texts one
request carries by default, and the score a route returns when a request asks for none.

The HTTP client (:mod:`es_rerank.rerankers.formats`), ``es-rerank endpoint create``
(:mod:`es_rerank.elastic.endpoints`), the shim's routes and its OpenAPI document are all
built from :data:`WIRE_FORMATS`, and a URL is matched to a route by :func:`resolve_route`
alone.

Score defaults follow each format's convention: Text Embeddings Inference answers sigmoid
scores unless ``raw_scores: true``, Cohere's relevance scores lie in [0, 1], and the
Elasticsearch-inference route answers raw logits (Elasticsearch normalizes them itself).

>>> WIRE_FORMATS["tei"].route, WIRE_FORMATS["tei"].service, WIRE_FORMATS["tei"].score_mode
('/rerank', 'hugging_face', 'sigmoid')
>>> [r.path for r in WIRE_FORMATS["cohere"].routes]
['/v2/rerank', '/v1/rerank']
>>> format_of_service("custom").name
'es'
>>> resolve_route("tei", "http://tei:8080/")
'http://tei:8080/rerank'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from pydantic import BaseModel

from es_rerank.errors import ConfigurationError
from es_rerank.urls import check_http_url, url_path
from es_rerank.wire.base import RerankRequest
from es_rerank.wire.cohere import CohereRerankRequest, CohereRerankResponse
from es_rerank.wire.es_inference import InferenceRerankRequest, InferenceRerankResponse
from es_rerank.wire.fields import ScoreMode
from es_rerank.wire.tei import TeiRerankRequest, TeiRerankResponse

__all__ = [
    "FORMAT_NAMES",
    "WIRE_FORMATS",
    "Route",
    "Target",
    "WireFormat",
    "format_of_service",
    "resolve_route",
    "route_score_modes",
    "shim_routes",
    "wire_format",
]


@dataclass(frozen=True)
class Route:
    """One path of a format. ``api_version`` is what the answer states (Cohere's v1/v2)."""

    path: str
    summary: str
    api_version: str | None = None


@dataclass(frozen=True)
class WireFormat:
    """One rerank wire format.

    ``routes``: the shim serves each of them; the first is the one a base URL gets.
    ``other_routes``: where other servers speak the format (never the shim).
    ``service``: the Elasticsearch inference service that speaks it to the shim.
    ``max_batch``: the most texts a client sends in one request by default (``None``: all).
    ``score_mode``: what a route returns when a request asks for no score mode.
    ``raw_field``: the request field that asks for raw scores, as the format spells it.
    """

    name: str
    title: str
    routes: tuple[Route, ...]
    request: type[RerankRequest]
    response: type[BaseModel]
    service: str
    max_batch: int | None
    score_mode: ScoreMode
    raw_field: str
    other_routes: tuple[str, ...] = ()

    @property
    def route(self) -> str:
        """The route a base URL gets."""
        return self.routes[0].path

    @property
    def paths(self) -> tuple[str, ...]:
        """Every route of the format, the shim's first."""
        return (*(r.path for r in self.routes), *self.other_routes)


_COHERE_SUMMARY = "Cohere-compatible rerank, {v} (Elasticsearch cohere or custom service)"

WIRE_FORMATS: Final[Mapping[str, WireFormat]] = {
    "es": WireFormat(
        name="es",
        title="Elasticsearch inference (the shim)",
        routes=(
            Route(
                "/inference/rerank",
                "Elasticsearch inference API rerank format (custom service, ShimReranker)",
            ),
        ),
        request=InferenceRerankRequest,
        response=InferenceRerankResponse,
        service="custom",
        max_batch=None,
        score_mode="raw",
        raw_field='"score_mode": "raw"',
    ),
    # TEI answers sigmoid unless raw_scores is true (router/src/http/types.rs, core/src/infer.rs
    # of huggingface/text-embeddings-inference), and refuses more than its
    # --max-client-batch-size texts per request (32 by default).
    "tei": WireFormat(
        name="tei",
        title="Text Embeddings Inference",
        routes=(Route("/rerank", "TEI-compatible rerank (Elasticsearch hugging_face service)"),),
        request=TeiRerankRequest,
        response=TeiRerankResponse,
        service="hugging_face",
        max_batch=32,
        score_mode="sigmoid",
        raw_field='"raw_scores": true',
    ),
    # Cohere: "Relevance scores are normalized to be in the range [0, 1]"
    # (https://docs.cohere.com/reference/rerank); Infinity serves the format at /rerank.
    "cohere": WireFormat(
        name="cohere",
        title="Cohere v1/v2 (also Infinity)",
        routes=(
            Route("/v2/rerank", _COHERE_SUMMARY.format(v="v2"), api_version="2"),
            Route("/v1/rerank", _COHERE_SUMMARY.format(v="v1"), api_version="1"),
        ),
        request=CohereRerankRequest,
        response=CohereRerankResponse,
        service="cohere",
        max_batch=None,
        score_mode="sigmoid",
        raw_field='"score_mode": "raw"',
        other_routes=("/rerank",),
    ),
}

FORMAT_NAMES: Final[tuple[str, ...]] = tuple(WIRE_FORMATS)


def shim_routes() -> list[tuple[WireFormat, Route]]:
    """Every rerank route the shim serves, with its format."""
    return [(f, r) for f in WIRE_FORMATS.values() for r in f.routes]


def route_score_modes(override: ScoreMode | None = None) -> dict[str, ScoreMode]:
    """The score each shim route returns when a request asks for none: the format's
    convention, or ``override`` (the shim's ``--score-mode``) on every route.

    >>> route_score_modes()["/inference/rerank"], route_score_modes("raw")["/rerank"]
    ('raw', 'raw')
    """
    return {r.path: override or f.score_mode for f, r in shim_routes()}


def format_of_service(service: str) -> WireFormat:
    """The format the Elasticsearch inference ``service`` speaks to the shim."""
    for wire in WIRE_FORMATS.values():
        if wire.service == service:
            return wire
    raise KeyError(service)


#: Who is called: ``any``, any rerank server (a path that is no route of the format is
#: refused); ``shim``, the shim, perhaps behind a proxy (only its routes are known, and
#: any other path is used as given).
Target = Literal["any", "shim"]


def wire_format(format: str, *, name: str = "format") -> WireFormat:
    """The format called ``format``, else a :class:`ConfigurationError` naming ``name``."""
    found = WIRE_FORMATS.get(format) if isinstance(format, str) else None
    if found is None:
        raise ConfigurationError(f"{name} must be one of {', '.join(FORMAT_NAMES)}, got {format!r}")
    return found


def _known_routes(target: Target) -> dict[str, list[WireFormat]]:
    """Each known route with the formats spoken there."""
    known: dict[str, list[WireFormat]] = {}
    for wire in WIRE_FORMATS.values():
        for path in wire.paths if target == "any" else [r.path for r in wire.routes]:
            known.setdefault(path, []).append(wire)
    return known


def _format_name(wire: WireFormat) -> str:
    return f"the {wire.name} format"


def resolve_route(
    format: str,
    url: str,
    *,
    name: str = "url",
    target: Target = "any",
    call: Callable[[WireFormat], str] = _format_name,
) -> str:
    """The URL a request in ``format`` goes to. A base URL gets the format's route; a URL
    ending in a route of the format is used as is; one ending in a route of another format
    is refused naming that format (as ``call`` names it: ``the tei format`` to a Python
    caller, ``--service hugging_face`` on a command line). Any other path is refused
    (``target="any"``) or used as given (``target="shim"``: the shim behind a proxy).

    >>> resolve_route("cohere", "http://infinity:7997/rerank")
    'http://infinity:7997/rerank'
    >>> resolve_route("custom_service", "http://h")
    Traceback (most recent call last):
    ...
    es_rerank.errors.ConfigurationError: format must be one of es, tei, cohere, got ...
    >>> resolve_route("es", "http://gw/shim/api", target="shim")
    'http://gw/shim/api'
    """
    wire = wire_format(format)
    check_http_url(url, name=name)
    path = url_path(url)
    base = url.rstrip("/")
    if not path:
        return base + wire.route
    known = _known_routes(target)
    ends_in = max((p for p in known if path.endswith(p)), key=len, default=None)
    if ends_in is not None and wire in known[ends_in]:
        return base
    accepted = ", ".join(p for p in known if wire in known[p])
    origin = base[: len(base) - len(path)]
    fix = (
        f"{call(wire)} posts to {wire.route}: give the server's base URL (e.g. {origin}; "
        f"{wire.route} is appended) or a URL ending in {accepted}"
    )
    if ends_in is not None:
        served = " or ".join(f.name for f in known[ends_in])
        others = " or ".join(call(f) for f in known[ends_in])
        raise ConfigurationError(
            f"{name} {url!r} ends in {ends_in}, a route of the {served} format, not "
            f"{wire.name}; {fix}; or call it with {others}"
        )
    if target == "shim":
        return url
    raise ConfigurationError(
        f"{name} {url!r} has the path {path!r}, which is no {wire.title} rerank route; {fix}"
    )
