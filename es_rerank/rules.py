"""Elasticsearch's ``text_similarity_reranker`` (and ``rrf``) rules as pure functions: no
backend, no reranker, no I/O. The external executor (:mod:`es_rerank.external`) applies
them around its backend and reranker calls; any other executor (async, chunked) can too.

Per ``text_similarity_reranker`` node, in order:

1. the child runs with the node's (and inherited) ``filter`` added as ``bool.filter``
   (:func:`with_filters`) and its top ``rank_window_size`` hits are kept;
2. ``field`` is read from each hit (:func:`field_text`: dotted paths, the first value of a
   list, numbers and keywords as strings); hits without it are dropped
   (:func:`rerank_candidates`);
3. the reranker is called once with ``inference_text`` and those texts
   (:func:`rerank_call`); with ``chunk_rescorer`` each text is cut into chunks, the best
   ``size`` chunks by BM25 against ``inference_text`` are sent instead, and a hit's raw
   score is the max over its chunks (:func:`candidate_scores`);
4. hits whose RAW score is ``>= min_score`` are kept and scored ``normalize(raw)``; they
   are sorted by score, descending, ties in index order where the executor knows it (ES's
   ``RankDoc`` order: shard, then Lucene doc id), else in the child's order
   (:func:`apply_rerank`);
5. ``from``/``size`` page inside the window (:func:`page`).

>>> child = [Ranked(Hit("a", 2.0, {"text": "x"})), Ranked(Hit("b", 1.0, {})),
...          Ranked(Hit("c", 0.5, {"text": ["y", "z"]}))]
>>> cands = rerank_candidates(child, "text")
>>> [(c.position, c.text) for c in cands]
[(1, 'x'), (3, 'y')]
>>> ranked = apply_rerank(cands, [-1.0, 2.0], min_score=-2.0, limit=10)
>>> [(r.hit.id, round(r.hit.score, 4), r.first_stage_rank) for r in ranked]
[('c', 3.0, 3), ('a', 0.3679, 1)]
>>> call = rerank_call(cands, "x", None)
>>> call.texts, candidate_scores(call, [-1.0, 2.0])
(['x', 'y'], [-1.0, 2.0])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from es_rerank.chunking.rescore import Chunk, document_scores, rerank_inputs
from es_rerank.chunking.settings import ChunkRescorer
from es_rerank.errors import RetrieverValidationError
from es_rerank.fusion import rank_order
from es_rerank.hits import Hit
from es_rerank.retriever_tree import dispatch, map_children, own_window, walk
from es_rerank.retrievers import (
    KnnRetriever,
    LinearRetriever,
    PinnedRetriever,
    Query,
    RescorerRetriever,
    Retriever,
    RRFRetriever,
    StandardRetriever,
    TextSimilarityReranker,
    filters_of,
)
from es_rerank.scores import min_score_to_raw, normalize

__all__ = [
    "NOT_WITH_RETRIEVER",
    "Candidate",
    "Ranked",
    "RerankCall",
    "apply_rerank",
    "candidate_scores",
    "check_request",
    "collapse_ranked",
    "convert_min_scores",
    "field_text",
    "keep_child_order",
    "knn_query",
    "leaf_window",
    "page",
    "rerank_call",
    "rerank_candidates",
    "rrf_fuse",
    "top_docs_query",
    "with_filters",
]

#: Top-level search parameters a retriever cannot be combined with (ES rejects them).
NOT_WITH_RETRIEVER = ("query", "knn", "sort", "rescore", "search_after", "terminate_after")


@dataclass(frozen=True)
class Ranked:
    """A hit at its place in a ranking; ``first_stage_rank`` is its 1-based position in
    the child's ranking before the reranker that produced this one, when known."""

    hit: Hit
    first_stage_rank: int | None = None


@dataclass(frozen=True)
class Candidate:
    """A window hit that has the rerank field: its 1-based child position and its text."""

    position: int
    hit: Hit
    text: str


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


def with_filters(query: Query | None, filters: Sequence[Query]) -> Query | None:
    """``query`` with ``filters`` added as ``bool.filter`` (they narrow, never score).

    >>> with_filters({"match": {"t": "x"}}, [{"term": {"lang": "en"}}])
    {'bool': {'must': [{'match': {'t': 'x'}}], 'filter': [{'term': {'lang': 'en'}}]}}
    """
    if not filters:
        return query
    bool_query: dict[str, Any] = {"filter": list(filters)}
    if query is not None:
        bool_query = {"must": [dict(query)], **bool_query}
    return {"bool": bool_query}


