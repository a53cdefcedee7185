"""The one ranking step every framework adapter shares: score texts with a reranker, keep
each score at its input position, normalize as ES does, order, cut.

>>> rank(lambda q, ts: [0.5, -2.0], "q", ["x", "y"], min_score=0.0)
[Ranked(index=0, raw=0.5, score=1.5)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, field_validator

from es_rerank.errors import ConfigurationError
from es_rerank.rerankers.base import Reranker, RerankFunction, as_reranker, check_scores
from es_rerank.scores import normalize

__all__ = [
    "RAW_SCORE_KEY",
    "SCORE_KEY",
    "RankOptions",
    "Ranked",
    "check_top_n",
    "rank",
    "scored_metadata",
]

#: Metadata key of the reranker's raw score (what ``min_score`` compares, as in ES).
RAW_SCORE_KEY: Final = "rerank_raw_score"
#: Metadata key of ES's normalized score ``max(s, 0) + min(exp(s), 1)`` (what orders).
SCORE_KEY: Final = "rerank_score"


@dataclass(frozen=True)
class Ranked:
    """One input after reranking: its position in the input, raw and normalized score."""

    index: int
    raw: float
    score: float


def check_top_n(top_n: int | None, name: str = "top_n") -> int | None:
    if top_n is not None and (isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1):
        raise ConfigurationError(f"{name} must be a positive integer or None, got {top_n!r}")
    return top_n


def rank(
    reranker: Reranker | RerankFunction,
    query: str,
    texts: Sequence[str],
    *,
    top_n: int | None = None,
    min_score: float | None = None,
) -> list[Ranked]:
    """Score ``texts`` against ``query`` and return them best first.

    Scores are read in input order (the :class:`~es_rerank.Reranker` contract; HTTP and
    inference rerankers put a server's reordered reply back by its ``index``), so the i-th
    score always belongs to the i-th text. ``min_score`` keeps raw scores ``>= min_score``
    (ES compares raw scores); ties keep input order; ``top_n`` cuts the list. A reranker
    that returns the wrong number of scores is a :class:`~es_rerank.errors.RerankError`.
    """
    check_top_n(top_n)
    if not texts:
        return []
    raw = check_scores(as_reranker(reranker).rerank(query, list(texts)), len(texts))
    ranked = [
        Ranked(index=i, raw=s, score=normalize(s))
        for i, s in enumerate(raw)
        if min_score is None or s >= min_score
    ]
    ranked.sort(key=lambda r: (-r.score, r.index))
    return ranked[:top_n] if top_n is not None else ranked


def scored_metadata(metadata: Mapping[str, Any] | None, ranked: Ranked) -> dict[str, Any]:
    """A copy of ``metadata`` with both scores added (the input is never mutated)."""
    return {**(metadata or {}), RAW_SCORE_KEY: ranked.raw, SCORE_KEY: ranked.score}


class RankOptions(BaseModel):
    """The options the pydantic-based adapters (LangChain, LlamaIndex) share: mixed into
    their base classes, checked when the adapter is built.

    >>> RankOptions(reranker=lambda q, ts: [1.0, 2.0], top_n=1).ranked("q", ["a", "b"])
    [Ranked(index=1, raw=2.0, score=3.0)]
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    reranker: Any
    top_n: int | None = None
    min_score: float | None = None

    @field_validator("top_n")
    @classmethod
    def _top_n(cls, value: int | None) -> int | None:
        return check_top_n(value)

    def ranked(self, query: str, texts: Sequence[str]) -> list[Ranked]:
        return rank(self.reranker, query, texts, top_n=self.top_n, min_score=self.min_score)
