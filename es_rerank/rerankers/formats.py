"""The wire formats an HTTP reranker speaks, built on the declared models of
:mod:`es_rerank.wire`: which route a base URL gets, the request body, and how the answer
becomes ``(input index, score)`` pairs.

- ``es``: Elasticsearch's inference API body, as the shim's ``/inference/rerank`` serves it
  (``score_mode: "raw"`` asks the shim for raw logits whatever its default);
- ``tei``: Text Embeddings Inference ``/rerank`` with ``raw_scores: true`` (logits rather
  than TEI's default sigmoid) and ``truncate: true`` (TEI refuses over-long pairs otherwise);
- ``cohere``: Cohere's rerank body with only the fields Cohere's API accepts (it refuses
  unknown ones), for Cohere v1/v2, Infinity's ``/rerank`` and the shim's ``/v1|/v2/rerank``.

>>> rerank_endpoint("tei", "http://tei:8080")
'http://tei:8080/rerank'
>>> FORMATS["cohere"].payload("q", ["a", "b"], model="rerank-v3.5")
{'query': 'q', 'documents': ['a', 'b'], 'model': 'rerank-v3.5'}
>>> FORMATS["tei"].ranking([{"index": 1, "score": 2.5}, {"index": 0, "score": -1.0}])
[(1, 2.5), (0, -1.0)]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

import pydantic

from es_rerank.errors import ConfigurationError
from es_rerank.urls import check_http_url, url_path
from es_rerank.wire import (
    CohereRerankRequest,
    CohereResult,
    InferenceRerankRequest,
    InferenceRerankResponse,
    TeiRerankRequest,
    TeiRerankResponse,
    WireError,
    describe,
    validate,
)

__all__ = ["FORMATS", "FORMAT_NAMES", "Format", "Ranked", "WireFormat", "rerank_endpoint"]

Format = Literal["es", "tei", "cohere"]
FORMAT_NAMES: Final[tuple[str, ...]] = get_args(Format)

#: (input index, score) pairs as a server returned them, in its order.
Ranked = list[tuple[int, float]]

# Every rerank route we know, with the formats served there.
_ROUTES: Final[Mapping[str, tuple[str, ...]]] = {
    "/inference/rerank": ("es",),  # the shim's Elasticsearch-inference route
    "/rerank": ("tei", "cohere"),  # TEI; Infinity's Cohere-format route
    "/v1/rerank": ("cohere",),  # Cohere v1; Infinity or vLLM under /v1; the shim
    "/v2/rerank": ("cohere",),  # Cohere v2; the shim
}

_COHERE_RESULTS = pydantic.TypeAdapter(list[CohereResult])


def _items(body: Any, key: str | None, unused: str) -> Any:
    """The list of results in ``body`` (under ``key``, or the body itself), without the
    field holding returned texts: never asked for, so never checked."""
    items = body if key is None else (body.get(key) if isinstance(body, dict) else None)
    if not isinstance(items, list):
        where = f"a JSON object with a `{key}` list" if key else "a JSON array"
        raise WireError(f"the answer is not {where}")
    return [
        {k: v for k, v in item.items() if k != unused} if isinstance(item, dict) else item
        for item in items
    ]


def _es_payload(query: str, texts: Sequence[str], model: str | None) -> dict[str, Any]:
    return _dump(
        InferenceRerankRequest,
        {"query": query, "input": list(texts), "top_n": len(texts), "score_mode": "raw"},
    )


def _es_ranking(body: Any) -> Ranked:
    answer = validate(InferenceRerankResponse, {"rerank": _items(body, "rerank", "text")})
    return [(r.index, r.relevance_score) for r in answer.rerank]


def _tei_payload(query: str, texts: Sequence[str], model: str | None) -> dict[str, Any]:
    return _dump(
        TeiRerankRequest,
        {"query": query, "texts": list(texts), "raw_scores": True, "truncate": True},
    )


def _tei_ranking(body: Any) -> Ranked:
    answer = validate(TeiRerankResponse, _items(body, None, "text"))
    return [(r.index, r.score) for r in answer.root]


def _cohere_payload(query: str, texts: Sequence[str], model: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"query": query, "documents": list(texts)}
    if model is not None:
        body["model"] = model
    return _dump(CohereRerankRequest, body)


def _cohere_ranking(body: Any) -> Ranked:
    try:
        results = _COHERE_RESULTS.validate_python(_items(body, "results", "document"))
    except pydantic.ValidationError as exc:
        raise WireError(describe(exc).message.replace("`[", "`results[", 1)) from None
    return [(r.index, r.relevance_score) for r in results]


def _dump(model: type[pydantic.BaseModel], body: dict[str, Any]) -> dict[str, Any]:
    """``body`` checked against the format's declared request model, as JSON values."""
    return validate(model, body).model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True)
