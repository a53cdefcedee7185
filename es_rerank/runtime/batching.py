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

__all__ = [
    "CUDA_MAX_BATCH_TOKENS",
    "DEFAULT_MAX_BATCH_TOKENS",
    "default_max_batch_tokens",
    "plan_batches",
    "score_pairs",
]

# On CPU, batches of about 1,000 padded tokens run fastest: every runtime (torch, ONNX
# Runtime, OpenVINO; fp32, bf16, int8) ran 5-30% more pairs/s at 1024 than at 4096 on a
# 2-core AVX-512 machine (``python bench/shim_throughput.py --max-batch-tokens ...``).
DEFAULT_MAX_BATCH_TOKENS = 1024
# A GPU wants larger batches to fill its cores.
CUDA_MAX_BATCH_TOKENS = 4096


def default_max_batch_tokens(device: str) -> int:
    """The padded tokens per forward pass used when none is given, for ``device``.

    >>> default_max_batch_tokens("cpu"), default_max_batch_tokens("cuda:0")
    (1024, 4096)
    """
    return CUDA_MAX_BATCH_TOKENS if device.startswith("cuda") else DEFAULT_MAX_BATCH_TOKENS


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
    max_batch_tokens: int | None = None,
    max_pairs: int | None = None,
) -> Scores:
    """Score ``pairs`` in length-sorted token-budget batches; scores in input order.
    ``max_batch_tokens`` defaults to the one for the runtime's device."""
    if max_batch_tokens is None:
        max_batch_tokens = default_max_batch_tokens(runtime.device)
    out = np.zeros(len(pairs), dtype=np.float32)
    plan = plan_batches(
        [p.length for p in pairs], max_batch_tokens=max_batch_tokens, max_pairs=max_pairs
    )
    for batch in plan:
        out[batch] = runtime.forward([pairs[i] for i in batch])
    return out
