"""Which runtime runs which family: ``auto`` on an LLM reranker chooses among the runtimes
that run it and scores as fp32 does; a runtime whose exporter cannot take a family fails in
one line naming the runtimes that can."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from es_rerank.runtime import RuntimeUnavailableError, load_runtime, score_pairs
from es_rerank.runtime.auto import MIN_SPEARMAN
from es_rerank.runtime.hardware import cpu_has_amx, cpu_supports_bf16, default_threads
from es_rerank.runtime.support import runtimes_for
from tests.helpers.tiny_families import (
    ENCODER_FAMILIES,
    LLM_FAMILIES,
    build_family,
    build_tiny_causal_reranker,
)
from tests.helpers.tiny_models import WORDS

# every test exports or measures a model on ONNX / OpenVINO
pytestmark = pytest.mark.slow

QUERY = "how many people live in berlin"
TEXTS = [" ".join(WORDS[i : i + n]) for i, n in ((0, 3), (5, 12), (9, 30), (2, 7), (20, 60))]
EXPORTERS = pytest.mark.skipif(
    not (importlib.util.find_spec("optimum") and importlib.util.find_spec("openvino")),
    reason="the onnx and openvino extras are not installed",
)


def _scores(path: Path, **kwargs: object) -> tuple[np.ndarray, object]:
    rt = load_runtime(path, **kwargs)  # type: ignore[arg-type]
    rt.setup_thread()
    return score_pairs(rt, rt.tokenize(QUERY, TEXTS)), rt


@EXPORTERS
@pytest.mark.parametrize("model_type", ["qwen3", "gemma3_text"])
def test_auto_on_an_llm_reranker_picks_a_runtime_that_runs_it(
    model_type: str, tmp_path: Path, runtime_cache: Path
) -> None:
    # qwen3: every runtime runs it; gemma3_text: ONNX's exporter cannot, so auto must
    # record that and choose among the others.
    path = build_tiny_causal_reranker(tmp_path / model_type, model_type)
    want, _ = _scores(path)
    got, rt = _scores(path, runtime="auto", cache_dir=runtime_cache)
    sel = rt.selection  # type: ignore[attr-defined]
    assert rt.tokenizer.family.name == "llm-reranker"  # type: ignore[attr-defined]
    chosen = next(c for c in sel.candidates if (c.runtime, c.dtype) == (sel.runtime, sel.dtype))
    assert chosen.accepted and chosen.error is None
    assert sel.runtime in runtimes_for(model_type)
    failed = {(c.runtime, c.dtype): c.error for c in sel.candidates if c.error is not None}
    # (OpenVINO bf16 on one thread: see test_openvino_bf16_refuses_llm_rerankers_on_one_thread)
    one_thread = cpu_supports_bf16() and default_threads() < 2
    refused = {("openvino", "bf16")} if one_thread else set()
    if model_type == "gemma3_text":
        refused |= {("onnx", "fp32"), ("onnx", "int8")}
        assert all("use runtime openvino or torch" in failed[r] for r in refused if r[0] == "onnx")
    assert set(failed) == refused
    # The choice agrees with fp32 on auto's calibration set; on these 5 near-tied texts of
    # a random model, bf16 or int8 may swap ranks (auto picks among equal speeds by noise).
    assert chosen.spearman is not None and chosen.spearman >= MIN_SPEARMAN
    direct, _ = _scores(path, runtime=sel.runtime, dtype=sel.dtype, cache_dir=runtime_cache)
    np.testing.assert_allclose(got, direct, rtol=1e-5, atol=1e-5)  # auto serves its choice
    if sel.dtype == "fp32":
        rho = np.corrcoef(np.argsort(np.argsort(got)), np.argsort(np.argsort(want)))[0, 1]
        assert rho >= MIN_SPEARMAN
    # (gemma3_text's OpenVINO export moves its fp32 scores by a few per cent)
    if sel.dtype == "fp32" and model_type == "qwen3":
        np.testing.assert_allclose(got, want, atol=1e-4 * max(1.0, float(np.abs(want).max())))


def test_a_family_onnx_cannot_export_fails_naming_openvino_and_torch(tmp_path: Path) -> None:
    path = build_tiny_causal_reranker(tmp_path / "gemma3", "gemma3_text")
    cache = tmp_path / "cache"
    with pytest.raises(RuntimeUnavailableError) as info:
        load_runtime(path, runtime="onnx", dtype="int8", cache_dir=cache)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("runtime onnx cannot run ")
    assert "Gemma3ForCausalLM, model type gemma3_text" in message
    assert message.endswith("use runtime openvino or torch")
    assert not cache.exists()  # refused before converting or exporting anything


@pytest.mark.skipif(not cpu_supports_bf16(), reason="this CPU has no bf16: refused for that")
@pytest.mark.parametrize("family", LLM_FAMILIES)
def test_openvino_bf16_refuses_llm_rerankers_on_one_thread(family: str, tmp_path: Path) -> None:
    # (compiling one on one thread crashed the process with SIGFPE: auto, measuring it, died)
    path = build_family(tmp_path / family, family)
    with pytest.raises(RuntimeUnavailableError) as info:
        load_runtime(
            path, runtime="openvino", dtype="bf16", threads=1, cache_dir=tmp_path / "cache"
        )
    message = str(info.value)
    assert "\n" not in message and message.startswith("runtime openvino (bf16) cannot run ")
    assert "on 1 thread" in message and "give it 2 or more threads" in message
    assert message.endswith(
        "use runtime openvino with dtype int8 or fp32, or runtime torch with dtype bf16"
    )
    # int8 on one thread runs its activations in f32 instead
    rt = load_runtime(path, runtime="openvino", dtype="int8", threads=1, cache_dir=tmp_path / "c")
    assert rt.precision == "f32"  # type: ignore[attr-defined]


# Run in a process of its own on every CPU (a test worker may be pinned to one): a wrong
# setting here kills the process with SIGFPE or scores garbage (2,271 off at full size).
_ON_TWO_CPUS = """
import json, os, sys
from pathlib import Path
os.sched_setaffinity(0, range(os.cpu_count() or 1))
if len(os.sched_getaffinity(0)) < 2:
    print(json.dumps(None)); sys.exit()
