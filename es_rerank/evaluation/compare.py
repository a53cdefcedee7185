"""BM25 against reranked on a prepared run (``es-rerank eval``): every judged query's first
stage and its reranked window, scored by the same metrics, with per-query wins, ties and
losses by NDCG@10, the seconds each stage took and the machine it ran on.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from es_rerank.evaluation.first_stages import first_stage_query
from es_rerank.evaluation.metrics import evaluate
from es_rerank.evaluation.plots import write_change_png
from es_rerank.evaluation.runs import CountingReranker, PreparedRun, model_info
from es_rerank.hits import Hit
from es_rerank.rerank_window import rerank_window
from es_rerank.runtime.hardware import load_average, machine_summary

__all__ = ["METRICS", "RESULT_FILES", "compare", "write_results"]

METRICS = ("ndcg@10", "mrr@10", "map")
#: What :func:`write_results` writes.
RESULT_FILES = ("results.json", "ndcg10_change.png")


def compare(prep: PreparedRun, *, command: str = "") -> dict[str, Any]:
    """Run the first stage and the reranked window for every query of ``prep``; the report
    (every number ``results.json`` holds). ``command`` is recorded as the one that ran."""
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    options = prep.options
    backend, queries, window = prep.backend, prep.queries, options.rank_window_size
    first: dict[str, Sequence[Hit]] = {}
    t0 = time.perf_counter()
    for qid, text in tqdm(queries.items(), desc="BM25", unit="q", file=sys.stderr):
        first[qid] = backend.search_query(first_stage_query(text), size=window)
    bm25_s = time.perf_counter() - t0

    reranker = CountingReranker(prep.reranker)
    reranked: dict[str, list[str]] = {}
    t0 = time.perf_counter()
    for qid, text in tqdm(queries.items(), desc="rerank", unit="q", file=sys.stderr):
        ranked = rerank_window(
            reranker,
            text,
            backend=backend,
            first_stage=first_stage_query(text),
            field=options.field,
            window=window,
            chunk_rescorer=prep.chunk_rescorer_json,
        )
        reranked[qid] = [r.id for r in ranked]
    rerank_s = time.perf_counter() - t0

    bm25_run = {q: [h.id for h in hits] for q, hits in first.items()}
    ev_bm25 = evaluate(bm25_run, prep.qrels, metrics=METRICS)
    ev_rr = evaluate(reranked, prep.qrels, metrics=METRICS)
    deltas = ndcg_changes(ev_bm25.per_query, ev_rr.per_query)
    wins = sum(d > 1e-9 for d in deltas.values())
    losses = sum(d < -1e-9 for d in deltas.values())
    return {
        "dataset": str(prep.data.path),
        "split": options.split,
        "queries": len(queries),
        "model": model_info(prep),
        "rank_window_size": window,
        "chunk_rescorer": prep.chunk_rescorer_json,
        "first_stage": "multi_match(title, text) BM25 on "
        + ("Elasticsearch" if options.index else "local tantivy index"),
        "metrics": {"bm25": ev_bm25.aggregate, "reranked": ev_rr.aggregate},
        "per_query": {"bm25": ev_bm25.per_query, "reranked": ev_rr.per_query},
        "ndcg@10_wins_ties_losses": [wins, len(deltas) - wins - losses, losses],
        "seconds": {
            "index": prep.index_s,
            "model_load": prep.load_s,
            "bm25": bm25_s,
            "rerank": rerank_s,
        },
        "pairs_scored": reranker.pairs,
        "machine": machine_summary(),
        "load_average": load_average(),
        "command": command,
    }


def ndcg_changes(
    before: dict[str, dict[str, float]], after: dict[str, dict[str, float]]
) -> dict[str, float]:
    """Each query's NDCG@10 change, reranked minus first stage.

    >>> ndcg_changes({"ndcg@10": {"q": 0.5}}, {"ndcg@10": {"q": 0.75}})
    {'q': 0.25}
    """
    return {q: after["ndcg@10"][q] - before["ndcg@10"][q] for q in before["ndcg@10"]}


def write_results(result: dict[str, Any], out: Path) -> None:
    """``results.json`` and the captioned ``ndcg10_change.png`` of a :func:`compare` report."""
    out.mkdir(parents=True, exist_ok=True)
    (out / RESULT_FILES[0]).write_text(json.dumps(result, indent=2))
    deltas = ndcg_changes(result["per_query"]["bm25"], result["per_query"]["reranked"])
    write_change_png(result, deltas, out / RESULT_FILES[1])
