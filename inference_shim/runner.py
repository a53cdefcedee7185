"""The inference engine: one thread owns the model; request threads enqueue work and wait.

Cross-encoders get token-budget dynamic batching: request threads tokenize their own
pairs, the engine thread takes the waiting requests (oldest first), sorts all their pairs
by length so each batch pads little, cuts batches of at most ``max_batch_tokens`` padded
tokens, runs them, and hands every request its scores in its own order. A request larger
than one batch is simply split across batches. Bi-encoders and ``--scorer`` functions are
called once per request on the same thread.

>>> engine = Engine(FunctionBackend(lambda q, ts: [float(len(t)) for t in ts], name="len"))
>>> engine.start()
>>> engine.score("q", ["a", "abc"]).tolist()
[1.0, 3.0]
>>> engine.close()
"""

from __future__ import annotations

import copy
import importlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from inference_shim.errors import BackendError, OverloadedError, UnhealthyError, ValidationError
from inference_shim.metrics import Metrics

__all__ = [
    "Backend",
    "CrossEncoderBackend",
    "Engine",
    "EngineInfo",
    "FunctionBackend",
    "ScorerFunction",
    "load_scorer",
]

Scores = npt.NDArray[np.float32]
ScorerFunction = Callable[[str, list[str]], Sequence[float]]
Direction = Literal["right", "left"]

# The engine looks at this many batches' worth of waiting pairs at once: enough to sort
# several requests together, small enough that early requests are not held back long.
WINDOW_BATCHES = 8


@dataclass(frozen=True)
class EngineInfo:
    """What ``GET /info`` reports about the engine."""

    model_id: str
    kind: str
    backend: str
    device: str
    max_input_length: int | None


@dataclass
class _Job:
    query: str
    texts: list[str]
    future: Future[Scores]
    enqueued: float
    encoded: list[tuple[list[int], list[int] | None]] | None = None
    scores: Scores = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    failed: bool = False


