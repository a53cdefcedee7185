"""ONNX Runtime: fp32, and int8 with dynamic quantization (u8/s8 matrix products that use
AVX-512 VNNI where the CPU has it).

The model is exported with optimum's ONNX exporter and quantized with optimum's
``ORTQuantizer`` (onnxruntime.quantization underneath); both results are cached
(:mod:`es_rerank.runtime.cache`), so only the first start pays for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from es_rerank.extras import require_extra
from es_rerank.runtime.base import Pair, RuntimeUnavailableError, Scores
from es_rerank.runtime.cache import library_versions, model_entry
from es_rerank.runtime.deberta_attention import export_recipe, exporting
from es_rerank.runtime.hardware import cpu_supports_vnni, default_threads
from es_rerank.runtime.tokenizing import PairTokenizer, TokenizedRuntime, exportable

__all__ = ["ONNX_LIBRARIES", "OnnxRuntime", "export_onnx"]

ONNX_LIBRARIES = ("optimum", "optimum-onnx", "onnx", "onnxruntime", "torch", "transformers")
_FILE = {"fp32": "model.onnx", "int8": "model_quantized.onnx"}


def _require() -> None:
    require_extra("onnx", "onnxruntime", "optimum", feature="runtime onnx")


def _score_head(model_file: Path) -> list[str]:
    """A decoder classifier's head (``score``) matrix products, which int8 keeps in fp32:
    on the tiny random LLM reranker, quantizing it took Pearson with fp32 from 0.991 to
    0.971."""
    import onnx

    graph = onnx.load(str(model_file), load_external_data=False).graph
    return [
        n.name
        for n in graph.node
        if n.op_type in ("MatMul", "Gemm") and n.name.startswith("/score/")
    ]


def export_onnx(
    path: Path, dtype: str, *, digest: str, cache: Path | None = None, llm: bool = False
) -> Path:
    """The cached ONNX export of ``path`` for ``dtype`` (built on first use); ``llm``: a
    decoder classifier, whose head int8 leaves in fp32."""
    _require()
    versions = {**library_versions(ONNX_LIBRARIES), **export_recipe(path)}

    def build_fp32(out: Path) -> None:
        from optimum.exporters.onnx import main_export

        with exporting(path):
            main_export(
                str(path),
                output=out,
                task="text-classification",
                device="cpu",
                library_name="transformers",  # a sentence-transformers CrossEncoder dir too
            )

    fp32 = model_entry(
        path,
        digest=digest,
        runtime="onnx",
        dtype="fp32",
        versions=versions,
        build=build_fp32,
        cache=cache,
    )
    if dtype == "fp32":
        return fp32

    def build_int8(out: Path) -> None:
        from optimum.onnxruntime import ORTQuantizer
        from optimum.onnxruntime.configuration import AutoQuantizationConfig

        isa = (
            AutoQuantizationConfig.avx512_vnni
            if cpu_supports_vnni()
            else AutoQuantizationConfig.avx2
        )
        # per-channel weight scales: per-tensor ones cost real rankings too much accuracy
        head = _score_head(fp32 / _FILE["fp32"]) if llm else []
        config = isa(is_static=False, per_channel=True, nodes_to_exclude=head)
        ORTQuantizer.from_pretrained(fp32, file_name=_FILE["fp32"]).quantize(
            save_dir=out, quantization_config=config
        )

    int8 = model_entry(
        path,
        digest=digest,
        runtime="onnx",
        dtype="int8",
        versions={
            **versions,
            "vnni": str(cpu_supports_vnni()),
            "per_channel": "True",
            **({"head": "fp32"} if llm else {}),
        },
        build=build_int8,
        cache=cache,
    )
    return int8


class OnnxRuntime(TokenizedRuntime):
    """A cross-encoder exported to ONNX, run by onnxruntime's CPU execution provider."""

    runtime = "onnx"
    kind = "cross-encoder"
    device = "cpu"

    def __init__(
        self,
        path: Path,
        *,
        name: str,
        digest: str,
        dtype: str = "fp32",
        max_length: int | None = None,
        threads: int | None = None,
        cache: Path | None = None,
        instruction: str | None = None,
    ) -> None:
        if dtype not in _FILE:
            raise RuntimeUnavailableError(
                f"dtype {dtype}: runtime onnx runs fp32 or int8 (bf16: runtime openvino or torch)"
            )
        _require()
        import onnxruntime as ort

        self.name = name
        self.dtype = dtype
        self.tokenizer = PairTokenizer.from_dir(
            path, name=name, max_length=max_length, instruction=instruction
        )
        self.max_length: int | None = self.tokenizer.max_length
        path, digest = exportable(path, self.tokenizer, digest=digest, cache=cache)
        family = self.tokenizer.family
        llm = family is not None and family.is_llm
        self.entry = export_onnx(path, dtype, digest=digest, cache=cache, llm=llm)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session: Any = ort.InferenceSession(
            str(self.entry / _FILE[dtype]), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}

    def forward(self, pairs: Sequence[Pair]) -> Scores:
        (logits,) = self._session.run(["logits"], self.feed(pairs, self._inputs))
        return np.asarray(logits, dtype=np.float32)[:, 0].copy()
