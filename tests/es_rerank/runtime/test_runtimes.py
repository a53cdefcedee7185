"""Every runtime that installs here, on real models: scores against fp32 torch, batching,
concurrency through the engine, and the reranker on top."""

from __future__ import annotations

import importlib.util
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from es_rerank.rerankers import CrossEncoderReranker
from es_rerank.runtime import (
    DEFAULT_MAX_BATCH_TOKENS,
    ModelRuntime,
    load_runtime,
    plan_batches,
    score_pairs,
)
from es_rerank.runtime.agreement import Agreement
from es_rerank.runtime.calibration import calibration_pairs
from es_rerank.runtime.hardware import cpu_supports_bf16
from inference_shim.runner import Engine
from tests.helpers.tiny_models import WORDS

pytestmark = pytest.mark.slow


def _available(runtime: str, dtype: str) -> bool:
    mods = {
        "torch": ["torch"],
        "onnx": ["onnxruntime", "optimum"],
        "openvino": ["openvino", "nncf"],
    }
    if dtype == "bf16" and not cpu_supports_bf16():
        return False
    return all(importlib.util.find_spec(m) for m in mods[runtime])


COMBOS = [
    pytest.param(
        r, d, marks=pytest.mark.skipif(not _available(r, d), reason=f"{r} {d} cannot run here")
    )
    for r, d in [
        ("torch", "fp32"),
        ("torch", "bf16"),
        ("onnx", "fp32"),
        ("onnx", "int8"),
        ("openvino", "fp32"),
        ("openvino", "bf16"),
        ("openvino", "int8"),
    ]
]


def _texts(rng: random.Random, n: int) -> list[str]:
    return [" ".join(rng.choices(WORDS, k=rng.randint(1, 60))) for _ in range(n)]


@pytest.fixture(scope="module")
def reference(spread_model: Path) -> tuple[list[tuple[str, list[str]]], np.ndarray]:
    rng = random.Random(11)
    requests = [
        ("berlin population" if k % 2 else "paris museum", _texts(rng, 20)) for k in range(6)
    ]
    rt = load_runtime(spread_model, runtime="torch", dtype="fp32")
    scores = np.concatenate([score_pairs(rt, rt.tokenize(q, t)) for q, t in requests])
    return requests, scores


@pytest.mark.parametrize(("runtime", "dtype"), COMBOS)
def test_scores_agree_with_fp32_torch_on_the_tiny_model(
    runtime: str,
    dtype: str,
    spread_model: Path,
    runtime_cache: Path,
    reference: tuple[list[tuple[str, list[str]]], np.ndarray],
) -> None:
    requests, ref = reference
    rt = load_runtime(spread_model, runtime=runtime, dtype=dtype, cache_dir=runtime_cache)
    assert (rt.runtime, rt.dtype, rt.kind, rt.max_length) == (runtime, dtype, "cross-encoder", 128)
    rt.setup_thread()
    got = np.concatenate(
        [score_pairs(rt, rt.tokenize(q, t), max_batch_tokens=256) for q, t in requests]
    )
    assert float(ref.max() - ref.min()) > 0.1  # the scores really differ
    if dtype == "fp32":
        np.testing.assert_allclose(got, ref, atol=1e-4)
        sizes = [len(t) for _, t in requests]
        assert Agreement.of(ref, got, groups=sizes).spearman >= 0.9999
    else:  # reduced precision: close in value; the ranking is checked on the real model
        assert np.abs(got - ref).max() <= 0.05 * float(np.abs(ref).max())


@pytest.fixture(scope="module")
def distilled_reference(distilled_cross_encoder: Path) -> np.ndarray:
    rt = load_runtime(distilled_cross_encoder, runtime="torch", dtype="fp32")
    return score_pairs(rt, [p for q, ts in calibration_pairs() for p in rt.tokenize(q, ts)])


@pytest.mark.parametrize(("runtime", "dtype"), [c for c in COMBOS if c.values[1] != "fp32"])
def test_distilled_model_agrees_with_fp32(
    runtime: str,
    dtype: str,
    distilled_cross_encoder: Path,
    distilled_reference: np.ndarray,
    runtime_cache: Path,
) -> None:
    """On the real distilled cross-encoder and the shipped calibration set, every reduced
    precision stays close to fp32 in rank and value (``auto`` then applies its stricter
    bar: Spearman >= 0.99 and at most 2 places moved)."""
    groups = calibration_pairs()
    rt = load_runtime(
        distilled_cross_encoder, runtime=runtime, dtype=dtype, cache_dir=runtime_cache
    )
    got = score_pairs(rt, [p for q, ts in groups for p in rt.tokenize(q, ts)])
    agree = Agreement.of(distilled_reference, got, groups=[len(ts) for _, ts in groups])
    assert agree.spearman >= 0.98, agree
    assert agree.max_displacement <= 4, agree
    assert agree.max_abs_diff < 1.0, agree


