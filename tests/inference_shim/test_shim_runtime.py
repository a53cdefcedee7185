"""The shim serves any runtime: flags and their environment mirrors, /info, real HTTP."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import numpy as np
import pytest

from es_rerank.runtime import load_runtime, score_pairs
from inference_shim.config import settings_from_argv
from tests.helpers.shim import ShimProcess, run_shim
from tests.helpers.tiny_models import WORDS

pytestmark = pytest.mark.slow


@pytest.mark.skipif(
    importlib.util.find_spec("openvino") is None, reason="openvino extra not installed"
)
def test_shim_serves_openvino_int8_over_http(
    spread_cross_encoder: Path, runtime_cache: Path
) -> None:
    rng = random.Random(9)
    texts = [" ".join(rng.choices(WORDS, k=rng.randint(1, 50))) for _ in range(30)]
    shim = ShimProcess(
        ["--model", str(spread_cross_encoder), "--dtype", "int8", "--max-batch-tokens", "256"],
        env={"SHIM_RUNTIME": "openvino", "ES_RERANK_CACHE": str(runtime_cache)},
    )
    try:
        with shim.client() as c:
            info = c.get("/info").json()
            r = c.post(
                "/rerank", json={"query": "berlin people", "texts": texts, "raw_scores": True}
            )
    finally:
        assert shim.terminate() == 0
    assert (info["runtime"], info["dtype"], info["backend"]) == ("openvino", "int8", "openvino")
    assert r.status_code == 200, r.text
    got = {it["index"]: it["score"] for it in r.json()}
    rt = load_runtime(
        spread_cross_encoder, runtime="openvino", dtype="int8", cache_dir=runtime_cache
    )
    want = score_pairs(rt, rt.tokenize("berlin people", texts))
    ref = load_runtime(spread_cross_encoder, runtime="torch")
    fp32 = score_pairs(ref, ref.tokenize("berlin people", texts))
    scale = float(np.abs(fp32).max())
    np.testing.assert_allclose([got[i] for i in range(30)], want, atol=0.02 * scale)
    np.testing.assert_allclose([got[i] for i in range(30)], fp32, atol=0.05 * scale)


def test_runtime_flags_and_environment() -> None:
    s = settings_from_argv(["--model", "m"], environ={"SHIM_RUNTIME": "auto", "SHIM_DTYPE": "int8"})
    assert (s.runtime, s.dtype) == ("auto", "int8")
    s = settings_from_argv(["--model", "m", "--runtime", "onnx"], environ={"SHIM_RUNTIME": "auto"})
    assert (s.runtime, s.dtype) == ("onnx", None)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--runtime", "tensorrt"], "--runtime"),
        (["--dtype", "int4"], "--dtype"),
        (["--runtime", "torch", "--dtype", "int8"], "use runtime onnx or openvino"),
    ],
)
def test_bad_runtime_choices_exit_2_with_one_line(
    spread_cross_encoder: Path, args: list[str], needle: str
) -> None:
    r = run_shim(["--model", str(spread_cross_encoder), *args])
    assert r.returncode == 2
    assert needle in r.stderr
    assert "Traceback" not in r.stderr
