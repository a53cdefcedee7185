"""OpenVINO runtime: fp32, bf16 (the CPU plugin's bf16 inference precision, on CPUs with
bf16 instructions) and int8 (post-training static quantization with NNCF, calibrated on the
calibration set shipped with this package; for LLM rerankers, int8 weights), with what
int8 leaves unquantized in bf16 on CPUs with AMX.

The model is exported to OpenVINO IR with optimum-intel's exporter and quantized with
``nncf.quantize``; both are cached (:mod:`es_rerank.runtime.cache`).
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
from es_rerank.runtime.hardware import cpu_has_amx, cpu_supports_bf16, default_threads
from es_rerank.runtime.tokenizing import PairTokenizer, TokenizedRuntime, exportable, model_feed

__all__ = ["OPENVINO_LIBRARIES", "OpenVINORuntime", "export_openvino", "spread"]

OPENVINO_LIBRARIES = ("optimum", "optimum-intel", "openvino", "nncf", "torch", "transformers")
_XML = "openvino_model.xml"
# Pairs per calibration batch and the token budget of one; small enough to be quick.
_CALIBRATION_BUDGET = 2048


def _require() -> None:
    require_extra("openvino", "openvino", "nncf", "optimum", feature="runtime openvino")


# Part of the int8 cache key: a change of how int8 is made rebuilds cached models.
_INT8_RECIPE = "nncf transformer, fp32 head"
# LLM rerankers: int8 weights (activations stay fp32; the CPU plugin quantizes them on the
# fly), as OpenVINO compresses LLMs; a static recipe calibrated on 320 pairs costs minutes on
# a 0.6B model and adds error on activations with the outliers LLMs have.
_LLM_INT8_RECIPE = "nncf int8_asym weights"


def _head(model: Any) -> list[str]:
    """The classification head's matrix products (those on one pooled vector per pair:
    2-D inputs), which int8 keeps in fp32. They cost nothing next to the encoder, and
    quantizing them moved scores most: on the distilled MiniLM-L6 cross-encoder, keeping
    them fp32 took Spearman with fp32 torch from 0.9933 to 0.9938 (msmarco) and 0.9881 to
    0.9895 (dbpedia), and NDCG@10 on dbpedia-entity from -0.8..-1.0% to -0.7%."""
    return [
        op.get_friendly_name()
        for op in model.get_ordered_ops()
        if op.get_type_name() == "MatMul" and op.input(0).get_partial_shape().rank == 2
    ]


def export_openvino(
    path: Path, dtype: str, *, digest: str, tokenizer: PairTokenizer, cache: Path | None = None
) -> Path:
    """The cached OpenVINO IR of ``path``: fp32 weights (fp32 and bf16 run these), or the
    int8 model NNCF quantized on the shipped calibration set."""
    _require()
    versions = {**library_versions(OPENVINO_LIBRARIES), **export_recipe(path)}

    def build_fp32(out: Path) -> None:
        from optimum.exporters.openvino import main_export

        with exporting(path):
            main_export(
                str(path),
                output=out,
                task="text-classification",
                compression_option="fp32",
                library_name="transformers",  # a sentence-transformers CrossEncoder dir too
            )

    fp32 = model_entry(
        path,
        digest=digest,
        runtime="openvino",
        dtype="fp32",
        versions=versions,
        build=build_fp32,
        cache=cache,
    )
    if dtype != "int8":
        return fp32

    def build_int8_weights(out: Path) -> None:
        import nncf
        import openvino as ov

        model = ov.Core().read_model(fp32 / _XML)
        ov.save_model(
            nncf.compress_weights(model, mode=nncf.CompressWeightsMode.INT8_ASYM), out / _XML
        )

    def build_int8(out: Path) -> None:
        import nncf
        import openvino as ov

        from es_rerank.runtime.batching import plan_batches
        from es_rerank.runtime.calibration import calibration_pairs

        model = ov.Core().read_model(fp32 / _XML)
        names = {next(iter(i.get_names())) for i in model.inputs}
        pairs = [p for q, texts in calibration_pairs() for p in tokenizer(q, texts)]
        feeds = [
            model_feed([pairs[i] for i in batch], pad_id=tokenizer.pad_id, inputs=names)
            for batch in plan_batches(
                [p.length for p in pairs], max_batch_tokens=_CALIBRATION_BUDGET
            )
        ]
        quantized = nncf.quantize(
            model,
            nncf.Dataset(feeds),
            model_type=nncf.ModelType.TRANSFORMER,
            subset_size=len(feeds),
            ignored_scope=nncf.IgnoredScope(names=_head(model)),
        )
        ov.save_model(quantized, out / _XML)

    llm = tokenizer.family is not None and tokenizer.family.is_llm
    int8 = model_entry(
        path,
        digest=digest,
        runtime="openvino",
        dtype="int8",
        versions={**versions, "int8 recipe": _LLM_INT8_RECIPE if llm else _INT8_RECIPE},
        build=build_int8_weights if llm else build_int8,
        cache=cache,
    )
    return int8


class OpenVINORuntime(TokenizedRuntime):
    """A cross-encoder in OpenVINO IR, run by the OpenVINO CPU plugin: one stream of every
    thread on CPUs with AMX (and for LLM rerankers in bf16), else in throughput mode,
    several streams (on 2 cores, 2 streams of 1 thread), one batch each, side by side
    (:meth:`forward_batches`); see :func:`_hint`."""

    runtime = "openvino"
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
        if dtype not in ("fp32", "bf16", "int8"):
            raise RuntimeUnavailableError(
                f"dtype {dtype}: runtime openvino runs fp32, bf16 or int8 (fp16: torch on CUDA)"
            )
        if dtype == "bf16" and not cpu_supports_bf16():
            raise RuntimeUnavailableError(
                "dtype bf16: this CPU has no bf16 instructions (AVX-512 BF16 or AMX); "
                "use fp32 or int8"
            )
        _require()
        import openvino as ov

        self.name = name
        self.dtype = dtype
        self.tokenizer = PairTokenizer.from_dir(
            path, name=name, max_length=max_length, instruction=instruction
        )
        self.max_length: int | None = self.tokenizer.max_length
        family = self.tokenizer.family
        llm = family is not None and family.is_llm
        threads = min(threads or default_threads(), default_threads())
        precision = _precision(dtype, llm=llm, threads=threads)
        #: the CPU plugin's inference precision: what runs unquantized ops (f32 or bf16)
        self.precision = precision
        if dtype == "bf16" and precision != "bf16" and family is not None:
            raise RuntimeUnavailableError(
                f"runtime openvino (bf16) cannot run {name} ({family.name}) on {threads} "
                "thread: OpenVINO's CPU plugin crashes compiling LLM "
                "rerankers in bf16 on one thread; give it 2 or more threads, or use runtime "
                "openvino with dtype int8 or fp32, or runtime torch with dtype bf16"
            )
        path, digest = exportable(path, self.tokenizer, digest=digest, cache=cache)
        self.entry = export_openvino(
            path, dtype, digest=digest, tokenizer=self.tokenizer, cache=cache
        )
        # The CPU plugin prepares its kernels for each input shape the first time it sees
        # it: about 20 ms on a 75 ms batch of the int8 graph, half that share in fp32 and
        # bf16. Widths rounded up to 8 make shapes repeat: int8 ran 10% more pairs/s
        # (100 MS MARCO passages per request); fp32 and bf16 did not gain. (Set after the
        # export, so int8 calibration sees exact widths.)
        if dtype == "int8":
            self.tokenizer.width_multiple = 8
        core = ov.Core()
        model = core.read_model(self.entry / _XML)
        self._inputs = {next(iter(i.get_names())) for i in model.inputs}
        settings: dict[str, Any] = {
            "INFERENCE_NUM_THREADS": threads,
            "PERFORMANCE_HINT": _hint(llm=llm, precision=precision),
            "INFERENCE_PRECISION_HINT": precision,
        }
        if llm and precision == "bf16":  # every CPU counted, hyper-threads included
            settings["ENABLE_HYPER_THREADING"] = True
        self._compiled: Any = core.compile_model(model, "CPU", settings)
        self.parallel_batches = int(self._compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        self._requests: list[Any] = [
            self._compiled.create_infer_request() for _ in range(self.parallel_batches)
        ]

    def forward(self, pairs: Sequence[Pair]) -> Scores:
        return self.forward_batches([pairs])[0]

    def forward_batches(self, batches: Sequence[Sequence[Pair]]) -> list[Scores]:
        """Each batch on a stream of its own; with fewer batches than streams, the largest
        are split so that no stream idles."""
        out = [np.zeros(len(b), dtype=np.float32) for b in batches]
        parts = spread([len(b) for b in batches], len(self._requests))
        for first in range(0, len(parts), len(self._requests)):
            running: list[tuple[Any, int, list[int]]] = []
            try:
                for request, (k, rows) in zip(self._requests, parts[first:], strict=False):
                    request.start_async(self.feed([batches[k][i] for i in rows], self._inputs))
                    running.append((request, k, rows))
            finally:  # every started request is waited for, even when one failed
                failure: BaseException | None = None
                for request, k, rows in running:
                    try:
                        request.wait()
                        out[k][rows] = request.get_output_tensor(0).data[:, 0]
                    except Exception as exc:
                        failure = failure or exc
                if failure is not None:
                    raise failure
        return out


def _precision(dtype: str, *, llm: bool, threads: int) -> str:
    """The CPU plugin's inference precision for ``dtype``: bf16 runs in bf16, fp32 in f32.

    int8 runs what it does not quantize in bf16 where that was measured to pay: an
    encoder's static int8 on CPUs with AMX (2-core Xeon, one stream, 8 passages a query:
    +3.5% ModernBERT base to +40% DeBERTa-v3 base, MiniLM-L6 +8%; on the distilled
    MiniLM-L6 cross-encoder NDCG@10 +0.93% / +0.33% of fp32 torch on msmarco / dbpedia,
    against +0.03% / -0.67% with f32, Spearman 0.9942 / 0.9897 against 0.9938 / 0.9895),
    else f32 (as measured on a 2-core AVX-512 CPU without AMX); an LLM reranker's int8
    weights on CPUs with AMX (Qwen3-Reranker-0.6B's config, 2 cores: 2.75 pairs/s against
    1.49 with f32; not measured without AMX, so f32 there).

    OpenVINO 2026.4's CPU plugin fails on LLM rerankers in bf16 when a stream has one
    thread: SIGFPE compiling fp32 weights, garbage scores from int8 weights (off by 2,271
    on that model). With one stream of two or more threads their scores stay within 0.03 of
    f32, so an LLM reranker in bf16 gets one stream of every thread, and none on one thread
    (bf16 is refused, int8 keeps f32).

    >>> _precision("int8", llm=True, threads=1)
    'f32'
    """
    if dtype == "bf16":
        return "f32" if llm and threads < 2 else "bf16"
    if dtype == "int8" and cpu_has_amx() and (threads >= 2 or not llm):
        return "bf16"
    return "f32"


def _hint(*, llm: bool, precision: str) -> str:
    """One stream of every thread (``LATENCY``) or several streams side by side
    (``THROUGHPUT``). An LLM reranker in bf16 needs one stream (:func:`_precision`).

    On a 2-core Xeon with AMX, one stream ran every family faster with 8 passages a query
    (Elasticsearch's default window is 10): +18% (MiniLM-L6 bf16) to +52% (ModernBERT base
    bf16, 26.7 -> 40.5 pairs/s; XLM-R large int8 19.0 -> 27.2). With 100 passages a
    request, where two streams each get a whole batch, two streams ran up to 10% more
    (the shim's engine: MiniLM-L6 int8 377 against 354, ELECTRA base bf16 69 against 63,
    ELECTRA int8 even). Two streams of one thread ran 14-16% more int8 pairs/s than one
    stream on a 2-core AVX-512 CPU without AMX, so they stay the rule there."""
    if (llm and precision == "bf16") or cpu_has_amx():
        return "LATENCY"
    return "THROUGHPUT"


def spread(sizes: Sequence[int], streams: int) -> list[tuple[int, list[int]]]:
    """(batch number, rows) parts of batches of ``sizes`` for ``streams`` streams: every
    batch whole, then the largest parts halved (every other row, so both halves of a
    length-sorted batch pad alike) while parts are fewer than streams.

    >>> spread([4], 2)
    [(0, [0, 2]), (0, [1, 3])]
    >>> spread([3, 1], 2)
    [(0, [0, 1, 2]), (1, [0])]
    """
    parts = [(k, list(range(n))) for k, n in enumerate(sizes)]
    while len(parts) < streams:
        k, rows = max(parts, key=lambda p: len(p[1]))
        if len(rows) < 2:
            break
        parts.remove((k, rows))
        parts += [(k, rows[0::2]), (k, rows[1::2])]
    return parts
