"""Which queued pairs share the next model batch.

Every batch holds at most ``max_batch_tokens`` padded tokens (its longest pair x its pair
count). A ``fair_share`` of that budget goes to new requests of at most one batch of work,
smallest first; the rest goes to the oldest requests (a window of a few batches' worth of
their pairs, shortest first, as if sorted together). So a request of one text is in the
very next batch even behind a request of hundreds, requests of equal size still finish
about in arrival order, and the oldest request, however large, shares the budget the fair
part leaves with nothing younger than its window and is never left out of two batches in a
row, so a stream of small requests cannot starve it. Every pair is the one nearest in
length to the window's shortest, so a batch pads little; each request's pairs sit side by
side in the batch.

>>> jobs = [Job("big", [Pair(10, ())] * 6, arrived=0.0), Job("small", [Pair(10, ())], arrived=1.0)]
>>> [(job.handle, i) for job, i in next_batch(jobs, max_batch_tokens=40, fair_share=0.5)]
[('big', 0), ('big', 1), ('big', 2), ('small', 0)]
>>> [(job.handle, i) for job, i in next_batch(jobs, max_batch_tokens=40, fair_share=0.0)]
[('big', 3), ('big', 4), ('big', 5)]
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Generic, TypeVar

import numpy as np

from es_rerank.runtime.base import Pair

__all__ = ["WINDOW_BATCHES", "Job", "next_batch"]

# The oldest requests, this many batches' worth of tokens, are sorted together by length to
# fill what the fair part leaves: batches of near-equal lengths pad little, and the oldest
# request is always among them. A small window keeps completion close to arrival order,
# which is what admission control's estimate (work queued ahead + the request's own)
# assumes: with 8 batches, requests admitted later shared the oldest ones' batches, so
# every request finished late (soak at concurrency 32: p99 30.9 s and 52 deadline drops,
# against 25.7 s and none with 2).
WINDOW_BATCHES = 2

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
        # (length, pair number) of the pairs not yet given to a batch, shortest first.
        self.pending = sorted((p.length, i) for i, p in enumerate(self.pairs))
        self.pending_tokens = sum(p.length for p in self.pairs)
        self.skipped = 0  # batches in a row formed without its pairs
        self.tokens = sum(p.length for p in self.pairs)
        self.tokens_left = self.tokens  # not yet computed
        self.computed = 0
        self.scores = np.zeros(len(self.pairs), dtype=np.float32)
        self.closed = False  # answered, failed, expired or cancelled
        self.tokenization_s = 0.0
        self.inference_s = 0.0  # model time of the batches that carried its pairs
        # Admission's last forecast before its first batch: seconds to its finish, from
        # when it was made.
        self.forecast_at = 0.0
        self.predicted_s = 0.0

    @property
    def unscheduled(self) -> bool:
        return bool(self.pending)

    @property
    def started(self) -> bool:
        """Whether any of its pairs has been given to a batch (it is admitted)."""
        return len(self.pending) < len(self.pairs)

    @property
    def finished(self) -> bool:
        return self.computed == len(self.pairs)

    def expired(self, now: float) -> bool:
        return self.deadline is not None and now > self.deadline

    def nearest(self, length: int) -> int:
        """Position in ``pending`` of the pair whose length is nearest ``length``."""
        k = bisect_left(self.pending, (length, -1))
        if k == len(self.pending) or (
            k > 0 and length - self.pending[k - 1][0] <= self.pending[k][0] - length
        ):
            return k - 1
        return k


def next_batch(
    jobs: Sequence[Job[H]], *, max_batch_tokens: int, fair_share: float
) -> list[tuple[Job[H], int]]:
    """The next batch as (job, pair number) items; takes them out of their jobs'
    ``pending``. ``jobs`` are in arrival order; jobs with nothing pending are skipped."""
    picked: list[tuple[Job[H], int]] = []
    longest = 0
    live = [job for job in jobs if job.unscheduled]
    if not live:
        return picked
    # The window: the oldest jobs, about WINDOW_BATCHES batches of work (at least one job).
    window: list[Job[H]] = []
    queued = 0
    for job in live:
        if window and queued + job.pending_tokens > WINDOW_BATCHES * max_batch_tokens:
            break
        window.append(job)
        queued += job.pending_tokens
    # The batch is built around the shortest pair of the window, or around the oldest job's
    # shortest when the last batch left it out.
    oldest = live[0]
    target = oldest.pending[0][0] if oldest.skipped else min(j.pending[0][0] for j in window)

    def take(job: Job[H], budget: float) -> bool:
        """Add ``job``'s pair nearest the target if the batch stays within ``budget``."""
        nonlocal longest
        k = job.nearest(target)
        length, i = job.pending[k]
        if picked and max(longest, length) * (len(picked) + 1) > budget:
            return False
        if not picked and length > budget < max_batch_tokens:  # only a full budget
            return False  # takes a pair longer than itself
        del job.pending[k]
        job.pending_tokens -= length
        picked.append((job, i))
        longest = max(longest, length)
        return True

    def gap(job: Job[H]) -> int:
        return abs(job.pending[job.nearest(target)][0] - target)

    # The oldest job left out of the last batch gets the first pair of this one.
    if live[0].skipped:
        take(live[0], max_batch_tokens)
    # The fair part: new jobs of at most one batch of work, the smallest first (on a tie,
    # the oldest). Larger or started ones are the window's, where their pairs pad little.
    fair_budget = max_batch_tokens * fair_share
    for job in sorted(live, key=lambda j: j.pending_tokens):
        if job.pending_tokens > max_batch_tokens:
            break
        while job.pending_tokens == job.tokens and job.unscheduled and take(job, fair_budget):
            pass
    # The rest: the window's pairs nearest the target, as if they were sorted together.
    while True:
        left = [job for job in window if job.unscheduled]
        if not left or not take(min(left, key=gap), max_batch_tokens):
            break
    chosen = {id(job) for job, _ in picked}
    for job in live:
        job.skipped = 0 if id(job) in chosen else job.skipped + 1
    # Each job's pairs side by side (a scorer function is called once per run of a query).
    rank = {id(job): k for k, job in enumerate(live)}
    picked.sort(key=lambda item: rank[id(item[0])])
    return picked
