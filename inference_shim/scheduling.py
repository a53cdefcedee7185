"""Which queued pairs share the next model batch.

Every batch holds at most ``max_batch_tokens`` padded tokens (its longest pair x its pair
count). A ``fair_share`` of that budget goes round-robin over every open request, each
taking up to an equal part (at least one pair); the rest is filled from the oldest request
on. So a request of one text is in the very next batch even behind a request of hundreds,
while requests of equal size still finish about in arrival order instead of all at the end.
Each request's pairs are taken shortest first, so a batch pads little, and sit side by side
in the batch.

>>> jobs = [Job("big", [Pair(10, ())] * 6, arrived=0.0), Job("small", [Pair(10, ())], arrived=1.0)]
>>> batch, turn = next_batch(jobs, max_batch_tokens=40, fair_share=0.5, turn=0)
>>> [(job.handle, i) for job, i in batch]
[('big', 0), ('big', 1), ('big', 2), ('small', 0)]
>>> [(job.handle, i) for job, i in next_batch(jobs, max_batch_tokens=40, fair_share=0.0)[0]]
[('big', 3), ('big', 4), ('big', 5)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

import numpy as np

from es_rerank.runtime.base import Pair

__all__ = ["Job", "next_batch"]

H = TypeVar("H")


class Job(Generic[H]):
    """One queued request: its pairs, which of them are still to be scheduled, its scores
    and its accounting. ``handle`` is what the engine answers (a future)."""

    def __init__(
        self, handle: H, pairs: Sequence[Pair], *, arrived: float, deadline: float | None = None
    ) -> None:
        self.handle = handle
        self.pairs = list(pairs)
        self.arrived = arrived
        self.deadline = deadline
        self.order = sorted(range(len(self.pairs)), key=lambda i: (self.pairs[i].length, i))
        self.cursor = 0  # pairs of ``order`` already given to a batch
        self.tokens = sum(p.length for p in self.pairs)
        self.tokens_left = self.tokens  # not yet computed
        self.computed = 0
        self.scores = np.zeros(len(self.pairs), dtype=np.float32)
        self.closed = False  # answered, failed, expired or cancelled
        self.tokenization_s = 0.0
        self.inference_s = 0.0  # model time of the batches that carried its pairs

    @property
    def unscheduled(self) -> bool:
        return self.cursor < len(self.order)

    @property
    def finished(self) -> bool:
        return self.computed == len(self.pairs)

    def expired(self, now: float) -> bool:
        return self.deadline is not None and now > self.deadline

    def next_length(self) -> int:
        return self.pairs[self.order[self.cursor]].length


def next_batch(
    jobs: Sequence[Job[H]], *, max_batch_tokens: int, fair_share: float, turn: int = 0
) -> tuple[list[tuple[Job[H], int]], int]:
    """The next batch as (job, pair number) items, and where the next round-robin pass
    starts. Advances each chosen job's cursor. ``jobs`` are in arrival order; jobs with no
    pair left to schedule are skipped."""
    picked: list[tuple[Job[H], int]] = []
    longest = 0

    def take(job: Job[H]) -> bool:
        nonlocal longest
        length = job.next_length()
        if picked and max(longest, length) * (len(picked) + 1) > max_batch_tokens:
            return False
        picked.append((job, job.order[job.cursor]))
        job.cursor += 1
        longest = max(longest, length)
        return True

    live = [job for job in jobs if job.unscheduled]
    if not live:
        return picked, turn
    fair_budget = max_batch_tokens * fair_share
    share = fair_budget / len(live)
    start = turn % len(live)
    served = 0
    # Round-robin part: every job in turn, up to its share (at least one pair).
    while served < len(live) and longest * len(picked) < fair_budget:
        job = live[(start + served) % len(live)]
        served += 1
        got = 0
        while job.unscheduled and (got == 0 or got + job.next_length() <= share):
            length = job.next_length()
            if not take(job):
                break
            got += length
    # Oldest-first part: fill what the budget has left.
    for job in live:
        while job.unscheduled and take(job):
            pass
    # Each job's pairs side by side (a scorer function is called once per run of a query).
    rank = {id(job): k for k, job in enumerate(live)}
    picked.sort(key=lambda item: rank[id(item[0])])
    return picked, start + served
