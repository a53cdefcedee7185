"""External execution: the client runs a retriever tree over any
:class:`~es_rerank.backends.Backend`, calling rerankers itself and applying Elasticsearch's
rules from :mod:`es_rerank.rules`. This module does the I/O (backend queries, reranker
calls); the rules stay pure.

>>> from es_rerank.backends.base import Hit, Hits
>>> from es_rerank.retrievers import StandardRetriever, TextSimilarityReranker
>>> class TwoDocs:
...     def search_query(self, query, *, size):
...         return Hits([Hit("a", 2.0, {"text": "-1.5"}), Hit("b", 1.0, {"text": "3"})][:size],
...                     total=57)
>>> spec = TextSimilarityReranker(retriever=StandardRetriever(), field="text",
...                               inference_text="q")
>>> result = run_external(spec, backend=TwoDocs(),
...                       reranker=lambda q, texts: [float(t) for t in texts], size=10, from_=0)
>>> [h.id for h in result.hits], result.total
(['b', 'a'], 57)
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from es_rerank.backends.base import Backend, Hits, InferenceRerankBackend, TotalRelation
from es_rerank.errors import (
    EsRerankError,
    InferenceEndpointNotFoundError,
    RerankerNotConfiguredError,
    RerankError,
)
from es_rerank.explain import (
    HitExplanation,
    RerankExplanation,
    explain_rerank,
    explain_rerank_failure,
    mark_returned,
)
from es_rerank.multi_field import multi_field_call
from es_rerank.rerankers.base import Reranker, RerankFunction, as_reranker, check_scores
from es_rerank.results import SearchHit, SearchResult
from es_rerank.retrievers import (
    KnnRetriever,
    Query,
    Retriever,
    RRFRetriever,
    StandardRetriever,
    TextSimilarityReranker,
    filters_of,
)
from es_rerank.rules import (
    Ranked,
    apply_rerank,
    candidate_scores,
    keep_child_order,
    knn_query,
    leaf_window,
    page,
    rerank_call,
    rerank_candidates,
    rrf_fuse,
    top_docs_query,
    with_filters,
)
from es_rerank.semantic_rerank import semantic_rerank_call

__all__ = ["RerankerSpec", "resolve_rerankers", "run_external"]

#: One reranker for every node, or one per ``inference_id``.
RerankerSpec = Reranker | RerankFunction | Mapping[str, Reranker | RerankFunction]


@dataclass
class _Ranking:
    """A node's ranked hits and how many documents its query matched (ES's hits.total)."""

    items: list[Ranked]
    total: int
    relation: TotalRelation = "eq"


def _walk(node: Retriever) -> list[Retriever]:
    out = [node]
    for child in node.children():
        out.extend(_walk(child))
    return out


def resolve_rerankers(
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
        elif isinstance(backend, InferenceRerankBackend):
            out[id(node)] = backend.inference_reranker(inference_id)
        else:
            raise RerankerNotConfiguredError(
                f"external execution of [{inference_id}] needs a reranker: pass reranker= "
                "(a Reranker, a function (query, texts) -> scores, or a mapping "
                "inference_id -> reranker), or search a backend that serves inference "
                "endpoints (ElasticsearchBackend) and has that endpoint"
            )
    return out


class _Executor:
    def __init__(self, backend: Backend, rerankers: dict[int, Reranker], *, explain: bool) -> None:
        self.backend = backend
        self.rerankers = rerankers
        #: with explain: one per reranker node run, with its depth in the tree
        self.explanations: list[tuple[int, RerankExplanation]] | None = [] if explain else None

    def _query(self, query: Query | None, size: int) -> Hits:
        return Hits.of(self.backend.search_query(query, size=size))

    def run(self, node: Retriever, filters: list[Query], window: int, path: str = "") -> _Ranking:
        path = f"{path}.{node.kind}" if path else node.kind
        if isinstance(node, StandardRetriever):
            return self._standard(node, filters, window)
        if isinstance(node, KnnRetriever):
            return self._knn(node, filters, window)
        if isinstance(node, RRFRetriever):
            return self._rrf(node, filters, window, path)
        if isinstance(node, TextSimilarityReranker):
            return self._rerank(node, filters, window, path)
        raise ValueError(f"external execution does not support [{node.kind}] retrievers")

    def _standard(self, node: StandardRetriever, filters: list[Query], window: int) -> _Ranking:
        query = with_filters(node.query, [*filters, *filters_of(node.filter)])
        hits = self._query(query, window)
        kept = [h for h in hits if node.min_score is None or h.score >= node.min_score]
        return _Ranking([Ranked(h) for h in kept[:window]], hits.total, hits.relation)

    def _knn(self, node: KnnRetriever, filters: list[Query], window: int) -> _Ranking:
        size = min(node.k, window)
        if size == 0:
            return _Ranking([], 0)
        hits = self._query(knn_query(node, filters), size)
        return _Ranking([Ranked(h) for h in hits[:size]], len(hits[:size]))

    def _rrf(self, node: RRFRetriever, filters: list[Query], window: int, path: str) -> _Ranking:
        own = node.effective_rank_window_size
        child_filters = [*filters, *filters_of(node.filter)]
        children = [
            self.run(child, child_filters, own, f"{path}.retrievers[{i}]")
            for i, child in enumerate(node.retrievers)
        ]
        fused = rrf_fuse(
            [c.items[:own] for c in children],
            rank_constant=node.effective_rank_constant,
            limit=min(own, window),
        )
        # ES counts the documents matching any child (bool.should of their queries).
        union = self.backend.search_query(top_docs_query(node, filters), size=0)
        if isinstance(union, Hits):
            return _Ranking(fused, union.total, union.relation)
        floor = max([len(fused), *(c.total for c in children)])
        return _Ranking(fused, floor, "gte")

    def _rerank(
        self, node: TextSimilarityReranker, filters: list[Query], window: int, path: str
    ) -> _Ranking:
        own = node.effective_rank_window_size
        child = self.run(
            node.retriever, [*filters, *filters_of(node.filter)], own, f"{path}.retriever"
        )
        window_hits = child.items[:own]
        if node.fields is not None:
            candidates, call = multi_field_call(window_hits, node.fields)
        elif semantic := semantic_rerank_call(
            self.backend,
            window_hits,
            node.field or "",
            node.inference_text,
            node.effective_chunk_rescorer,
        ):
            candidates, call = semantic
        else:
            candidates = rerank_candidates(window_hits, node.field or "")
            call = rerank_call(candidates, node.inference_text, node.effective_chunk_rescorer)
        input_scores: list[float] = []
        if candidates:
            try:
                input_scores = check_scores(
                    self.rerankers[id(node)].rerank(node.inference_text, call.texts),
                    len(call.texts),
                )
            except Exception as exc:
                if not node.allow_rerank_failures:
                    if isinstance(exc, EsRerankError):
                        raise
                    raise RerankError(
                        f"reranking for [{node.effective_inference_id}] failed: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                kept = keep_child_order(window_hits, window)
                if self.explanations is not None:
                    failure = explain_rerank_failure(
                        node,
                        window=window_hits,
                        candidates=candidates,
                        error=exc,
                        passed_on=len(kept),
                        path=path,
                    )
                    self.explanations.append((path.count("."), failure))
                return _Ranking(kept, child.total, child.relation)
        ranked = apply_rerank(
            candidates, candidate_scores(call, input_scores), min_score=node.min_score, limit=own
        )
        if self.explanations is not None:
            explanation = explain_rerank(
                node,
                window=window_hits,
                candidates=candidates,
                call=call,
                input_scores=input_scores,
                ranked=ranked,
                passed_on=min(len(ranked), window),
                path=path,
            )
            self.explanations.append((path.count("."), explanation))
        return _Ranking(ranked[:window], child.total, child.relation)

    def explanation(self) -> list[RerankExplanation] | None:
        """Every reranker node's explanation, outermost first (siblings in tree order)."""
        if self.explanations is None:
            return None
        return [e for _, e in sorted(self.explanations, key=lambda item: item[0])]


