"""Adapters that put bi-encoders and plain Python scorers behind :class:`ModelRuntime`, so
the batching engine treats them like any model.

>>> rt = FunctionRuntime(lambda q, ts: [float(len(t)) for t in ts], name="len")
>>> from es_rerank.runtime.batching import score_pairs
>>> score_pairs(rt, rt.tokenize("q", ["a", "abc"])).tolist()
[1.0, 3.0]
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from es_rerank.errors import RerankError
from es_rerank.runtime.base import Direction, InputTooLongError, Pair, Scores

__all__ = ["BiEncoderRuntime", "FunctionRuntime", "ScorerFunction"]

ScorerFunction = Callable[[str, list[str]], Sequence[float]]


def _by_query(pairs: Sequence[Pair]) -> Iterator[tuple[str, list[int]]]:
    """Runs of consecutive pairs with the same query: (query, their positions)."""
    start = 0
    for i in range(1, len(pairs) + 1):
        if i == len(pairs) or pairs[i].query != pairs[start].query:
            yield pairs[start].query, list(range(start, i))
            start = i


class FunctionRuntime:
    """Any ``(query, texts) -> raw scores`` function. Each pair costs one token of the batch
    budget, so a request's texts normally reach the function in one call; the function must
    score each text on its own (it may be called with part of a request's texts)."""

    runtime = "python"
    dtype = "n/a"
    device = "cpu"
    kind = "scorer"
    max_length: int | None = None

    def __init__(self, fn: ScorerFunction, *, name: str) -> None:
        self.fn = fn
        self.name = name

    def tokenize(
        self,
        query: str,
        texts: Sequence[str],
        *,
        truncate: bool = True,
        direction: Direction = "right",
    ) -> list[Pair]:
        return [Pair(length=1, query=query, text=t) for t in texts]

    def setup_thread(self) -> None:
        pass

    def forward(self, pairs: Sequence[Pair]) -> Scores:
        out = np.zeros(len(pairs), dtype=np.float32)
        for query, where in _by_query(pairs):
            texts = [pairs[i].text for i in where]
            got = self.fn(query, texts)
            try:
                arr = np.asarray([float(s) for s in got], dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise RerankError(f"scorer {self.name} returned non-numbers: {exc}") from None
            if arr.shape != (len(texts),):
                raise RerankError(
                    f"scorer {self.name} returned {arr.size} scores for {len(texts)} texts"
                )
            if not np.isfinite(arr).all():
                raise RerankError(f"scorer {self.name} returned a NaN or infinite score")
            out[where] = arr
        return out


class BiEncoderRuntime:
    """A sentence-transformers bi-encoder: cosine similarity of query and text embeddings.

    Embeddings are cached by text (least recently used first out, at most
    ``embedding_cache_size`` of them), so a passage that comes back in the windows of many
    queries, as in an evaluation run, is encoded once. Each text is encoded on its own row
    of a padded batch, so a cached embedding equals a fresh one up to float rounding.
    """

    runtime = "torch"
    dtype = "fp32"
    kind = "bi-encoder"

    def __init__(
        self, model: Any, *, name: str, max_length: int, embedding_cache_size: int = 50_000
    ) -> None:
        self.model = model
        self.name = name
        self.max_length: int | None = max_length
        self.device = str(model.device)
        model.max_seq_length = max_length
        # Request threads count tokens with their own copy; the model's tokenizer is used
        # by encode() on the engine thread only.
        self._counter = copy.deepcopy(model.tokenizer)
        self._lock = threading.Lock()
        # Touched by forward() only, which runs on one thread at a time.
        self._embeddings: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._cache_size = embedding_cache_size
        self.encoded = 0  # texts (queries included) the model has encoded

    def tokenize(
        self,
        query: str,
        texts: Sequence[str],
        *,
        truncate: bool = True,
        direction: Direction = "right",
    ) -> list[Pair]:
        with self._lock:
            enc = self._counter([query, *texts], add_special_tokens=True, truncation=False)
        ids: list[list[int]] = enc["input_ids"]
        limit = self.max_length or 512
        q = len(ids[0])
        out = []
        for i, t in enumerate(ids[1:]):
            n = max(q, len(t))
            if n > limit:
                if not truncate:
                    raise InputTooLongError(
                        f"texts[{i}] is {n} tokens, above the maximum input length {limit}; "
                        "shorten it or send truncate=true",
                        index=i,
                    )
                n = limit
            out.append(Pair(length=n, query=query, text=texts[i]))
        return out

    def setup_thread(self) -> None:
        pass

    def _embed(self, texts: Sequence[str]) -> dict[str, npt.NDArray[np.float32]]:
        """Normalized embeddings of ``texts``, encoding only those not in the cache."""
        cache = self._embeddings
        found = {t: cache[t] for t in dict.fromkeys(texts) if t in cache}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            emb = self.model.encode(
                missing,
                batch_size=max(1, len(missing)),
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            self.encoded += len(missing)
            found.update(zip(missing, np.asarray(emb, dtype=np.float32), strict=True))
        for t, e in found.items():
            cache[t] = e
            cache.move_to_end(t)
        while len(cache) > self._cache_size:
            cache.popitem(last=False)
        return found

    def forward(self, pairs: Sequence[Pair]) -> Scores:
        emb = self._embed([p.query for p in pairs] + [p.text for p in pairs])
        qs = np.stack([emb[p.query] for p in pairs])
        texts = np.stack([emb[p.text] for p in pairs])
        return np.asarray((texts * qs).sum(axis=1), dtype=np.float32)
