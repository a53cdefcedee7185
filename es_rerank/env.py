"""Every environment variable the package reads, in one table, read the same way everywhere.

A variable is a :class:`Variable`: its name, what it sets, and how its text is read
(:meth:`Variable.text`, :meth:`Variable.enabled`, :meth:`Variable.truthy`). The flags' mirrors
(``ES_RERANK_RANK_WINDOW_SIZE`` for ``--rank-window-size``...) are applied to the command line
by :mod:`es_rerank.env_mirrors`; the connection variables (``ES_URL``...) are read by
:class:`es_rerank.ConnectionOptions` from its own table of flags, and the shim's
(``SHIM_*``) by ``inference_shim.config``.

>>> parse_bool("Yes"), parse_bool(""), parse_bool("0")
(True, False, False)
>>> HF_HUB_OFFLINE.enabled({"HF_HUB_OFFLINE": "1"}), HF_HUB_OFFLINE.enabled({})
(True, False)
>>> CACHE.text({"ES_RERANK_CACHE": " /tmp/c "})
'/tmp/c'
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass

__all__ = [
    "CACHE",
    "DEBUG",
    "DTYPE",
    "HF_HUB_OFFLINE",
    "HUB_ACCESS_TOKEN",
    "INSTRUCTION",
    "MODEL",
    "REMEASURE",
    "RERANK_API_KEY",
    "RUNTIME",
    "SHIM_API_KEY",
    "VARIABLES",
    "VERBOSITY",
    "XDG_CACHE_HOME",
    "Variable",
    "parse_bool",
]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def parse_bool(text: str) -> bool:
    """A boolean environment value (unset or empty is false); ``ValueError`` otherwise."""
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"expected true or false (1/0, yes/no, on/off), got {text!r}")


@dataclass(frozen=True)
class Variable:
    """One environment variable: ``name`` and what it sets (``about``)."""

    name: str
    about: str

    def text(self, environ: Mapping[str, str] | None = None) -> str:
        """Its value with surrounding blanks removed; empty when unset."""
        env = os.environ if environ is None else environ
        return env.get(self.name, "").strip()

    def value(self, environ: Mapping[str, str] | None = None) -> str | None:
        """Its value, or ``None`` when unset or empty."""
        return self.text(environ) or None

    def enabled(self, environ: Mapping[str, str] | None = None) -> bool:
        """Set to anything but empty or ``0`` (how huggingface_hub reads its switches)."""
        return self.text(environ) not in ("", "0")

    def truthy(self, environ: Mapping[str, str] | None = None) -> bool:
        """Set to ``1``, ``true``, ``yes`` or ``on`` (any case); anything else is false."""
        return self.text(environ).lower() in _TRUE

    def set_default(self, value: str, environ: MutableMapping[str, str] | None = None) -> str:
        """Set it to ``value`` unless it already has one (the user's wins); its value after.

        >>> env = {"A": "mine"}
        >>> Variable("A", "").set_default("x", env), Variable("B", "").set_default("y", env)
        ('mine', 'y')
        """
        env = os.environ if environ is None else environ
        if self.value(env) is None:
            env[self.name] = value
        return env[self.name]


CACHE = Variable(
    "ES_RERANK_CACHE",
    "the cache directory: model exports (runtimes/) and local indexes (indexes/); default "
    "$XDG_CACHE_HOME/es-rerank",
)
XDG_CACHE_HOME = Variable("XDG_CACHE_HOME", "where the cache goes without ES_RERANK_CACHE")
MODEL = Variable("ES_RERANK_MODEL", "the reranking model (--model)")
HF_HUB_OFFLINE = Variable("HF_HUB_OFFLINE", "never ask the Hugging Face hub for a model")
RUNTIME = Variable("ES_RERANK_RUNTIME", "inference runtime of a local model (--runtime)")
DTYPE = Variable("ES_RERANK_DTYPE", "its dtype (--dtype)")
INSTRUCTION = Variable("ES_RERANK_INSTRUCTION", "an LLM reranker's instruction (--instruction)")
REMEASURE = Variable("ES_RERANK_REMEASURE", "runtime auto measures again (--remeasure)")
VERBOSITY = Variable("ES_RERANK_VERBOSITY", "0 quiet, 1 normal, 2 verbose (-q, -v)")
DEBUG = Variable("ES_RERANK_DEBUG", "show the traceback when a command fails (--debug)")
SHIM_API_KEY = Variable("SHIM_API_KEY", "bearer key for the shim (--shim-api-key)")
RERANK_API_KEY = Variable("RERANK_API_KEY", "API key for --rerank-url (--rerank-api-key)")
HUB_ACCESS_TOKEN = Variable(
    "HUB_ACCESS_TOKEN", "Hugging Face token for upload-model (--hub-access-token), as eland"
)

#: The variables above, in the order ``--help`` texts and the docs list them.
VARIABLES: tuple[Variable, ...] = (
    CACHE,
    XDG_CACHE_HOME,
    MODEL,
    HF_HUB_OFFLINE,
    RUNTIME,
    DTYPE,
    INSTRUCTION,
    REMEASURE,
    VERBOSITY,
    DEBUG,
    SHIM_API_KEY,
    RERANK_API_KEY,
    HUB_ACCESS_TOKEN,
)
