"""The wire formats an HTTP reranker speaks, built on the declared models of
:mod:`es_rerank.wire`: which route a base URL gets, the request body, and how the answer
becomes ``(input index, score)`` pairs.

- ``es``: Elasticsearch's inference API body, as the shim's ``/inference/rerank`` serves it
  (``score_mode: "raw"`` asks the shim for raw logits whatever its default);
- ``tei``: Text Embeddings Inference ``/rerank`` with ``raw_scores: true`` (logits rather
  than TEI's default sigmoid) and ``truncate: true`` (TEI refuses over-long pairs otherwise);
- ``cohere``: Cohere's rerank body with only the fields Cohere's API accepts (it refuses
  unknown ones), for Cohere v1/v2, Infinity's ``/rerank`` and the shim's ``/v1|/v2/rerank``;
  their scores are in [0, 1] (the shim's too, by default, as Cohere's), so a caller that
  needs logits says ``score_scale="sigmoid"`` and gets them back (``ln(p/(1-p))``).

Routes, models and batch limits come from :data:`es_rerank.wire.WIRE_FORMATS`.

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
from typing import Any, Final, Literal

import pydantic

from es_rerank import wire
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

__all__ = ["FORMATS", "FORMAT_NAMES", "ClientFormat", "Format", "Ranked", "rerank_endpoint"]

Format = Literal["es", "tei", "cohere"]
#: Every format's name (``es``, ``tei``, ``cohere``), from the registry.
FORMAT_NAMES: Final[tuple[str, ...]] = wire.FORMAT_NAMES

#: (input index, score) pairs as a server returned them, in its order.
Ranked = list[tuple[int, float]]

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
class ClientFormat:
    """A format of the registry (:data:`es_rerank.wire.WIRE_FORMATS`) as a client speaks it:
    the request body it sends and its reading of an answer."""

    spec: wire.WireFormat
    payload: Callable[[str, Sequence[str], str | None], dict[str, Any]]
    ranking: Callable[[Any], Ranked]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def route(self) -> str:
        return self.spec.route

    @property
    def max_batch(self) -> int | None:
        return self.spec.max_batch


_CODECS: Final[Mapping[str, tuple[Callable[..., dict[str, Any]], Callable[[Any], Ranked]]]] = {
    "es": (_es_payload, _es_ranking),
    "tei": (_tei_payload, _tei_ranking),
    "cohere": (_cohere_payload, _cohere_ranking),
}

FORMATS: Final[Mapping[str, ClientFormat]] = {
    name: ClientFormat(spec, *_CODECS[name]) for name, spec in wire.WIRE_FORMATS.items()
}


def check_format(format: str, *, name: str = "format") -> ClientFormat:
    """The :class:`ClientFormat` called ``format``, else a :class:`ConfigurationError`."""
    return FORMATS[wire.wire_format(format, name=name).name]


def rerank_endpoint(format: str, url: str, *, name: str = "url") -> str:
    """The URL a reranker of ``format`` posts to. A base URL gets the format's route
    (``es``: ``/inference/rerank``, ``tei``: ``/rerank``, ``cohere``: ``/v2/rerank``); a URL
    ending in a route that speaks the format is used as is; any other path is refused
    rather than extended, and a route of another format is named as such
    (:func:`es_rerank.wire.resolve_route`).

    >>> rerank_endpoint("cohere", "http://infinity:7997/rerank")
    'http://infinity:7997/rerank'
    >>> rerank_endpoint("tei", "http://vllm:8000/v1/rerank")
    Traceback (most recent call last):
    ...
    es_rerank.errors.ConfigurationError: url 'http://vllm:8000/v1/rerank' ends in /v1/rerank, \
a route of the cohere format, not tei; ...
    """
    return wire.resolve_route(format, url, name=name)
