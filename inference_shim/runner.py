"""The inference engine: one thread owns the model runtime; request threads tokenize their
own pairs, enqueue them and wait.

The engine thread takes the waiting requests (oldest first), sorts all their pairs by
token length so each batch pads little, cuts batches of at most ``max_batch_tokens``
padded tokens (:func:`es_rerank.runtime.plan_batches`, the same batching the in-process
reranker uses), runs them, and hands every request its scores in its own order. A
request larger than one batch is simply split across batches. The engine knows models
only through :class:`es_rerank.runtime.ModelRuntime`: cross-encoders on any runtime,
bi-encoders and ``--scorer`` functions alike.

Every job keeps its token count and the engine measures its throughput (tokens per second
of model time), so the wait of a new request can be estimated from the tokens queued ahead
of it (:attr:`Engine.estimated_wait_s`): the basis for admission control, deadlines and
fair interleaving of requests.

>>> from es_rerank.runtime import FunctionRuntime
>>> engine = Engine(FunctionRuntime(lambda q, ts: [float(len(t)) for t in ts], name="len"))
>>> engine.start()
>>> engine.score("q", ["a", "abc"]).tolist()
[1.0, 3.0]
>>> engine.close()
"""

from __future__ import annotations

import importlib
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from es_rerank.runtime import InputTooLongError, ModelRuntime, Pair, plan_batches
from es_rerank.runtime.base import Direction, Scores
from inference_shim.errors import BackendError, OverloadedError, UnhealthyError, ValidationError
from inference_shim.metrics import Metrics

__all__ = ["Direction", "Engine", "EngineInfo", "ScorerFunction", "load_scorer"]

ScorerFunction = Callable[[str, list[str]], Sequence[float]]

# The engine looks at this many batches' worth of waiting pairs at once: enough to sort
# several requests together, small enough that early requests are not held back long.
WINDOW_BATCHES = 8
# Weight of the newest batch in the moving average of throughput.
_THROUGHPUT_SMOOTHING = 0.2


@dataclass(frozen=True)
class EngineInfo:
    """What ``GET /info`` reports about the engine."""

    model_id: str
    kind: str
    backend: str
    dtype: str
    device: str
    max_input_length: int | None
    selection: dict[str, Any] | None = None


@dataclass
class _Job:
    query: str
    texts: list[str]
    future: Future[Scores]
    enqueued: float
    pairs: list[Pair] = field(default_factory=list)
    tokens: int = 0  # tokens of all its pairs (unpadded): its cost
    scores: Scores = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    failed: bool = False


