"""What every model runtime is: a tokenizer and a forward pass on a padded batch.

A runtime turns ``(query, texts)`` into :class:`Pair` items (token ids and their length)
and scores a list of them in one call. Everything above it (length-sorted token-budget
batching, the shim's queue) only sees this interface, so torch, ONNX Runtime, OpenVINO,
bi-encoders and plain Python scorers are interchangeable.

>>> p = Pair(length=3, ids=(101, 7, 102))
>>> ids, mask, types = pad_batch([p, Pair(length=1, ids=(101,))], pad_id=0)
>>> ids.tolist(), mask.tolist()
([[101, 7, 102], [101, 0, 0]], [[1, 1, 1], [1, 0, 0]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from es_rerank.errors import EsRerankError

__all__ = [
    "DTYPES",
    "RUNTIMES",
    "Direction",
    "Dtype",
    "InputTooLongError",
    "MaxLengthError",
    "ModelRuntime",
    "Pair",
    "RuntimeName",
    "RuntimeUnavailableError",
    "Scores",
    "pad_batch",
]

Scores = npt.NDArray[np.float32]
Direction = Literal["right", "left"]
RuntimeName = Literal["torch", "onnx", "openvino"]
Dtype = Literal["fp32", "bf16", "fp16", "int8"]
RUNTIMES: tuple[str, ...] = ("torch", "onnx", "openvino")
DTYPES: tuple[str, ...] = ("fp32", "bf16", "fp16", "int8")


class RuntimeUnavailableError(EsRerankError, ValueError):
    """A runtime/dtype cannot serve this model here (unsupported dtype, device or model).
    The message names the parameter and what to use instead."""


class MaxLengthError(EsRerankError, ValueError):
    """A requested maximum input length is above what the model allows."""

    def __init__(self, requested: int, limit: int, *, name: str) -> None:
        super().__init__(f"max_length {requested} is above the limit of {limit} tokens of {name}")
        self.requested = requested
        self.limit = limit


class InputTooLongError(EsRerankError, ValueError):
    """A pair is longer than the model's maximum input length and truncation is off."""

    def __init__(self, message: str, *, index: int) -> None:
        super().__init__(message)
        self.index = index


@dataclass(frozen=True, slots=True)
class Pair:
    """One tokenized (query, text) pair. ``length`` is what it costs in a padded batch
    (its token count, or that rounded up where the runtime pads widths to a multiple);
    ``query``/``text`` are kept for runtimes that score raw text."""

    length: int
    ids: Sequence[int] = ()
    type_ids: Sequence[int] | None = None
    query: str = ""
    text: str = ""


@runtime_checkable
class ModelRuntime(Protocol):
    """A model behind one interface. ``forward`` runs on one thread at a time (the caller
    serializes it); ``tokenize`` is safe from any thread."""

    #: model name or path, runtime ("torch", "onnx", "openvino", "python"), dtype, device
    name: str
    runtime: str
    dtype: str
    device: str
    #: "cross-encoder", "bi-encoder" or "scorer"
    kind: str
    #: longest pair in tokens (None: no limit, e.g. a Python scorer)
    max_length: int | None

    def tokenize(
        self,
        query: str,
        texts: Sequence[str],
        *,
        truncate: bool = True,
        direction: Direction = "right",
    ) -> list[Pair]:
        """One :class:`Pair` per text; :class:`InputTooLongError` for an over-long pair
        when ``truncate`` is false."""
        ...

    def forward(self, pairs: Sequence[Pair]) -> Scores:
        """Raw scores (logits, cosine, or the scorer's values) for a batch, in order."""
        ...

    def setup_thread(self) -> None:
        """Called once on the thread that will run :meth:`forward`: thread settings and,
        for models, a warm-up pass."""
        ...


def pad_batch(
    pairs: Sequence[Pair], *, pad_id: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``input_ids``, ``attention_mask`` and ``token_type_ids`` padded on the right to the
    widest pair of the batch (its ``length``, which may round its token count up)."""
    width = max(max(p.length, len(p.ids)) for p in pairs)
    n = len(pairs)
    ids = np.full((n, width), pad_id, dtype=np.int64)
    mask = np.zeros((n, width), dtype=np.int64)
    types = np.zeros((n, width), dtype=np.int64)
    for row, p in enumerate(pairs):
        k = len(p.ids)
        ids[row, :k] = p.ids
        mask[row, :k] = 1
        if p.type_ids is not None:
            types[row, :k] = p.type_ids
    return ids, mask, types
