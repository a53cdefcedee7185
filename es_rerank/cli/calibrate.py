"""``es-rerank calibrate --dataset DIR``: which ``min_score`` keeps what, on judged queries.

Reranks every judged query's BM25 window as ``eval`` does, then sweeps ``min_score`` over
the raw scores seen (:func:`es_rerank.calibration.calibrate`) and prints precision, recall
and documents kept per query for a spread of thresholds; ``--target-precision P`` prints
the smallest threshold that reaches P in raw and normalized units and the retriever JSON
with it. Writes ``calibration.json`` (every threshold) and ``calibration.png`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from es_rerank.calibration import Calibration, ThresholdPoint, calibrate
from es_rerank.errors import ConfigurationError
from es_rerank.evaluation.first_stages import first_stage_query
from es_rerank.evaluation.runs import (
    RunOptions,
    add_run_arguments,
    check_out,
    model_info,
    model_line,
    prepare_run,
)
from es_rerank.rerank_window import rerank_window, window_reranker
from es_rerank.results import SearchHit

RESULT_FILES = ("calibration.json", "calibration.png")
#: Stands for the user's query in the printed retriever JSON.
QUERY_PLACEHOLDER = "<query text>"


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "calibrate",
        help="choose min_score: precision/recall of every threshold on a BEIR-layout dataset",
        description=(
            "Reranks the BM25 window of every judged query of DIR (as `eval` does), sweeps "
            "min_score over the raw scores seen and reports precision (relevant kept / kept, "
            "over all queries), recall (relevant kept / all judged-relevant documents) and "
            "documents kept per query for each threshold. min_score is compared with the "
            "RAW score; returned scores are normalized (max(s,0) + min(exp(s),1))."
        ),
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("calibrate-out"),
        metavar="DIR",
        help="write calibration.json and calibration.png here (default calibrate-out)",
    )
    p.add_argument("--force", action="store_true", help="overwrite results already in --out")
    p.add_argument(
        "--json",
        action="store_true",
        help="print calibration.json's content on stdout instead of the table (progress and "
        "notes on stderr)",
    )
    add_run_arguments(p)
    p.add_argument(
        "--target-precision",
        type=float,
        metavar="P",
        help="print the smallest min_score whose precision is >= P (0 < P <= 1) and the "
        "retriever JSON with it",
    )
    p.add_argument(
        "--relevance", type=int, default=1, help="lowest qrels grade counted relevant (1)"
    )
    p.add_argument("--rows", type=int, default=15, help="thresholds printed in the table (15)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    target = args.target_precision
    if target is not None and not 0.0 < target <= 1.0:
        raise ConfigurationError(f"--target-precision must be in (0, 1], got {target}")
    if args.relevance < 1:
        raise ConfigurationError(f"--relevance must be >= 1, got {args.relevance}")
    if args.rows < 2:
        raise ConfigurationError(f"--rows must be >= 2, got {args.rows}")
    check_out(args.out, RESULT_FILES, force=args.force)
    prep = prepare_run(RunOptions.from_args(args), "es-rerank calibrate")
    scores: dict[str, dict[str, float]] = {}
    t0 = time.perf_counter()
    for qid, text in tqdm(prep.queries.items(), desc="rerank", unit="q", file=sys.stderr):
        hits = rerank_window(
            prep.reranker,
            text,
            backend=prep.backend,
            first_stage=first_stage_query(text),
            field=args.field,
            window=args.rank_window_size,
            chunk_rescorer=prep.chunk_rescorer_json,
            explain=True,
        )
        scores[qid] = {h.id: _raw(h) for h in hits}
    rerank_s = time.perf_counter() - t0
    cal = calibrate(scores, prep.qrels, relevance=args.relevance)
    if not cal.points:
        raise ConfigurationError(
            f"no document of any window has field {args.field!r}: nothing to calibrate"
        )
    chosen = None if target is None else cal.for_precision(target)

    args.out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "dataset": str(prep.data.path),
        "model": model_info(prep),
        "rank_window_size": args.rank_window_size,
        "field": args.field,
        "chunk_rescorer": prep.chunk_rescorer_json,
        "seconds": {"index": prep.index_s, "model_load": prep.load_s, "rerank": rerank_s},
        "target_precision": target,
        "chosen": None if chosen is None else chosen.to_dict(),
        "retriever": None if chosen is None else _retriever(args, prep.chunk_rescorer_json, chosen),
        "command": " ".join(["es-rerank", *sys.argv[1:]]) if sys.argv else "",
        **cal.to_dict(),
    }
    (args.out / "calibration.json").write_text(json.dumps(result, indent=2))
    _plot(cal, chosen, args.out / "calibration.png", title=f"{prep.data.path.name}: min_score")
    failed = target is not None and chosen is None
    if args.json:
        print(json.dumps(result, indent=2))
        print(f"wrote {args.out / 'calibration.json'} and {args.out / 'calibration.png'}",
              file=sys.stderr)  # fmt: skip
        return 1 if failed else 0
    print(
        f"\n{prep.data.path.name}: {cal.queries} queries, window {args.rank_window_size}, "
        f"{cal.scored} documents scored, {cal.relevant} judged relevant (grade >= "
        f"{cal.relevance}); rerank {rerank_s:.1f}s"
    )
    print(model_line(result["model"]))
    print(table(cal, rows=args.rows))
    if target is not None:
        if chosen is None:
            best = max(cal.points, key=lambda p: p.precision)
            print(
                f"\nno threshold reaches precision {target:g} (the best is "
                f"{best.precision:.4f} at min_score {best.threshold:.6g})"
            )
        else:
            print(
                f"\nprecision >= {target:g}: min_score {chosen.threshold!r} (raw, what "
                f"min_score takes) = {chosen.normalized_threshold!r} normalized (what results "
                f"show); precision {chosen.precision:.4f}, recall {chosen.recall:.4f}, "
                f"{chosen.kept_per_query:.2f} kept per query"
            )
            print(json.dumps(result["retriever"], indent=2))
    print(f"wrote {args.out / 'calibration.json'} and {args.out / 'calibration.png'}")
    return 1 if failed else 0


def _raw(hit: SearchHit) -> float:
    """The raw score ``min_score`` is compared with, from the hit's explanation."""
    if hit.explanation is None or hit.explanation.raw_score is None:
        raise RuntimeError(f"hit {hit.id} came back without its raw score")
    return hit.explanation.raw_score


