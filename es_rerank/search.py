"""Run a retriever natively (Elasticsearch reranks) or externally (the client applies
exactly ES's ``text_similarity_reranker`` rules over any :class:`~es_rerank.Backend`).

External execution, per ``text_similarity_reranker`` node:

1. run the child with the node's (and inherited) ``filter`` added as ``bool.filter``;
   keep its top ``rank_window_size`` hits;
2. read ``field`` from each hit (dotted paths; the first value of a list; numbers and
   keywords as strings); hits without it are dropped;
3. call the reranker once with ``inference_text`` and those texts;
4. keep hits whose RAW score is ``>= min_score``; score = ``normalize(raw)``;
5. sort by score, descending, ties in the child's order; ``from``/``size`` page inside
   the window.

>>> from es_rerank import StandardRetriever, TextSimilarityReranker, search
>>> from es_rerank.backends.base import Hit
>>> class TwoDocs:
...     def search_query(self, query, *, size):
...         return [Hit("a", 2.0, {"text": "-1.5"}), Hit("b", 1.0, {"text": "3"})][:size]
>>> spec = TextSimilarityReranker(retriever=StandardRetriever(), field="text",
...                               inference_text="q", min_score=-2.0)
>>> result = search(spec, backend=TwoDocs(), reranker=lambda q, texts: [float(t) for t in texts])
>>> [(h.id, round(h.score, 4)) for h in result.hits], result.mode
([('b', 4.0), ('a', 0.2231)], 'external')
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from es_rerank.backends.base import Backend, Hit
from es_rerank.errors import (
    EsRerankError,
    InferenceEndpointNotFoundError,
    RerankerNotConfiguredError,
    RerankError,
    RetrieverValidationError,
)
from es_rerank.rerankers.base import Reranker, RerankFunction, as_reranker, check_scores
from es_rerank.retrievers import (
    KnnRetriever,
    Query,
    Retriever,
    RRFRetriever,
    StandardRetriever,
    TextSimilarityReranker,
    filters_of,
)
from es_rerank.scores import min_score_to_raw, normalize

__all__ = [
    "RerankerSpec",
    "SearchHit",
    "SearchResult",
    "field_text",
    "search",
]

Mode = Literal["auto", "native", "external"]
MinScoreSpace = Literal["raw", "normalized"]
#: One reranker for every node, or one per ``inference_id``.
RerankerSpec = Reranker | RerankFunction | Mapping[str, Reranker | RerankFunction]

# Top-level search parameters a retriever cannot be combined with (ES rejects them).
_NOT_WITH_RETRIEVER = ("query", "knn", "sort", "rescore", "search_after", "terminate_after")


@dataclass(frozen=True)
class SearchHit:
    """One result. ``rank`` is the 1-based position in the whole ranking (``from_`` + i + 1);
    ``first_stage_rank`` the 1-based position in the child's results before the top
    reranker, when known."""

    id: str
    score: float
    source: Mapping[str, Any]
    rank: int
    first_stage_rank: int | None = None
    index: str | None = None


@dataclass
class SearchResult:
    """Hits of one search and how it ran (``mode`` is ``"native"`` or ``"external"``)."""

    hits: list[SearchHit]
    mode: Literal["native", "external"]
    total: int
    took_ms: int
    total_relation: str = "eq"
    raw: dict[str, Any] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The result shaped like an ES ``_search`` response body."""
        hits: list[dict[str, Any]] = []
        for h in self.hits:
            item: dict[str, Any] = {}
            if h.index is not None:
                item["_index"] = h.index
            item["_id"] = h.id
            item["_score"] = h.score
            item["_source"] = dict(h.source)
            hits.append(item)
        return {
            "took": self.took_ms,
            "timed_out": False,
            "hits": {
                "total": {"value": self.total, "relation": self.total_relation},
                "max_score": max((h.score for h in self.hits), default=None),
                "hits": hits,
            },
        }


# ------------------------------------------------------------------ helpers


