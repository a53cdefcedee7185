import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import es_rerank
from es_rerank import denormalize, min_score_to_raw, normalize

EPS = np.finfo(np.float64).eps

# Where the round trip is exact up to rounding: exp() must not underflow to a subnormal
# (below about -708 in float64).
raw_scores = st.floats(min_value=-700.0, max_value=1e300, allow_nan=False)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 4 * EPS * max(1.0, abs(b))


@given(raw_scores)
def test_round_trip_raw(s: float) -> None:
    assert _close(denormalize(normalize(s)), s)


@given(st.floats(min_value=1e-300, max_value=1e300))
def test_round_trip_normalized(n: float) -> None:
    assert _close(normalize(denormalize(n)), n)


@given(raw_scores)
def test_normalize_is_positive_and_splits_at_one(s: float) -> None:
    n = normalize(s)
    assert n > 0
    if s >= 0.0:
        assert n >= 1.0
    # exp(s) rounds to 1.0 for negatives closer to 0 than float64 epsilon
    elif s < -EPS:
        assert n < 1.0


@given(st.lists(raw_scores, max_size=20))
def test_monotone(scores: list[float]) -> None:
    ordered = sorted(scores)
    assert normalize(ordered) == sorted(normalize(ordered))


def test_known_values() -> None:
    assert normalize(-1.0) == pytest.approx(0.36787944117144233, rel=1e-15)
    assert normalize(0.0) == 1.0
    assert normalize(2.5) == 3.5
    assert denormalize(normalize(-1.0)) == pytest.approx(-1.0, abs=1e-15)


def test_documented_inverse_is_wrong_and_ours_is_not() -> None:
    n = normalize(-1.0)
    documented = n - 1 if n >= 0 else math.log(n)
    assert documented == pytest.approx(-0.632, abs=1e-3)
    assert denormalize(n) == pytest.approx(-1.0)


def test_kinds_are_preserved() -> None:
    assert isinstance(normalize(1.0), float)
    assert normalize((0.0, -1.0)) == [1.0, normalize(-1.0)]
    arr32 = np.array([0.0, -1.0], dtype=np.float32)
    out = normalize(arr32)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    back = denormalize(out)
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, arr32, atol=1e-6)


@pytest.mark.parametrize("bad", [0.0, -0.5, -math.inf, math.inf, math.nan])
def test_denormalize_rejects_values_normalize_never_yields(bad: float) -> None:
    with pytest.raises(ValueError, match=r"normalized score must be finite and > 0"):
        denormalize(bad)
    with pytest.raises(ValueError, match=r"> 0"):
        denormalize([1.0, bad])
    with pytest.raises(ValueError, match=r"> 0"):
        denormalize(np.array([1.0, bad]))


def test_normalize_rejects_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        normalize(np.array([math.nan]))
    with pytest.raises(ValueError, match="nan"):
        normalize(math.nan)


def test_float32_large_negative_raw_becomes_zero() -> None:
    # ES computes in float32: exp(s) underflows to 0 below about -103.97.
    out = normalize(np.array([-103.0, -104.0, -200.0], dtype=np.float32))
    assert out[0] > 0
    assert out[1] == 0.0 and out[2] == 0.0
    with pytest.raises(ValueError, match="> 0"):
        denormalize(out)


def test_float32_tiny_positive_raw_becomes_one() -> None:
    tiny = np.array([1e-9, 5e-8, 5.9e-8], dtype=np.float32)
    assert (normalize(tiny) == np.float32(1.0)).all()
    # float64 keeps them apart
    assert normalize(5e-8) > 1.0


def test_min_score_to_raw() -> None:
    assert min_score_to_raw(1.5) == 0.5
    assert min_score_to_raw(normalize(-2.0)) == pytest.approx(-2.0)
    with pytest.raises(ValueError, match="min_score"):
        min_score_to_raw(0.0)


def test_public_names() -> None:
    for name in ("normalize", "denormalize", "min_score_to_raw"):
        assert name in es_rerank.__all__