class WireFormat:
    """One format: its default route, what it is, the most texts one request carries by
    default (``None``: no limit), the request body, and the reading of an answer."""

    name: str
    route: str
    title: str
    max_batch: int | None
    payload: Callable[[str, Sequence[str], str | None], dict[str, Any]]
    ranking: Callable[[Any], Ranked]


FORMATS: Final[Mapping[str, WireFormat]] = {
    "es": WireFormat(
        "es",
        "/inference/rerank",
        "Elasticsearch inference (the shim)",
        None,
        _es_payload,
        _es_ranking,
    ),
    # TEI refuses more than its --max-client-batch-size texts per request (32 by default).
    "tei": WireFormat(
        "tei", "/rerank", "Text Embeddings Inference", 32, _tei_payload, _tei_ranking
    ),
    "cohere": WireFormat(
        "cohere",
        "/v2/rerank",
        "Cohere v1/v2 (also Infinity)",
        None,
        _cohere_payload,
        _cohere_ranking,
    ),
}


def check_format(format: str, *, name: str = "format") -> WireFormat:
    """The :class:`WireFormat` called ``format``, else a :class:`ConfigurationError`."""
    found = FORMATS.get(format) if isinstance(format, str) else None
    if found is None:
        raise ConfigurationError(f"{name} must be one of {', '.join(FORMAT_NAMES)}, got {format!r}")
    return found


def rerank_endpoint(format: str, url: str, *, name: str = "url") -> str:
    """The URL a reranker of ``format`` posts to. A base URL gets the format's route
    (``es``: ``/inference/rerank``, ``tei``: ``/rerank``, ``cohere``: ``/v2/rerank``); a URL
    ending in a route that speaks the format is used as is; any other path is refused
    rather than extended, and a route of another format is named as such.

    >>> rerank_endpoint("cohere", "http://infinity:7997/rerank")
    'http://infinity:7997/rerank'
    >>> rerank_endpoint("tei", "http://vllm:8000/v1/rerank")
    Traceback (most recent call last):
    ...
    es_rerank.errors.ConfigurationError: url 'http://vllm:8000/v1/rerank' ends in /v1/rerank, \
a route of the cohere format, not tei: ...
    """
    wire = check_format(format)
    check_http_url(url, name=name)
    path = url_path(url)
    base = url.rstrip("/")
    if not path:
        return base + wire.route
    ends_in = max((r for r in _ROUTES if path.endswith(r)), key=len, default=None)
    if ends_in is not None and format in _ROUTES[ends_in]:
        return base
    accepted = ", ".join(r for r, formats in _ROUTES.items() if format in formats)
    origin = base[: len(base) - len(path)]
    fix = (
        f"give the server's base URL (e.g. {origin}; {wire.route} is appended) or a URL "
        f"ending in {accepted}"
    )
    if ends_in is not None:
        served = " or ".join(_ROUTES[ends_in])
        raise ConfigurationError(
            f"{name} {url!r} ends in {ends_in}, a route of the {served} format, not {format}: "
            f"{fix}; or call it with the {served} format"
        )
    raise ConfigurationError(
        f"{name} {url!r} has the path {path!r}, which is no {wire.title} rerank route: {fix}"
    )
