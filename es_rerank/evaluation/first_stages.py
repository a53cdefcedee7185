"""The first stages evaluations run, and ``es-rerank eval --first-stages``: first stages
side by side, each with and without the reranker, on the local index with embeddings
(``passages-semantic``: ``text`` copied into the semantic_text field ``text_semantic``,
embedded by the packaged all-MiniLM-L6-v2).

The stages are ES retriever trees run by :func:`es_rerank.search` over the local index:
``bm25`` (multi_match on title and text), ``dense`` (the ``semantic`` query),
``hybrid-rrf`` (both fused by ``rrf``) and ``hybrid-linear`` (both fused by ``linear`` with
``minmax`` normalization). Reranked is the same tree under a ``text_similarity_reranker``.

>>> first_stage_query("wing lift")
{'multi_match': {'query': 'wing lift', 'fields': ['title', 'text']}}
>>> sorted(first_stage_tree("hybrid-rrf", "wing lift", 100)["rrf"])
['rank_window_size', 'retrievers']
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from es_rerank.backends.base import Backend
from es_rerank.evaluation import evaluate
from es_rerank.search import search

__all__ = [
    "FIRST_STAGES",
    "compare_first_stages",
    "first_stage_query",
    "first_stage_tree",
    "print_first_stages",
    "semantic_query",
    "write_first_stages_png",
]

FIRST_STAGES = ("bm25", "dense", "hybrid-rrf", "hybrid-linear")
SEMANTIC_FIELD = "text_semantic"


def first_stage_query(text: str) -> dict[str, Any]:
    """The BM25 first stage every evaluation and the demo run: ``multi_match`` on title and
    text."""
    return {"multi_match": {"query": text, "fields": ["title", "text"]}}


def semantic_query(text: str) -> dict[str, Any]:
    """The dense first stage: the ``semantic`` query on the embedded copy of ``text``."""
    return {"semantic": {"field": SEMANTIC_FIELD, "query": text}}


def _bm25(text: str) -> dict[str, Any]:
    return {"standard": {"query": first_stage_query(text)}}


def _dense(text: str) -> dict[str, Any]:
    return {"standard": {"query": semantic_query(text)}}


def first_stage_tree(stage: str, text: str, window: int) -> dict[str, Any]:
    """The retriever of first stage ``stage`` for query ``text``."""
    if stage == "bm25":
        return _bm25(text)
    if stage == "dense":
        return _dense(text)
    if stage == "hybrid-rrf":
        return {"rrf": {"retrievers": [_bm25(text), _dense(text)], "rank_window_size": window}}
    if stage == "hybrid-linear":
        return {
            "linear": {
                "retrievers": [
                    {"retriever": _bm25(text), "weight": 1.0, "normalizer": "minmax"},
                    {"retriever": _dense(text), "weight": 1.0, "normalizer": "minmax"},
                ],
                "rank_window_size": window,
            }
        }
    raise ValueError(f"unknown first stage {stage!r} (one of {', '.join(FIRST_STAGES)})")


class _PairScores:
    """The reranker's score of each (query, text) pair, computed once: the stages' windows
    overlap (a hybrid's window is mostly the BM25 and dense windows), and a cross-encoder
    scores a pair alone, whatever else shares its batch."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.scores: dict[tuple[str, str], float] = {}

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        todo = list(dict.fromkeys(t for t in texts if (query, t) not in self.scores))
        if todo:
            fresh = self.inner.rerank(query, todo)
            self.scores.update({(query, t): float(s) for t, s in zip(todo, fresh, strict=True)})
        return [self.scores[(query, t)] for t in texts]


def compare_first_stages(
    backend: Backend,
    queries: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, int]],
    reranker: Any,
    *,
    stages: Sequence[str] = FIRST_STAGES,
    window: int = 100,
    field: str = "text",
    metrics: Sequence[str] = ("ndcg@10", "mrr@10", "map"),
) -> dict[str, Any]:
    """Each stage's metrics without and with the reranker, and the seconds each took (a pair
    an earlier stage had scored is not scored again); a stage the retrievers cannot run here
    is reported with its error instead of numbers."""
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    out: dict[str, Any] = {}
    reranker = _PairScores(reranker)  # later stages' seconds exclude pairs already scored
    for stage in stages:
        runs: dict[str, dict[str, list[str]]] = {"first": {}, "reranked": {}}
        seconds = {"first": 0.0, "reranked": 0.0}
        try:
            for qid, text in tqdm(queries.items(), desc=stage, unit="q", file=sys.stderr):
                tree = first_stage_tree(stage, text, window)
                t0 = time.perf_counter()
                first = search(tree, backend=backend, size=window, mode="external")
                seconds["first"] += time.perf_counter() - t0
                reranking = {
                    "text_similarity_reranker": {
                        "retriever": tree,
                        "field": field,
                        "inference_text": text,
                        "rank_window_size": window,
                    }
                }
                t0 = time.perf_counter()
                ranked = search(
                    reranking, backend=backend, reranker=reranker, size=window, mode="external"
                )
                seconds["reranked"] += time.perf_counter() - t0
                runs["first"][qid] = [h.id for h in first.hits]
                runs["reranked"][qid] = [h.id for h in ranked.hits]
        except (ValueError, TypeError) as exc:
            out[stage] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        out[stage] = {
            kind: {
                "metrics": evaluate(run, dict(qrels), metrics=metrics).aggregate,
                "seconds": seconds[kind],
            }
            for kind, run in runs.items()
        }
    return out


def print_first_stages(result: Mapping[str, Any], metrics: Sequence[str]) -> None:
    """One row per stage: each metric first stage -> reranked."""
    head = "".join(f" {m + ' first':>14} {'reranked':>9}" for m in metrics)
    print(f"  {'first stage':<14}{head}")
    for stage, row in result.items():
        if "error" in row:
            print(f"  {stage:<14} not run: {row['error']}")
            continue
        cells = "".join(
            f" {row['first']['metrics'][m]:>14.4f} {row['reranked']['metrics'][m]:>9.4f}"
            for m in metrics
        )
        print(f"  {stage:<14}{cells}")


def write_first_stages_png(results: Mapping[str, Mapping[str, Any]], path: Path) -> None:
    """Grouped bars of NDCG@10 per dataset and first stage, without and with the reranker;
    the title says what is shown, also stored in the PNG's ``Title`` text chunk."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    datasets = list(results)
    fig = Figure(figsize=(max(3.2 * len(datasets) + 1, 6.5), 4.5))
    title = "NDCG@10 by first stage, without (light) and with (dark) the reranker"
    axes = fig.subplots(1, max(len(datasets), 1), squeeze=False)[0]
    for ax, name in zip(axes, datasets, strict=False):
        stages = [s for s, row in results[name].items() if "error" not in row]
        first = [results[name][s]["first"]["metrics"]["ndcg@10"] for s in stages]
        reranked = [results[name][s]["reranked"]["metrics"]["ndcg@10"] for s in stages]
        xs = range(len(stages))
        ax.bar([x - 0.2 for x in xs], first, width=0.4, color="tab:blue", alpha=0.45)
        ax.bar([x + 0.2 for x in xs], reranked, width=0.4, color="tab:blue")
        ax.set_xticks(list(xs), stages, rotation=30, fontsize=8)
        ax.set_title(name, fontsize=10)
        ax.set_ylim(0, 1)
    fig.suptitle(title, fontsize=11)
    fig.subplots_adjust(bottom=0.25, top=0.85)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=100, metadata={"Title": title})
