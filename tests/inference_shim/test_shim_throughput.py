"""The engine's throughput estimate follows a change of rate within about the same number
of seconds whatever the batch time (a fixed weight per batch lagged 10 batches: 40 s at the
4 s a batch took on contended cores); its conservative rate, what admission plans with,
falls with the first slow seconds and rises again only after its window."""

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


def test_token_ratio_never_overestimates_recent_requests() -> None:
    ratio = TokenRatio(keep=3)
    for tokens, chars in [(100, 400), (150, 300), (90, 450)]:
        ratio.observe(tokens=tokens, chars=chars)
    assert ratio.estimate(1000, per_text_cap=None) == 200  # the lowest ratio, 0.2
    assert ratio.estimate(1000, per_text_cap=10, texts=5) == 50  # 5 texts of at most 10


def _steady(
    rate: Throughput, tokens_per_s: float, batch_s: float, start: float, end: float
) -> float:
    now = start
    while now < end:
        now += batch_s
        rate.observe(round(tokens_per_s * batch_s), batch_s, now=now)
    return now


def test_the_conservative_rate_drops_with_the_first_slow_seconds() -> None:
    """Cores taken away: after about a tenth of the window of slow batches (3 s of 30), the
    conservative rate is the slow one, while the moving average is still far above it."""
    rate = Throughput(low_window_s=30.0, low_quantile=0.1)
    now = _steady(rate, 4000.0, 0.25, 0.0, 60.0)
    assert rate.low(now=now) == pytest.approx(4000.0, rel=0.01)
    now = _steady(rate, 500.0, 1.0, now, now + 4.0)  # 4 s at an eighth of the speed
    low, current = rate.low(now=now), rate.current
    assert low is not None and current is not None
    assert low == pytest.approx(500.0, rel=0.01)
    assert current > 1500.0  # the average has not followed yet


def test_the_conservative_rate_recovers_only_after_the_window() -> None:
    """Slow batches keep the conservative rate low for the window after the cores come
    back."""
    rate = Throughput(low_window_s=30.0, low_quantile=0.1)
    now = _steady(rate, 500.0, 1.0, 0.0, 20.0)
    recovered = _steady(rate, 4000.0, 0.25, now, now + 15.0)
    low = rate.low(now=recovered)
    assert low is not None and low == pytest.approx(500.0, rel=0.01)
    later = _steady(rate, 4000.0, 0.25, recovered, now + 40.0)
    low, current = rate.low(now=later), rate.current
    assert low is not None and current is not None
    assert low > 3500.0 and current > 3500.0


def test_freshness_is_a_batch_within_the_window() -> None:
    rate = Throughput(low_window_s=30.0)
    assert not rate.fresh(now=0.0) and rate.low(now=0.0) is None
    rate.observe(1000, 1.0, now=10.0)
    assert rate.fresh(now=39.0)
    assert not rate.fresh(now=41.0)
    assert rate.low(now=41.0) == rate.current  # nothing recent: the moving average


def test_small_batches_leave_the_conservative_rate_alone() -> None:
    """A small batch's fixed cost is not the cores' speed: batches marked not full move the
    moving average only, and alone they leave no fresh conservative rate."""
    rate = Throughput(low_window_s=30.0)
    _steady(rate, 4000.0, 0.25, 0.0, 10.0)
    for k in range(20):
        rate.observe(5, 0.05, now=10.0 + 0.05 * k, full=False)  # 100 tokens/s
    assert rate.low(now=11.0) == pytest.approx(4000.0, rel=0.01)
    assert rate.current is not None and rate.current < 4000.0
    late = Throughput(low_window_s=30.0)
    late.observe(5, 0.05, now=0.0, full=False)
    assert not late.fresh(now=0.1) and late.low(now=0.1) == late.current
