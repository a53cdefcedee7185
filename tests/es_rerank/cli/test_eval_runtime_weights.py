"""A non-torch runtime never loads torch weights: ``es-rerank eval --runtime onnx|openvino``
finds the model without loading it and the runtime loads its own export. Only the first run
of a model reads its torch weights, once, to export them into the cache.

A spy on ``PreTrainedModel.from_pretrained`` (what every transformers model, and so
sentence-transformers' ``CrossEncoder``, loads its weights through) and on the
sentence-transformers model classes records every load; ``--runtime torch`` is the control
that shows the spy sees one.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from es_rerank.cli import main
from es_rerank.models import packaged_bi_encoder_path
from es_rerank.runtime import RuntimeUnavailableError, load_runtime
from tests.helpers.tiny_beir import write_tiny_beir

RUNTIME_MODULES = {"onnx": "onnxruntime", "openvino": "openvino"}


@pytest.fixture
def weight_loads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every torch model whose weights are loaded, and every sentence-transformers model
    made, while the test runs."""
    import sentence_transformers
    import transformers

    loads: list[str] = []
    from_pretrained = transformers.PreTrainedModel.from_pretrained.__func__  # type: ignore[attr-defined]

    def spy_load(cls: type, *args: Any, **kwargs: Any) -> Any:
        loads.append(f"{cls.__name__}.from_pretrained")
        return from_pretrained(cls, *args, **kwargs)

    monkeypatch.setattr(transformers.PreTrainedModel, "from_pretrained", classmethod(spy_load))
    for name in ("CrossEncoder", "SentenceTransformer"):
        cls = getattr(sentence_transformers, name)
        init = cls.__init__

        def spy_init(
            self: Any, *args: Any, _init: Any = init, _name: str = name, **kw: Any
        ) -> None:
            loads.append(f"sentence_transformers.{_name}")
            _init(self, *args, **kw)

        monkeypatch.setattr(cls, "__init__", spy_init)
    yield loads


def _eval(ds: Path, out: Path, model: Path, runtime: str) -> dict[str, Any]:
    argv = ["eval", "--dataset", str(ds), "--out", str(out), "--model", str(model)]
    assert main([*argv, "--runtime", runtime, "--rank-window-size", "3", "--force"]) == 0
    result: dict[str, Any] = json.loads((out / "results.json").read_text())
    return result


@pytest.mark.parametrize("runtime", ["onnx", "openvino"])
def test_eval_on_a_non_torch_runtime_loads_no_torch_weights(
    runtime: str,
    tmp_path: Path,
    tiny_cross_encoder: Path,
    monkeypatch: pytest.MonkeyPatch,
    weight_loads: list[str],
) -> None:
    if importlib.util.find_spec(RUNTIME_MODULES[runtime]) is None:
        pytest.skip(f"the {runtime} extra is absent")
    monkeypatch.setenv("ES_RERANK_CACHE", str(tmp_path / "cache"))
    ds, out = write_tiny_beir(tmp_path / "ds"), tmp_path / "out"

    first = _eval(ds, out, tiny_cross_encoder, runtime)
    assert first["model"]["runtime"] == runtime
    # the first run exports: the exporter reads the weights once; no sentence-transformers model
    assert weight_loads == ["BertForSequenceClassification.from_pretrained"]

    weight_loads.clear()
    again = _eval(ds, out, tiny_cross_encoder, runtime)
    assert again["model"]["runtime"] == runtime
    assert weight_loads == []  # the export comes from the cache: no torch weights at all
    assert again["metrics"] == first["metrics"]

    _eval(ds, out, tiny_cross_encoder, "torch")  # the control: the spy sees a torch load
    assert weight_loads == ["BertForSequenceClassification.from_pretrained"]


@pytest.mark.parametrize("runtime", ["onnx", "openvino"])
def test_a_bi_encoder_is_refused_on_a_non_torch_runtime_before_it_loads(
    runtime: str, weight_loads: list[str]
) -> None:
    with pytest.raises(RuntimeUnavailableError, match="only runtime torch"):
        load_runtime(packaged_bi_encoder_path(), runtime=runtime)
    assert weight_loads == []
