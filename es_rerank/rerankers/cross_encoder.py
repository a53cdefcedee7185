"""In-process reranking with a local model (cross- or bi-encoder) on any runtime."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

from es_rerank.models import LoadedModel
from es_rerank.runtime.base import ModelRuntime
from es_rerank.runtime.batching import default_max_batch_tokens, score_pairs
from es_rerank.runtime.loader import describe, load_runtime

__all__ = ["CrossEncoderReranker"]


class CrossEncoderReranker:
    """Raw scores from a local model: logits for a cross-encoder, cosine similarity for a
    bi-encoder. ``model`` is a local directory or a hub id (resolved by
    :func:`es_rerank.models.load_model`), a :class:`LoadedModel`, or a ready
    :class:`~es_rerank.runtime.ModelRuntime`.

    Pairs are scored in length-sorted batches of at most ``max_batch_tokens`` padded
    tokens (default: 1024 on CPU, 4096 on CUDA; ``batch_size`` also caps the pairs per
    batch, when given), on ``runtime`` (``torch``, ``onnx``, ``openvino`` or ``auto``) in
    ``dtype`` (``fp32``, ``bf16``, ``int8``, or ``fp16`` on CUDA): the same runtimes and
    batching as the inference shim. Any model family serves: encoder cross-encoders and
    LLM rerankers, which read ``instruction`` (default: their model card's) in their prompt.

    >>> from es_rerank.models import packaged_bi_encoder_path
    >>> r = CrossEncoderReranker(packaged_bi_encoder_path(), batch_size=8)
    >>> s = r.rerank("capital of france", ["Paris is the capital of France.", "Cats purr."])
    >>> s[0] > s[1]
    True
    >>> r.info["runtime"], r.info["dtype"]
    ('torch', 'fp32')
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | LoadedModel | ModelRuntime,
        *,
        runtime: str = "torch",
        dtype: str | None = None,
        batch_size: int | None = None,
        max_batch_tokens: int | None = None,
        max_length: int | None = None,
        device: str | None = None,
        threads: int | None = None,
        instruction: str | None = None,
    ) -> None:
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
        ):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if max_batch_tokens is not None and (
            isinstance(max_batch_tokens, bool)
            or not isinstance(max_batch_tokens, int)
            or (max_batch_tokens < 1)
        ):
            raise ValueError(
                f"max_batch_tokens must be a positive integer, got {max_batch_tokens!r}"
            )
        if max_length is not None and (isinstance(max_length, bool) or max_length < 1):
            raise ValueError(f"max_length must be a positive integer, got {max_length!r}")
        if isinstance(model, LoadedModel | str | os.PathLike):
            self.runtime: ModelRuntime = load_runtime(
                model,
                runtime=runtime,
                dtype=dtype,
                device=device,
                max_length=max_length,
                threads=threads,
                instruction=instruction,
            )
        else:
            self.runtime = model
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens or default_max_batch_tokens(self.runtime.device)
        # One forward pass at a time per model (thread settings, tokenizer state).
        self._lock = threading.Lock()
        self._thread_ready = False

    @property
    def info(self) -> dict[str, Any]:
        """Model, kind, runtime, dtype, device and max length (and ``auto``'s measurements)."""
        return describe(self.runtime)

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        pairs = self.runtime.tokenize(query, list(texts))
        with self._lock:
            if not self._thread_ready:
                self.runtime.setup_thread()
                self._thread_ready = True
            scores = score_pairs(
                self.runtime,
                pairs,
                max_batch_tokens=self.max_batch_tokens,
                max_pairs=self.batch_size,
            )
        # one float per text; whoever takes a reranker's scores checks them (check_scores)
        return [float(s) for s in scores]

    def __repr__(self) -> str:
        rt = self.runtime
        return (
            f"CrossEncoderReranker({rt.name!r}, kind={rt.kind!r}, runtime={rt.runtime!r}, "
            f"dtype={rt.dtype!r})"
        )
