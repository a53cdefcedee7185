"""What the engine knows of its own speed: the throughput it measures batch by batch and
the size of requests it has tokenized, for admission control before a request is parsed
or tokenized.

The current rate is a moving average weighted by time: a batch counts as much as the
seconds it took, so the average follows a change of rate within about the same number of
seconds (``time_constant_s``) whether batches take 0.1 s or 5 s (a fixed weight per batch
lagged 10 batches: about 40 s at the 4 s a batch took on contended cores). The best recent
rate is the highest that average reached in the last ``window_s`` seconds. Admission
estimates waits at the current rate; ``Retry-After`` uses the best recent rate, so a client
told to come back is never told to wait longer than the queue takes to drain when the cores
are free again.

>>> rate = Throughput(time_constant_s=5, window_s=60)
>>> rate.observe(1000, 1.0, now=0.0)
>>> rate.observe(1000, 4.0, now=4.0)  # 4 s of 250 tokens/s: more than half the way there
>>> round(rate.current), rate.best(now=5.0)
(587, 1000.0)
>>> round(rate.best(now=100.0))  # older than the window: the current rate only
587
"""

from __future__ import annotations

import math
from collections import deque

__all__ = ["Throughput", "TokenRatio"]

# Seconds of batches after which the moving average has moved 63% of the way to a new rate.
TIME_CONSTANT_S = 5.0
# How far back "recent" reaches for the best rate.
WINDOW_S = 60.0


class Throughput:
    """Tokens per second of the engine's batches: the moving average and its recent best."""

    def __init__(
        self, *, time_constant_s: float = TIME_CONSTANT_S, window_s: float = WINDOW_S
    ) -> None:
        self.time_constant_s = time_constant_s
        self.window_s = window_s
        self.current: float | None = None
        self._history: deque[tuple[float, float]] = deque()  # (when, average), oldest first

    def observe(self, tokens: int, seconds: float, *, now: float) -> None:
        """One batch of ``tokens`` took ``seconds`` of wall time."""
        if seconds <= 0 or tokens <= 0:
            return
        rate = tokens / seconds
        old = self.current
        weight = 1.0 - math.exp(-seconds / self.time_constant_s)
        self.current = rate if old is None else old + weight * (rate - old)
        self._history.append((now, self.current))
        while self._history and self._history[0][0] < now - self.window_s:
            self._history.popleft()

    def best(self, *, now: float) -> float | None:
        """The highest moving average of the last ``window_s`` seconds (at least the
        current one); None before the first batch."""
        recent = [r for t, r in self._history if t >= now - self.window_s]
        if self.current is None:
            return None
        return max([self.current, *recent])


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