class CrossEncoderBackend:
    """A Hugging Face sequence classifier with one output (a cross-encoder's logit)."""

    batching = True
    backend_name = "torch"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        name: str,
        max_length: int,
        torch_threads: int | None = None,
    ) -> None:
        import torch

        num_labels = int(getattr(model.config, "num_labels", 1))
        if num_labels != 1:
            raise ValueError(
                f"{name}: a rerank model needs one output (num_labels=1), this one has {num_labels}"
            )
        self.torch = torch
        self.model = model.eval()
        self.name = name
        self.max_length = max_length
        self.device = str(next(model.parameters()).device)
        self.torch_threads = torch_threads
        self._tok_right = tokenizer
        self._tok_left = copy.deepcopy(tokenizer)
        self._tok_left.truncation_side = "left"
        # Fast tokenizers are not safe to call from several threads at once when the
        # truncation settings differ between calls; one lock keeps them consistent.
        self._tok_lock = threading.Lock()
        self.pad_id = int(tokenizer.pad_token_id or 0)
        self.uses_types = "token_type_ids" in tokenizer.model_input_names
        self.kind = "cross-encoder"

    def encode(
        self, query: str, texts: Sequence[str], *, truncate: bool, direction: Direction
    ) -> list[tuple[list[int], list[int] | None]]:
        """Token ids (and type ids) per pair; raises ValidationError for an over-long pair
        when ``truncate`` is false."""
        tok = self._tok_left if direction == "left" else self._tok_right
        with self._tok_lock:
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
                    raise ValidationError(
                        f"texts[{i}] with the query is {len(seq)} tokens, above the maximum "
                        f"input length {self.max_length}; shorten it or send truncate=true"
                    )
        types: list[list[int]] | list[None] = (
            enc["token_type_ids"] if self.uses_types else [None] * len(ids)
        )
        return list(zip(ids, types, strict=True))

    def setup_thread(self) -> None:
        if self.torch_threads is not None:
            self.torch.set_num_threads(self.torch_threads)

    def forward(self, pairs: Sequence[tuple[list[int], list[int] | None]]) -> Scores:
        width = max(len(ids) for ids, _ in pairs)
        n = len(pairs)
        ids_arr = np.full((n, width), self.pad_id, dtype=np.int64)
        mask = np.zeros((n, width), dtype=np.int64)
        types_arr = np.zeros((n, width), dtype=np.int64)
        for row, (ids, types) in enumerate(pairs):
            ids_arr[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
            if types is not None:
                types_arr[row, : len(types)] = types
        torch = self.torch
        inputs = {
            "input_ids": torch.from_numpy(ids_arr).to(self.device),
            "attention_mask": torch.from_numpy(mask).to(self.device),
        }
        if self.uses_types:
            inputs["token_type_ids"] = torch.from_numpy(types_arr).to(self.device)
        with torch.inference_mode():
            logits = self.model(**inputs).logits
        out: Scores = logits[:, 0].float().cpu().numpy().astype(np.float32, copy=False)
        return out


class FunctionBackend:
    """Any ``(query, texts) -> raw scores`` callable, called once per request."""

    batching = False
    backend_name = "python"

    def __init__(
        self,
        fn: ScorerFunction,
        *,
        name: str,
        kind: str = "scorer",
        device: str = "cpu",
        max_length: int | None = None,
        length_check: Callable[[str, Sequence[str]], list[int]] | None = None,
    ) -> None:
        self.fn = fn
        self.name = name
        self.kind = kind
        self.device = device
        self.max_length = max_length
        self.length_check = length_check

    def check(self, query: str, texts: Sequence[str], *, truncate: bool) -> None:
        if truncate or self.length_check is None or self.max_length is None:
            return
        for i, n in enumerate(self.length_check(query, texts)):
            if n > self.max_length:
                raise ValidationError(
                    f"texts[{i}] is {n} tokens, above the maximum input length "
                    f"{self.max_length}; shorten it or send truncate=true"
                )

    def setup_thread(self) -> None:
        pass

    def run(self, query: str, texts: list[str]) -> Scores:
        out = self.fn(query, texts)
        try:
            arr = np.asarray([float(s) for s in out], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise BackendError(f"scorer {self.name} returned non-numbers: {exc}") from None
        if arr.shape != (len(texts),):
            raise BackendError(
                f"scorer {self.name} returned {arr.size} scores for {len(texts)} texts"
            )
        if not np.isfinite(arr).all():
            raise BackendError(f"scorer {self.name} returned a NaN or infinite score")
        return arr.astype(np.float32)


Backend = CrossEncoderBackend | FunctionBackend


class Engine:
    """Owns a backend on one thread; ``submit`` and ``score`` are safe from any thread."""

    def __init__(
        self,
        backend: Backend,
        *,
        max_batch_tokens: int = 4096,
        max_queue: int = 64,
        metrics: Metrics | None = None,
    ) -> None:
        if max_batch_tokens <= 0 or max_queue <= 0:
            raise ValueError("max_batch_tokens and max_queue must be > 0")
        self.backend = backend
        self.max_batch_tokens = max_batch_tokens
        self.max_queue = max_queue
        self.metrics = metrics
        self.info = EngineInfo(
            model_id=backend.name,
            kind=backend.kind,
            backend=backend.backend_name,
            device=backend.device,
            max_input_length=backend.max_length,
        )
        self._cond = threading.Condition()
        self._waiting: deque[_Job] = deque()
        self._open = 0  # requests accepted and not yet answered
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
            if isinstance(self.backend, CrossEncoderBackend):
                job.encoded = self.backend.encode(
                    query, job.texts, truncate=truncate, direction=truncation_direction
                )
            else:
                self.backend.check(query, job.texts, truncate=truncate)
        except BaseException:
            self._release(1)
            raise
        job.enqueued = time.perf_counter()
        with self._cond:
            self._waiting.append(job)
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

    def _release(self, n: int) -> None:
        with self._cond:
            self._open -= n
            self._set_depth()

    def _main(self) -> None:
        try:
            self.backend.setup_thread()
            self._warmup()
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
                job.future.set_exception(BackendError(f"the engine stopped: {self._fault}"))
            self._release(len(left))
            raise

    def _warmup(self) -> None:
        if isinstance(self.backend, CrossEncoderBackend):
            pairs = self.backend.encode(
                "warm up", ["warm up the model"] * 2, truncate=True, direction="right"
            )
            self.backend.forward(pairs)

    def _take(self) -> list[_Job] | None:
        """Block for the oldest waiting request, then add more while the window lasts."""
        with self._cond:
            while not self._waiting:
                if self._stopping:
                    return None
                self._cond.wait()
            jobs = [self._waiting.popleft()]
            if isinstance(self.backend, CrossEncoderBackend):
                budget = self.max_batch_tokens * WINDOW_BATCHES
                used = _job_tokens(jobs[0])
                while self._waiting and used + _job_tokens(self._waiting[0]) <= budget:
                    job = self._waiting.popleft()
                    used += _job_tokens(job)
                    jobs.append(job)
            return jobs

    def _run(self, jobs: list[_Job]) -> None:
        now = time.perf_counter()
        try:
            if self.metrics is not None:
                for job in jobs:
                    self.metrics.queue_time.observe(now - job.enqueued)
            if isinstance(self.backend, CrossEncoderBackend):
                self._run_batched(self.backend, jobs)
            else:
                for job in jobs:
                    self._run_whole(self.backend, job)
            for job in jobs:
                if not job.failed:
                    job.future.set_result(job.scores)
        except Exception as exc:  # a fault outside the model call: answer, keep serving
            for job in jobs:
                if not job.future.done():
                    self._fail(job, exc)
        finally:
            self._release(len(jobs))

    def _run_whole(self, backend: FunctionBackend, job: _Job) -> None:
        t0 = time.perf_counter()
        try:
            job.scores = backend.run(job.query, job.texts)
        except Exception as exc:
            self._fail(job, exc)
            return
        if self.metrics is not None:
            self.metrics.inference_time.observe(time.perf_counter() - t0)
            self.metrics.batch_size.observe(len(job.texts))
            self.metrics.pairs.inc(len(job.texts))

    def _run_batched(self, backend: CrossEncoderBackend, jobs: list[_Job]) -> None:
        items: list[tuple[int, int, int]] = []  # (length, job number, pair number)
        for j, job in enumerate(jobs):
            assert job.encoded is not None
            job.scores = np.zeros(len(job.texts), dtype=np.float32)
            items.extend((len(ids), j, i) for i, (ids, _) in enumerate(job.encoded))
        items.sort()
        for batch in _cut(items, self.max_batch_tokens):
            live = [it for it in batch if not jobs[it[1]].failed]
            if not live:
                continue
            pairs = [jobs[j].encoded[i] for _, j, i in live]  # type: ignore[index]
            t0 = time.perf_counter()
            try:
                out = backend.forward(pairs)
            except Exception as exc:
                for j in {it[1] for it in live}:
                    self._fail(jobs[j], exc)
                continue
            for (_, j, i), s in zip(live, out.tolist(), strict=True):
                jobs[j].scores[i] = s
            if self.metrics is not None:
                m = self.metrics
                m.inference_time.observe(time.perf_counter() - t0)
                m.batch_size.observe(len(live))
                m.batch_tokens.observe(live[-1][0] * len(live))
                m.tokens.inc(sum(it[0] for it in live))
                m.pairs.inc(len(live))

    @staticmethod
    def _fail(job: _Job, exc: Exception) -> None:
        job.failed = True
        err = exc if isinstance(exc, BackendError) else BackendError(f"{type(exc).__name__}: {exc}")
        job.future.set_exception(err)


def _job_tokens(job: _Job) -> int:
    return sum(len(ids) for ids, _ in job.encoded or ())


def _cut(items: list[tuple[int, int, int]], budget: int) -> list[list[tuple[int, int, int]]]:
    """Cut length-sorted items into batches whose padded size (longest x count) fits the
    budget; a single pair longer than the budget still gets a batch of its own."""
    batches: list[list[tuple[int, int, int]]] = []
    current: list[tuple[int, int, int]] = []
    for item in items:
        if current and item[0] * (len(current) + 1) > budget:
            batches.append(current)
            current = []
        current.append(item)
    if current:
        batches.append(current)
    return batches


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


def default_torch_threads() -> int:
    """One intra-op thread per CPU the process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def model_position_limit(config: Any) -> int | None:
    """Longest input the position embeddings allow (RoBERTa-style models reserve two)."""
    limit = getattr(config, "max_position_embeddings", None)
    if limit is None:
        return None
    if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
        return int(limit) - 2
    return int(limit)
