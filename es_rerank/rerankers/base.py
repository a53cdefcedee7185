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
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from es_rerank.errors import RerankError

__all__ = [
    "FunctionReranker",
    "RerankFunction",
    "Reranker",
    "as_reranker",
    "check_scores",
    "scores_from_rerank_response",
]

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


def scores_from_rerank_response(body: Mapping[str, Any], n_inputs: int) -> list[float]:
    """Map an ES-inference rerank answer ``{"rerank": [{"index", "relevance_score"}]}`` (any
    order; what ``POST _inference/rerank`` and the shim's ``/inference/rerank`` return) back
    to input order.

    >>> scores_from_rerank_response({"rerank": [{"index": 1, "relevance_score": 2.0},
    ...                                         {"index": 0, "relevance_score": -1.0}]}, 2)
    [-1.0, 2.0]
    """
    items = body.get("rerank") if isinstance(body, Mapping) else None
    if not isinstance(items, list):
        raise RerankError(f"rerank response has no [rerank] list: {str(body)[:200]}")
    scores: list[float | None] = [None] * n_inputs
    for item in items:
        try:
            index = int(item["index"])
            score = float(item["relevance_score"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RerankError(f"malformed rerank result {item!r}") from exc
        if not 0 <= index < n_inputs or scores[index] is not None:
            raise RerankError(f"rerank result index {index} is out of range or repeated")
        scores[index] = score
    if len(items) != n_inputs:
        raise RerankError(
            "Reranker input document count and returned score count mismatch: "
            f"[{n_inputs}] vs [{len(items)}]"
        )
    return check_scores([s for s in scores if s is not None], n_inputs)
