"""``es-rerank demo``: reranked searches over Python's documentation, offline."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from es_rerank.demo import DEMO_QUERIES, run_demo
from es_rerank.runtime.cli import add_runtime_arguments, runtime_kwargs


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="rerank a few searches over a local index of Python's docs (no server, no network)",
        description=(
            "Builds (once) a local index of passages from pydoc_data.topics, then prints BM25 "
            "and reranked order side by side. Model: --model, else $ES_RERANK_MODEL, else the "
            "cached/hub cross-encoder/ms-marco-MiniLM-L6-v2, else the packaged offline "
            "bi-encoder (with a notice)."
        ),
    )
    p.add_argument("--model", metavar="PATH_OR_ID", help="reranking model (see above)")
    p.add_argument("--query", action="append", metavar="TEXT", help="query (repeatable)")
    p.add_argument("--window", type=int, default=30, help="BM25 hits reranked (default: 30)")
    p.add_argument("--show", type=int, default=5, help="rows printed per query (default: 5)")
    p.add_argument(
        "--cache", type=Path, help="cache dir (default: $ES_RERANK_CACHE or ~/.cache/es-rerank)"
    )
    add_runtime_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.window < 1 or args.show < 1:
        raise ValueError("--window and --show must be >= 1")
    return run_demo(
        model=args.model,
        queries=args.query or DEMO_QUERIES,
        window=args.window,
        show=args.show,
        cache=args.cache,
        **runtime_kwargs(args),
    )
