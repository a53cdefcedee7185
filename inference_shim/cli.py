"""``inference-shim`` command: ``inference-shim serve --model PATH_OR_HUB_ID`` (or
``--scorer package.module:function``). Every flag has a ``SHIM_*`` environment mirror."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from inference_shim.config import add_serve_arguments, settings_from_args

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inference-shim",
        description="Serve a cross-encoder as a rerank inference endpoint Elasticsearch can "
        "call (TEI /rerank, Cohere /v1|/v2/rerank, ES /inference/rerank).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser(
        "serve",
        help="load a model (or a scorer function) and serve it over HTTP",
        description="Load a model and serve it. Flags override SHIM_* environment variables.",
    )
    add_serve_arguments(serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from es_rerank.extras import MissingExtraError
    from es_rerank.models import ModelLoadError

    try:
        settings = settings_from_args(args)
        from inference_shim.server import serve

        return serve(settings)
    except (ValueError, ModelLoadError, MissingExtraError) as exc:
        print(f"inference-shim {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
