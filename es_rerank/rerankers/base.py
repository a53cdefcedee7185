"""The reranker protocol and helpers shared by every implementation.

>>> r = as_reranker(lambda query, texts: [float(len(t)) for t in texts])
>>> list(r.rerank("q", ["a", "abc"]))
[1.0, 3.0]
>>> try:
...     check_scores([1.0], 2)
... except RerankError as exc:
...     print(exc)
Reranker input document count and returned score count mismatch: [2] vs [1]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from es_rerank.errors import RerankError

__all__ = ["FunctionReranker", "RerankFunction", "Reranker", "as_reranker", "check_scores"]

RerankFunction = Callable[[str, Sequence[str]], Sequence[float]]


@runtime_checkable
class Reranker(Protocol):
    """Scores ``texts`` against ``query``; returns RAW scores (no normalization) in input
    order, one per text."""

    def rerank(self, query: str, texts: Sequence[str]) -> Sequence[float]: ...


class FunctionReranker:
    """A plain function ``f(query, texts) -> scores`` used as a :class:`Reranker`."""

    def __init__(self, function: RerankFunction) -> None:
        self.function = function

    def rerank(self, query: str, texts: Sequence[str]) -> Sequence[float]:
        return self.function(query, texts)

    def __repr__(self) -> str:
        return f"FunctionReranker({getattr(self.function, '__name__', self.function)!r})"


def as_reranker(obj: Reranker | RerankFunction) -> Reranker:
    """``obj`` if it has a ``rerank`` method, else the callable wrapped as one."""
    if isinstance(obj, Reranker):
        return obj
    if callable(obj):
        return FunctionReranker(obj)
    raise TypeError(f"reranker must have a rerank(query, texts) method or be callable, got {obj!r}")


def check_scores(scores: Sequence[float], expected: int) -> list[float]:
    """Scores as a list of finite floats, exactly ``expected`` of them, else
    :class:`RerankError` (never a partial result)."""
    try:
        values = [float(s) for s in scores]
    except (TypeError, ValueError) as exc:
        raise RerankError(f"the reranker returned non-numeric scores: {exc}") from exc
    if len(values) != expected:
        # ES's own words for this failure
        raise RerankError(
            "Reranker input document count and returned score count mismatch: "
            f"[{expected}] vs [{len(values)}]"
        )
    for i, v in enumerate(values):
        if not math.isfinite(v):
            raise RerankError(f"the reranker returned a non-finite score {v!r} for input {i}")
    return values
