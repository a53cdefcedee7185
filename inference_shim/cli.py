"""``inference-shim`` command: ``inference-shim serve --model PATH_OR_HUB_ID`` (or
``--scorer package.module:function``). Every flag has a ``SHIM_*`` environment mirror.

Failures are one line on stderr and a non-zero exit (2 for a wrong flag, 1 otherwise); the
traceback only with ``--debug``. A missing extra is named before anything loads, and the
port is bound before the model loads, so a port in use fails at once.
"""

from __future__ import annotations

import argparse
import errno
import sys
import traceback
from collections.abc import Sequence

from es_rerank import console
from es_rerank.command_line import ArgumentParser, error_line, exit_code
from es_rerank.errors import ConfigurationError
from es_rerank.extras import require_extra
from es_rerank.version import package_version
from inference_shim.config import Settings, add_serve_arguments, settings_from_args

__all__ = ["main"]

_BIND_ERRORS = {
    errno.EADDRINUSE: "the address is already in use",
    errno.EACCES: "permission denied (ports below 1024 need privileges)",
    errno.EADDRNOTAVAIL: "this machine has no such address",
}


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="inference-shim",
        description="Serve a cross-encoder as a rerank inference endpoint Elasticsearch can "
        "call (TEI /rerank, Cohere /v1|/v2/rerank, ES /inference/rerank).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser(
        "serve",
        help="load a model (or a scorer function) and serve it over HTTP",
        description="Load a model and serve it. Flags override SHIM_* environment variables.",
    )
    add_serve_arguments(serve)
    serve.add_argument(
        "--debug", action="store_true", help="show the full traceback when something fails"
    )
    return parser


def _require_extras(settings: Settings) -> None:
    require_extra("shim", "flask", "waitress", "prometheus_client", feature="inference-shim serve")
    if settings.model is not None:
        require_extra(
            "shim",
            "torch",
            "transformers",
            "sentence_transformers",
            feature="inference-shim serve --model",
        )


def _run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    _require_extras(settings)
    # first-run steps (exports, auto's measurement) announced on stderr, libraries held back
    console.configure(console.NORMAL)
    from inference_shim.server import serve

    try:
        return serve(settings)
    except OSError as exc:
        why = _BIND_ERRORS.get(exc.errno or 0)
        if why is None:
            raise
        raise ConfigurationError(
            f"cannot listen on {settings.host}:{settings.port}: {why}; choose another --port "
            "(SHIM_PORT), or 0 for any free port"
        ) from exc


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        print(f"inference-shim {args.command}: error: {error_line(exc)}", file=sys.stderr)
        return exit_code(exc)


if __name__ == "__main__":
    sys.exit(main())
