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
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from es_rerank.errors import InferenceEndpointNotFoundError, RerankError
from es_rerank.rerankers.formats import FORMATS
from es_rerank.wire import WireError

__all__ = [
    "FunctionReranker",
    "RerankFunction",
    "Reranker",
    "RerankerSpec",
    "as_reranker",
    "check_scores",
    "scores_from_rerank_response",
    "scores_in_input_order",
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


def scores_in_input_order(ranking: Iterable[tuple[int, float]], n_inputs: int) -> list[float]:
    """``(input index, score)`` pairs in any order (as rerank servers answer, best first)
    back to input order: every index exactly once, else :class:`RerankError`.

    >>> scores_in_input_order([(1, 2.0), (0, -1.0)], 2)
    [-1.0, 2.0]
    """
    scores: list[float | None] = [None] * n_inputs
    seen = 0
    for index, score in ranking:
        if not 0 <= index < n_inputs or scores[index] is not None:
            raise RerankError(f"rerank result index {index} is out of range or repeated")
        scores[index] = score
        seen += 1
    if seen != n_inputs:
        raise RerankError(
            "Reranker input document count and returned score count mismatch: "
            f"[{n_inputs}] vs [{seen}]"
        )
    return check_scores([s for s in scores if s is not None], n_inputs)


def scores_from_rerank_response(body: Any, n_inputs: int) -> list[float]:
    """An Elasticsearch-inference rerank answer ``{"rerank": [{"index", "relevance_score"}]}``
    (what ``POST _inference/rerank`` and the shim's ``/inference/rerank`` return), read with
    its declared wire model, back in input order.

    >>> scores_from_rerank_response({"rerank": [{"index": 1, "relevance_score": 2.0},
    ...                                         {"index": 0, "relevance_score": -1.0}]}, 2)
    [-1.0, 2.0]
    """
    try:
        ranking = FORMATS["es"].ranking(body)
    except WireError as exc:
        raise RerankError(f"malformed rerank response: {exc.message}") from None
    return scores_in_input_order(ranking, n_inputs)


#: One reranker for every rerank node or command, or one per ``inference_id``.
RerankerSpec = Reranker | RerankFunction | Mapping[str, Reranker | RerankFunction]


def given_reranker(inference_id: str, reranker: RerankerSpec | None) -> Reranker | None:
    """The reranker ``reranker`` gives for ``inference_id`` (``None`` when none was given);
    a mapping without that id fails as ES does for an unknown endpoint."""
    if isinstance(reranker, Mapping):
        if inference_id not in reranker:
            raise InferenceEndpointNotFoundError(
                f"Inference endpoint not found [{inference_id}]", status=404
            )
        return as_reranker(reranker[inference_id])
    return None if reranker is None else as_reranker(reranker)
