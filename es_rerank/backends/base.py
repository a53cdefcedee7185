"""The interface every first-stage backend implements.

A backend executes *leaf* retrievers only (a ``standard`` query, with filters already
folded into it as ``bool.filter``). Composite retrievers (``rrf``,
``text_similarity_reranker``) are run by :mod:`es_rerank.search` on top of it, so the
reranking semantics live in one place whatever the backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Hit:
    """One document returned by a backend, in the backend's rank order."""

    id: str
    score: float
    source: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """Runs an ES query DSL object and returns the top ``size`` hits, best first.

    ``query=None`` means ``match_all``. Hits with equal scores keep a stable order.
    A construct the backend cannot execute raises ``ValueError`` naming it.
    """

    def search_query(self, query: Mapping[str, Any] | None, *, size: int) -> list[Hit]: ...