def field_text(source: Mapping[str, Any], path: str) -> str | None:
    """The text ES would send for ``path``: the first value of a multi-valued field,
    numbers and booleans as strings; ``None`` when missing.

    >>> field_text({"a": {"b": ["x", "y"]}}, "a.b"), field_text({"n": 7}, "n")
    ('x', '7')
    >>> field_text({"t": "x"}, "missing") is None
    True
    """
    value: Any = source
    if isinstance(value, Mapping) and path in value:
        value = value[path]
    else:
        for part in path.split("."):
            while isinstance(value, list) and value:
                value = value[0]
            if not isinstance(value, Mapping) or part not in value:
                return None
            value = value[part]
    while isinstance(value, list):
        if not value:
            return None
        value = value[0]
    if value is None or isinstance(value, Mapping):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _with_filters(query: Query | None, filters: Sequence[Query]) -> Query | None:
    if not filters:
        return query
    bool_query: dict[str, Any] = {"filter": list(filters)}
    if query is not None:
        bool_query = {"must": [dict(query)], **bool_query}
    return {"bool": bool_query}


def _walk(node: Retriever) -> list[Retriever]:
    out = [node]
    for child in node.children():
        out.extend(_walk(child))
    return out


def _convert_min_scores(node: Retriever) -> Retriever:
    """Every reranker's ``min_score`` from normalized units into raw ones."""
    if isinstance(node, TextSimilarityReranker):
        raw = None if node.min_score is None else min_score_to_raw(node.min_score)
        return dataclasses.replace(
            node, retriever=_convert_min_scores(node.retriever), min_score=raw
        )
    if isinstance(node, RRFRetriever):
        return dataclasses.replace(
            node, retrievers=[_convert_min_scores(c) for c in node.retrievers]
        )
    return node


