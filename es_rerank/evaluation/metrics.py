"""Ranking metrics through ir-measures (pytrec_eval underneath): no hand-written metrics.

Names are case-insensitive: ``ndcg@10`` (graded gains), ``mrr@10`` (reciprocal rank of
the first document with relevance >= 1), ``map`` (relevance >= 1), ``recall@100``,
``p@10``; any other ir-measures name (``nDCG@20``, ``AP(rel=2)``) is passed through.
Every judged query counts: a query the run has no results for scores 0, as in trec_eval
with ``-c``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Evaluation", "evaluate", "run_from_rankings"]

Run = Mapping[str, Mapping[str, float]] | Mapping[str, Sequence[str]]
Qrels = Mapping[str, Mapping[str, int]]

_ALIASES = {"ndcg": "nDCG", "mrr": "RR(rel=1)", "rr": "RR(rel=1)", "map": "AP(rel=1)"}
_ALIASES.update({"ap": "AP(rel=1)", "recall": "R(rel=1)", "r": "R(rel=1)", "p": "P(rel=1)"})


@dataclass(frozen=True)
class Evaluation:
    """``aggregate[metric]`` = mean over judged queries; ``per_query[metric][qid]``."""

    aggregate: dict[str, float]
    per_query: dict[str, dict[str, float]]


def _measure_name(metric: str) -> str:
    base, at, cutoff = metric.partition("@")
    name = _ALIASES.get(base.lower(), base)
    return f"{name}@{cutoff}" if at else name


def run_from_rankings(rankings: Mapping[str, Sequence[str]]) -> dict[str, dict[str, float]]:
    """Ranked id lists -> descending scores, so the metric sees exactly this order
    (trec_eval would otherwise re-break score ties by document id)."""
    out: dict[str, dict[str, float]] = {}
    for qid, ids in rankings.items():
        scores: dict[str, float] = {}
        for rank, doc_id in enumerate(ids):
            scores.setdefault(str(doc_id), float(len(ids) - rank))
        out[str(qid)] = scores
    return out


def evaluate(
    run: Run,
    qrels: Qrels,
    *,
    metrics: Sequence[str] = ("ndcg@10", "mrr@10", "map"),
) -> Evaluation:
    """Score ``run`` (qid -> {doc: score} or qid -> ranked ids) against graded ``qrels``.

    >>> qrels = {"q1": {"a": 2, "b": 1, "c": 0}, "q2": {"x": 1}}
    >>> ev = evaluate({"q1": ["c", "a", "b"], "q2": ["y", "x"]}, qrels)
    >>> round(ev.aggregate["mrr@10"], 3), ev.per_query["mrr@10"]
    (0.5, {'q1': 0.5, 'q2': 0.5})
    >>> round(evaluate({"q1": ["a", "b"]}, qrels).aggregate["ndcg@10"], 3)  # q2 unanswered: 0
    0.5
    """
    import ir_measures

    if not metrics:
        raise ValueError("metrics: give at least one metric")
    parsed: dict[str, Any] = {}
    for m in metrics:
        try:
            parsed[m] = ir_measures.parse_measure(_measure_name(m))
        except Exception as exc:  # ir-measures raises a mix of types for bad names
            raise ValueError(f"metrics: unknown metric {m!r} ({exc})") from None
    judged = {str(q): {str(d): int(r) for d, r in docs.items()} for q, docs in qrels.items()}
    if not judged:
        raise ValueError("qrels: no judged queries")
    scored: dict[str, dict[str, float]] = {}
    for qid, entry in run.items():
        if isinstance(entry, Mapping):
            scored[str(qid)] = {str(d): float(s) for d, s in entry.items()}
        else:
            scored.update(run_from_rankings({str(qid): list(entry)}))
    per_query = {m: dict.fromkeys(judged, 0.0) for m in metrics}
    by_measure = {str(p): m for m, p in parsed.items()}
    run_judged = {q: docs for q, docs in scored.items() if q in judged and docs}
    if run_judged:
        for row in ir_measures.iter_calc(list(parsed.values()), judged, run_judged):
            per_query[by_measure[str(row.measure)]][row.query_id] = float(row.value)
    aggregate = {m: sum(v.values()) / len(v) for m, v in per_query.items()}
    return Evaluation(aggregate=aggregate, per_query=per_query)
