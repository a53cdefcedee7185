"""Elasticsearch's rerank score normalization and its correct inverse.

ES maps every raw reranker score ``s`` to ``max(s, 0) + min(exp(s), 1)`` inside the
``text_similarity_reranker`` retriever, but compares ``min_score`` with the *raw* score.
A threshold read off a result page must therefore be denormalized before it is used.

The inverse in ES's docs (``s - 1 if s >= 0 else ln(s)``) never takes its ``ln`` branch,
because normalized scores are never negative; the correct split point is 1.

>>> normalize(-1.0)
0.36787944117144233
>>> denormalize(normalize(-1.0))
-1.0
>>> normalize([0.0, 2.5])
[1.0, 3.5]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar, cast, overload

import numpy as np
import numpy.typing as npt

__all__ = ["denormalize", "min_score_to_raw", "normalize"]

_A = TypeVar("_A", bound=np.floating)


def _normalize_one(s: float) -> float:
    s = float(s)
    if math.isnan(s):
        raise ValueError(f"score must be a number, got {s!r}")
    return max(s, 0.0) + min(math.exp(min(s, 0.0)), 1.0)


def _denormalize_one(n: float) -> float:
    n = float(n)
    if not math.isfinite(n) or n <= 0.0:
        raise ValueError(
            f"normalized score must be finite and > 0 (normalize() never yields {n!r})"
        )
    return n - 1.0 if n >= 1.0 else math.log(n)


@overload
def normalize(score: float) -> float: ...
@overload
def normalize(score: npt.NDArray[_A]) -> npt.NDArray[_A]: ...
@overload
def normalize(score: Sequence[float]) -> list[float]: ...
def normalize(
    score: float | Sequence[float] | npt.NDArray[_A],
) -> float | list[float] | npt.NDArray[_A]:
    """ES's normalization ``max(s, 0) + min(exp(s), 1)``.

    Accepts a float, a sequence of floats (returns a list) or a NumPy array (returns an
    array of the same dtype, so float32 input shows ES's float32 edge cases).

    >>> normalize(0.0), normalize(2.0)
    (1.0, 3.0)
    >>> import numpy as np
    >>> normalize(np.array([-200.0], dtype=np.float32))  # float32 underflow, as in ES
    array([0.], dtype=float32)
    """
    if isinstance(score, np.ndarray):
        if np.isnan(score).any():
            raise ValueError("score array contains NaN")
        one = np.ones((), dtype=score.dtype)
        with np.errstate(over="ignore"):
            out = np.maximum(score, 0) + np.minimum(np.exp(np.minimum(score, 0)), one)
        return cast("npt.NDArray[_A]", out.astype(score.dtype, copy=False))
    if isinstance(score, Sequence):
        return [_normalize_one(s) for s in score]
    return _normalize_one(score)


@overload
def denormalize(score: float) -> float: ...
@overload
def denormalize(score: npt.NDArray[_A]) -> npt.NDArray[_A]: ...
@overload
def denormalize(score: Sequence[float]) -> list[float]: ...
def denormalize(
    score: float | Sequence[float] | npt.NDArray[_A],
) -> float | list[float] | npt.NDArray[_A]:
    """The inverse of :func:`normalize`: ``n - 1`` if ``n >= 1`` else ``ln(n)``.

    Raises ``ValueError`` naming the value for ``n <= 0``, NaN or infinity.

    >>> denormalize(3.5), round(denormalize(0.5), 6)
    (2.5, -0.693147)
    """
    if isinstance(score, np.ndarray):
        bad = ~np.isfinite(score) | (score <= 0)
        if bad.any():
            value = score[bad].flat[0]
            raise ValueError(
                f"normalized score must be finite and > 0 (normalize() never yields {value!r})"
            )
        with np.errstate(divide="ignore"):
            out = np.where(score >= 1, score - 1, np.log(score))
        return out.astype(score.dtype, copy=False)
    if isinstance(score, Sequence):
        return [_denormalize_one(s) for s in score]
    return _denormalize_one(score)


def min_score_to_raw(min_score: float) -> float:
    """Turn a ``min_score`` read in normalized units (the scores ES returns) into the
    raw threshold ES compares against.

    >>> min_score_to_raw(1.5)
    0.5
    """
    try:
        return denormalize(min_score)
    except ValueError as exc:
        raise ValueError(f"min_score: {exc}") from None
