"""Pair tokenization shared by every Hugging Face model runtime: exact token ids per pair,
truncated on the right or the left, no padding (the batcher pads)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from es_rerank.runtime.base import (
    Direction,
    InputTooLongError,
    MaxLengthError,
    Pair,
    RuntimeUnavailableError,
    Scores,
    pad_batch,
)

__all__ = [
    "PairTokenizer",
    "TokenizedRuntime",
    "check_single_output",
    "model_feed",
    "position_limit",
]

# Tokenizers without a configured limit report a huge sentinel instead.
_NO_LIMIT = 1_000_000


def position_limit(config: Any) -> int | None:
    """Longest input the position embeddings allow (RoBERTa-style models reserve two)."""
    limit = getattr(config, "max_position_embeddings", None)
    if limit is None:
        return None
    if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
        return int(limit) - 2
    return int(limit)


def check_single_output(config: Any, name: str) -> None:
    """A rerank model has one output (a cross-encoder's logit)."""
    num_labels = int(getattr(config, "num_labels", 1))
    if num_labels != 1:
        raise RuntimeUnavailableError(
            f"{name}: a rerank model needs one output (num_labels=1), this one has {num_labels}"
        )


class PairTokenizer:
    """Wraps a fast tokenizer; safe to call from several threads.

    Its ``width_multiple`` rounds each pair's ``length`` (its width in a padded batch) up to a
    multiple, never past ``max_length``: for runtimes that prepare kernels per input shape,
    fewer distinct widths means shapes seen before."""

    def __init__(
        self, tokenizer: Any, *, config: Any, max_length: int | None = None, name: str = "model"
    ) -> None:
        limits = [position_limit(config)]
        own = getattr(tokenizer, "model_max_length", None)
        if isinstance(own, int) and own < _NO_LIMIT:
            limits.append(own)
        known = [x for x in limits if x is not None]
        limit = min(known) if known else 512
        if max_length is not None and max_length > limit:
            raise MaxLengthError(max_length, limit, name=name)
        self.max_length = max_length or limit
        self.width_multiple = 1  # a runtime that gains from rounding sets its own
        self._right = tokenizer
        self._left = copy.deepcopy(tokenizer)
        self._left.truncation_side = "left"
        # Fast tokenizers are not safe to call from several threads at once when the
        # truncation settings differ between calls; one lock keeps them consistent.
        self._lock = threading.Lock()
        self.pad_id = int(tokenizer.pad_token_id or 0)
        self.uses_types = "token_type_ids" in tokenizer.model_input_names

    @classmethod
    def from_dir(cls, path: Path, *, name: str, max_length: int | None = None) -> PairTokenizer:
        """The tokenizer of a cross-encoder directory; refuses a model with more than one
        output (not a reranker)."""
        from transformers import AutoConfig, AutoTokenizer

        config = AutoConfig.from_pretrained(path)
        check_single_output(config, name)
        tokenizer = AutoTokenizer.from_pretrained(path)  # type: ignore[no-untyped-call]
        return cls(tokenizer, config=config, max_length=max_length, name=name)

    def __call__(
        self,
        query: str,
        texts: Sequence[str],
        *,
        truncate: bool = True,
        direction: Direction = "right",
    ) -> list[Pair]:
        tok = self._left if direction == "left" else self._right
        with self._lock:
            enc = tok(
                [query] * len(texts),
                list(texts),
                truncation="longest_first" if truncate else False,
                max_length=self.max_length if truncate else None,
                padding=False,
                return_attention_mask=False,
                return_token_type_ids=self.uses_types,
                verbose=False,
            )
        ids: list[list[int]] = enc["input_ids"]
        if not truncate:
            for i, seq in enumerate(ids):
                if len(seq) > self.max_length:
                    raise InputTooLongError(
                        f"texts[{i}] with the query is {len(seq)} tokens, above the maximum "
                        f"input length {self.max_length}; shorten it or send truncate=true",
                        index=i,
                    )
        types: list[list[int]] | list[None] = (
            enc["token_type_ids"] if self.uses_types else [None] * len(ids)
        )
        return [
            Pair(length=self.width(len(i)), ids=i, type_ids=t)
            for i, t in zip(ids, types, strict=True)
        ]

    def width(self, tokens: int) -> int:
        """Width of a pair of ``tokens`` tokens in a padded batch."""
        m = self.width_multiple
        return max(tokens, min(-(-tokens // m) * m, self.max_length))


class TokenizedRuntime:
    """What the Hugging Face model runtimes share: tokenizing with a :class:`PairTokenizer`
    and a warm-up pass on the thread that will run the model."""

    tokenizer: PairTokenizer

    def tokenize(
        self,
        query: str,
        texts: Sequence[str],
        *,
        truncate: bool = True,
        direction: Direction = "right",
    ) -> list[Pair]:
        return self.tokenizer(query, texts, truncate=truncate, direction=direction)

    def setup_thread(self) -> None:
        self.thread_settings()
        self.forward(self.tokenizer("warm up", ["warm up the model"] * 2))

    def thread_settings(self) -> None:
        """Per-thread settings of the runtime (none by default)."""

    def forward(self, pairs: Sequence[Pair]) -> Scores:
        raise NotImplementedError

    def feed(self, pairs: Sequence[Pair], inputs: Collection[str]) -> dict[str, Any]:
        return model_feed(pairs, pad_id=self.tokenizer.pad_id, inputs=inputs)


def model_feed(pairs: Sequence[Pair], *, pad_id: int, inputs: Collection[str]) -> dict[str, Any]:
    """A padded batch as the model's named inputs (those of ``inputs`` it takes)."""
    ids, mask, types = pad_batch(pairs, pad_id=pad_id)
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    return {k: v for k, v in feed.items() if k in inputs}
