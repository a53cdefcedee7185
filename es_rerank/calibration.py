"""Which ``min_score`` to use: precision and recall of every threshold over judged queries.

``min_score`` on a ``text_similarity_reranker`` is compared with the reranker's RAW score
(``score >= min_score`` is kept), while returned scores are normalized. Given the raw
scores a reranker gave the documents of each query's window and the judgments (qrels),
:func:`calibrate` sweeps the threshold over every distinct raw score seen and reports, for
each, how many documents are kept, the precision (relevant kept / kept, pooled over all
queries), the recall (relevant kept / every judged-relevant document of the scored
queries, so the window's own ceiling shows at the lowest threshold) and the documents kept
per query. :meth:`Calibration.for_precision` picks the smallest threshold that reaches a
target precision: the one that keeps the most while meeting it.

>>> scores = {"q1": {"a": 3.0, "b": 1.0, "c": -2.0}, "q2": {"d": 2.0, "e": -1.0}}
>>> qrels = {"q1": {"a": 2, "c": 1}, "q2": {"d": 1, "e": 0}}
>>> cal = calibrate(scores, qrels)
>>> [(p.threshold, round(p.precision, 2), round(p.recall, 2)) for p in cal.points]
[(-2.0, 0.6, 1.0), (-1.0, 0.5, 0.67), (1.0, 0.67, 0.67), (2.0, 1.0, 0.67), (3.0, 1.0, 0.33)]
>>> best = cal.for_precision(0.9)
>>> best.threshold, round(best.normalized_threshold, 4), best.kept_per_query
(2.0, 3.0, 1.0)
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from es_rerank.scores import normalize

__all__ = ["Calibration", "ThresholdPoint", "calibrate"]


@dataclass(frozen=True)
class ThresholdPoint:
    """What ``min_score = threshold`` (raw units) keeps over the calibration queries;
    ``normalized_threshold`` is the same cut in the units returned scores are shown in."""

    threshold: float
    normalized_threshold: float
    kept: int
    relevant_kept: int
    precision: float
    recall: float
    kept_per_query: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Calibration:
    """Every threshold's :class:`ThresholdPoint`, lowest threshold first; ``queries`` is the
    number of scored queries, ``relevant`` their judged-relevant documents (grade >=
    ``relevance``), ``scored`` the (query, document) scores the sweep ran over."""

    points: tuple[ThresholdPoint, ...]
    queries: int
    relevant: int
    scored: int
    relevance: int

    def for_precision(self, target: float) -> ThresholdPoint | None:
        """The smallest threshold whose precision is ``>= target`` (``None`` if none is)."""
        if not 0.0 < target <= 1.0:
            raise ValueError(f"target precision must be in (0, 1], got {target}")
        return next((p for p in self.points if p.precision >= target), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "queries": self.queries,
            "relevant": self.relevant,
            "scored": self.scored,
            "relevance": self.relevance,
            "points": [p.to_dict() for p in self.points],
        }


def calibrate(
    scores: Mapping[str, Mapping[str, float]],
    qrels: Mapping[str, Mapping[str, int]],
    *,
    relevance: int = 1,
) -> Calibration:
    """Sweep ``min_score`` over the raw scores in ``scores`` (``{query: {doc: raw}}``, the
    documents the reranker scored for each query) against ``qrels`` (``{query: {doc:
    grade}}``; a grade ``>= relevance`` is relevant, an unjudged document is not)."""
    if relevance < 1:
        raise ValueError(f"relevance must be >= 1, got {relevance}")
    judged = {q: {d for d, g in qrels.get(q, {}).items() if g >= relevance} for q in scores}
    total_relevant = sum(len(docs) for docs in judged.values())
    pairs = sorted(
        ((s, d in judged[q]) for q, docs in scores.items() for d, s in docs.items()),
        key=lambda pair: -pair[0],
    )
    points: list[ThresholdPoint] = []
    kept = relevant_kept = 0
    # descending: each tie group is kept or dropped as a whole (min_score keeps >=)
    for threshold, group in itertools.groupby(pairs, key=lambda pair: pair[0]):
        members = list(group)
        kept += len(members)
        relevant_kept += sum(is_relevant for _, is_relevant in members)
        points.append(
            ThresholdPoint(
                threshold=threshold,
                normalized_threshold=normalize(threshold),
                kept=kept,
                relevant_kept=relevant_kept,
                precision=relevant_kept / kept,
                recall=relevant_kept / total_relevant if total_relevant else 0.0,
                kept_per_query=kept / len(scores),
            )
        )
    return Calibration(
        points=tuple(reversed(points)),
        queries=len(scores),
        relevant=total_relevant,
        scored=len(pairs),
        relevance=relevance,
    )
