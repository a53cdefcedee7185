"""Reading Elasticsearch's ``_search`` responses: leaf hits for external execution, and a
:class:`~es_rerank.SearchResult` for a native retriever search.

>>> body = {"took": 4, "hits": {"total": {"value": 120, "relation": "eq"},
...         "hits": [{"_index": "docs", "_id": "7", "_score": 2.5, "_source": {"t": "x"}}]}}
>>> hits = hits_from_response(body)
>>> [(h.id, h.score) for h in hits], hits.total
([('7', 2.5)], 120)
>>> result_from_response(body, from_=0).hits[0].index
'docs'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from es_rerank.backends.base import Hit, Hits, TotalRelation
from es_rerank.errors import ElasticsearchError
from es_rerank.results import SearchHit, SearchResult

__all__ = ["hits_from_response", "result_from_response"]


def _hits_block(body: Any) -> Mapping[str, Any]:
    block = body.get("hits") if isinstance(body, Mapping) else None
    if not isinstance(block, Mapping) or not isinstance(block.get("hits"), list):
        raise ElasticsearchError(f"a _search response without hits.hits: {str(body)[:200]}")
    return block


def _total(block: Mapping[str, Any], returned: int) -> tuple[int, TotalRelation]:
    total = block.get("total")
    if isinstance(total, Mapping):
        relation: TotalRelation = "gte" if total.get("relation") == "gte" else "eq"
        return int(total.get("value", returned)), relation
    if isinstance(total, int):  # rest_total_hits_as_int
        return total, "eq"
    return returned, "gte"  # track_total_hits: false


def hits_from_response(body: Any) -> Hits:
    """The hits of a ``_search`` body (best first) with ES's ``hits.total``."""
    block = _hits_block(body)
    hits = [
        Hit(
            id=str(h["_id"]),
            score=float(h.get("_score") or 0.0),
            source=h.get("_source") or {},
            sort=tuple(h["sort"]) if isinstance(h.get("sort"), list) else None,
        )
        for h in block["hits"]
    ]
    total, relation = _total(block, len(hits))
    return Hits(hits, total=total, relation=relation)


def result_from_response(body: Any, *, from_: int) -> SearchResult:
    """A native retriever search's body as a :class:`SearchResult` (``raw`` keeps it)."""
    block = _hits_block(body)
    hits = [
        SearchHit(
            id=str(h["_id"]),
            score=float(h.get("_score") or 0.0),
            source=h.get("_source") or {},
            rank=from_ + i + 1,
            index=h.get("_index"),
        )
        for i, h in enumerate(block["hits"])
    ]
    total, relation = _total(block, len(hits))
    return SearchResult(
        hits=hits,
        mode="native",
        total=total,
        took_ms=int(body.get("took", 0)),
        total_relation=relation,
        raw=dict(body),
    )