def knn_query(node: KnnRetriever, filters: Sequence[Query]) -> Query:
    """The ``knn`` query a knn retriever runs, with inherited ``filters``."""
    body: dict[str, Any] = {"field": node.field, "k": node.k, "num_candidates": node.num_candidates}
    if node.query_vector is not None:
        vector = node.query_vector
        body["query_vector"] = vector if isinstance(vector, str) else list(vector)
    if node.query_vector_builder is not None:
        body["query_vector_builder"] = dict(node.query_vector_builder)
    all_filters = [*filters, *filters_of(node.filter)]
    if all_filters:
        body["filter"] = all_filters
    if node.similarity is not None:
        body["similarity"] = node.similarity
    if node.rescore_vector is not None:
        body["rescore_vector"] = dict(node.rescore_vector)
    if node.visit_percentage is not None:
        body["visit_percentage"] = node.visit_percentage
    return {"knn": body}


def top_docs_query(node: Retriever, filters: Sequence[Query] = ()) -> Query | None:
    """The query whose matches ES counts in ``hits.total`` for ``node`` (its
    ``topDocsQuery``): a leaf's own query; a single-child node's child's; an ``rrf``'s or
    ``linear``'s children's, combined with ``bool.should``; a ``pinned``'s child's or its
    pinned ids (``RankDocsRetrieverBuilder``, ``PinnedRetrieverBuilder``)."""
    inherited = [*filters, *filters_of(node.filter)]  # type: ignore[attr-defined]

    def single_child(n: TextSimilarityReranker | RescorerRetriever) -> Query | None:
        return top_docs_query(n.retriever, inherited)

    def pinned(n: PinnedRetriever) -> Query:
        organic = top_docs_query(n.retriever, inherited) or {"match_all": {}}
        return {"bool": {"should": [organic, {"ids": {"values": n.pinned_ids}}]}}

    def fused(n: RRFRetriever | LinearRetriever) -> Query:
        should = [top_docs_query(c, inherited) or {"match_all": {}} for c in n.children()]
        return {"bool": {"should": should}}

    handlers: dict[type[Retriever], Callable[[Any], Query | None]] = {
        StandardRetriever: lambda n: with_filters(n.query, inherited),
        KnnRetriever: lambda n: knn_query(n, filters),
        TextSimilarityReranker: single_child,
        RescorerRetriever: single_child,
        PinnedRetriever: pinned,
        RRFRetriever: fused,
        LinearRetriever: fused,
    }
    return dispatch(node, handlers, what="external execution")


