"""Model runtimes behind one interface: torch (fp32, bf16, CUDA fp16), ONNX Runtime (fp32,
dynamic int8) and OpenVINO (fp32, bf16, static int8) for every model family (encoder
cross-encoders, LLM rerankers: :func:`detect_family`), plus adapters for bi-encoders and
Python scorer functions; the length-sorted token-budget batching they share; ``auto``
selection on a shipped calibration set; flags for command lines.

>>> from es_rerank.models import packaged_bi_encoder_path
>>> rt = load_runtime(packaged_bi_encoder_path())
>>> pairs = rt.tokenize("capital of france", ["Paris is the capital of France.", "Cats purr."])
>>> s = score_pairs(rt, pairs)
>>> bool(s[0] > s[1])
True
"""

from es_rerank.runtime.auto import Candidate, Selection
from es_rerank.runtime.base import (
    DTYPES,
    RUNTIMES,
    InputTooLongError,
    MaxLengthError,
    ModelRuntime,
    Pair,
    RuntimeUnavailableError,
)
from es_rerank.runtime.batching import (
    CUDA_MAX_BATCH_TOKENS,
    DEFAULT_MAX_BATCH_TOKENS,
    ParallelRuntime,
    default_max_batch_tokens,
    parallel_batches,
    plan_batches,
    run_batches,
    score_pairs,
)
from es_rerank.runtime.cli import add_runtime_arguments, runtime_kwargs
from es_rerank.runtime.families import HeadMissingError, ModelFamily, detect_family
from es_rerank.runtime.function_runtime import FunctionRuntime
from es_rerank.runtime.loader import describe, load_runtime

__all__ = [
    "CUDA_MAX_BATCH_TOKENS",
    "DEFAULT_MAX_BATCH_TOKENS",
    "DTYPES",
    "RUNTIMES",
    "Candidate",
    "FunctionRuntime",
    "HeadMissingError",
    "InputTooLongError",
    "MaxLengthError",
    "ModelFamily",
    "ModelRuntime",
    "Pair",
    "ParallelRuntime",
    "RuntimeUnavailableError",
    "Selection",
    "add_runtime_arguments",
    "default_max_batch_tokens",
    "describe",
    "detect_family",
    "load_runtime",
    "parallel_batches",
    "plan_batches",
    "run_batches",
    "runtime_kwargs",
    "score_pairs",
]
