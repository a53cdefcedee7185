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

__all__ = ["SearchHit", "SearchResult"]


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
    """Hits of one search and how it ran (``mode`` is ``"native"`` or ``"external"``).

    ``total`` is what ES reports as ``hits.total``: the number of documents the child
    retriever matched (not only the reranked window), exact when ``total_relation`` is
    ``"eq"`` and a lower bound when ``"gte"``."""

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
