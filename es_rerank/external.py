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

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from es_rerank.backends.base import (
    Backend,
    ChunkDefaultsBackend,
    Hit,
    Hits,
    InferenceRerankBackend,
    RetrieverBackend,
    SearchRequestBackend,
    TotalRelation,
)
from es_rerank.backends.retriever_request import RetrieverRequest, call_search_retriever
from es_rerank.errors import (
    ChildRetrieversFailedError,
    ConfigurationError,
    ElasticsearchRequestError,
    EsRerankError,
    InferenceEndpointNotFoundError,
    RerankerNotConfiguredError,
    RerankError,
    RetrieverValidationError,
)
from es_rerank.explain import (
    HitExplanation,
    RerankExplanation,
    explain_rerank,
    explain_rerank_failure,
    mark_returned,
)
from es_rerank.fusion import linear_combine, pin_scores, rescore_combine, tied_ids
from es_rerank.multi_field import multi_field_call
from es_rerank.rerankers.base import (
    Reranker,
    RerankerSpec,
    check_scores,
    given_reranker,
)
from es_rerank.results import SearchHit, SearchResult
from es_rerank.retriever_tree import dispatch, expand_multi_field, has_reranker, own_window, walk
from es_rerank.retrievers import (
    DiversifyRetriever,
    KnnRetriever,
    LinearRetriever,
    PinnedRetriever,
    Query,
    RescorerRetriever,
    Retriever,
    RRFRetriever,
    RuleRetriever,
    StandardRetriever,
    TextSimilarityReranker,
    filters_of,
)
from es_rerank.rules import (
    Candidate,
    Ranked,
    apply_rerank,
    candidate_scores,
    collapse_ranked,
    keep_child_order,
    knn_query,
    leaf_window,
    page,
    rerank_call,
    rerank_candidates,
    rrf_fuse,
    top_docs_query,
    with_cluster_chunking,
    with_filters,
)
from es_rerank.scores import normalize
from es_rerank.semantic_rerank import semantic_rerank_call

_Fused = TypeVar("_Fused", RRFRetriever, LinearRetriever)

__all__ = ["RerankerSpec", "resolve_rerankers", "run_external"]

#: What the retrievers only a cluster runs need, that another backend lacks.
_CLUSTER_ONLY = {
    "rule": "applies the cluster's query rulesets (ruleset_ids), which {backend} does not have",
    "diversify": "compares dense_vector fields, which {backend} cannot read",
}


#: Standard retriever options ES refuses under a compound retriever
#: (``StandardRetrieverBuilder.extractToSearchSourceBuilder`` with ``compoundUsed``).
_NOT_IN_COMPOUND = ("search_after", "terminate_after")


@dataclass
class _Ranking:
    """A node's ranked hits and how many documents its ``topDocsQuery`` matched (what a
    parent counts); ``reported`` is ES's ``hits.total`` when the node is the top one,
    where it differs (``min_score`` rules)."""

    items: list[Ranked]
    total: int
    relation: TotalRelation = "eq"
    reported: tuple[int, TotalRelation] | None = None

    @property
    def top_total(self) -> tuple[int, TotalRelation]:
        return self.reported if self.reported is not None else (self.total, self.relation)