def _select_source(source: Mapping[str, Any], wanted: bool | Sequence[str]) -> Mapping[str, Any]:
    if wanted is True:
        return source
    if wanted is False:
        return {}
    keep = set(wanted)
    return {k: v for k, v in source.items() if k in keep}


def run_external(
    retriever: Retriever,
    *,
    backend: Backend,
    reranker: RerankerSpec | None,
    size: int,
    from_: int,
    source: bool | Sequence[str] = True,
    explain: bool = False,
) -> SearchResult:
    """Run ``retriever`` on ``backend`` with ES's rules; ``hits.total`` is the child's
    total, as ES reports it. Arguments are those of :func:`es_rerank.search`, checked."""
    started = time.perf_counter()
    rerankers = resolve_rerankers(retriever, reranker, backend)
    executor = _Executor(backend, rerankers, explain=explain)
    ranking = executor.run(retriever, [], leaf_window(retriever, size, from_))
    explanation = executor.explanation()
    top = None
    if explanation and isinstance(retriever, TextSimilarityReranker):
        top = mark_returned(explanation[0], range(from_ + 1, from_ + size + 1))
        explanation[0] = top
    hits = [
        SearchHit(
            id=r.hit.id,
            score=r.hit.score,
            source=_select_source(r.hit.source, source),
            rank=from_ + i + 1,
            first_stage_rank=r.first_stage_rank,
            explanation=None if top is None else _by_child_rank(top, r.first_stage_rank),
        )
        for i, r in enumerate(page(ranking.items, from_, size))
    ]
    took = int((time.perf_counter() - started) * 1000)
    return SearchResult(
        hits=hits,
        mode="external",
        total=ranking.total,
        took_ms=took,
        total_relation=ranking.relation,
        explanation=explanation,
    )


def _by_child_rank(explanation: RerankExplanation, child_rank: int | None) -> HitExplanation | None:
    return next((h for h in explanation.hits if h.child_rank == child_rank), None)
