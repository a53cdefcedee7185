"""Turn settings into a started engine: a model through ``es_rerank.models.load_model``
(cross-encoders batched by token budget, bi-encoders by cosine), or a ``--scorer``
function.

>>> from inference_shim.config import Settings
>>> engine = build_engine(Settings(scorer="inference_shim.loading:_example_scorer"))
>>> engine.score("berlin", ["berlin city", "paris"]).tolist()
[1.0, 0.0]
>>> engine.close()
"""

from __future__ import annotations

from collections.abc import Sequence

from inference_shim.config import Settings
from inference_shim.metrics import Metrics
from inference_shim.runner import (
    CrossEncoderBackend,
    Engine,
    FunctionBackend,
    default_torch_threads,
    load_scorer,
    model_position_limit,
)

__all__ = ["build_engine"]


def _example_scorer(query: str, texts: list[str]) -> list[float]:
    """Counts query words found in each text (the doctest's scorer)."""
    words = set(query.lower().split())
    return [float(len(words & set(t.lower().split()))) for t in texts]


def build_engine(settings: Settings, *, metrics: Metrics | None = None) -> Engine:
    """Load what the settings name and start its engine thread (warm-up runs there)."""
    if settings.scorer is not None:
        fn = load_scorer(settings.scorer)
        backend: CrossEncoderBackend | FunctionBackend = FunctionBackend(fn, name=settings.scorer)
    elif settings.model is not None:
        backend = _model_backend(settings)
    else:
        raise ValueError("give exactly one of --model and --scorer")
    engine = Engine(
        backend,
        max_batch_tokens=settings.max_batch_tokens,
        max_queue=settings.max_queue,
        metrics=metrics,
    )
    engine.start()
    return engine


def _model_backend(settings: Settings) -> CrossEncoderBackend | FunctionBackend:
    import torch

    from es_rerank.models import load_model

    assert settings.model is not None
    torch.set_num_threads(settings.torch_threads or default_torch_threads())
    loaded = load_model(settings.model, device=settings.device)
    if loaded.kind == "cross-encoder":
        hf = loaded.model.model
        limit = min(loaded.max_length, model_position_limit(hf.config) or loaded.max_length)
        max_length = _cap(settings.max_input_length, limit)
        return CrossEncoderBackend(
            hf,
            loaded.model.tokenizer,
            name=settings.model,
            max_length=max_length,
            torch_threads=settings.torch_threads or default_torch_threads(),
        )
    st = loaded.model
    max_length = _cap(settings.max_input_length, loaded.max_length)
    st.max_seq_length = max_length
    tokenizer = st.tokenizer

    def lengths(query: str, texts: Sequence[str]) -> list[int]:
        enc = tokenizer([query, *texts], add_special_tokens=True, truncation=False)
        ids: list[list[int]] = enc["input_ids"]
        q = len(ids[0])
        return [max(q, len(t)) for t in ids[1:]]

    return FunctionBackend(
        lambda q, ts: loaded.score(q, ts).tolist(),
        name=settings.model,
        kind="bi-encoder",
        device=str(st.device),
        max_length=max_length,
        length_check=lengths,
    )


def _cap(requested: int | None, limit: int) -> int:
    if requested is None:
        return limit
    if requested > limit:
        raise ValueError(f"--max-input-length {requested} is above the model's limit of {limit}")
    return requested
