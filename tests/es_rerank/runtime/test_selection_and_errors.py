"""Export cache reuse, ``auto`` selection, and the errors for what cannot run."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from es_rerank.extras import MissingExtraError
from es_rerank.models import ModelLoadError, packaged_bi_encoder_path
from es_rerank.runtime import RuntimeUnavailableError, hardware, load_runtime, score_pairs
from es_rerank.runtime.auto import MAX_DISPLACEMENT, MIN_SPEARMAN

needs_onnx = pytest.mark.skipif(
    importlib.util.find_spec("onnxruntime") is None, reason="onnx extra not installed"
)
needs_openvino = pytest.mark.skipif(
    importlib.util.find_spec("openvino") is None, reason="openvino extra not installed"
)


@pytest.mark.slow
@needs_onnx
def test_second_load_reuses_the_cached_export(
    spread_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_runtime(spread_model, runtime="onnx", dtype="int8", cache_dir=tmp_path)
    entries = sorted(p.name for p in tmp_path.iterdir())
    assert [e.split("-")[:2] for e in entries] == [["onnx", "fp32"], ["onnx", "int8"]]
    meta = json.loads((tmp_path / entries[1] / "entry.json").read_text())
    assert meta["dtype"] == "int8" and meta["onnxruntime"]

    import optimum.exporters.onnx
    import optimum.onnxruntime

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("exported again although the cache holds the model")

    monkeypatch.setattr(optimum.exporters.onnx, "main_export", refuse)
    monkeypatch.setattr(optimum.onnxruntime.ORTQuantizer, "from_pretrained", refuse)
    again = load_runtime(spread_model, runtime="onnx", dtype="int8", cache_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == entries
    pairs = first.tokenize("berlin", ["berlin city", "the cat"])
    np.testing.assert_array_equal(score_pairs(first, pairs), score_pairs(again, pairs))


@pytest.mark.slow
@needs_onnx
def test_changed_weights_get_a_new_export(spread_model: Path, tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(spread_model, copy)
    cache = tmp_path / "cache"
    load_runtime(copy, runtime="onnx", cache_dir=cache)
    import torch
    from transformers import BertForSequenceClassification

    model = BertForSequenceClassification.from_pretrained(copy)
    with torch.no_grad():
        model.classifier.bias.add_(1.0)
    model.save_pretrained(copy)
    rt = load_runtime(copy, runtime="onnx", cache_dir=cache)
    assert len(list(cache.iterdir())) == 2
    ref = load_runtime(copy, runtime="torch")
    pairs = rt.tokenize("berlin", ["berlin city"])
    np.testing.assert_allclose(score_pairs(rt, pairs), score_pairs(ref, pairs), atol=1e-3)


@pytest.mark.slow
def test_auto_picks_the_fastest_agreeing_runtime_and_caches_the_choice(
    spread_model: Path, runtime_cache: Path
) -> None:
    rt = load_runtime(spread_model, runtime="auto", cache_dir=runtime_cache)
    sel = rt.selection  # type: ignore[attr-defined]
    assert not sel.cached
    tried = {(c.runtime, c.dtype): c for c in sel.candidates}
    assert ("torch", "fp32") in tried and tried[("torch", "fp32")].accepted
    for c in sel.candidates:
        if c.error is None:
            assert c.accepted == (
                c.spearman >= MIN_SPEARMAN and c.max_displacement <= MAX_DISPLACEMENT
            )
    accepted = [c for c in sel.candidates if c.accepted]
    fastest = max(accepted, key=lambda c: c.pairs_per_s)
    assert (rt.runtime, rt.dtype) == (sel.runtime, sel.dtype) == (fastest.runtime, fastest.dtype)
    if importlib.util.find_spec("onnxruntime"):
        assert ("onnx", "int8") in tried

    again = load_runtime(spread_model, runtime="auto", cache_dir=runtime_cache)
    assert again.selection.cached  # type: ignore[attr-defined]
    assert (again.runtime, again.dtype) == (rt.runtime, rt.dtype)


@pytest.mark.slow
def test_auto_with_a_dtype_only_considers_that_dtype(
    spread_model: Path, runtime_cache: Path
) -> None:
    rt = load_runtime(spread_model, runtime="auto", dtype="fp32", cache_dir=runtime_cache)
    assert {c.dtype for c in rt.selection.candidates} == {"fp32"}  # type: ignore[attr-defined]
    assert rt.dtype == "fp32"


def test_missing_extra_names_the_extra_and_the_pip_line(
    spread_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "openvino" else real(name, *a)
    )
    with pytest.raises(MissingExtraError) as err:
        load_runtime(spread_model, runtime="openvino")
    assert err.value.extra == "openvino"
    assert "pip install" in str(err.value) and "[openvino]" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"runtime": "tensorrt"}, "runtime must be one of torch, onnx, openvino, auto"),
        ({"dtype": "int4"}, "dtype must be one of"),
        ({"runtime": "torch", "dtype": "int8"}, "use runtime onnx or openvino"),
        ({"runtime": "torch", "dtype": "fp16"}, "fp16 needs a CUDA device"),
        ({"runtime": "torch", "device": "cuda"}, "no CUDA device"),
        ({"runtime": "torch", "device": "tpu"}, "device must be cpu, cuda"),
        ({"runtime": "onnx", "device": "cuda"}, "use runtime torch"),
        ({"runtime": "onnx", "dtype": "bf16"}, "runtime onnx runs fp32 or int8"),
        ({"runtime": "openvino", "dtype": "fp16"}, "runtime openvino runs fp32, bf16 or int8"),
    ],
)
def test_unsupported_combinations_say_what_to_use(
    spread_model: Path, kwargs: dict[str, str], needle: str
) -> None:
    import torch

    if kwargs.get("device") == "cuda" and torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(RuntimeUnavailableError, match=needle):
        load_runtime(spread_model, **kwargs)


def test_bf16_on_a_cpu_without_it_is_refused(
    spread_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset({"avx2"}))
    for runtime in ("torch", "openvino"):
        with pytest.raises(RuntimeUnavailableError, match="no bf16 instructions"):
            load_runtime(spread_model, runtime=runtime, dtype="bf16")


def test_bi_encoder_runs_on_torch_only() -> None:
    path = packaged_bi_encoder_path()
    with pytest.raises(RuntimeUnavailableError, match="bi-encoder: only runtime torch"):
        load_runtime(path, runtime="onnx")
    with pytest.raises(RuntimeUnavailableError, match="bi-encoder"):
        load_runtime(path, dtype="int8")


@needs_onnx
def test_a_model_with_two_outputs_is_not_a_reranker(tmp_path: Path) -> None:
    from transformers import BertConfig, BertForSequenceClassification

    from tests.helpers.tiny_models import build_tiny_cross_encoder

    path = build_tiny_cross_encoder(tmp_path / "two")
    config = BertConfig.from_pretrained(path)
    config.num_labels = 2
    BertForSequenceClassification(config).save_pretrained(path)
    for runtime in ("torch", "onnx"):
        with pytest.raises(RuntimeUnavailableError, match="needs one output"):
            load_runtime(path, runtime=runtime)


def test_missing_model_directory_is_a_model_load_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="--model PATH"):
        load_runtime(tmp_path / "nope" / "model", runtime="onnx")


@pytest.mark.slow
@needs_openvino
def test_openvino_int8_is_calibrated_and_cached(spread_model: Path, runtime_cache: Path) -> None:
    rt = load_runtime(spread_model, runtime="openvino", dtype="int8", cache_dir=runtime_cache)
    entry = rt.entry  # type: ignore[attr-defined]
    xml = (entry / "openvino_model.xml").read_text()
    assert "FakeQuantize" in xml or "i8" in xml  # quantized, not the fp32 graph
    assert json.loads((entry / "entry.json").read_text())["nncf"]


def test_auto_on_cuda_weighs_fp16_and_bf16_against_fp32_torch() -> None:
    from es_rerank.runtime.auto import candidates

    assert candidates("cuda") == [("torch", "fp32"), ("torch", "fp16"), ("torch", "bf16")]
    assert candidates("cuda:1", "fp16") == [("torch", "fp32"), ("torch", "fp16")]
    cpu = candidates("cpu")
    assert cpu[0] == ("torch", "fp32") and ("torch", "fp16") not in cpu


def test_fp16_is_accepted_for_cuda_and_refused_for_a_cpu_model(spread_model: Path) -> None:
    """Without a GPU the CUDA fp16 path is checked up to the device: fp16 and bf16 pass the
    check for CUDA devices, and a model that sits on the CPU is refused fp16."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from es_rerank.runtime.torch_runtime import TorchRuntime, check_torch_dtype

    check_torch_dtype("fp16", "cuda")
    check_torch_dtype("bf16", "cuda:0")
    model = AutoModelForSequenceClassification.from_pretrained(spread_model)
    tokenizer = AutoTokenizer.from_pretrained(spread_model)
    with pytest.raises(RuntimeUnavailableError, match="fp16 needs a CUDA device"):
        TorchRuntime(model, tokenizer, name="m", dtype="fp16")