from es_rerank.runtime import load_runtime, score_pairs
out = {}
for name in ("torch fp32", "torch bf16", "openvino int8", "openvino bf16"):
    runtime, dtype = name.split()
    rt = load_runtime(Path(sys.argv[1]), runtime=runtime, dtype=dtype, threads=2,
                      cache_dir=sys.argv[2])
    rt.setup_thread()
    scores = score_pairs(rt, rt.tokenize(sys.argv[3], json.loads(sys.argv[4])))
    compiled = getattr(rt, "_compiled", None)  # what the CPU plugin compiled, not what we asked
    hint = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name() if compiled else ""
    out[name] = {"scores": [float(x) for x in scores], "precision": hint}
print(json.dumps(out))
"""


@EXPORTERS
@pytest.mark.skipif(not cpu_supports_bf16(), reason="this CPU has no bf16: f32 is used there")
@pytest.mark.parametrize("family", LLM_FAMILIES)
def test_openvino_runs_llm_rerankers_in_bf16_on_two_threads(family: str, tmp_path: Path) -> None:
    path = build_family(tmp_path / family, family)
    args = [str(path), str(tmp_path / "cache"), QUERY, json.dumps(TEXTS)]
    done = subprocess.run(
        [sys.executable, "-c", _ON_TWO_CPUS, *args], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    if out is None:
        pytest.skip("this machine lets a process use one CPU: bf16 needs two threads")
    want = np.array(out["torch fp32"]["scores"])
    spread = float(want.max() - want.min())
    for name in ("torch bf16", "openvino int8", "openvino bf16"):
        # bf16 on a tiny random model (hidden 32): 0.01-0.08 off, scores spread over 0.4-0.6
        # (the OpenVINO plugin runs more ops in bf16 than torch does); broken settings were
        # thousands of spreads off
        off = np.abs(np.array(out[name]["scores"]) - want).max()
        assert off <= 0.25 * spread, (name, off, spread)
    # int8 weights with bf16 activations where that was measured (AMX), else f32
    assert out["openvino int8"]["precision"] == ("bf16" if cpu_has_amx() else "f32")
    assert out["openvino bf16"]["precision"] == "bf16"


def test_a_family_no_exporter_takes_fails_naming_torch_which_runs_it(
    tmp_path: Path, runtime_cache: Path
) -> None:
    path = build_tiny_causal_reranker(tmp_path / "starcoder2", "starcoder2")
    for runtime in ("onnx", "openvino"):
        with pytest.raises(RuntimeUnavailableError) as info:
            load_runtime(path, runtime=runtime, cache_dir=runtime_cache)
        assert str(info.value).startswith(f"runtime {runtime} cannot run ")
        assert str(info.value).endswith("no text-classification export for it; use runtime torch")
    scores, rt = _scores(path)  # the runtime named runs it
    assert rt.tokenizer.family.name == "llm-reranker"  # type: ignore[attr-defined]
    assert scores.shape == (len(TEXTS),) and np.isfinite(scores).all()
    assert len(set(scores.round(6).tolist())) > 1


@pytest.mark.parametrize("family", [*ENCODER_FAMILIES, *LLM_FAMILIES])
def test_the_exporters_take_every_family_the_suite_serves(family: str, tmp_path: Path) -> None:
    # the check refuses no family that runs on every runtime (test_families.py)
    path = build_family(tmp_path / family, family)
    model_type = json.loads((path / "config.json").read_text())["model_type"]
    assert runtimes_for(model_type) == ("torch", "onnx", "openvino")
