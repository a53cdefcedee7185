"""Length-sorted, token-budget batching: the one place that decides which pairs share a
forward pass. Pairs are sorted by token length, so each batch pads little, and batches are
cut so that ``longest x count`` stays within ``max_batch_tokens``.

>>> plan_batches([5, 30, 9, 300, 9], max_batch_tokens=64)
[[0, 2, 4], [1], [3]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from es_rerank.runtime.base import ModelRuntime, Pair, Scores

__all__ = ["DEFAULT_MAX_BATCH_TOKENS", "plan_batches", "score_pairs"]

DEFAULT_MAX_BATCH_TOKENS = 4096


def plan_batches(
    lengths: Sequence[int], *, max_batch_tokens: int, max_pairs: int | None = None
) -> list[list[int]]:
    """Indices into ``lengths``, grouped into batches, shortest first. A batch's padded size
    (its longest length x its count) fits the budget; a single pair longer than the budget
    still gets a batch of its own. ``max_pairs`` caps the pairs per batch."""
    if max_batch_tokens <= 0:
        raise ValueError(f"max_batch_tokens must be > 0, got {max_batch_tokens}")
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        full = max_pairs is not None and len(current) >= max_pairs
        if current and (full or lengths[i] * (len(current) + 1) > max_batch_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def score_pairs(
    runtime: ModelRuntime,
    pairs: Sequence[Pair],
    *,
    max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS,
    max_pairs: int | None = None,
) -> Scores:
    """Score ``pairs`` in length-sorted token-budget batches; scores in input order."""
    out = np.zeros(len(pairs), dtype=np.float32)
    plan = plan_batches(
        [p.length for p in pairs], max_batch_tokens=max_batch_tokens, max_pairs=max_pairs
    )
    for batch in plan:
        out[batch] = runtime.forward([pairs[i] for i in batch])
    return out