@pytest.mark.parametrize(("runtime", "dtype"), COMBOS)
def test_concurrent_requests_through_the_engine_are_not_mixed(
    runtime: str, dtype: str, spread_model: Path, runtime_cache: Path
) -> None:
    """Many threads share batches of one engine; every request gets the scores it gets
    alone (within the runtime's own batch-shape noise)."""
    rt: ModelRuntime = load_runtime(
        spread_model, runtime=runtime, dtype=dtype, cache_dir=runtime_cache
    )
    rng = random.Random(3)
    requests = [
        (f"berlin {k}" if k % 3 else "paris river", _texts(rng, rng.randint(1, 30)))
        for k in range(24)
    ]
    engine = Engine(rt, max_batch_tokens=512)
    engine.start()
    try:
        alone = [engine.score(q, t) for q, t in requests]
        with ThreadPoolExecutor(max_workers=8) as pool:
            together = list(pool.map(lambda r: engine.score(r[0], r[1]), requests * 2))
        assert engine.tokens_per_s is not None and engine.tokens_per_s > 0
        assert engine.estimated_wait_s == 0.0  # nothing queued any more
    finally:
        engine.close()
    scale = max(float(np.abs(a).max()) for a in alone)
    tol = 1e-4 if dtype == "fp32" else 0.05
    for k, got in enumerate(together):
        np.testing.assert_allclose(got, alone[k % len(requests)], atol=tol * scale)


def test_reranker_on_onnx_matches_torch_and_reports_its_runtime(
    spread_model: Path, runtime_cache: Path
) -> None:
    if not _available("onnx", "fp32"):
        pytest.skip("onnx extra not installed")
    from es_rerank.runtime import onnx_runtime

    texts = _texts(random.Random(2), 40)
    torch_r = CrossEncoderReranker(spread_model, max_batch_tokens=300)
    rt = load_runtime(spread_model, runtime="onnx", cache_dir=runtime_cache)
    onnx_r = CrossEncoderReranker(rt, batch_size=4)
    assert isinstance(rt, onnx_runtime.OnnxRuntime)
    np.testing.assert_allclose(
        onnx_r.rerank("berlin people", texts), torch_r.rerank("berlin people", texts), atol=1e-3
    )
    assert onnx_r.info["runtime"] == "onnx" and onnx_r.info["dtype"] == "fp32"
    assert "runtime='onnx'" in repr(onnx_r)
    # No budget given: the one for the runtime's device (CPU here); a given one is kept.
    assert (onnx_r.max_batch_tokens, torch_r.max_batch_tokens) == (DEFAULT_MAX_BATCH_TOKENS, 300)


def test_plan_batches_caps_pairs_and_keeps_every_index() -> None:
    lengths = [random.Random(4).randint(1, 200) for _ in range(100)]
    batches = plan_batches(lengths, max_batch_tokens=1000, max_pairs=7)
    assert sorted(i for b in batches for i in b) == list(range(100))
    assert all(len(b) <= 7 for b in batches)
    assert all(len(b) == 1 or max(lengths[i] for i in b) * len(b) <= 1000 for b in batches)


@pytest.mark.skipif(not _available("openvino", "fp32"), reason="openvino extra not installed")
def test_openvino_runs_batches_side_by_side_and_survives_a_failed_one(
    spread_model: Path, runtime_cache: Path
) -> None:
    """OpenVINO runs one batch per stream; the scores are those of one batch at a time,
    a lone batch is split across the streams, and a batch that fails raises without
    breaking the next call."""
    from es_rerank.runtime import ParallelRuntime, parallel_batches, run_batches
    from es_rerank.runtime.base import Pair

    rt = load_runtime(spread_model, runtime="openvino", cache_dir=runtime_cache)
    assert isinstance(rt, ParallelRuntime) and parallel_batches(rt) == rt.parallel_batches >= 1
    rng = random.Random(5)
    batches = [rt.tokenize("berlin people", _texts(rng, n)) for n in (1, 7, 3)]
    one_at_a_time = [np.concatenate([rt.forward([p]) for p in b]) for b in batches]
    side_by_side = run_batches(rt, batches)
    assert [len(s) for s in side_by_side] == [1, 7, 3]
    for got, want in zip(side_by_side, one_at_a_time, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-4)
    np.testing.assert_allclose(rt.forward(batches[1]), one_at_a_time[1], atol=1e-4)
    broken = [Pair(length=3, ids=[1, 2, 3], type_ids=[0] * 5)]  # type ids do not fit
    with pytest.raises(ValueError):
        run_batches(rt, [batches[1], broken])
    np.testing.assert_allclose(run_batches(rt, batches)[1], one_at_a_time[1], atol=1e-4)


