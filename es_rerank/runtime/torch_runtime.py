"""PyTorch runtime: fp32, bf16 (autocast, on CPUs with bf16 instructions or CUDA) and
fp16 (CUDA only), for every model family: sequence classifiers score their one logit, LLM
rerankers (causal LMs) ``logit("yes") - logit("no")`` at each pair's last token."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from es_rerank.models import ModelLoadError
from es_rerank.runtime.base import Pair, RuntimeUnavailableError, Scores, pad_batch
from es_rerank.runtime.hardware import cpu_supports_bf16, default_threads
from es_rerank.runtime.tokenizing import PairTokenizer, TokenizedRuntime, check_single_output

if TYPE_CHECKING:
    from es_rerank.runtime.families import ModelFamily

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
    """A Hugging Face sequence classifier with one output (a cross-encoder's logit), or an
    LLM reranker's causal LM (``family.scoring == "yes-no"``)."""

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
        family: ModelFamily | None = None,
        instruction: str | None = None,
    ) -> None:
        import torch

        self.family = family
        self._yes_no: Any = None
        if family is not None and family.scoring == "yes-no":
            # The LM head's "yes" and "no" rows: the score needs no other logit.
            head = model.get_output_embeddings()
            rows = [family.yes_id, family.no_id]
            bias = None if head.bias is None else head.bias[rows].detach()
            self._yes_no = (head.weight[rows].detach(), bias)
        else:
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
            tokenizer,
            config=model.config,
            max_length=max_length,
            name=name,
            family=family,
            instruction=instruction,
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
        instruction: str | None = None,
    ) -> TorchRuntime:
        from transformers import (
            AutoModelForCausalLM,
            AutoModelForSequenceClassification,
            AutoTokenizer,
        )

        from es_rerank.runtime.families import detect_family

        dev = resolve_device(device)
        check_torch_dtype(dtype, dev)
        family = detect_family(path)
        auto: Any = (
            AutoModelForCausalLM
            if family.scoring == "yes-no"
            else AutoModelForSequenceClassification
        )
        try:
            model = auto.from_pretrained(path).to(dev)
            tokenizer = AutoTokenizer.from_pretrained(path)  # type: ignore[no-untyped-call]
        except (OSError, ValueError, KeyError) as exc:
            raise ModelLoadError(f"could not load cross-encoder from {path}: {exc}") from exc
        return cls(
            model,
            tokenizer,
            name=name,
            dtype=dtype,
            max_length=max_length,
            threads=threads,
            family=family,
            instruction=instruction,
        )

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
            if self._yes_no is None:
                scores = self.model(**inputs).logits[:, 0]
            else:
                scores = self._yes_minus_no(inputs)
        out: Scores = scores.float().cpu().numpy().astype(np.float32, copy=False)
        return out

    def _yes_minus_no(self, inputs: dict[str, Any]) -> Any:
        """``logit("yes") - logit("no")`` at each pair's last token (batches are padded on
        the right; rotary positions make the scores those of left padding)."""
        torch = self._torch
        # the decoder, not base_model: that is the whole causal LM for some (Gemma 3)
        hidden = self.model.get_decoder()(**inputs).last_hidden_state
        last = inputs["attention_mask"].sum(dim=1) - 1
        h = hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
        weight, bias = self._yes_no
        logits = torch.nn.functional.linear(h, weight.to(h.dtype), bias)
        return logits[:, 0] - logits[:, 1]