class _MissingEndpoint:
    """The reranker of a node with ``allow_rerank_failures`` whose endpoint does not exist:
    ES counts it as an allowed failure, so the error is raised when the node reranks."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def rerank(self, query: str, texts: Sequence[str]) -> Sequence[float]:
        raise self.error


def resolve_rerankers(
    retriever: Retriever, reranker: RerankerSpec | None, backend: Backend
) -> dict[int, Reranker]:
    """A reranker for every ``text_similarity_reranker`` node, before anything runs (ES
    resolves endpoints up front: an unknown one fails even when the child matches nothing,
    unless the node has ``allow_rerank_failures``, where it is an allowed failure)."""
    out: dict[int, Reranker] = {}
    for node in walk(retriever):
        if not isinstance(node, TextSimilarityReranker):
            continue
        try:
            out[id(node)] = _node_reranker(node.effective_inference_id, reranker, backend)
        except InferenceEndpointNotFoundError as exc:
            if not node.allow_rerank_failures:
                raise
            out[id(node)] = _MissingEndpoint(exc)
    return out


def _node_reranker(inference_id: str, reranker: RerankerSpec | None, backend: Backend) -> Reranker:
    given = given_reranker(inference_id, reranker)
    if given is not None:
        return given
    if isinstance(backend, InferenceRerankBackend):
        return backend.inference_reranker(inference_id)
    raise RerankerNotConfiguredError(
        f"external execution of [{inference_id}] needs a reranker: pass reranker= "
        "(a Reranker, a function (query, texts) -> scores, or a mapping "
        "inference_id -> reranker), or search a backend that serves inference "
        "endpoints (ElasticsearchBackend) and has that endpoint"
    )


def _min_score_of(node: Retriever) -> float | None:
    value: float | None = getattr(node, "min_score", None)
    return value


def _with_min_score_rule(node: Retriever, ranking: _Ranking) -> _Ranking:
    """ES's ``hits.total`` for a compound node at the top: with a ``min_score`` on the node
    or anywhere below it, the search runs with that ``min_score`` (or ``Float.MIN_VALUE``)
    over the rank docs, so the total counts only the rank docs
    (``RankDocsRetrieverBuilder.extractToSearchSourceBuilder``, ``sourceHasMinScore``;
    nested trees: "Multi-level nested retrievers with min_score" in ES's
    retrievers-examples.md, whose total "reflects only the documents passing the inner
    min_score threshold")."""
    if all(_min_score_of(n) is None for n in walk(node)):
        return ranking
    ranking.reported = (len(ranking.items), "eq")
    return ranking


def _refused(exc: BaseException) -> bool:
    """A child's search refused by the backend (ES: a shard's 400, reported by the parent):
    the local index's ValueError, or a cluster's 400. es_rerank's own validation errors are
    not: ES raises those before any child runs."""
    if isinstance(exc, ElasticsearchRequestError):
        return True
    return isinstance(exc, ValueError) and not isinstance(exc, EsRerankError)


class _Executor:
    def __init__(
        self,
        backend: Backend,
        rerankers: dict[int, Reranker],
        *,
        explain: bool,
        request_size: int = 10,
    ) -> None:
        self.backend = backend
        self.rerankers = rerankers
        #: the search's ``size``: ES's default ``k`` of a knn or semantic query in the final
        #: search, where a compound node's children's queries are counted for hits.total
        self.request_size = request_size
        self._native: bool | None = None
        #: with explain: one per reranker node run, with its depth in the tree
        self.explanations: list[tuple[int, RerankExplanation]] | None = [] if explain else None

    def _query(self, query: Query | None, size: int) -> Hits:
        return Hits.of(self.backend.search_query(query, size=size))

    def _count(self, query: Query | None) -> tuple[int, TotalRelation]:
        counted = self.backend.search_query(query, size=0)
        if isinstance(counted, Hits):
            return counted.total, counted.relation
        return 0, "gte"

    def _runs_natively(self, node: Retriever) -> bool:
        """A compound subtree without a reranker runs in ES as one retriever."""
        if isinstance(node, StandardRetriever | KnnRetriever) or has_reranker(node):
            return False
        if not isinstance(self.backend, RetrieverBackend):
            return False
        if any(isinstance(n, RuleRetriever | DiversifyRetriever) for n in walk(node)):
            return True  # only the cluster can run them: let it answer, license or not
        if self._native is None:
            self._native = bool(self.backend.supports_native())
        return self._native

    def run(
        self,
        node: Retriever,
        filters: list[Query],
        window: int,
        path: str = "",
        *,
        compound_child: bool = False,
    ) -> _Ranking:
        path = f"{path}.{node.kind}" if path else node.kind
        if self._runs_natively(node):
            return self._native_subtree(node, filters, window)
        steps: dict[type[Retriever], Callable[[Any], _Ranking]] = {
            StandardRetriever: lambda n: self._standard(
                n, filters, window, compound_child=compound_child
            ),
            KnnRetriever: lambda n: self._knn(n, filters, window),
            RRFRetriever: lambda n: self._rrf(self._expanded(n), filters, window, path),
            LinearRetriever: lambda n: self._linear(self._expanded(n), filters, window, path),
            TextSimilarityReranker: lambda n: self._rerank(n, filters, window, path),
            RescorerRetriever: lambda n: self._rescorer(n, filters, window, path),
            PinnedRetriever: lambda n: self._pinned(n, filters, window, path),
            RuleRetriever: self._cluster_only,
            DiversifyRetriever: self._cluster_only,
        }
        return dispatch(node, steps, what="external execution")

    def _cluster_only(self, node: RuleRetriever | DiversifyRetriever) -> _Ranking:
        """A retriever only a cluster can run, here on a backend that cannot."""
        raise ConfigurationError(
            f"the [{node.kind}] retriever "
            + _CLUSTER_ONLY[node.kind].format(backend=type(self.backend).__name__)
            + ": run it on Elasticsearch (mode='native', or external mode on an "
            "ElasticsearchBackend whose license runs retrievers)"
        )

    def _children(
        self, node: Retriever, filters: list[Query], window: int, path: str
    ) -> list[_Ranking]:
        child_filters = [*filters, *filters_of(node.filter)]  # type: ignore[attr-defined]
        fused = isinstance(node, RRFRetriever | LinearRetriever)
        many = len(node.children()) > 1 or fused
        out: list[_Ranking] = []
        failed: list[tuple[str, BaseException]] = []
        for i, child in enumerate(node.children()):
            where = f"{path}.retrievers[{i}]" if many else f"{path}.retriever"
            try:
                out.append(self.run(child, child_filters, window, where, compound_child=True))
            except (ValueError, EsRerankError) as exc:
                if not fused or not _refused(exc):
                    raise
                failed.append((child.kind, exc))  # ES runs every child, then reports them all
        if failed:
            raise ChildRetrieversFailedError(
                node.kind, [kind for kind, _ in failed], [exc for _, exc in failed]
            )
        return out

    def _native_subtree(self, node: Retriever, filters: list[Query], window: int) -> _Ranking:
        assert isinstance(self.backend, RetrieverBackend)
        spec = node
        if filters:
            own = filters_of(node.filter)  # type: ignore[attr-defined]
            spec = dataclasses.replace(cast(Any, node), filter=[*filters, *own])
        size = min(window, own_window(node) or window)
        request = RetrieverRequest(spec.to_dict(), size=size)
        result = call_search_retriever(self.backend.search_retriever, request)
        items = [Ranked(Hit(h.id, h.score, h.source)) for h in result.hits]
        relation: TotalRelation = "gte" if result.total_relation == "gte" else "eq"
        return _Ranking(items, result.total, relation)

    def _standard(
        self, node: StandardRetriever, filters: list[Query], window: int, *, compound_child: bool
    ) -> _Ranking:
        query = with_filters(node.query, [*filters, *filters_of(node.filter)])
        options = node.options
        if compound_child:
            for key in _NOT_IN_COMPOUND:
                if key in options:
                    raise RetrieverValidationError(
                        key, f"[{key}] cannot be used in children of compound retrievers"
                    )
        if isinstance(self.backend, SearchRequestBackend) and options:
            hits = Hits.of(self.backend.search_request(query, size=window, options=options))
            ranking = _Ranking([Ranked(h) for h in hits[:window]], hits.total, hits.relation)
            if node.min_score is not None and compound_child:
                # a parent counts the query's matches, min_score aside (topDocsQuery)
                ranking.total, ranking.relation = self._count(query)
            return ranking
        unsupported = [key for key in options if key != "min_score"]
        if unsupported:
            raise ConfigurationError(
                f"the standard retriever's [{unsupported[0]}] needs a backend that runs "
                "search options (a SearchRequestBackend: LocalIndex, ElasticsearchBackend); "
                f"{type(self.backend).__name__} does not"
            )
        hits = self._query(query, window)
        kept = [h for h in hits if node.min_score is None or h.score >= node.min_score]
        ranking = _Ranking([Ranked(h) for h in kept[:window]], hits.total, hits.relation)
        if node.min_score is not None:
            # scores fall down the list: once one is below min_score, the rest are too
            seen_all = len(hits) < window or (bool(hits) and hits[-1].score < node.min_score)
            ranking.reported = (len(kept), "eq" if seen_all else "gte")
        return ranking

    def _knn(self, node: KnnRetriever, filters: list[Query], window: int) -> _Ranking:
        size = min(node.k, window)
        if size == 0:
            return _Ranking([], 0)
        hits = self._query(knn_query(node, filters), size)
        return _Ranking([Ranked(h) for h in hits[:size]], len(hits[:size]))

    def _union_total(self, node: Retriever, filters: list[Query], floor: int) -> _Ranking:
        """The count of ``node``'s children's queries together (bool.should), as ES counts."""
        counted = self.backend.search_query(top_docs_query(node, filters), size=self.request_size)
        if isinstance(counted, Hits):
            return _Ranking([], counted.total, counted.relation)
        return _Ranking([], floor, "gte")

    def _expanded(self, node: _Fused) -> _Fused:
        """``node`` in the multi-field format rewritten as ES rewrites it, with the
        backend's ``semantic_text`` fields (those it names) queried semantically."""
        if node.query is None:
            return node
        probe = getattr(self.backend, "semantic_fields", None)
        return expand_multi_field(node, probe() if callable(probe) else ())

    def _rrf(self, node: RRFRetriever, filters: list[Query], window: int, path: str) -> _Ranking:
        own = node.effective_rank_window_size
        children = self._children(node, filters, own, path)
        rankings = [c.items[:own] for c in children]
        k, weights = node.effective_rank_constant, node.weights
        fused = rrf_fuse(rankings, rank_constant=k, limit=None, weights=weights)
        order = self._index_order([r.hit for r in fused])
        if order is not None:
            fused = rrf_fuse(rankings, rank_constant=k, limit=None, weights=weights, order=order)
        return self._compound(node, filters, fused[:own], window, children)

    def _linear(
        self, node: LinearRetriever, filters: list[Query], window: int, path: str
    ) -> _Ranking:
        own = node.effective_rank_window_size
        children = self._children(node, filters, own, path)
        rankings = [[r.hit for r in c.items[:own]] for c in children]

        def combine(order: Mapping[str, int] | None = None) -> list[Hit]:
            return linear_combine(
                rankings,
                weights=node.weights,
                normalizers=node.normalizers,
                limit=None,
                final_normalizer=node.final_normalizer,
                order=order,
            )

        combined = combine()
        order = self._index_order(combined)
        if order is not None:
            combined = combine(order)
        ranked = [Ranked(h) for h in combined[:own]]
        return self._compound(node, filters, ranked, window, children)

    def _index_order(self, hits: Sequence[Hit]) -> dict[str, int] | None:
        """Where equal fused scores need ES's tie-break (Lucene doc id: index order), the
        tied documents' index order, asked of a backend that sorts by ``_doc``; ``None``
        without ties or without such a backend (ties then keep first-seen order)."""
        tied = tied_ids(hits)
        if not tied or not isinstance(self.backend, SearchRequestBackend):
            return None
        ordered = self.backend.search_request(
            {"ids": {"values": tied}}, size=len(tied), options={"sort": ["_doc"]}
        )
        return {h.id: i for i, h in enumerate(ordered)}

    def _compound(
        self,
        node: Retriever,
        filters: list[Query],
        ranked: list[Ranked],
        window: int,
        children: list[_Ranking],
        *,
        union: bool = False,
    ) -> _Ranking:
        """A compound node's result: its rank docs (a ``min_score`` drops those below it,
        as the final search's ``min_score`` does), and its ``hits.total``: one child's
        total, or the count of all children's queries together (``union``)."""
        min_score = _min_score_of(node)
        if min_score is not None:
            ranked = [r for r in ranked if r.hit.score >= min_score]
        if len(children) == 1 and not union:
            counted = _Ranking([], children[0].total, children[0].relation)
        else:
            floor = max([len(ranked), *(c.total for c in children)])
            counted = self._union_total(node, filters, floor)
        ranking = _Ranking(ranked, counted.total, counted.relation)
        ranking = _with_min_score_rule(node, ranking)
        ranking.items = ranked[:window]
        return ranking

    def _rescorer(
        self, node: RescorerRetriever, filters: list[Query], window: int, path: str
    ) -> _Ranking:
        own = node.effective_rank_window_size
        (child,) = self._children(node, filters, own, path)
        hits = [r.hit for r in child.items[:own]]
        for rescorer in node.rescorers:
            hits = self._rescore(rescorer, hits)
        return self._compound(node, filters, [Ranked(h) for h in hits], window, [child])

    def _rescore(self, rescorer: Mapping[str, Any], hits: list[Hit]) -> list[Hit]:
        """One ``query`` rescorer over the top ``window_size`` hits (ES's ``QueryRescorer``):
        each hit's ``rescore_query`` score comes from the backend, restricted to the
        window's ids; the window is re-sorted, ties in its previous order."""
        kinds = [key for key in rescorer if key != "window_size"]
        if kinds != ["query"]:
            raise ConfigurationError(
                f"external execution runs the [query] rescorer only, got {kinds}: run "
                "other rescorers on Elasticsearch"
            )
        spec = rescorer["query"]
        size = int(rescorer.get("window_size", len(hits)))
        top = hits[:size]
        ids = [h.id for h in top]
        secondary: dict[str, float] = {}
        if top:
            matched = self.backend.search_query(
                {"bool": {"must": [spec["rescore_query"]], "filter": [{"ids": {"values": ids}}]}},
                size=len(ids),
            )
            secondary = {h.id: h.score for h in matched}
        scored = [
            Hit(
                h.id,
                rescore_combine(
                    h.score,
                    secondary.get(h.id),
                    mode=spec.get("score_mode", "total"),
                    query_weight=float(spec.get("query_weight", 1.0)),
                    rescore_query_weight=float(spec.get("rescore_query_weight", 1.0)),
                ),
                h.source,
            )
            for h in top
        ]
        scored.sort(key=lambda h: -h.score)
        return scored + hits[size:]

    def _pinned(
        self, node: PinnedRetriever, filters: list[Query], window: int, path: str
    ) -> _Ranking:
        own = node.effective_rank_window_size
        (child,) = self._children(node, filters, own, path)
        wanted = node.pinned_ids
        # pinned documents come whatever the filters (ES wraps the filtered query)
        found = {h.id: h for h in self._query({"ids": {"values": wanted}}, len(wanted))}
        # each id keeps the score of its place in the list, found or not
        pins = [
            Ranked(Hit(doc_id, score, found[doc_id].source))
            for doc_id, score in zip(wanted, pin_scores(len(wanted)), strict=True)
            if doc_id in found
        ]
        organic = [r for r in child.items if r.hit.id not in found]
        return self._compound(node, filters, (pins + organic)[:own], window, [child], union=True)

    def _rerank(
        self, node: TextSimilarityReranker, filters: list[Query], window: int, path: str
    ) -> _Ranking:
        own = node.effective_rank_window_size
        (child,) = self._children(node, filters, own, path)
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
                kept = keep_child_order(window_hits, own)
                if self.explanations is not None:
                    failure = explain_rerank_failure(
                        node,
                        window=window_hits,
                        candidates=candidates,
                        error=exc,
                        passed_on=min(len(kept), window),
                        path=path,
                    )
                    self.explanations.append((path.count("."), failure))
                ranking = _with_min_score_rule(node, _Ranking(kept, child.total, child.relation))
                ranking.items = kept[:window]
                return ranking
        raw = candidate_scores(call, input_scores)
        ranked = apply_rerank(
            candidates,
            raw,
            min_score=node.min_score,
            limit=own,
            order=self._rerank_ties(candidates, raw, node.min_score),
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
        ranking = _with_min_score_rule(node, _Ranking(ranked, child.total, child.relation))
        ranking.items = ranked[:window]
        return ranking

    def _rerank_ties(
        self, candidates: Sequence[Candidate], raw: Sequence[float], min_score: float | None
    ) -> dict[str, int] | None:
        """The index order of the reranked documents that tie on their normalized score:
        ES sorts them by ``RankDoc.compareTo`` (score, then shard, then Lucene doc id;
        ``TextSimilarityRankFeaturePhaseRankCoordinatorContext.preprocess``), not in the
        child's order. ``None`` without ties or without a backend that sorts by ``_doc``."""
        kept = [
            Hit(c.hit.id, normalize(score))
            for c, score in zip(candidates, raw, strict=True)
            if min_score is None or score >= min_score
        ]
        return self._index_order(kept)

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
    collapse: Mapping[str, Any] | None = None,
) -> SearchResult:
    """Run ``retriever`` on ``backend`` with ES's rules; ``hits.total`` is what ES reports
    (the children's matches; with a ``min_score`` in play, the documents that pass it).
    Arguments are those of :func:`es_rerank.search`, checked."""
    started = time.perf_counter()
    if collapse is not None and isinstance(retriever, StandardRetriever):
        # a leaf collapses in its own search, as ES's single query does
        if retriever.collapse is None:
            retriever = dataclasses.replace(retriever, collapse=dict(collapse))
        collapse = None
    if isinstance(backend, ChunkDefaultsBackend):
        retriever = with_cluster_chunking(retriever, backend.chunk_rescorer_for)
    rerankers = resolve_rerankers(retriever, reranker, backend)
    executor = _Executor(backend, rerankers, explain=explain, request_size=size)
    ranking = executor.run(retriever, [], leaf_window(retriever, size, from_))
    if collapse is not None:
        ranking.items = collapse_ranked(ranking.items, str(collapse["field"]))
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
    total, relation = ranking.top_total
    return SearchResult(
        hits=hits,
        mode="external",
        total=total,
        took_ms=took,
        total_relation=relation,
        explanation=explanation,
    )


def _by_child_rank(explanation: RerankExplanation, child_rank: int | None) -> HitExplanation | None:
    return next((h for h in explanation.hits if h.child_rank == child_rank), None)
