"""What the package's commands (``es-rerank``, ``inference-shim``) share: argparse with
one-line errors, a failure as one line, and the exit status it gets (2 for a wrong
argument, 1 for a failure while working).

>>> error_line(ValueError("batch_size must be >= 1,\\n  got 0")), exit_code(ValueError())
('batch_size must be >= 1, got 0', 2)
>>> error_line(KeyError("x")), exit_code(KeyError("x"))
("KeyError: 'x' (run with --debug for the traceback)", 1)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from es_rerank.errors import (
    ConfigurationError,
    ElasticsearchError,
    EsRerankError,
    LocalIndexError,
)
from es_rerank.extras import MissingExtraError
from es_rerank.models import ModelLoadError

__all__ = [
    "USAGE_ERRORS",
    "ArgumentParser",
    "add_deprecated_spelling",
    "error_line",
    "exit_code",
]

#: Errors in what the user asked for (exit 2, like argparse's own); the rest exit 1. A plain
#: ValueError is how the core refuses a bad argument value (it names the parameter); a model
#: that cannot be loaded is the --model the user named; a missing file is the path they gave.
USAGE_ERRORS = (
    ConfigurationError,
    LocalIndexError,
    MissingExtraError,
    ModelLoadError,
    ValueError,
    FileNotFoundError,
)


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors: ``prog: error: message (see prog --help)``, exit 2.
    Subcommand parsers are made of the same class."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def error_line(exc: BaseException) -> str:
    """``exc`` as one line: its message with whitespace folded; for an unexpected exception
    (not one of ours, not a refused value), its type too, and how to see the traceback."""
    text = " ".join(str(exc).split())
    if isinstance(exc, EsRerankError | ValueError | FileNotFoundError):
        return text
    return f"{type(exc).__name__}: {text} (run with --debug for the traceback)"


def exit_code(exc: BaseException) -> int:
    """2 for a wrong argument, 1 for a failure while working (a cluster's refusal included)."""
    if isinstance(exc, USAGE_ERRORS) and not isinstance(exc, ElasticsearchError):
        return 2
    return 1


class _DeprecatedSpelling(argparse.Action):
    """An old spelling of a flag: its value goes where the flag's does, with a note on
    stderr naming the spelling to use."""

    def __init__(self, option_strings: Sequence[str], dest: str, *, use: str, **kw: Any) -> None:
        super().__init__(option_strings, dest, **kw)
        self.use = use

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        print(
            f"{parser.prog}: note: {option_string} is deprecated and will be removed; "
            f"use {self.use}",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, values)


def add_deprecated_spelling(
    parser: argparse.ArgumentParser, old: str, flag: argparse.Action
) -> None:
    """Accept ``old`` as a hidden spelling of ``flag`` (an action ``parser`` already has):
    the same value, type and destination, with a deprecation note on stderr.

    >>> p = argparse.ArgumentParser(prog="demo")
    >>> add_deprecated_spelling(p, "--window", p.add_argument("--rank-window-size", type=int))
    >>> p.parse_args(["--window", "7"]).rank_window_size  # with a note on stderr
    7
    """
    kwargs: dict[str, Any] = {} if flag.type is None else {"type": flag.type}
    parser.add_argument(
        old,
        dest=flag.dest,
        metavar=flag.metavar,
        **kwargs,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
        action=_DeprecatedSpelling,
        use=flag.option_strings[-1],
    )
