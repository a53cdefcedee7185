"""Turn settings into a started engine: a model on the runtime and dtype the settings name
(:func:`es_rerank.runtime.load_runtime`: cross-encoders on torch, ONNX Runtime or
OpenVINO; bi-encoders by cosine), or a ``--scorer`` function.

>>> from inference_shim.config import Settings
>>> engine = build_engine(Settings(scorer="inference_shim.loading:_example_scorer"))
>>> engine.score("berlin", ["berlin city", "paris"]).tolist()
[1.0, 0.0]
>>> engine.close()
"""

from __future__ import annotations

import sys

from es_rerank.console import long_step
from es_rerank.runtime import FunctionRuntime, MaxLengthError, ModelRuntime, load_runtime
from inference_shim.config import OMP_WAIT_POLICY, Settings
from inference_shim.metrics import Metrics
from inference_shim.runner import Engine, load_scorer

__all__ = ["build_engine", "build_runtime", "passive_openmp_waits"]

# libgomp's default lets a thread that finished its share of a parallel region spin for the
# others; on cores shared with other processes the thread it waits for is descheduled, and
# torch on 2 intra-op threads beside a CPU hog ran MiniLM-L6 at 260-300 tokens/s, a
# 100-passage request in 28-33 s, past the 30 s deadline. Sleeping instead: 1,700-3,600
# tokens/s, 2.4-5 s (docs/shim-reliability.md).
OMP_WAIT = "PASSIVE"


def _example_scorer(query: str, texts: list[str]) -> list[float]:
    """Counts query words found in each text (the doctest's scorer)."""
    words = set(query.lower().split())
    return [float(len(words & set(t.lower().split()))) for t in texts]


def passive_openmp_waits() -> bool:
    """Have OpenMP's idle threads sleep rather than spin (``OMP_WAIT_POLICY=PASSIVE``)
    unless the environment already chose; OpenMP reads it once, when torch is first
    imported, so True only when that is still to come.

    >>> passive_openmp_waits() == ("torch" not in sys.modules)
    True
    >>> bool(OMP_WAIT_POLICY.value())
    True
    """
    OMP_WAIT_POLICY.set_default(OMP_WAIT)
    return "torch" not in sys.modules


def build_runtime(settings: Settings) -> ModelRuntime:
    """The model runtime (or scorer adapter) the settings name; OpenMP's waits are made
    passive first (:func:`passive_openmp_waits`)."""
    if settings.scorer is not None:
        return FunctionRuntime(load_scorer(settings.scorer), name=settings.scorer)
    if settings.model is None:
        raise ValueError("give exactly one of --model and --scorer")
    passive_openmp_waits()
    try:
        with long_step(f"loading {settings.model} (runtime {settings.runtime})"):
            return load_runtime(
                settings.model,
                runtime=settings.runtime,
                dtype=settings.dtype,
                device=settings.device,
                max_length=settings.max_input_length,
                threads=settings.torch_threads,
                instruction=settings.instruction,
            )
    except MaxLengthError as exc:
        raise ValueError(
            f"--max-input-length {exc.requested} is above the model's limit of {exc.limit}"
        ) from None


def build_engine(settings: Settings, *, metrics: Metrics | None = None) -> Engine:
    """Load what the settings name and start its engine thread (warm-up runs there)."""
    engine = Engine(
        build_runtime(settings),
        max_batch_tokens=settings.max_batch_tokens,
        max_queue=settings.max_queue,
        max_queue_wait=settings.max_queue_wait,
        metrics=metrics,
    )
    engine.start()
    return engine
