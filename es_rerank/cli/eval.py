"""``es-rerank eval --dataset DIR``: BM25 first stage vs reranked on a BEIR-layout collection.

Prints the metrics side by side, per-query win/tie/loss (by NDCG@10) and the time spent in
each stage; writes ``results.json`` (every number) and ``ndcg10_change.png`` (captioned) to
``--out``, refusing to overwrite earlier results without ``--force``. ``--json`` prints the
whole report as JSON on stdout instead of the table (progress and notes stay on stderr).

The local index is cached by corpus (its path, size and modification time) under the cache
directory, so every evaluation of one collection builds it once, whatever ``--out`` is.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from es_rerank.errors import ConfigurationError
from es_rerank.evaluation.compare import METRICS, RESULT_FILES, compare, write_results
from es_rerank.evaluation.runs import (
    CountingReranker,
    RunOptions,
    add_run_arguments,
    check_out,
    model_info,
    model_line,
    prepare_run,
)
from es_rerank.runtime.hardware import load_average

DEFAULT_OUT = Path("eval-out")


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "eval",
        help="evaluate BM25 vs reranked (NDCG@10, MRR@10, MAP) on a BEIR-layout dataset",
        description=(
            "Indexes DIR/corpus.jsonl (into a local index cached by corpus under "
            "$ES_RERANK_CACHE or ~/.cache/es-rerank/indexes, or --local PATH; or into --index "
            "NAME on a cluster), runs every judged query of DIR/qrels/SPLIT.tsv (--split, "
            "default test) with BM25 (multi_match on title and text) and reranked, and reports "
            "both: a table (or --json) on stdout, results.json and a captioned "
            "ndcg10_change.png in --out."
        ),
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"write results.json and ndcg10_change.png here (default {DEFAULT_OUT}; with "
        "--json, no files unless --out is given)",
    )
    p.add_argument("--force", action="store_true", help="overwrite results already in --out")
    p.add_argument(
        "--first-stages",
        metavar="LIST",
        help="compare first stages instead, each with and without the reranker: a comma list "
        "of bm25, dense, hybrid-rrf, hybrid-linear, or 'all' (local index only; the corpus is "
        "embedded once by the packaged all-MiniLM-L6-v2); writes first_stages.json and "
        "first_stages.png",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the whole report as JSON on stdout (progress and notes on stderr)",
    )
    add_run_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.first_stages:
        return _run_first_stages(args)
    out: Path | None = args.out if args.out is not None else None if args.json else DEFAULT_OUT
    if out is not None:
        check_out(out, RESULT_FILES, force=args.force)
    if args.json:
        # Only the report goes to stdout: anything printed along the way goes to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            result = _evaluate(args, out)
        print(json.dumps(result, indent=2))
        return 0
    result = _evaluate(args, out)
    _print_table(result)
    if out is not None:
        print(f"wrote {out / 'results.json'} and {out / 'ndcg10_change.png'}")
    return 0


def _evaluate(args: argparse.Namespace, out: Path | None) -> dict[str, Any]:
    """Index, run both stages, score them; write the files to ``out``; the report."""
    prep = prepare_run(RunOptions.from_args(args), "es-rerank eval")
    result = compare(prep, command=" ".join(["es-rerank", *sys.argv[1:]]) if sys.argv else "")
    if out is not None:
        write_results(result, out)
    return result


def _run_first_stages(args: argparse.Namespace) -> int:
    from es_rerank.evaluation.first_stages import (
        FIRST_STAGES,
        compare_first_stages,
        print_first_stages,
        write_first_stages_png,
    )

    wanted = args.first_stages.split(",") if args.first_stages != "all" else list(FIRST_STAGES)
    unknown = [s for s in wanted if s not in FIRST_STAGES]
    if unknown:
        raise ConfigurationError(
            f"--first-stages: unknown {unknown}; choose from {', '.join(FIRST_STAGES)} or all"
        )
    if args.index:
        raise ConfigurationError("--first-stages runs on the local index; drop --index")
    out: Path = args.out if args.out is not None else DEFAULT_OUT
    files = ("first_stages.json", "first_stages.png")
    check_out(out, files, force=args.force)
    options = RunOptions.from_args(args, semantic=True)
    prep = prepare_run(options, "es-rerank eval --first-stages")
    stages = compare_first_stages(
        prep.backend,
        prep.queries,
        prep.qrels,
        CountingReranker(prep.reranker),
        stages=wanted,
        window=args.rank_window_size,
        field=args.field,
        metrics=METRICS,
    )
    name = prep.data.path.name
    result = {
        "dataset": str(prep.data.path),
        "queries": len(prep.queries),
        "rank_window_size": args.rank_window_size,
        "model": model_info(prep),
        "embedding_model": "all-MiniLM-L6-v2 (packaged)",
        "first_stages": stages,
        "seconds": {"index": prep.index_s, "model_load": prep.load_s},
        "load_average": load_average(),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / files[0]).write_text(json.dumps(result, indent=2))
    write_first_stages_png({name: stages}, out / files[1])
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"\n{result['dataset']}: {result['queries']} queries, window {args.rank_window_size}")
        print(model_line(result["model"]))
        print_first_stages(stages, METRICS)
        print(f"wrote {out / files[0]} and {out / files[1]}")
    return 0


def _print_table(result: dict[str, Any]) -> None:
    m = result["metrics"]
    print(
        f"\n{result['dataset']} ({result.get('split', 'test')}): {result['queries']} queries, "
        f"window {result['rank_window_size']}"
    )
    print(model_line(result["model"]))
    if result["chunk_rescorer"] is not None:
        print(f"chunk_rescorer: {json.dumps(result['chunk_rescorer'])}")
    print(f"  {'metric':<10} {'BM25':>8} {'reranked':>9} {'change':>8}")
    for name in METRICS:
        b, r = m["bm25"][name], m["reranked"][name]
        print(f"  {name:<10} {b:>8.4f} {r:>9.4f} {r - b:>+8.4f}")
    w, t, lo = result["ndcg@10_wins_ties_losses"]
    print(f"  per-query NDCG@10: {w} wins, {t} ties, {lo} losses")
    s = result["seconds"]
    print(
        f"  time: index {s['index']:.1f}s, model load {s['model_load']:.1f}s, "
        f"BM25 {s['bm25']:.2f}s, rerank {s['rerank']:.1f}s "
        f"({result['pairs_scored']} pairs)"
    )
