"""``es-rerank demo``: reranked searches over Python's documentation, offline."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from es_rerank.command_line import add_deprecated_spelling
from es_rerank.demo import DEMO_QUERIES, run_demo
from es_rerank.runtime.cli import add_runtime_arguments, runtime_kwargs


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="rerank a few searches over a local index of Python's docs (no server, no network)",
        description=(
            "Builds (once) a local index of passages from pydoc_data.topics (with embeddings "
            "of the packaged all-MiniLM-L6-v2), then runs a hybrid search: BM25 and kNN fused by "
            "RRF, reranked by the cross-encoder; each hit shows its rank in BM25, kNN and RRF "
            "(--first-stage bm25: BM25 only, side by side with the reranked order). Model: "
            "--model, else $ES_RERANK_MODEL, else the cached/hub "
            "cross-encoder/ms-marco-MiniLM-L6-v2, else the packaged offline bi-encoder (with a "
            "notice)."
        ),
    )
    p.add_argument("--model", metavar="PATH_OR_ID", help="reranking model (see above)")
    p.add_argument("--query", action="append", metavar="TEXT", help="query (repeatable)")
    p.add_argument(
        "--first-stage",
        choices=["hybrid", "bm25"],
        default="hybrid",
        help="what the reranker reranks (default: hybrid, BM25 + kNN fused by RRF)",
    )
    window = p.add_argument(
        "--rank-window-size",
        type=int,
        default=30,
        help="first-stage hits reranked (default: 30)",
    )
    add_deprecated_spelling(p, "--window", window)
    p.add_argument("--show", type=int, default=5, help="rows printed per query (default: 5)")
    p.add_argument(
        "--cache", type=Path, help="cache dir (default: $ES_RERANK_CACHE or ~/.cache/es-rerank)"
    )
    add_runtime_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.rank_window_size < 1 or args.show < 1:
        raise ValueError("--rank-window-size and --show must be >= 1")
    return run_demo(
        model=args.model,
        queries=args.query or DEMO_QUERIES,
        window=args.rank_window_size,
        show=args.show,
        cache=args.cache,
        first_stage=args.first_stage,
        **runtime_kwargs(args),
    )
