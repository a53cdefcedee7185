"""The engine's throughput estimate follows a change of rate within about the same number
of seconds whatever the batch time (a fixed weight per batch lagged 10 batches: 40 s at the
4 s a batch took on contended cores), and its best recent rate is what Retry-After uses."""

from __future__ import annotations

import pytest

from inference_shim.throughput import Throughput, TokenRatio


def _seconds_to_follow(batch_s: float, *, before: float, after: float) -> float:
    """Seconds of batches, each ``batch_s`` long, until the estimate is within 10% of a
    new rate ``after`` (from a steady ``before``)."""
    rate = Throughput()
    now = 0.0
    for _ in range(200):
        now += batch_s
        rate.observe(round(before * batch_s), batch_s, now=now)
    took = 0.0
    while abs((rate.current or 0.0) - after) > 0.1 * after:
        now += batch_s
        took += batch_s
        rate.observe(round(after * batch_s), batch_s, now=now)
    return took


@pytest.mark.parametrize("batch_s", [0.1, 0.25, 1.0, 4.0])
def test_a_halved_rate_is_followed_in_seconds_not_batches(batch_s: float) -> None:
    took = _seconds_to_follow(batch_s, before=4000.0, after=2000.0)
    assert 5.0 <= took <= 15.0, took  # about 2.3 time constants of 5 s, to a batch's time


def test_a_recovered_rate_is_followed_as_fast() -> None:
    assert 5.0 <= _seconds_to_follow(0.25, before=500.0, after=4000.0) <= 15.0


def test_the_best_recent_rate_outlives_a_drop_for_the_window() -> None:
    rate = Throughput(window_s=60.0)
    for k in range(40):
        rate.observe(1000, 0.25, now=0.25 * k)  # 4000 tokens/s
    for k in range(40):
        rate.observe(100, 1.0, now=10.0 + k)  # 100 tokens/s for 40 s
    assert rate.current is not None and rate.current < 200
    best = rate.best(now=50.0)
    assert best is not None and best > 3500
    assert rate.best(now=200.0) == rate.current  # nothing recent: the current rate


def test_token_ratio_never_overestimates_recent_requests() -> None:
    ratio = TokenRatio(keep=3)
    for tokens, chars in [(100, 400), (150, 300), (90, 450)]:
        ratio.observe(tokens=tokens, chars=chars)
    assert ratio.estimate(1000, per_text_cap=None) == 200  # the lowest ratio, 0.2
    assert ratio.estimate(1000, per_text_cap=10, texts=5) == 50  # 5 texts of at most 10