def test_widths_rounded_to_a_multiple_stay_within_the_maximum_and_score_alike(
    spread_model: Path, runtime_cache: Path
) -> None:
    """A tokenizer that rounds widths up to 8 pads batches to those widths, never past the
    maximum input length, keeps every token, and the scores are those of exact widths."""
    from es_rerank.runtime.base import pad_batch

    rt = load_runtime(spread_model, runtime="torch", max_length=30, cache_dir=runtime_cache)
    rng = random.Random(8)
    texts = [*_texts(rng, 40), " ".join(WORDS[:40])]  # the last one is truncated to 30
    exact = rt.tokenize("berlin people", texts)
    want = score_pairs(rt, exact, max_batch_tokens=64)
    rt.tokenizer.width_multiple = 8
    rounded = rt.tokenize("berlin people", texts)
    assert [p.ids for p in rounded] == [p.ids for p in exact]
    assert [p.length for p in rounded] == [min(-(-len(p.ids) // 8) * 8, 30) for p in exact]
    assert {p.length for p in rounded} - {8, 16, 24, 30} == set()
    assert max(p.length for p in rounded) == 30  # 32 would pass the maximum
    ids, mask, _ = pad_batch(rounded[:5], pad_id=0)
    assert ids.shape[1] == max(p.length for p in rounded[:5])
    assert mask.sum() == sum(len(p.ids) for p in rounded[:5])
    np.testing.assert_allclose(score_pairs(rt, rounded, max_batch_tokens=64), want, atol=1e-4)


@pytest.mark.skipif(not _available("openvino", "int8"), reason="openvino extra not installed")
def test_openvino_int8_rounds_widths_to_8(spread_model: Path, runtime_cache: Path) -> None:
    """OpenVINO int8 pads batches to widths of a multiple of 8 (shapes repeat, so the CPU
    plugin's per-shape kernels are reused); its other precisions pad to the widest pair."""
    int8 = load_runtime(spread_model, runtime="openvino", dtype="int8", cache_dir=runtime_cache)
    fp32 = load_runtime(spread_model, runtime="openvino", dtype="fp32", cache_dir=runtime_cache)
    texts = _texts(random.Random(9), 30)
    assert all(p.length % 8 == 0 for p in int8.tokenize("berlin people", texts))
    assert [p.length for p in fp32.tokenize("berlin people", texts)] == [
        len(p.ids) for p in int8.tokenize("berlin people", texts)
    ]


@pytest.mark.skipif(not _available("openvino", "int8"), reason="openvino extra not installed")
def test_openvino_int8_keeps_the_classification_head_in_fp32(
    spread_model: Path, runtime_cache: Path
) -> None:
    """int8 quantizes the encoder's matrix products but not the head's (pooler and
    classifier, on one vector per pair)."""
    import openvino as ov

    from es_rerank.runtime.openvino_runtime import _head

    rt = load_runtime(spread_model, runtime="openvino", dtype="int8", cache_dir=runtime_cache)
    model = ov.Core().read_model(rt.entry / "openvino_model.xml")  # type: ignore[attr-defined]
    head = _head(model)
    assert len(head) == 2 and "pooler" in head[0] and "classifier" in head[1]

    def quantized(op: object) -> bool:
        source = op.input(0).get_source_output().get_node()  # type: ignore[attr-defined]
        return bool(source.get_type_name() == "FakeQuantize")

    matmuls = [op for op in model.get_ordered_ops() if op.get_type_name() == "MatMul"]
    assert [quantized(op) for op in matmuls if op.get_friendly_name() in head] == [False] * 2
    assert sum(quantized(op) for op in matmuls if op.get_friendly_name() not in head) >= 4