def _retriever(
    args: argparse.Namespace, chunk_rescorer: dict[str, Any] | None, chosen: ThresholdPoint
) -> dict[str, Any]:
    spec = window_reranker(
        QUERY_PLACEHOLDER,
        first_stage=first_stage_query(QUERY_PLACEHOLDER),
        field=args.field,
        window=args.rank_window_size,
        chunk_rescorer=chunk_rescorer,
        min_score=chosen.threshold,
    )
    return {"retriever": spec.to_dict()}


def _spread(points: tuple[ThresholdPoint, ...], rows: int) -> list[ThresholdPoint]:
    """``rows`` thresholds evenly spaced through the sweep (by rank), ends included."""
    if len(points) <= rows:
        return list(points)
    step = (len(points) - 1) / (rows - 1)
    return [points[round(i * step)] for i in range(rows)]


def table(cal: Calibration, *, rows: int = 15) -> str:
    """The sweep as a text table: ``rows`` thresholds spread over every score seen."""
    lines = [
        f"  {'min_score (raw)':>15} {'normalized':>11} {'precision':>9} {'recall':>7} "
        f"{'kept/query':>10}"
    ]
    for p in _spread(cal.points, rows):
        lines.append(
            f"  {p.threshold:>15.6g} {p.normalized_threshold:>11.6g} {p.precision:>9.4f} "
            f"{p.recall:>7.4f} {p.kept_per_query:>10.2f}"
        )
    return "\n".join(lines)


def _plot(cal: Calibration, chosen: ThresholdPoint | None, path: Path, *, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [p.threshold for p in cal.points]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(xs, [p.precision for p in cal.points], label="precision", color="tab:blue")
    ax.plot(xs, [p.recall for p in cal.points], label="recall", color="tab:orange")
    if chosen is not None:
        ax.axvline(chosen.threshold, color="gray", linestyle="--", linewidth=1)
        ax.annotate(
            f"min_score {chosen.threshold:.3g}",
            (chosen.threshold, 0.02),
            rotation=90,
            fontsize=8,
            color="gray",
        )
    ax.set_xlabel("min_score (raw reranker score)")
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
