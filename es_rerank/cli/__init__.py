"""The ``es-rerank`` command. Each subcommand lives in its own module with a
``register(subparsers)`` function that sets ``func`` on its parser; :func:`main` is the one
error boundary: any failure is one line on stderr and a non-zero exit (2 for a wrong
argument, 1 for a failure while working), with the traceback only under ``--debug``."""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence

from es_rerank import console, env
from es_rerank.command_line import USAGE_ERRORS, ArgumentParser, error_line, exit_code
from es_rerank.env_mirrors import apply_env_mirrors
from es_rerank.errors import ConfigurationError
from es_rerank.version import package_version

DEBUG_ENV = env.DEBUG.name

__all__ = [
    "USAGE_ERRORS",
    "ArgumentParser",
    "build_parser",
    "error_line",
    "exit_code",
    "main",
]

# Subcommand modules, in the order ``--help`` lists them.
_COMMANDS = [
    "es_rerank.cli.scores",
    "es_rerank.cli.search",
    "es_rerank.cli.index",
    "es_rerank.cli.demo",
    "es_rerank.cli.eval",
    "es_rerank.cli.calibrate",
    "es_rerank.cli.endpoint",
    "es_rerank.cli.upload",
    "es_rerank.cli.completion",
]


def _add_common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """--debug, --quiet and -v, accepted before and after the subcommand."""
    unset = None if top else argparse.SUPPRESS
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help=f"show the full traceback when something fails (env {DEBUG_ENV}=1)",
    )
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument(
        "-q",
        "--quiet",
        action="store_const",
        const=console.QUIET,
        dest="verbosity",
        default=unset,
        help=f"print results and errors only, no progress (env {console.VERBOSITY_ENV}=0)",
    )
    noise.add_argument(
        "-v",
        "--verbose",
        action="store_const",
        const=console.VERBOSE,
        dest="verbosity",
        default=unset,
        help="also show the libraries' own output (exporters, quantizers) on stderr "
        f"(env {console.VERBOSITY_ENV}=2)",
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                _add_common(sub, top=False)


def _verbosity(args: argparse.Namespace) -> int:
    if getattr(args, "verbosity", None) is not None:
        return int(args.verbosity)
    text = env.VERBOSITY.text()
    if text in ("0", "1", "2"):
        return int(text)
    if text:
        raise ConfigurationError(f"{console.VERBOSITY_ENV} must be 0, 1 or 2, got {text!r}")
    return console.NORMAL


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="es-rerank",
        description="Cross-encoder re-ranking for Elasticsearch search.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _COMMANDS:
        importlib.import_module(name).register(sub)
    _add_common(parser, top=True)
    apply_env_mirrors(parser)
    parser.set_defaults(parser=parser)  # `completion` prints a script for the whole parser
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False)) or env.DEBUG.enabled()
    prefix = f"es-rerank {args.command}"
    try:
        console.configure(_verbosity(args))
        code: int = args.func(args)
    except KeyboardInterrupt:
        print(f"{prefix}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            traceback.print_exc()
        print(f"{prefix}: error: {error_line(exc)}", file=sys.stderr)
        return exit_code(exc)
    return code
