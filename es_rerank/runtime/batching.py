"""Length-sorted, token-budget batching: the one place that decides which pairs share a
forward pass. Pairs are sorted by token length, so each batch pads little, and batches are
cut so that ``longest x count`` stays within ``max_batch_tokens``.

>>> plan_batches([5, 30, 9, 300, 9], max_batch_tokens=64)
[[0, 2, 4], [1], [3]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from es_rerank.runtime.base import ModelRuntime, Pair, Scores

__all__ = [
    "CUDA_MAX_BATCH_TOKENS",
    "DEFAULT_MAX_BATCH_TOKENS",
    "ParallelRuntime",
    "default_max_batch_tokens",
    "parallel_batches",
    "plan_batches",
    "run_batches",
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


@runtime_checkable
class ParallelRuntime(Protocol):
    """A runtime that runs several batches side by side (e.g. one per OpenVINO stream, a
    core or two each): small batches on one core each waste less time in synchronizing
    threads than one batch on every core."""

    #: batches it runs at once; callers hand it that many when they can
    parallel_batches: int

    def forward_batches(self, batches: Sequence[Sequence[Pair]]) -> list[Scores]:
        """Raw scores of each batch, in order."""
        ...


def parallel_batches(runtime: ModelRuntime) -> int:
    """How many batches ``runtime`` runs at once (1 unless it is a :class:`ParallelRuntime`)."""
    return runtime.parallel_batches if isinstance(runtime, ParallelRuntime) else 1


def run_batches(runtime: ModelRuntime, batches: Sequence[Sequence[Pair]]) -> list[Scores]:
    """Raw scores of each batch: side by side on a :class:`ParallelRuntime`, else one
    ``forward`` after the other."""
    if isinstance(runtime, ParallelRuntime):
        return runtime.forward_batches(batches)
    return [runtime.forward(batch) for batch in batches]


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
    step = parallel_batches(runtime)
    for k in range(0, len(plan), step):
        group = plan[k : k + step]
        scores = run_batches(runtime, [[pairs[i] for i in batch] for batch in group])
        for batch, s in zip(group, scores, strict=True):
            out[batch] = s
    return out