def check_request(retriever: Retriever, size: int, from_: int, extra: Mapping[str, Any]) -> None:
    """ES's checks on a retriever search: ``size``/``from`` >= 0, no top-level parameter
    that cannot go with a retriever, and ``rank_window_size >= size``."""
    for name, value in (("size", size), ("from_", from_)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RetrieverValidationError(name, f"[{name}] must be an integer >= 0, got {value!r}")
    for key in extra:
        if key in NOT_WITH_RETRIEVER:
            raise RetrieverValidationError(key, f"cannot specify [retriever] and [{key}]")
        raise TypeError(f"search() got an unexpected keyword argument {key!r}")
    window = own_window(retriever)
    if window is not None and window < size:
        param = retriever.window_param
        raise RetrieverValidationError(
            param,
            f"[{retriever.kind}] requires [{param}: {window}] be greater than "
            f"or equal to [size: {size}]",
        )
    for node in walk(retriever):
        _check_children(node)


def _sorts_by_score_only(sort: Any) -> bool:
    items = sort if isinstance(sort, list) else [sort]
    return all(item == "_score" or (isinstance(item, Mapping) and set(item) == {"_score"})
               for item in items)  # fmt: skip


def _check_children(node: Retriever) -> None:
    """ES's checks of a compound node against its children: a compound child's window is at
    least the parent's (``CompoundRetrieverBuilder.validate``); no sorted child under a
    ``rescorer``; a ``pinned`` child with a query, sorted by score only
    (``PinnedRetrieverBuilder``)."""
    window = own_window(node)
    for child in node.children():
        child_window = own_window(child)
        if window is not None and child_window is not None and window > child_window:
            param, child_param = node.window_param, child.window_param
            raise RetrieverValidationError(
                param,
                f"[{node.kind}] requires [{param}: {window}] to be smaller than or equal to "
                f"its sub retriever's {child.kind} [{child_param}: {child_window}]",
            )
        if not isinstance(child, StandardRetriever):
            continue
        if isinstance(node, RescorerRetriever) and child.sort is not None:
            raise RetrieverValidationError(
                "sort", "Cannot use [sort] option in conjunction with [rescore]."
            )
        if isinstance(node, PinnedRetriever):
            if child.query is None:
                # PinnedRetrieverBuilder.finalizeSourceBuilder (elastic/elasticsearch 4eddd89e)
                raise RetrieverValidationError(
                    "query", "pinned retriever requires retriever with associated query"
                )
            if child.sort is not None and not _sorts_by_score_only(child.sort):
                raise RetrieverValidationError(
                    "sort",
                    "[pinned] retriever only supports sorting by score, invalid sort "
                    f"criterion: {child.sort}",
                )


def leaf_window(retriever: Retriever, size: int, from_: int) -> int:
    """How many hits the top node must produce: its window, or ``from + size`` for a leaf."""
    window = own_window(retriever)
    return from_ + size if window is None else window


def convert_min_scores(node: Retriever) -> Retriever:
    """Every reranker's ``min_score`` from normalized units into raw ones."""
    node = map_children(node, convert_min_scores)
    if isinstance(node, TextSimilarityReranker) and node.min_score is not None:
        return dataclasses.replace(node, min_score=min_score_to_raw(node.min_score))
    return node


def with_cluster_chunking(
    node: Retriever, chunking: Callable[[str, ChunkRescorer], ChunkRescorer]
) -> Retriever:
    """Every reranker's ``chunk_rescorer`` with the defaults ``chunking(inference_id,
    rescorer)`` gives (the cluster's, by its version and the endpoint's service)."""
    node = map_children(node, lambda child: with_cluster_chunking(child, chunking))
    if isinstance(node, TextSimilarityReranker) and node.effective_chunk_rescorer is not None:
        rescorer = chunking(node.effective_inference_id, node.effective_chunk_rescorer)
        return dataclasses.replace(node, chunk_rescorer=rescorer)
    return node


def rerank_candidates(child: Sequence[Ranked], field: str) -> list[Candidate]:
    """The window's hits that have ``field``, with their text and 1-based child position;
    hits without it are dropped (never sent, never returned)."""
    out: list[Candidate] = []
    for position, ranked in enumerate(child, start=1):
        text = field_text(ranked.hit.source, field)
        if text is not None:
            out.append(Candidate(position, ranked.hit, text))
    return out


@dataclass(frozen=True)
class RerankCall:
    """What one reranker call sends for a window's candidates: ``texts`` in order,
    ``owners[i]`` the candidate ``texts[i]`` belongs to, and with ``chunk_rescorer`` each
    candidate's chunks (``chunks[c]``, in the order their texts were sent)."""

    texts: list[str]
    owners: list[int]
    chunks: list[list[Chunk]] | None = None


def rerank_call(
    candidates: Sequence[Candidate], inference_text: str, rescorer: ChunkRescorer | None
) -> RerankCall:
    """The texts ES sends for ``candidates``: each whole text, or with ``rescorer`` each
    text's best chunks (ES's ``chunk_rescorer``: at least one chunk per candidate), all in
    one call, candidate after candidate."""
    if rescorer is None:
        return RerankCall([c.text for c in candidates], list(range(len(candidates))))
    inputs = rerank_inputs([c.text for c in candidates], inference_text, rescorer)
    chunks = [kept or [] for kept in inputs.chunks]
    return RerankCall(inputs.texts, inputs.owners, chunks)


def candidate_scores(call: RerankCall, input_scores: Sequence[float]) -> list[float]:
    """Each candidate's raw score from the scores of the texts sent: its own score, or with
    chunks the max over its chunks (ES's ``extractScoresFromRankedChunks``). The scores were
    checked where they left the reranker (:func:`es_rerank.rerankers.check_scores`: one
    finite float per text), once."""
    if call.chunks is None:
        return list(input_scores)
    return document_scores(call.owners, input_scores, len(call.chunks))


def apply_rerank(
    candidates: Sequence[Candidate],
    raw_scores: Sequence[float],
    *,
    min_score: float | None,
    limit: int,
    order: Mapping[str, int] | None = None,
) -> list[Ranked]:
    """Keep candidates whose raw score is ``>= min_score``, score them ``normalize(raw)``,
    sort descending, and keep the first ``limit``. Equal scores follow ``order`` (the
    documents' index order: ES sorts the reranked docs by ``RankDoc.compareTo``, score
    then shard then Lucene doc id), else the child's order.

    >>> cands = [Candidate(1, Hit("a", 2.0), "x"), Candidate(2, Hit("b", 1.0), "y")]
    >>> [r.hit.id for r in apply_rerank(cands, [0.5, 0.5], min_score=None, limit=2)]
    ['a', 'b']
    >>> tied = apply_rerank(cands, [0.5, 0.5], min_score=None, limit=1, order={"b": 0, "a": 1})
    >>> [r.hit.id for r in tied]
    ['b']
    """
    known = {} if order is None else order
    kept = [
        (normalize(score), known.get(c.hit.id, len(known)), c.position, c.hit)
        for c, score in zip(candidates, raw_scores, strict=True)
        if min_score is None or score >= min_score
    ]
    kept.sort(key=lambda item: (-item[0], item[1], item[2]))
    return [
        Ranked(Hit(hit.id, score, hit.source), position) for score, _, position, hit in kept[:limit]
    ]


def keep_child_order(child: Sequence[Ranked], limit: int) -> list[Ranked]:
    """``allow_rerank_failures``: the child's order and scores, unnormalized and unfiltered."""
    return [Ranked(r.hit, position) for position, r in enumerate(child[:limit], start=1)]


def rrf_fuse(
    rankings: Sequence[Sequence[Ranked]],
    *,
    rank_constant: int,
    limit: int | None,
    weights: Sequence[float] | None = None,
    order: Mapping[str, int] | None = None,
) -> list[Ranked]:
    """Reciprocal rank fusion: ``sum(weight / (rank_constant + rank))`` over the rankings
    a document appears in (weights 1.0 unless given, ES 9.2+), in float32 as ES sums it;
    ties in ``order`` (index order), else first-seen order (:func:`rank_order`)."""
    scores: dict[str, float] = {}
    first: dict[str, Hit] = {}
    for i, ranking in enumerate(rankings):
        weight = np.float32(1.0 if weights is None else weights[i])
        for rank, ranked in enumerate(ranking, start=1):
            hid = ranked.hit.id
            term = weight * (np.float32(1.0) / np.float32(rank_constant + rank))
            scores[hid] = float(np.float32(scores.get(hid, 0.0)) + term)
            first.setdefault(hid, ranked.hit)
    ids = rank_order(scores, order)[:limit]
    return [Ranked(Hit(hid, scores[hid], first[hid].source)) for hid in ids]


def _collapse_key(source: Mapping[str, Any], path: str) -> str:
    value: Any = source.get(path) if path in source else source
    if path not in source:
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
    while isinstance(value, list):
        value = value[0] if value else None
    return repr(value)


def collapse_ranked(ranked: Sequence[Ranked], field: str) -> list[Ranked]:
    """A top-level ``collapse`` over ranked documents: the best hit of each value of
    ``field`` (the first value of a list; documents without it form one group), in rank
    order, as ES collapses the final rank docs.

    >>> hits = [Ranked(Hit(i, s, {"g": g})) for i, s, g in [("a", 3, "x"), ("b", 2, "x"),
    ...                                                     ("c", 1, "y")]]
    >>> [r.hit.id for r in collapse_ranked(hits, "g")]
    ['a', 'c']
    """
    seen: set[str] = set()
    out: list[Ranked] = []
    for item in ranked:
        key = _collapse_key(item.hit.source, field)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def page(ranked: Sequence[Ranked], from_: int, size: int) -> list[Ranked]:
    """``from``/``size`` inside the ranked window."""
    return list(ranked[from_ : from_ + size])
