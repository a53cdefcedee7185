"""Pair tokenization shared by every Hugging Face model runtime: exact token ids per pair,
truncated on the right or the left, no padding (the batcher pads). An LLM reranker's pairs
go through its prompt template (:mod:`es_rerank.runtime.prompting`)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from es_rerank.runtime.base import (
    Direction,
    InputTooLongError,
    MaxLengthError,
    Pair,
    RuntimeUnavailableError,
    Scores,
    pad_batch,
)

if TYPE_CHECKING:
    from es_rerank.runtime.families import ModelFamily
    from es_rerank.runtime.prompting import PromptEncoder

__all__ = [
    "PairTokenizer",
    "TokenizedRuntime",
    "check_single_output",
    "exportable",
    "model_feed",
    "position_limit",
    "takes_instruction",
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
        self,
        tokenizer: Any,
        *,
        config: Any,
        max_length: int | None = None,
        name: str = "model",
        family: ModelFamily | None = None,
        instruction: str | None = None,
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
        if family is not None and family.is_llm:
            # A decoder's classifier head finds each pair's last token by the padding id.
            pad = getattr(config, "pad_token_id", None)
            if pad is None:
                pad = tokenizer.pad_token_id
            self.pad_id = int(pad if pad is not None else tokenizer.eos_token_id)
        self.name = name
        self.family = family
        self.prompt: PromptEncoder | None = None
        if family is not None and family.template is not None:
            from es_rerank.runtime.prompting import PromptEncoder

            self.prompt = PromptEncoder(tokenizer, family.template)
        self.uses_types = self.prompt is None and "token_type_ids" in tokenizer.model_input_names
        if instruction is not None:
            self.check_instruction(instruction)
            self.prompt_parts(instruction)  # a template that cannot take it fails at load
        #: the instruction of requests that send none (None: the template's default)
        self.instruction = instruction

    @classmethod
    def from_dir(
        cls,
        path: Path,
        *,
        name: str,
        max_length: int | None = None,
        instruction: str | None = None,
    ) -> PairTokenizer:
        """The tokenizer of a cross-encoder directory (with its family's prompt template);
        refuses a model with more than one output (not a reranker) or no trained head."""
        from transformers import AutoConfig, AutoTokenizer

        from es_rerank.runtime.families import detect_family

        family = detect_family(path)
        config = AutoConfig.from_pretrained(path)
        if family.scoring == "classifier":
            check_single_output(config, name)
        tokenizer = AutoTokenizer.from_pretrained(path)  # type: ignore[no-untyped-call]
        return cls(
            tokenizer,
            config=config,
            max_length=max_length,
            name=name,
            family=family,
            instruction=instruction,
        )

    def check_instruction(self, instruction: str) -> None:
        """Raise ``ValueError`` naming the parameter when this model reads no instruction."""
        if self.prompt is None:
            family = self.family.name if self.family else "this model"
            raise ValueError(
                f"instruction: {self.name} ({family}) has no prompt template to put an "
                "instruction in; only LLM rerankers take one"
            )

    def prompt_parts(self, instruction: str | None) -> None:
        if self.prompt is not None:
            self.prompt.parts(instruction)

    def __call__(
        self,
        query: str,
        texts: Sequence[str],
        *,
        truncate: bool = True,
        direction: Direction = "right",
        instruction: str | None = None,
    ) -> list[Pair]:
        if instruction is not None:
            self.check_instruction(instruction)
        if self.prompt is not None:
            prompted = self.prompt(
                query,
                texts,
                max_length=self.max_length,
                instruction=self.instruction if instruction is None else instruction,
                truncate=truncate,
                direction=direction,
            )
            return [Pair(length=self.width(len(i)), ids=i) for i in prompted]
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
        instruction: str | None = None,
    ) -> list[Pair]:
        return self.tokenizer(
            query, texts, truncate=truncate, direction=direction, instruction=instruction
        )

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


def takes_instruction(runtime: object) -> bool:
    """Whether ``runtime`` reads an instruction (an LLM reranker with a prompt template)."""
    return getattr(getattr(runtime, "tokenizer", None), "prompt", None) is not None


def exportable(
    path: Path, tokenizer: PairTokenizer, *, digest: str, cache: Path | None
) -> tuple[Path, str]:
    """The model directory the exporters take, and its cache digest: an LLM reranker's
    sequence-classification conversion (:mod:`es_rerank.runtime.conversion`), else
    ``path`` itself."""
    family = tokenizer.family
    if family is None or family.scoring != "yes-no":
        return path, digest
    from es_rerank.runtime.conversion import classifier_checkpoint

    converted = classifier_checkpoint(path, family, digest=digest, cache=cache)
    return converted, f"{digest}-seq-cls"
