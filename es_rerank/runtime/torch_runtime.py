"""PyTorch runtime: fp32, bf16 (autocast, on CPUs with bf16 instructions or CUDA) and
fp16 (CUDA only)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from es_rerank.models import ModelLoadError
from es_rerank.runtime.base import Pair, RuntimeUnavailableError, Scores, pad_batch
from es_rerank.runtime.hardware import cpu_supports_bf16, default_threads
from es_rerank.runtime.tokenizing import PairTokenizer, TokenizedRuntime, check_single_output

__all__ = ["TorchRuntime", "check_torch_dtype", "resolve_device"]


def resolve_device(device: str | None) -> str:
    """``device`` checked against what torch sees; default cuda when available, else cpu."""
    import torch

    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeUnavailableError(
            f"device {device!r}: torch sees no CUDA device here; use device cpu"
        )
    if not device.startswith(("cpu", "cuda")):
        raise RuntimeUnavailableError(f"device must be cpu, cuda or cuda:N, got {device!r}")
    return device


def check_torch_dtype(dtype: str, device: str) -> None:
    """Raise :class:`RuntimeUnavailableError` unless torch can run ``dtype`` on ``device``."""
    cuda = device.startswith("cuda")
    if dtype == "int8":
        raise RuntimeUnavailableError(
            "dtype int8: the torch runtime has no int8 path; use runtime onnx or openvino"
        )
    if dtype == "fp16" and not cuda:
        raise RuntimeUnavailableError(
            "dtype fp16 needs a CUDA device (device cuda); on CPU use bf16 or int8"
        )
    if dtype == "bf16" and not cuda and not cpu_supports_bf16():
        raise RuntimeUnavailableError(
            "dtype bf16: this CPU has no bf16 instructions (AVX-512 BF16 or AMX); use fp32 or int8"
        )
    if dtype not in ("fp32", "bf16", "fp16"):
        raise RuntimeUnavailableError(f"dtype must be fp32, bf16, fp16 or int8, got {dtype!r}")


class TorchRuntime(TokenizedRuntime):
    """A Hugging Face sequence classifier with one output (a cross-encoder's logit)."""

    runtime = "torch"
    kind = "cross-encoder"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        name: str,
        dtype: str = "fp32",
        max_length: int | None = None,
        threads: int | None = None,
    ) -> None:
        import torch

        check_single_output(model.config, name)
        self.device = str(next(model.parameters()).device)
        check_torch_dtype(dtype, self.device)
        self._torch = torch
        if dtype == "fp16":  # CUDA: half weights are faster than autocast
            model = model.half()
        self.model = model.eval()
        self.name = name
        self.dtype = dtype
        self.threads = threads
        self.tokenizer = PairTokenizer(
            tokenizer, config=model.config, max_length=max_length, name=name
        )
        self.max_length: int | None = self.tokenizer.max_length

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        name: str,
        dtype: str = "fp32",
        device: str | None = None,
        max_length: int | None = None,
        threads: int | None = None,
    ) -> TorchRuntime:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        dev = resolve_device(device)
        check_torch_dtype(dtype, dev)
        try:
            model = AutoModelForSequenceClassification.from_pretrained(path).to(dev)
            tokenizer = AutoTokenizer.from_pretrained(path)  # type: ignore[no-untyped-call]
        except (OSError, ValueError, KeyError) as exc:
            raise ModelLoadError(f"could not load cross-encoder from {path}: {exc}") from exc
        return cls(model, tokenizer, name=name, dtype=dtype, max_length=max_length, threads=threads)

    def thread_settings(self) -> None:
        if not self.device.startswith("cuda"):
            self._torch.set_num_threads(self.threads or default_threads())

    def forward(self, pairs: Sequence[Pair]) -> Scores:
        torch = self._torch
        ids, mask, types = pad_batch(pairs, pad_id=self.tokenizer.pad_id)
        inputs = {
            "input_ids": torch.from_numpy(ids).to(self.device),
            "attention_mask": torch.from_numpy(mask).to(self.device),
        }
        if self.tokenizer.uses_types:
            inputs["token_type_ids"] = torch.from_numpy(types).to(self.device)
        autocast: Any = contextlib.nullcontext()
        if self.dtype == "bf16":
            autocast = torch.autocast(self.device.split(":")[0], dtype=torch.bfloat16)
        with torch.inference_mode(), autocast:
            logits = self.model(**inputs).logits
        out: Scores = logits[:, 0].float().cpu().numpy().astype(np.float32, copy=False)
        return out
