"""Environment mirrors of the commands' main flags, in one table: a flag given on the command
line wins, then its environment variable, then the built-in default. Every command that has
the flag reads the same variable, and its ``--help`` names it.

The connection flags (``ES_URL``...) have their mirrors where they are defined; the runtime
flags (``ES_RERANK_RUNTIME``, ``ES_RERANK_DTYPE``...) read theirs from :mod:`es_rerank.env`,
the table of every variable the package reads.

>>> import argparse
>>> p = argparse.ArgumentParser()
>>> _ = p.add_argument("--rank-window-size", type=int, default=10, help="hits reranked")
>>> apply_env_mirrors(p, environ={"ES_RERANK_RANK_WINDOW_SIZE": "50"})
>>> p.parse_args([]).rank_window_size, p.parse_args(["--rank-window-size", "5"]).rank_window_size
(50, 5)
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import Final

__all__ = ["ENV_MIRRORS", "apply_env_mirrors", "from_environment"]

#: flag -> environment variable
ENV_MIRRORS: Final[Mapping[str, str]] = {
    "--model": "ES_RERANK_MODEL",
    "--field": "ES_RERANK_FIELD",
    "--rank-window-size": "ES_RERANK_RANK_WINDOW_SIZE",
    "--size": "ES_RERANK_SIZE",
    "--batch-size": "ES_RERANK_BATCH_SIZE",
    "--max-length": "ES_RERANK_MAX_LENGTH",
    "--max-batch-tokens": "ES_RERANK_MAX_BATCH_TOKENS",
    "--inference-id": "ES_RERANK_INFERENCE_ID",
    "--mode": "ES_RERANK_MODE",
    "--dataset": "ES_RERANK_DATASET",
    "--split": "ES_RERANK_SPLIT",
}

_SOURCED = "env_sourced"


def apply_env_mirrors(
    parser: argparse.ArgumentParser, *, environ: Mapping[str, str] | None = None
) -> None:
    """Give ``parser``'s (and its subcommands') flags of :data:`ENV_MIRRORS` their
    environment value as the default, and name the variable in their help."""
    env = os.environ if environ is None else environ
    sourced: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                apply_env_mirrors(sub, environ=env)
            continue
        var = next((ENV_MIRRORS[f] for f in action.option_strings if f in ENV_MIRRORS), None)
        if var is None:
            continue
        if action.help not in (None, argparse.SUPPRESS):
            action.help = f"{action.help} [env {var}]"
        text = env.get(var, "")
        if not text:
            continue
        action.default = _convert(parser, action, var, text)
        action.required = False
        sourced.add(str(action.dest))
    if sourced:
        parser.set_defaults(**{_SOURCED: frozenset(sourced)})


def from_environment(args: argparse.Namespace, dest: str) -> bool:
    """Whether ``args.<dest>`` came from its environment variable, not the command line."""
    return dest in getattr(args, _SOURCED, frozenset())


def _convert(
    parser: argparse.ArgumentParser, action: argparse.Action, var: str, text: str
) -> object:
    convert = action.type if callable(action.type) else str
    try:
        value = convert(text)
    except (TypeError, ValueError) as exc:
        parser.error(f"environment variable {var}: {exc or 'invalid value'} (got {text!r})")
    if action.choices is not None and value not in action.choices:
        choices = ", ".join(map(str, action.choices))
        parser.error(f"environment variable {var}: {text!r} is not one of {choices}")
    return value
