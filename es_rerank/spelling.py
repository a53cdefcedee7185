"""How a message names a setting: in the caller's vocabulary, ``score_scale='raw'`` to a
Python caller and ``--rerank-score-scale raw`` on the command line.

>>> python_spelling("score_scale", "raw")
"score_scale='raw'"
>>> flag_spelling({"score_scale": "--rerank-score-scale"})("score_scale", "raw")
'--rerank-score-scale raw'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = ["Spelling", "flag_spelling", "python_spelling"]

#: (parameter, value) -> how the caller would write that setting
Spelling = Callable[[str, str], str]


def python_spelling(param: str, value: str) -> str:
    """A keyword argument: ``param='value'``."""
    return f"{param}={value!r}"


def flag_spelling(flags: Mapping[str, str]) -> Spelling:
    """Command-line flags: ``flags[param]`` (else ``--param-with-dashes``) and the value."""

    def spell(param: str, value: str) -> str:
        return f"{flags.get(param, '--' + param.replace('_', '-'))} {value}"

    return spell