class Engine:
    """Owns a model runtime on one thread; ``submit`` and ``score`` are safe from any
    thread."""

    def __init__(
        self,
        runtime: ModelRuntime,
        *,
        max_batch_tokens: int = 4096,
        max_queue: int = 64,
        metrics: Metrics | None = None,
    ) -> None:
        if max_batch_tokens <= 0 or max_queue <= 0:
            raise ValueError("max_batch_tokens and max_queue must be > 0")
        self.runtime = runtime
        self.max_batch_tokens = max_batch_tokens
        self.max_queue = max_queue
        self.metrics = metrics
        selection = getattr(runtime, "selection", None)
        self.info = EngineInfo(
            model_id=runtime.name,
            kind=runtime.kind,
            backend=runtime.runtime,
            dtype=runtime.dtype,
            device=runtime.device,
            max_input_length=runtime.max_length,
            selection=selection.to_dict() if selection is not None else None,
        )
        self._cond = threading.Condition()
        self._waiting: deque[_Job] = deque()
        self._open = 0  # requests accepted and not yet answered
        self._queued_tokens = 0  # tokens of accepted requests not yet answered
        self._tokens_per_s: float | None = None
        self._stopping = False
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._fault: str | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Start the engine thread; it warms the model up, then reports ready."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._main, name="shim-engine", daemon=True)
        self._thread.start()

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and not self._stopping and self._fault is None

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    @property
    def healthy(self) -> bool:
        """False once the engine thread has died (every later request gets 503)."""
        return self._fault is None

    @property
    def open_requests(self) -> int:
        with self._cond:
            return self._open

    @property
    def tokens_per_s(self) -> float | None:
        """Measured model throughput (moving average over batches); None before any."""
        return self._tokens_per_s

    @property
    def estimated_wait_s(self) -> float | None:
        """Seconds of model time the requests already accepted still need."""
        with self._cond:
            queued = self._queued_tokens
        rate = self._tokens_per_s
        return None if rate is None else queued / rate

    def close(self, timeout: float | None = None) -> None:
        """Stop taking requests, finish the accepted ones, stop the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    # -- requests --------------------------------------------------------------------
    def submit(
        self,
        query: str,
        texts: Sequence[str],
        *,
        truncate: bool = True,
        truncation_direction: Direction = "right",
    ) -> Future[Scores]:
        """Queue one request; its future resolves to raw scores in input order."""
        if self._fault is not None:
            raise UnhealthyError(f"the engine stopped: {self._fault}")
        if self._stopping:
            raise UnhealthyError("the server is shutting down")
        future: Future[Scores] = Future()
        if not texts:
            future.set_result(np.zeros(0, dtype=np.float32))
            return future
        job = _Job(query=query, texts=list(texts), future=future, enqueued=0.0)
        # Reserve a slot before tokenizing, so an overloaded server refuses cheaply.
        with self._cond:
            if self._open >= self.max_queue:
                raise OverloadedError(
                    f"{self._open} requests are queued (--max-queue {self.max_queue}); retry later"
                )
            self._open += 1
        try:
            job.pairs = self.runtime.tokenize(
                query, job.texts, truncate=truncate, direction=truncation_direction
            )
        except InputTooLongError as exc:
            self._refuse()
            raise ValidationError(str(exc)) from None
        except BaseException:
            self._refuse()
            raise
        job.tokens = sum(p.length for p in job.pairs)
        job.enqueued = time.perf_counter()
        with self._cond:
            self._waiting.append(job)
            self._queued_tokens += job.tokens
            self._set_depth()
            self._cond.notify()
        return future

    def score(
        self,
        query: str,
        texts: Sequence[str],
        *,
        truncate: bool = True,
        truncation_direction: Direction = "right",
    ) -> Scores:
        """Submit and wait: raw scores in input order."""
        direction = truncation_direction
        return self.submit(query, texts, truncate=truncate, truncation_direction=direction).result()

    # -- engine thread ---------------------------------------------------------------
    def _set_depth(self) -> None:
        if self.metrics is not None:
            self.metrics.queue_depth.set(self._open)

    def _release(self, jobs: Sequence[_Job]) -> None:
        """Free the slots (and queued tokens) of answered jobs."""
        with self._cond:
            self._open -= len(jobs)
            self._queued_tokens -= sum(j.tokens for j in jobs)
            self._set_depth()

    def _refuse(self) -> None:
        """Free the slot of a request refused before it was queued."""
        with self._cond:
            self._open -= 1
            self._set_depth()

    def _main(self) -> None:
        try:
            self.runtime.setup_thread()  # thread settings and a warm-up pass
            self._ready.set()
            while True:
                jobs = self._take()
                if jobs is None:
                    return
                self._run(jobs)
        except BaseException as exc:  # keep every waiting request answered
            self._fault = f"{type(exc).__name__}: {exc}"
            self._ready.set()
            with self._cond:
                left = list(self._waiting)
                self._waiting.clear()
            for job in left:
                if job.future.set_running_or_notify_cancel():
                    job.future.set_exception(BackendError(f"the engine stopped: {self._fault}"))
            self._release(left)
            raise

    def _take(self) -> list[_Job] | None:
        """Block for the oldest waiting request, then add more while the window lasts."""
        with self._cond:
            jobs: list[_Job] = []
            while not jobs:
                while not self._waiting:
                    if self._stopping:
                        return None
                    self._cond.wait()
                first = self._waiting.popleft()
                if self._claim(first):
                    jobs.append(first)
            budget = self.max_batch_tokens * WINDOW_BATCHES
            used = jobs[0].tokens
            while self._waiting and used + self._waiting[0].tokens <= budget:
                job = self._waiting.popleft()
                if self._claim(job):
                    used += job.tokens
                    jobs.append(job)
            return jobs

    # -- cancellation: a future cancelled while queued (its client has gone) ------------
    def _claim(self, job: _Job) -> bool:
        """Mark a job's future running, so it can no longer be cancelled; a job whose
        future was cancelled while queued is dropped (its slot freed), not computed."""
        if job.future.set_running_or_notify_cancel():
            return True
        self._release([job])
        return False

    def _run(self, jobs: list[_Job]) -> None:
        now = time.perf_counter()
        try:
            if self.metrics is not None:
                for job in jobs:
                    self.metrics.queue_time.observe(now - job.enqueued)
            self._run_batched(jobs)
            for job in jobs:
                if not job.failed:
                    job.future.set_result(job.scores)
        except Exception as exc:  # a fault outside the model call: answer, keep serving
            for job in jobs:
                if not job.future.done():
                    self._fail(job, exc)
        finally:
            self._release(jobs)

    def _run_batched(self, jobs: list[_Job]) -> None:
        where: list[tuple[int, int]] = []  # (job number, pair number) of each flat pair
        flat: list[Pair] = []
        for j, job in enumerate(jobs):
            job.scores = np.zeros(len(job.texts), dtype=np.float32)
            where.extend((j, i) for i in range(len(job.pairs)))
            flat.extend(job.pairs)
        for batch in plan_batches([p.length for p in flat], max_batch_tokens=self.max_batch_tokens):
            live = [k for k in batch if not jobs[where[k][0]].failed]
            if not live:
                continue
            t0 = time.perf_counter()
            try:
                out = self.runtime.forward([flat[k] for k in live])
            except Exception as exc:
                for j in {where[k][0] for k in live}:
                    self._fail(jobs[j], exc)
                continue
            elapsed = time.perf_counter() - t0
            for k, s in zip(live, out.tolist(), strict=True):
                j, i = where[k]
                jobs[j].scores[i] = s
            tokens = sum(flat[k].length for k in live)
            self._observe(tokens, elapsed)
            if self.metrics is not None:
                m = self.metrics
                m.inference_time.observe(elapsed)
                m.batch_size.observe(len(live))
                m.batch_tokens.observe(flat[live[-1]].length * len(live))
                m.tokens.inc(tokens)
                m.pairs.inc(len(live))

    def _observe(self, tokens: int, elapsed: float) -> None:
        if elapsed <= 0:
            return
        rate = tokens / elapsed
        old = self._tokens_per_s
        self._tokens_per_s = rate if old is None else old + _THROUGHPUT_SMOOTHING * (rate - old)

    @staticmethod
    def _fail(job: _Job, exc: Exception) -> None:
        job.failed = True
        err = exc if isinstance(exc, BackendError) else BackendError(f"{type(exc).__name__}: {exc}")
        job.future.set_exception(err)


def load_scorer(spec: str) -> ScorerFunction:
    """Import ``package.module:function``; raises ValueError naming what is wrong.

    >>> import math
    >>> load_scorer("math:fsum") is math.fsum
    True
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"--scorer must look like package.module:function, got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"--scorer {spec}: cannot import {module_name!r}: {exc}") from exc
    fn: Any = module
    for part in attr.split("."):
        fn = getattr(fn, part, None)
        if fn is None:
            raise ValueError(f"--scorer {spec}: {module_name} has no attribute {attr!r}")
    if not callable(fn):
        raise ValueError(f"--scorer {spec}: {attr!r} is not callable")
    return fn  # type: ignore[no-any-return]
