"""What a backend returns for a query: :class:`Hit` (one document in rank order) and
:class:`Hits` (the top hits and how many documents matched in all, ES's ``hits.total``).

They live apart from the backend protocols (:mod:`es_rerank.backends.base`, which re-exports
them) so that the ranking rules and results can use them without importing the backends.

>>> hits = Hits([Hit("a", 2.0), Hit("b", 1.0)], total=5, relation="gte")
>>> [h.id for h in hits], hits.total, hits.relation
(['a', 'b'], 5, 'gte')
>>> Hits.of([Hit("a", 1.0)]).relation
'gte'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Hit", "Hits", "TotalRelation"]

TotalRelation = Literal["eq", "gte"]


@dataclass(frozen=True)
class Hit:
    """One document returned by a backend, in the backend's rank order."""

    id: str
    score: float
    source: Mapping[str, Any] = field(default_factory=dict)
    #: the hit's sort values (ES's ``hits.hits[].sort``) when the query was sorted
    sort: tuple[Any, ...] | None = None


class Hits(list[Hit]):
    """The top hits of a query, best first, and how many documents matched it in all:
    ``total`` (exact when ``relation`` is ``"eq"``, a lower bound when ``"gte"``), as in
    ES's ``hits.total``."""

    def __init__(
        self, hits: Iterable[Hit] = (), *, total: int | None = None, relation: TotalRelation = "eq"
    ) -> None:
        super().__init__(hits)
        self.total = len(self) if total is None else total
        self.relation: TotalRelation = relation

    @classmethod
    def of(cls, hits: Sequence[Hit]) -> Hits:
        """``hits`` as :class:`Hits`; a plain sequence says only that at least that many
        documents matched."""
        if isinstance(hits, Hits):
            return hits
        return cls(hits, total=len(hits), relation="gte")
