"""The ``es-rerank`` command. Each subcommand lives in its own module with a
``register(subparsers)`` function that sets ``func`` on its parser."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from es_rerank.extras import MissingExtraError
from es_rerank.models import ModelLoadError

# Subcommand modules, in the order ``--help`` lists them.
_COMMANDS = [
    "es_rerank.cli.scores",
    "es_rerank.cli.search",
    "es_rerank.cli.index",
    "es_rerank.cli.demo",
    "es_rerank.cli.eval",
    "es_rerank.cli.endpoint",
    "es_rerank.cli.upload",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="es-rerank",
        description="Cross-encoder re-ranking for Elasticsearch search.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except (ValueError, FileNotFoundError, ModelLoadError, MissingExtraError) as exc:
        print(f"es-rerank {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return code
