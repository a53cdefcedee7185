"""Run a retriever natively (the backend runs the whole tree: Elasticsearch reranks) or
externally (the client applies exactly ES's ``text_similarity_reranker`` rules over any
:class:`~es_rerank.Backend`): one entry point, one result type.

The rules live in :mod:`es_rerank.rules`, the external executor in
:mod:`es_rerank.external`, the result types in :mod:`es_rerank.results`.

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
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from es_rerank.backends.base import Backend, RetrieverBackend
from es_rerank.backends.retriever_request import RetrieverRequest, call_search_retriever
from es_rerank.errors import ConfigurationError, RetrieverValidationError
from es_rerank.explain import explain_native
from es_rerank.external import RerankerSpec, run_external
from es_rerank.multi_field import multi_field_nodes, refuse_natively
from es_rerank.results import SearchHit, SearchResult
from es_rerank.retriever_tree import own_window
from es_rerank.retrievers import Retriever, TextSimilarityReranker, retriever_from_dict
from es_rerank.rules import check_request, convert_min_scores

__all__ = [
    "DEFAULT_SIZE",
    "MinScoreSpace",
    "Mode",
    "RerankerSpec",
    "SearchHit",
    "SearchResult",
    "default_size",
    "search",
]

Mode = Literal["auto", "native", "external"]
#: ES's ``size`` when a search has none and its retriever is a leaf
DEFAULT_SIZE = 10
MinScoreSpace = Literal["raw", "normalized"]


def search(
    retriever: Retriever | Mapping[str, Any],
    *,
    backend: Backend,
    reranker: RerankerSpec | None = None,
    size: int | None = None,
    from_: int = 0,
    mode: Mode = "auto",
    source: bool | Sequence[str] = True,
    min_score_space: MinScoreSpace = "raw",
    explain: bool = False,
    collapse: Mapping[str, Any] | None = None,
    **top_level: Any,
) -> SearchResult:
    """Run ``retriever`` (a spec or its ES JSON) and return one :class:`SearchResult`.

    - ``mode="native"``: the retriever goes to the backend whole (a
      :class:`~es_rerank.backends.RetrieverBackend`, i.e.
      :class:`~es_rerank.ElasticsearchBackend`); ES errors come back as typed
      :mod:`es_rerank.errors` exceptions with ES's reason.
    - ``mode="external"``: the client runs the child on ``backend`` and reranks with
      ``reranker``: one :class:`~es_rerank.rerankers.Reranker` (or function) for every
      node, or a mapping ``inference_id -> reranker``; without one, a backend that serves
      inference endpoints (:class:`~es_rerank.backends.InferenceRerankBackend`) scores
      with the node's ``inference_id``.
    - ``mode="auto"``: native when no ``reranker`` is given and the backend can run it
      (a cluster with an enterprise or trial license), else external.

    ``min_score_space="normalized"`` reads every ``min_score`` in the units of returned
    scores and converts it to ES's raw units with :func:`es_rerank.min_score_to_raw`.
    ``size`` left out is ES's: 10, or for a compound retriever (``rrf``,
    ``text_similarity_reranker``, ...) its ``rank_window_size`` (a search without ``size``
    returns the whole window, ``RankDocsRetrieverBuilder``); a given ``size`` above the window
    is refused, as in ES. Top-level
    ``query``/``knn``/``sort``/``rescore``/``search_after``/``terminate_after``
    cannot be combined with a retriever, as in ES. ``result.total`` is ES's ``hits.total``:
    the documents the child retrievers matched, or with a ``min_score`` on the top
    retriever or one of its children, the ranked documents that pass it.

    ``collapse`` (ES's top-level ``collapse``, e.g. ``{"field": "year"}``) keeps the best
    hit of each value of the field among the ranked documents; natively ES runs it (with
    ``inner_hits``), externally ``inner_hits`` is refused.

    ``explain=True`` fills ``result.explanation`` (one
    :class:`~es_rerank.explain.RerankExplanation` per reranker node, outermost first) and
    each hit's ``explanation``: externally, every hit of the window with its child rank and
    score, the text or chunks sent, raw and normalized score, ``min_score`` verdict and
    final rank, dropped hits included; natively, what Elasticsearch's ``explain`` reports
    for the returned hits of a top-level reranker.
    """
    spec = retriever if isinstance(retriever, Retriever) else retriever_from_dict(retriever)
    if mode not in ("auto", "native", "external"):
        raise ConfigurationError(f"mode must be 'auto', 'native' or 'external', got {mode!r}")
    if not isinstance(explain, bool):
        raise ConfigurationError(f"explain must be True or False, got {explain!r}")
    if min_score_space not in ("raw", "normalized"):
        raise ConfigurationError(
            f"min_score_space must be 'raw' or 'normalized', got {min_score_space!r}"
        )
    size = default_size(spec) if size is None else size
    check_request(spec, size, from_, top_level)
    _check_collapse(collapse)
    if min_score_space == "normalized":
        spec = convert_min_scores(spec)
    if mode == "auto":
        native = (
            reranker is None
            and not multi_field_nodes(spec)  # fields=[...] runs only externally
            and isinstance(backend, RetrieverBackend)
            and backend.supports_native()
        )
        mode = "native" if native else "external"
    if mode == "native":
        refuse_natively(spec)
        if reranker is not None:
            raise ConfigurationError(
                "reranker= is not used in mode='native' (Elasticsearch calls the retriever's "
                "inference_id); drop it or use mode='external'"
            )
        if not isinstance(backend, RetrieverBackend):
            raise ConfigurationError(
                "mode='native' needs a backend that runs retrievers (ElasticsearchBackend), "
                f"got {type(backend).__name__}"
            )
        request = RetrieverRequest(
            spec.to_dict(),
            size=size,
            from_=from_,
            source=source,
            explain=explain,
            collapse=None if collapse is None else dict(collapse),
        )
        result = call_search_retriever(backend.search_retriever, request)
        return with_native_explanation(spec, result, from_=from_) if explain else result
    if collapse is not None and "inner_hits" in collapse:
        raise ConfigurationError(
            "collapse.inner_hits is run by Elasticsearch only (mode='native'): external "
            "results have no place for inner hits"
        )
    return run_external(
        spec,
        backend=backend,
        reranker=reranker,
        size=size,
        from_=from_,
        source=source,
        explain=explain,
        collapse=collapse,
    )


def _check_collapse(collapse: Mapping[str, Any] | None) -> None:
    if collapse is None:
        return
    if not isinstance(collapse, Mapping) or not isinstance(collapse.get("field"), str):
        raise RetrieverValidationError("collapse", "[collapse] requires a [field]")
    known = {"field", "inner_hits", "max_concurrent_group_searches"}
    for key in collapse:
        if key not in known:
            raise RetrieverValidationError("collapse", f"[collapse] unknown field [{key}]")


def default_size(spec: Retriever) -> int:
    """The number of hits ES returns for ``spec`` when the request has no ``size``.

    >>> from es_rerank import RRFRetriever, StandardRetriever
    >>> default_size(StandardRetriever()), default_size(
    ...     RRFRetriever(retrievers=[StandardRetriever()], rank_window_size=3))
    (10, 3)
    """
    window = own_window(spec)
    return DEFAULT_SIZE if window is None else window


def with_native_explanation(spec: Retriever, result: SearchResult, *, from_: int) -> SearchResult:
    """``result`` (a native search run with ``explain: true``) with Elasticsearch's
    ``_explanation`` of each hit mapped onto the explain structure; a tree whose top node
    is not a ``text_similarity_reranker`` gets an empty list."""
    if not isinstance(spec, TextSimilarityReranker):
        return dataclasses.replace(result, explanation=[])
    raw_hits = ((result.raw or {}).get("hits") or {}).get("hits") or []
    explanation = explain_native(spec, raw_hits, from_=from_)
    hits = [
        dataclasses.replace(h, explanation=e)
        for h, e in zip(result.hits, explanation.hits, strict=False)
    ]
    return dataclasses.replace(result, hits=hits, explanation=[explanation])
