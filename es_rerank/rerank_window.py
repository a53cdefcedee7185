"""What the demo and ``es-rerank eval`` share: which model to use, and the rerank step.

``rerank_hits`` re-scores a first-stage window with a loaded model; it is the one place
the demo and the evaluation rerank, so it can be swapped for ``es_rerank.search`` with a
``TextSimilarityReranker`` without touching their callers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from es_rerank.backends.base import Hit
from es_rerank.models import (
    DEFAULT_HUB_MODEL,
    LoadedModel,
    ModelLoadError,
    load_model,
    packaged_bi_encoder_path,
)

__all__ = ["RankedHit", "rerank_hits", "resolve_model"]

ENV_MODEL = "ES_RERANK_MODEL"


def resolve_model(
    explicit: str | None, *, notice: TextIO = sys.stderr, max_length: int | None = None
) -> LoadedModel:
    """``--model`` / ``$ES_RERANK_MODEL``, else the cached or hub default cross-encoder,
    else the packaged offline bi-encoder, with a notice on ``notice`` saying why.

    An explicitly named model that fails to load is an error, never a fallback.
    """
    chosen = explicit or os.environ.get(ENV_MODEL) or None
    if chosen:
        return load_model(chosen, max_length=max_length)
    try:
        return load_model(DEFAULT_HUB_MODEL, max_length=max_length)
    except ModelLoadError as exc:
        path = packaged_bi_encoder_path()
        print(
            f"notice: the default cross-encoder {DEFAULT_HUB_MODEL} is not available ({exc}).\n"
            f"notice: using the packaged offline bi-encoder all-MiniLM-L6-v2 at {path} instead; "
            f"its cosine scores rank less well than a cross-encoder. Pass --model PATH or set "
            f"{ENV_MODEL} to use another model.",
            file=notice,
        )
        return load_model(path, max_length=max_length)


@dataclass(frozen=True)
class RankedHit:
    id: str
    score: float
    first_stage_rank: int  # 1-based
    first_stage_score: float
    source: dict[str, object]


def rerank_hits(
    model: LoadedModel,
    query: str,
    hits: Sequence[Hit],
    *,
    field: str = "text",
    batch_size: int = 32,
) -> list[RankedHit]:
    """Score every hit's ``field`` against ``query``; best first (ties keep first-stage order).

    A hit without the field is scored on an empty string, like ES gives it no text.
    """
    texts = [_text(h.source.get(field)) for h in hits]
    scores = model.score(query, texts, batch_size=batch_size).tolist() if hits else []
    ranked = [
        RankedHit(h.id, float(s), i + 1, h.score, dict(h.source))
        for i, (h, s) in enumerate(zip(hits, scores, strict=True))
    ]
    ranked.sort(key=lambda r: (-r.score, r.first_stage_rank))
    return ranked


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)
