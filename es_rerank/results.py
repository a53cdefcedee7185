"""What a search returns, in either mode, and its ``_search``-shaped JSON.

>>> r = SearchResult(hits=[SearchHit("a", 2.5, {"t": "x"}, rank=1)], mode="external",
...                  total=40, took_ms=3)
>>> r.to_dict()["hits"]["total"], r.to_dict()["hits"]["hits"][0]["_id"]
({'value': 40, 'relation': 'eq'}, 'a')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from es_rerank.explain import HitExplanation, RerankExplanation

__all__ = ["SearchHit", "SearchResult"]


@dataclass(frozen=True)
class SearchHit:
    """One result. ``rank`` is the 1-based position in the whole ranking (``from_`` + i + 1);
    ``first_stage_rank`` the 1-based position in the child's results before the top
    reranker, when known; ``explanation`` the hit's path through the top reranker's rules
    (``search(..., explain=True)``)."""

    id: str
    score: float
    source: Mapping[str, Any]
    rank: int
    first_stage_rank: int | None = None
    index: str | None = None
    explanation: HitExplanation | None = field(default=None, repr=False)


@dataclass
class SearchResult:
    """Hits of one search and how it ran (``mode`` is ``"native"`` or ``"external"``).

    ``total`` is what ES reports as ``hits.total``: the number of documents the child
    retriever matched (not only the reranked window), exact when ``total_relation`` is
    ``"eq"`` and a lower bound when ``"gte"``.

    With ``search(..., explain=True)``, ``explanation`` holds one
    :class:`~es_rerank.explain.RerankExplanation` per ``text_similarity_reranker`` node,
    outermost first (``None`` without ``explain``)."""

    hits: list[SearchHit]
    mode: Literal["native", "external"]
    total: int
    took_ms: int
    total_relation: str = "eq"
    raw: dict[str, Any] | None = field(default=None, repr=False)
    explanation: list[RerankExplanation] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The result shaped like an ES ``_search`` response body; with an explanation, a
        top-level ``explain`` list holds it (ES's own ``_explanation`` stays in ``raw``)."""
        hits: list[dict[str, Any]] = []
        for h in self.hits:
            item: dict[str, Any] = {}
            if h.index is not None:
                item["_index"] = h.index
            item["_id"] = h.id
            item["_score"] = h.score
            item["_source"] = dict(h.source)
            hits.append(item)
        body: dict[str, Any] = {
            "took": self.took_ms,
            "timed_out": False,
            "hits": {
                "total": {"value": self.total, "relation": self.total_relation},
                "max_score": max((h.score for h in self.hits), default=None),
                "hits": hits,
            },
        }
        if self.explanation is not None:
            body["explain"] = [e.to_dict() for e in self.explanation]
        return body
