"""What the engine knows of its own speed: the throughput it measures batch by batch and
the size of requests it has tokenized, for admission control before a request is parsed
or tokenized.

The current rate is a moving average over batches; the best recent rate is the highest
that average reached in the last ``window_s`` seconds. Admission estimates waits at the
current rate; ``Retry-After`` uses the best recent rate, so a client told to come back is
never told to wait longer than the queue takes to drain when the cores are free again.

>>> rate = Throughput(window_s=60)
>>> rate.observe(1000, 1.0, now=0.0)
>>> rate.observe(1000, 4.0, now=1.0)
>>> rate.current, rate.best(now=2.0)
(850.0, 1000.0)
>>> rate.best(now=100.0)  # older than the window: the current rate only
850.0
"""

from __future__ import annotations

from collections import deque

__all__ = ["Throughput", "TokenRatio"]

# Weight of the newest batch in the moving average of throughput.
SMOOTHING = 0.2
# How far back "recent" reaches for the best rate.
WINDOW_S = 60.0


class Throughput:
    """Tokens per second of the engine's batches: the moving average and its recent best."""

    def __init__(self, *, smoothing: float = SMOOTHING, window_s: float = WINDOW_S) -> None:
        self.smoothing = smoothing
        self.window_s = window_s
        self.current: float | None = None
        self._history: deque[tuple[float, float]] = deque()  # (when, average), oldest first

    def observe(self, tokens: int, seconds: float, *, now: float) -> None:
        """One batch of ``tokens`` took ``seconds`` of wall time."""
        if seconds <= 0 or tokens <= 0:
            return
        rate = tokens / seconds
        old = self.current
        self.current = rate if old is None else old + self.smoothing * (rate - old)
        self._history.append((now, self.current))
        while self._history and self._history[0][0] < now - self.window_s:
            self._history.popleft()

    def fresh(self, *, now: float) -> bool:
        """A batch was measured in the last ``window_s`` seconds."""
        return bool(self._history) and self._history[-1][0] >= now - self.window_s

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
