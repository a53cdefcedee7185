"""Runtime flags for command lines, in one place: ``--runtime``, ``--dtype``,
``--max-batch-tokens`` and ``--instruction``, with ``ES_RERANK_RUNTIME`` /
``ES_RERANK_DTYPE`` / ``ES_RERANK_INSTRUCTION`` as defaults.

>>> import argparse
>>> p = argparse.ArgumentParser()
>>> add_runtime_arguments(p, environ={})
>>> runtime_kwargs(p.parse_args(["--runtime", "onnx", "--dtype", "int8"]))
{'runtime': 'onnx', 'dtype': 'int8', 'max_batch_tokens': None, 'instruction': None}
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import Any

from es_rerank import env as variables
from es_rerank.runtime.auto import REMEASURE_ENV
from es_rerank.runtime.base import DTYPES, RUNTIMES
from es_rerank.runtime.batching import CUDA_MAX_BATCH_TOKENS, DEFAULT_MAX_BATCH_TOKENS

__all__ = ["add_runtime_arguments", "runtime_kwargs"]


def add_runtime_arguments(
    parser: argparse.ArgumentParser, *, environ: Mapping[str, str] | None = None
) -> None:
    """Add ``--runtime``, ``--dtype``, ``--max-batch-tokens`` and ``--instruction``."""
    env = os.environ if environ is None else environ
    g = parser.add_argument_group("model runtime")
    g.add_argument(
        "--runtime",
        choices=[*RUNTIMES, "auto"],
        default=variables.RUNTIME.text(env) or "torch",
        help="inference runtime for a local model; auto: the fastest that agrees with fp32 "
        "on the shipped calibration set (default: $ES_RERANK_RUNTIME or torch)",
    )
    g.add_argument(
        "--dtype",
        choices=list(DTYPES),
        default=variables.DTYPE.value(env),
        help="fp32 (default), bf16 (torch, openvino), int8 (onnx, openvino), fp16 (torch on "
        "CUDA) (default: $ES_RERANK_DTYPE)",
    )
    g.add_argument(
        "--remeasure",
        action=_Remeasure,
        nargs=0,
        help="with --runtime auto: measure the candidates again instead of loading the "
        "recorded decision (env ES_RERANK_REMEASURE=1)",
    )
    g.add_argument(
        "--max-batch-tokens",
        type=int,
        default=None,
        help=f"padded tokens per forward pass (default: {DEFAULT_MAX_BATCH_TOKENS} on CPU, "
        f"{CUDA_MAX_BATCH_TOKENS} on CUDA)",
    )
    g.add_argument(
        "--instruction",
        default=variables.INSTRUCTION.value(env),
        help="the instruction an LLM reranker reads (default: $ES_RERANK_INSTRUCTION, else "
        "the model card's); models without a prompt template refuse it",
    )


class _Remeasure(argparse.Action):
    """Sets ``ES_RERANK_REMEASURE`` for this process: auto reads it where it decides, in
    every face (the shim's loader included), so the flag needs no parameter through them."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        os.environ[REMEASURE_ENV] = "1"
        setattr(namespace, self.dest, True)


def runtime_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`~es_rerank.rerankers.CrossEncoderReranker` keywords the flags give."""
    if args.max_batch_tokens is not None and args.max_batch_tokens < 1:
        raise ValueError(f"--max-batch-tokens must be >= 1, got {args.max_batch_tokens}")
    return {
        "runtime": args.runtime,
        "dtype": args.dtype,
        "max_batch_tokens": args.max_batch_tokens,
        "instruction": args.instruction,
    }