@pytest.mark.slow
def test_auto_shows_its_measurement_records_it_and_remeasures_on_request(
    spread_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from es_rerank import console

    stream = io.StringIO()
    console.configure(console.NORMAL, stream=stream)
    try:
        cache = tmp_path / "cache"
        monkeypatch.delenv("ES_RERANK_REMEASURE", raising=False)
        first = load_runtime(spread_model, runtime="auto", dtype="fp32", cache_dir=cache)
        said = stream.getvalue()
        # announced before it runs, then the table with the chosen candidate marked
        assert said.index("runtime auto: measuring") < said.index("pairs/s")
        chosen = f"* {first.runtime:<8} {first.dtype:<5}"
        assert chosen in said
        recorded = [line for line in said.splitlines() if line.startswith("recorded in ")]
        assert recorded and Path(recorded[0].split()[2].rstrip(";")).is_file()
        assert "--remeasure" in recorded[0]

        stream.seek(0), stream.truncate()
        load_runtime(spread_model, runtime="auto", dtype="fp32", cache_dir=cache)
        assert "as measured earlier" in stream.getvalue() and "pairs/s" not in stream.getvalue()

        stream.seek(0), stream.truncate()
        monkeypatch.setenv("ES_RERANK_REMEASURE", "1")
        again = load_runtime(spread_model, runtime="auto", dtype="fp32", cache_dir=cache)
        assert not again.selection.cached  # type: ignore[attr-defined]
        assert "runtime auto: measuring" in stream.getvalue()
    finally:
        console.configure(console.QUIET)


def test_remeasure_flag_asks_auto_to_measure_again(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from es_rerank.runtime.auto import remeasure_requested
    from es_rerank.runtime.cli import add_runtime_arguments

    monkeypatch.delenv("ES_RERANK_REMEASURE", raising=False)
    parser = argparse.ArgumentParser()
    add_runtime_arguments(parser, environ={})
    parser.parse_args(["--runtime", "auto"])
    assert not remeasure_requested()
    parser.parse_args(["--runtime", "auto", "--remeasure"])
    assert remeasure_requested()