def _validate_request(
    retriever: Retriever, size: int, from_: int, extra: Mapping[str, Any]
) -> None:
    for name, value in (("size", size), ("from_", from_)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RetrieverValidationError(name, f"[{name}] must be an integer >= 0, got {value!r}")
    for key in extra:
        if key in _NOT_WITH_RETRIEVER:
            raise RetrieverValidationError(key, f"cannot specify [retriever] and [{key}]")
        raise TypeError(f"search() got an unexpected keyword argument {key!r}")
    if isinstance(retriever, TextSimilarityReranker | RRFRetriever):
        window = retriever.effective_rank_window_size
        if window < size:
            raise RetrieverValidationError(
                "rank_window_size",
                f"[{retriever.kind}] requires [rank_window_size: {window}] be greater than "
                f"or equal to [size: {size}]",
            )


# ------------------------------------------------------------------ external


@dataclass(frozen=True)
class _Ranked:
    hit: Hit
    first_stage_rank: int | None = None


class _External:
    def __init__(self, backend: Backend, rerankers: dict[int, Reranker]) -> None:
        self.backend = backend
        self.rerankers = rerankers

    def run(self, node: Retriever, filters: list[Query], window: int) -> list[_Ranked]:
        if isinstance(node, StandardRetriever):
            return self._standard(node, filters, window)
        if isinstance(node, KnnRetriever):
            return self._knn(node, filters, window)
        if isinstance(node, RRFRetriever):
            return self._rrf(node, filters, window)
        if isinstance(node, TextSimilarityReranker):
            return self._rerank(node, filters, window)
        raise ValueError(f"external execution does not support [{node.kind}] retrievers")

    def _standard(
        self, node: StandardRetriever, filters: list[Query], window: int
    ) -> list[_Ranked]:
        if window == 0:
            return []
        query = _with_filters(node.query, [*filters, *filters_of(node.filter)])
        hits = self.backend.search_query(query, size=window)
        if node.min_score is not None:
            hits = [h for h in hits if h.score >= node.min_score]
        return [_Ranked(h) for h in hits[:window]]

    def _knn(self, node: KnnRetriever, filters: list[Query], window: int) -> list[_Ranked]:
        size = min(node.k, window)
        if size == 0:
            return []
        body: dict[str, Any] = {
            "field": node.field,
            "k": node.k,
            "num_candidates": node.num_candidates,
        }
        if node.query_vector is not None:
            body["query_vector"] = list(node.query_vector)
        if node.query_vector_builder is not None:
            body["query_vector_builder"] = dict(node.query_vector_builder)
        all_filters = [*filters, *filters_of(node.filter)]
        if all_filters:
            body["filter"] = all_filters
        if node.similarity is not None:
            body["similarity"] = node.similarity
        hits = self.backend.search_query({"knn": body}, size=size)
        return [_Ranked(h) for h in hits[:size]]

    def _rrf(self, node: RRFRetriever, filters: list[Query], window: int) -> list[_Ranked]:
        own = node.effective_rank_window_size
        child_filters = [*filters, *filters_of(node.filter)]
        scores: dict[str, float] = {}
        first: dict[str, Hit] = {}
        for child in node.retrievers:
            for rank, ranked in enumerate(self.run(child, child_filters, own)[:own], start=1):
                hid = ranked.hit.id
                scores[hid] = scores.get(hid, 0.0) + 1.0 / (node.effective_rank_constant + rank)
                first.setdefault(hid, ranked.hit)
        # dicts keep first-seen order, so the stable sort breaks ties by it
        order = sorted(scores, key=lambda hid: -scores[hid])
        fused = [_Ranked(Hit(hid, scores[hid], first[hid].source)) for hid in order]
        return fused[: min(own, window)]

    def _rerank(
        self, node: TextSimilarityReranker, filters: list[Query], window: int
    ) -> list[_Ranked]:
        if node.chunk_rescorer is not None:
            raise RetrieverValidationError(
                "chunk_rescorer",
                "[chunk_rescorer] runs inside Elasticsearch only; use mode='native' or drop it",
            )
        own = node.effective_rank_window_size
        child = self.run(node.retriever, [*filters, *filters_of(node.filter)], own)[:own]
        candidates: list[tuple[int, Hit, str]] = []
        for position, ranked in enumerate(child, start=1):
            text = field_text(ranked.hit.source, node.field)
            if text is not None:
                candidates.append((position, ranked.hit, text))
        if not candidates:
            return []
        reranker = self.rerankers[id(node)]
        try:
            raw = check_scores(
                reranker.rerank(node.inference_text, [c[2] for c in candidates]),
                len(candidates),
            )
        except Exception as exc:
            if node.allow_rerank_failures:
                return [
                    _Ranked(r.hit, position) for position, r in enumerate(child[:window], start=1)
                ]
            if isinstance(exc, EsRerankError):
                raise
            raise RerankError(
                f"reranking for [{node.effective_inference_id}] failed: {type(exc).__name__}: {exc}"
            ) from exc
        kept = [
            (normalize(score), position, hit)
            for (position, hit, _), score in zip(candidates, raw, strict=True)
            if node.min_score is None or score >= node.min_score
        ]
        kept.sort(key=lambda item: (-item[0], item[1]))
        return [
            _Ranked(Hit(hit.id, score, hit.source), position)
            for score, position, hit in kept[: min(own, window)]
        ]


def _resolve_rerankers(
    retriever: Retriever, reranker: RerankerSpec | None, backend: Backend
) -> dict[int, Reranker]:
    """A reranker for every ``text_similarity_reranker`` node, before anything runs (ES
    resolves endpoints up front: an unknown one fails even when the child matches nothing)."""
    out: dict[int, Reranker] = {}
    for node in _walk(retriever):
        if not isinstance(node, TextSimilarityReranker):
            continue
        inference_id = node.effective_inference_id
        if isinstance(reranker, Mapping):
            if inference_id not in reranker:
                raise InferenceEndpointNotFoundError(
                    f"Inference endpoint not found [{inference_id}]", status=404
                )
            out[id(node)] = as_reranker(reranker[inference_id])
        elif reranker is not None:
            out[id(node)] = as_reranker(reranker)
        elif callable(getattr(backend, "inference_reranker", None)):
            out[id(node)] = backend.inference_reranker(inference_id)  # type: ignore[attr-defined]
        else:
            raise RerankerNotConfiguredError(
                f"external execution of [{inference_id}] needs a reranker: pass reranker= "
                "(a Reranker, a function (query, texts) -> scores, or a mapping "
                "inference_id -> reranker), or search an ElasticsearchBackend whose cluster "
                "has that inference endpoint"
            )
    return out


def _leaf_window(retriever: Retriever, size: int, from_: int) -> int:
    if isinstance(retriever, TextSimilarityReranker | RRFRetriever):
        return retriever.effective_rank_window_size
    return from_ + size


def _search_external(
    retriever: Retriever,
    backend: Backend,
    reranker: RerankerSpec | None,
    size: int,
    from_: int,
    source: bool | Sequence[str],
) -> SearchResult:
    started = time.perf_counter()
    rerankers = _resolve_rerankers(retriever, reranker, backend)
    ranked = _External(backend, rerankers).run(retriever, [], _leaf_window(retriever, size, from_))
    page = ranked[from_ : from_ + size]
    hits = [
        SearchHit(
            id=r.hit.id,
            score=r.hit.score,
            source=_select_source(r.hit.source, source),
            rank=from_ + i + 1,
            first_stage_rank=r.first_stage_rank,
        )
        for i, r in enumerate(page)
    ]
    took = int((time.perf_counter() - started) * 1000)
    return SearchResult(hits=hits, mode="external", total=len(ranked), took_ms=took)


def _select_source(source: Mapping[str, Any], wanted: bool | Sequence[str]) -> Mapping[str, Any]:
    if wanted is True:
        return source
    if wanted is False:
        return {}
    return {k: v for k, v in source.items() if k in set(wanted)}


# ------------------------------------------------------------------ native


def _search_native(
    retriever: Retriever, backend: Any, size: int, from_: int, source: bool | Sequence[str]
) -> SearchResult:
    body = backend.search_retriever(retriever.to_dict(), size=size, from_=from_, source=source)
    hits_block = body.get("hits", {})
    total = hits_block.get("total") or {}
    hits = []
    for i, h in enumerate(hits_block.get("hits", [])):
        hits.append(
            SearchHit(
                id=str(h["_id"]),
                score=float(h.get("_score") or 0.0),
                source=h.get("_source") or {},
                rank=from_ + i + 1,
                index=h.get("_index"),
            )
        )
    return SearchResult(
        hits=hits,
        mode="native",
        total=int(total.get("value", len(hits))) if isinstance(total, Mapping) else int(total),
        took_ms=int(body.get("took", 0)),
        total_relation=str(total.get("relation", "eq")) if isinstance(total, Mapping) else "eq",
        raw=body,
    )


def _can_native(backend: Any) -> bool:
    return callable(getattr(backend, "search_retriever", None)) and bool(
        getattr(backend, "supports_native", lambda: False)()
    )


def search(
    retriever: Retriever | Mapping[str, Any],
    *,
    backend: Backend,
    reranker: RerankerSpec | None = None,
    size: int = 10,
    from_: int = 0,
    mode: Mode = "auto",
    source: bool | Sequence[str] = True,
    min_score_space: MinScoreSpace = "raw",
    **top_level: Any,
) -> SearchResult:
    """Run ``retriever`` (a spec or its ES JSON) and return one :class:`SearchResult`.

    - ``mode="native"``: the retriever goes to Elasticsearch in ``_search`` (needs a
      backend with ``search_retriever``, i.e. :class:`~es_rerank.ElasticsearchBackend`);
      ES errors come back as typed :mod:`es_rerank.errors` exceptions with ES's reason.
    - ``mode="external"``: the client runs the child on ``backend`` and reranks with
      ``reranker``: one :class:`~es_rerank.rerankers.Reranker` (or function) for every
      node, or a mapping ``inference_id -> reranker``; without one, an ES backend's
      ``_inference`` endpoint of the node's ``inference_id`` is used.
    - ``mode="auto"``: native when no ``reranker`` is given and the backend can run it
      (a cluster with an enterprise or trial license), else external.

    ``min_score_space="normalized"`` reads every ``min_score`` in the units of returned
    scores and converts it to ES's raw units with :func:`es_rerank.min_score_to_raw`.
    Top-level ``query``/``knn``/``sort``/``rescore``/``search_after``/``terminate_after``
    cannot be combined with a retriever, as in ES.
    """
    from es_rerank.retrievers import retriever_from_dict

    spec = retriever if isinstance(retriever, Retriever) else retriever_from_dict(retriever)
    if mode not in ("auto", "native", "external"):
        raise ValueError(f"mode must be 'auto', 'native' or 'external', got {mode!r}")
    if min_score_space not in ("raw", "normalized"):
        raise ValueError(f"min_score_space must be 'raw' or 'normalized', got {min_score_space!r}")
    _validate_request(spec, size, from_, top_level)
    if min_score_space == "normalized":
        spec = _convert_min_scores(spec)
    if mode == "auto":
        mode = "native" if reranker is None and _can_native(backend) else "external"
    if mode == "native":
        if reranker is not None:
            raise ValueError(
                "reranker= is not used in mode='native' (Elasticsearch calls the retriever's "
                "inference_id); drop it or use mode='external'"
            )
        if not callable(getattr(backend, "search_retriever", None)):
            raise ValueError(
                f"mode='native' needs a backend that runs retrievers (ElasticsearchBackend), "
                f"got {type(backend).__name__}"
            )
        return _search_native(spec, backend, size, from_, source)
    return _search_external(spec, backend, reranker, size, from_, source)
