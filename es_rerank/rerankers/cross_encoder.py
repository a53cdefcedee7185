"""In-process reranking with a sentence-transformers model (cross- or bi-encoder)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

from es_rerank.models import LoadedModel, load_model
from es_rerank.rerankers.base import check_scores

__all__ = ["CrossEncoderReranker"]


class CrossEncoderReranker:
    """Raw scores from a local model: logits for a cross-encoder, cosine similarity for a
    bi-encoder. ``model`` is a local directory or a hub id (resolved by
    :func:`es_rerank.models.load_model`), or an already loaded :class:`LoadedModel`.

    >>> from es_rerank.models import packaged_bi_encoder_path
    >>> r = CrossEncoderReranker(packaged_bi_encoder_path(), batch_size=8)
    >>> s = r.rerank("capital of france", ["Paris is the capital of France.", "Cats purr."])
    >>> s[0] > s[1]
    True
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | LoadedModel,
        *,
        batch_size: int = 32,
        max_length: int | None = None,
        device: str | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if max_length is not None and (isinstance(max_length, bool) or max_length < 1):
            raise ValueError(f"max_length must be a positive integer, got {max_length!r}")
        if isinstance(model, LoadedModel):
            self.model = model
        else:
            self.model = load_model(model, device=device, max_length=max_length)
        self.batch_size = batch_size
        # Tokenizers are not thread-safe: one call at a time per model.
        self._lock = threading.Lock()

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        with self._lock:
            scores = self.model.score(query, list(texts), batch_size=self.batch_size)
        return check_scores(scores.tolist(), len(texts))

    def __repr__(self) -> str:
        return f"CrossEncoderReranker({self.model.path!r}, kind={self.model.kind!r})"
