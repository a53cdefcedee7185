"""What the engine knows of its own speed: the throughput it measures batch by batch and
the size of requests it has tokenized, for admission control before a request is parsed
or tokenized.

The current rate is a moving average weighted by time: a batch counts as much as the
seconds it took, so the average follows a change of rate within about the same number of
seconds (``time_constant_s``) whether batches take 0.1 s or 5 s (a fixed weight per batch
lagged 10 batches: about 40 s at the 4 s a batch took on contended cores).

The conservative rate (:meth:`Throughput.low`) is what admission plans with: the 10th
percentile, weighted by time, of the rates of the last ``low_window_s`` seconds of full
batches taken in spells of at least ``spell_s`` seconds. Full batches only: a small
batch's fixed cost makes the cores look slower than a large request finds them (on a busy
machine a tiny model's 3-text batches made one 512-token text look like 15 s of work).
Spells, not single batches: a request takes seconds, so a batch of milliseconds that the
OS paused once must not count as the cores' speed. A drop of rate shows in it as soon as a tenth of
the window is slow (about 3 s), before the average has followed, and it stays low as long
as slow spells keep coming: a request is admitted only when it would
finish in time at the speed the contended cores delivered lately, not at their average
(beside a CPU hog, planning at the average let 13 of 132 admitted requests miss their 30 s
deadline). ``Retry-After`` is the queue's drain time at the current average.

>>> rate = Throughput(time_constant_s=5, low_window_s=30)
>>> rate.observe(1000, 1.0, now=0.0)
>>> rate.observe(1000, 4.0, now=4.0)  # 4 s of 250 tokens/s: more than half the way there
>>> rate.observe(10, 1.0, now=5.0, full=False)  # a small batch: the average only
>>> round(rate.current), rate.low(now=5.0)
(482, 250.0)
>>> round(rate.low(now=100.0))  # no full batch in the window: the moving average
482
"""

from __future__ import annotations

import math
from collections import deque

__all__ = ["Throughput", "TokenRatio"]

# Seconds of batches after which the moving average has moved 63% of the way to a new rate.
TIME_CONSTANT_S = 5.0
# How far back the conservative rate looks, which quantile of the spells' rates it is, and
# the least batch time of a spell.
LOW_WINDOW_S = 30.0
LOW_QUANTILE = 0.1
SPELL_S = 1.0


class Throughput:
    """Tokens per second of the engine's batches: the moving average and the conservative
    rate."""

    def __init__(
        self,
        *,
        time_constant_s: float = TIME_CONSTANT_S,
        low_window_s: float = LOW_WINDOW_S,
        low_quantile: float = LOW_QUANTILE,
        spell_s: float = SPELL_S,
    ) -> None:
        self.time_constant_s = time_constant_s
        self.low_window_s = low_window_s
        self.low_quantile = low_quantile
        self.spell_s = spell_s
        self.current: float | None = None
        # (when, tokens, seconds) of single batches, oldest first.
        self._batches: deque[tuple[float, int, float]] = deque()

    def observe(self, tokens: int, seconds: float, *, now: float, full: bool = True) -> None:
        """One batch of ``tokens`` took ``seconds`` of wall time; ``full``: it was at least
        half the largest batch (only full batches make the conservative rate)."""
        if seconds <= 0 or tokens <= 0:
            return
        rate = tokens / seconds
        old = self.current
        weight = 1.0 - math.exp(-seconds / self.time_constant_s)
        self.current = rate if old is None else old + weight * (rate - old)
        if full:
            self._batches.append((now, tokens, seconds))
        while self._batches and self._batches[0][0] < now - self.low_window_s:
            self._batches.popleft()

    def fresh(self, *, now: float) -> bool:
        """Whether a full batch was measured in the last ``low_window_s`` seconds."""
        return bool(self._batches) and self._batches[-1][0] >= now - self.low_window_s

    def stale_in(self, *, now: float) -> float:
        """Seconds until the newest full batch leaves the window (0: none in it now)."""
        if not self._batches:
            return 0.0
        return max(0.0, self._batches[-1][0] + self.low_window_s - now)

    def low(self, *, now: float) -> float | None:
        """The conservative rate: the ``low_quantile`` of the rates of the last
        ``low_window_s`` seconds of batches in consecutive spells of at least ``spell_s``
        seconds, counted from the newest (so the latest batches make a spell of their own;
        a shorter oldest one joins the spell after it), each weighted by its seconds; the
        current average when no full batch is that recent; None before the first batch."""
        if self.current is None:
            return None
        spells: list[tuple[float, float]] = []  # (tokens, seconds)
        tokens, seconds = 0.0, 0.0
        for when, n, s in reversed(self._batches):
            if when < now - self.low_window_s:
                break
            tokens, seconds = tokens + n, seconds + s
            if seconds >= self.spell_s:
                spells.append((tokens, seconds))
                tokens, seconds = 0.0, 0.0
        if seconds > 0:
            if spells:
                last_tokens, last_seconds = spells.pop()
                tokens, seconds = tokens + last_tokens, seconds + last_seconds
            spells.append((tokens, seconds))
        total = sum(s for _, s in spells)
        reached = 0.0
        for rate, s in sorted((n / s, s) for n, s in spells):
            reached += s
            if reached >= self.low_quantile * total:
                return rate
        return self.current


class TokenRatio:
    """Tokens per character of the requests tokenized lately (the lowest of the last
    ``keep``), so a request's tokens can be estimated before it is tokenized without
    overestimating them.

    >>> ratio = TokenRatio(keep=2)
    >>> ratio.estimate(400, per_text_cap=None) is None
    True
    >>> ratio.observe(tokens=100, chars=400); ratio.observe(tokens=90, chars=300)
    >>> ratio.estimate(800, per_text_cap=None)
    200
    """

    def __init__(self, *, keep: int = 32) -> None:
        self._ratios: deque[float] = deque(maxlen=keep)

    def observe(self, *, tokens: int, chars: int) -> None:
        if tokens > 0 and chars > 0:
            self._ratios.append(tokens / chars)

    def estimate(self, chars: int, *, per_text_cap: int | None, texts: int = 1) -> int | None:
        """Tokens of ``texts`` texts of ``chars`` characters in all (each text's at most
        ``per_text_cap``); None before any request was tokenized."""
        if not self._ratios:
            return None
        tokens = int(chars * min(self._ratios))
        return tokens if per_text_cap is None else min(tokens, per_text_cap * texts)
