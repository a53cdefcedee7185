"""The inference engine: one thread owns the model runtime; request threads tokenize their
own pairs, enqueue them and wait.

The engine thread forms one batch of at most ``max_batch_tokens`` padded tokens at a time
(or one per stream, for a runtime that runs several side by side: OpenVINO's streams)
from the pairs of every open request (:mod:`inference_shim.scheduling`): part of each batch
goes to the requests with the least work left, the rest to the oldest, so a small request
is never stuck behind the remaining batches of a large one and equal requests still finish
in arrival order. Every request gets its scores in its own order once its last pair has run.
The engine knows models only through :class:`es_rerank.runtime.ModelRuntime`:
cross-encoders on any runtime, bi-encoders and ``--scorer`` functions alike.

The engine measures its throughput (tokens per second of wall time while busy,
:mod:`inference_shim.throughput`): a moving average, and a conservative rate (a low
quantile of the recent full batches' rates) that admission plans with. A request is
refused with :class:`~inference_shim.errors.OverloadedError` (429) when, at the
conservative rate, its wait behind the queued work plus its own model time is above
``max_queue_wait`` (while other work is queued), or that wait plus twice its own model time
is above its deadline (for a request alone, only at a rate measured in the last 30 s):
before its body is parsed when the work ahead alone is too much
(:meth:`Engine.check_admission`), before it is tokenized when its size estimated from its
characters is, and after tokenizing otherwise.

A request is admitted when its first pair enters a batch; until then it is only queued.
Between batches every queued request that has not started is checked again at the
conservative rate (the cores may have been taken away since it arrived): one that could no
longer finish before its deadline, with its own model time counted twice as a margin, is
refused at once with the same 429 (its work never started), and so is one whose deadline
passed in the queue. An admitted request is never refused: it is served, and only when its
deadline passes mid-work is its remaining work dropped
(:class:`~inference_shim.errors.DeadlineError`, 503). Every refusal's ``retry_after`` is
the time the queued work takes to drain at the current average rate, from 1 s to
``RETRY_AFTER_MAX_S``. A cancelled :class:`Submission` (a client that has gone) has its
queued work dropped at once.

>>> from es_rerank.runtime import FunctionRuntime
>>> engine = Engine(FunctionRuntime(lambda q, ts: [float(len(t)) for t in ts], name="len"))
>>> engine.start()
>>> engine.score("q", ["a", "abc"]).tolist()
[1.0, 3.0]
>>> sub = engine.submit("q", ["ab"])
>>> sub.result().tolist(), sub.timing.tokens > 0
([2.0], True)
>>> engine.close()
"""

from __future__ import annotations

import importlib
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any

import numpy as np

from es_rerank.runtime import InputTooLongError, ModelRuntime, default_max_batch_tokens
from es_rerank.runtime.base import Direction, Scores
from es_rerank.runtime.batching import parallel_batches, run_batches
from es_rerank.runtime.tokenizing import takes_instruction
from inference_shim.errors import (
    BackendError,
    DeadlineError,
    OverloadedError,
    ShimError,
    UnhealthyError,
    ValidationError,
)
from inference_shim.memory import HEAP_TRIM_INTERVAL_S, HeapTrimmer
from inference_shim.metrics import Metrics
from inference_shim.scheduling import Job, next_batch
from inference_shim.throughput import Throughput, TokenRatio

__all__ = [
    "Direction",
    "Engine",
    "EngineInfo",
    "ScorerFunction",
    "Submission",
    "Timing",
    "load_scorer",
]

ScorerFunction = Callable[[str, list[str]], Sequence[float]]

# Share of every batch given to the requests with the least work left (the rest goes to the
# oldest).
DEFAULT_FAIR_SHARE = 0.5
# A queued request starts only if its deadline leaves room for its own model time this many
# times over (at the conservative rate) after the work ahead of it: the margin that keeps
# an admitted request in time when the cores slow down further while it runs.
START_MARGIN = 2.0
# The longest Retry-After: a queue bounded by --max-queue-wait drains well within it, unless
# the rate collapsed.
RETRY_AFTER_MAX_S = 60


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


@dataclass(frozen=True)
class Timing:
    """Where one request's time in the engine went, in seconds: tokenizing its pairs, waiting
    (for its first batch and between its batches, behind other requests), and in the
    model batches that carried its pairs."""

    tokens: int = 0
    tokenization_s: float = 0.0
    queue_s: float = 0.0
    inference_s: float = 0.0


class Submission(Future[Scores]):
    """A queued request: a future of its raw scores in input order, and its :class:`Timing`
    once answered. ``cancel()`` (or :meth:`Engine.cancel`) drops its queued work; batches
    already running finish, the rest are never computed."""

    def __init__(self) -> None:
        super().__init__()
        self.timing = Timing()


class Engine:
    """Owns a model runtime on one thread; ``submit`` and ``score`` are safe from any
    thread.

    ``max_queue`` caps the requests accepted and not yet answered; ``max_queue_wait``
    (seconds, None: no limit) refuses a request when the work already queued and its own
    need longer than that at the measured throughput; ``fair_share`` is the share of every
    batch given to the requests with the least work left (0: strictly oldest first);
    ``heap_trim_interval_s``: between batches, free heap memory is given back to the OS at
    most this often (None: never; :mod:`inference_shim.memory`)."""

    def __init__(
        self,
        runtime: ModelRuntime,
        *,
        max_batch_tokens: int | None = None,
        max_queue: int = 64,
        max_queue_wait: float | None = None,
        fair_share: float = DEFAULT_FAIR_SHARE,
        metrics: Metrics | None = None,
        heap_trim_interval_s: float | None = HEAP_TRIM_INTERVAL_S,
    ) -> None:
        if max_batch_tokens is None:
            max_batch_tokens = default_max_batch_tokens(runtime.device)
        if max_batch_tokens <= 0 or max_queue <= 0:
            raise ValueError("max_batch_tokens and max_queue must be > 0")
        if max_queue_wait is not None and not max_queue_wait > 0:
            raise ValueError(f"max_queue_wait must be > 0 or None, got {max_queue_wait}")
        if not 0.0 <= fair_share <= 1.0:
            raise ValueError(f"fair_share must be within [0, 1], got {fair_share}")
        self.runtime = runtime
        self.max_batch_tokens = max_batch_tokens
        self.max_queue = max_queue
        self.max_queue_wait = max_queue_wait
        self.fair_share = fair_share
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
        self._active: list[Job[Submission]] = []  # queued, in arrival order
        self._open = 0  # requests accepted and not yet answered
        self._queued_tokens = 0  # tokens of queued pairs not yet computed
        self._running_tokens = 0  # of them, in the batch now in the model
        self._running_since = 0.0
        self._busy_since: float | None = None  # start of the engine's current busy spell
        self._rate = Throughput()
        self._recalibrate = False  # set when refusing alone on a stale rate
        self._calibration_tokens = 0  # of the calibration batch
        self._ratio = TokenRatio()  # tokens per character, to size a request untokenized
        self._stopping = False
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._fault: str | None = None
        self._trimmer = (
            None if heap_trim_interval_s is None else HeapTrimmer(interval_s=heap_trim_interval_s)
        )
        if metrics is not None:
            metrics.queue_drain.set_function(lambda: self.estimated_wait_s or 0.0)

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
        """Measured throughput (moving average over batches, wall time while busy); None
        before the first batch."""
        return self._rate.current

    @property
    def estimated_wait_s(self) -> float | None:
        """Seconds the work already queued still needs at the measured throughput."""
        with self._cond:
            return self._wait_locked(self._rate.current)

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
        timeout: float | None = None,
        instruction: str | None = None,
    ) -> Submission:
        """Queue one request; its :class:`Submission` resolves to raw scores in input order.

        ``timeout``: seconds from now after which its remaining work is dropped and the
        submission fails with :class:`~inference_shim.errors.DeadlineError`. Raises
        :class:`~inference_shim.errors.OverloadedError` when the queue is full, or when the
        work queued ahead and its own would take longer than ``max_queue_wait``."""
        if self._fault is not None:
            raise UnhealthyError(f"the engine stopped: {self._fault}")
        if self._stopping:
            raise UnhealthyError("the server is shutting down")
        # Only LLM rerankers read an instruction (their tokenizer takes the keyword).
        options = {} if instruction is None else {"instruction": instruction}
        if instruction is not None and not takes_instruction(self.runtime):
            raise ValidationError(
                f"`instruct`: {self.runtime.name} is not an LLM reranker: it reads no instruction"
            )
        submission = Submission()
        if not texts:
            submission.set_result(np.zeros(0, dtype=np.float32))
            return submission
        arrived = time.perf_counter()
        deadline = None if timeout is None else arrived + timeout
        # Reserve a slot before tokenizing, so an overloaded server refuses cheaply: the
        # tokenizer costs about 40 ms of CPU per 100 MS MARCO passages, against 0.2 ms to
        # parse them (RELIABILITY.md).
        chars = len(query) * len(texts) + sum(len(t) for t in texts)
        cap = self.runtime.max_length
        with self._cond:
            self._check_room()
            estimate = self._ratio.estimate(chars, per_text_cap=cap, texts=len(texts))
            self._check_wait(estimate or 0, timeout)
            self._open += 1
            self._set_depth()
        try:
            pairs = self.runtime.tokenize(
                query, texts, truncate=truncate, direction=truncation_direction, **options
            )
        except InputTooLongError as exc:
            self._refuse()
            raise ValidationError(str(exc)) from None
        except BaseException:
            self._refuse()
            raise
        job = Job(submission, pairs, arrived=arrived, deadline=deadline)
        job.tokenization_s = time.perf_counter() - arrived
        with self._cond:
            self._ratio.observe(tokens=job.tokens, chars=chars)
            try:
                left = None if deadline is None else deadline - time.perf_counter()
                self._check_wait(job.tokens, left)
            except OverloadedError:
                self._refuse_locked()
                raise
            self._active.append(job)
            self._queued_tokens += job.tokens
            self._cond.notify()
        submission.add_done_callback(lambda f: self._on_cancel(job) if f.cancelled() else None)
        return submission

    def score(
        self,
        query: str,
        texts: Sequence[str],
        *,
        truncate: bool = True,
        truncation_direction: Direction = "right",
        timeout: float | None = None,
    ) -> Scores:
        """Submit and wait: raw scores in input order."""
        direction = truncation_direction
        return self.submit(
            query, texts, truncate=truncate, truncation_direction=direction, timeout=timeout
        ).result()

    def cancel(self, submission: Submission) -> bool:
        """Drop the queued work of ``submission`` (for a client that has gone); False when
        it was already answered."""
        return submission.cancel()

    # -- admission -------------------------------------------------------------------
    def check_admission(self) -> None:
        """Raise :class:`~inference_shim.errors.OverloadedError` when the queue is full or the
        work already queued alone needs longer than ``max_queue_wait``: for a caller that
        has not parsed its request yet, so an overloaded server refuses it cheaply."""
        with self._cond:
            self._check_room()
            self._check_wait(0)

    def _wait_locked(self, rate: float | None) -> float | None:
        """Queued tokens over ``rate``, less what the running batch has done."""
        if rate is None:
            return None
        running = min(self._running_tokens, self._queued_tokens)  # less any cancelled
        ahead = (self._queued_tokens - running) / rate
        if running:
            ahead += max(0.0, running / rate - (time.perf_counter() - self._running_since))
        return ahead

    def _check_room(self) -> None:
        """Raise OverloadedError when ``max_queue`` requests are open (the caller holds the
        lock): checked before tokenizing, so a full server refuses cheaply."""
        if self._open >= self.max_queue:
            raise OverloadedError(
                f"{self._open} requests are queued (--max-queue {self.max_queue}); retry later"
            )

    def _check_wait(self, tokens: int, timeout: float | None = None) -> None:
        """Raise OverloadedError (the caller holds the lock) when, at the conservative rate,
        the work queued ahead and the request's own ``tokens`` need longer than
        ``max_queue_wait``, or the work ahead and its own counted ``START_MARGIN`` times
        longer than its ``timeout`` (it would be refused from the queue before it starts).
        An empty queue passes the first check, so a request larger than the limit alone is
        served rather than refused for ever. Alone, a request is refused on its deadline
        only at a fresh rate (a full batch in the last 30 s); on an older one the
        engine times a calibration batch to measure the cores again (a ``--scorer``
        function, which has none, admits it and is measured on it). Before the first batch
        is measured, only an empty queue admits."""
        now = time.perf_counter()
        rate, limit = self._rate.low(now=now), self.max_queue_wait
        queued = self._queued_tokens > 0
        if rate is None:
            if limit is None or not queued:
                return
            # Nothing tells how long queued work takes yet: one request at a time until
            # the first batch has been measured.
            if self.metrics is not None:
                self.metrics.dropped.labels(reason="admission").inc()
            raise OverloadedError(
                "the server is measuring its throughput on its first batch; retry shortly"
            )
        ahead = self._wait_locked(rate) or 0.0
        wait = ahead + tokens / rate
        if queued and limit is not None and wait > limit:
            self._refuse_for(wait, f"more than --max-queue-wait {limit:g} s")
        need = ahead + START_MARGIN * tokens / rate
        if timeout is not None and need > timeout:
            # Alone, it is refused on its own size: nothing drains, and the answer changes
            # only with a new measurement of the rate, so that is when to retry (1 s told
            # every client to retry at once, for the same refusal: 3,704 in 120 s).
            again: float | None = None
            if not queued and not self._rate.fresh(now=now):
                if self.runtime.kind == "scorer":
                    return  # nothing else re-measures a scorer function: admit, measure
                self._recalibrate = True  # the rate may be stale: measure it again
                self._cond.notify_all()
                again = self._calibration_tokens / (self._rate.current or rate)
            elif not queued:
                again = self._rate.stale_in(now=now)
            self._refuse_for(
                need,
                f"with its own work counted {START_MARGIN:g} times, more than its deadline of "
                f"{timeout:g} s (--request-timeout)",
                retry_after=again,
            )

    def _refuse_for(self, wait: float, why: str, *, retry_after: float | None = None) -> None:
        """Count and raise the refusal at the door; ``retry_after`` (seconds) instead of
        the queue's drain time."""
        if self.metrics is not None:
            self.metrics.dropped.labels(reason="admission").inc()
        raise OverloadedError(
            f"the queued work and this request need about {wait:.1f} s at the server's "
            f"recent throughput, {why}; retry later",
            retry_after=self._retry_after_locked()
            if retry_after is None
            else _whole_seconds(retry_after),
        )

    def _retry_after_locked(self) -> int:
        """Whole seconds the queued work takes to drain at the current average rate (not
        the best recent one: beside a CPU hog that told clients 0.3-0.6 times the real
        drain), from 1 to ``RETRY_AFTER_MAX_S``."""
        return _whole_seconds(self._wait_locked(self._rate.current) or 0.0)

    # -- bookkeeping (callers hold self._cond) ---------------------------------------
    def _set_depth(self) -> None:
        if self.metrics is not None:
            self.metrics.queue_depth.set(self._open)

    def _refuse_locked(self) -> None:
        self._open -= 1
        self._set_depth()

    def _refuse(self) -> None:
        """Free the slot of a request refused before it was queued."""
        with self._cond:
            self._refuse_locked()

    def _close_locked(self, job: Job[Submission]) -> bool:
        """Take ``job`` out of the queue and free its slot and queued tokens; False when it
        was closed already (answered, failed or cancelled)."""
        if job.closed:
            return False
        job.closed = True
        if job in self._active:
            self._active.remove(job)
        self._queued_tokens -= job.tokens_left
        self._open -= 1
        self._set_depth()
        return True

    def _on_cancel(self, job: Job[Submission]) -> None:
        with self._cond:
            closed = self._close_locked(job)
        if closed and self.metrics is not None:
            self.metrics.dropped.labels(reason="cancelled").inc()

    # -- engine thread ---------------------------------------------------------------
    def _main(self) -> None:
        try:
            self.runtime.setup_thread()  # thread settings and a warm-up pass
            self._calibrate()
            self._ready.set()
            while True:
                batches = self._take()
                if batches is None:
                    return
                if self._busy_since is None:
                    self._busy_since = time.perf_counter()
                self._run(batches)
                if self._trimmer is not None:
                    self._trimmer.maybe_trim(now=time.perf_counter())
                # The next batch's clock starts now if work is waiting, so the measured
                # rate includes the engine's own overhead between batches.
                with self._cond:
                    self._busy_since = time.perf_counter() if self._active else None
        except BaseException as exc:  # keep every waiting request answered
            self._fault = f"{type(exc).__name__}: {exc}"
            self._ready.set()
            with self._cond:
                left = list(self._active)
                for job in left:
                    self._close_locked(job)
            for job in left:
                self._answer(job, BackendError(f"the engine stopped: {self._fault}"))
            raise

    def _calibrate(self) -> None:
        """Time one batch of 100-word passages, so admission has a throughput before the
        first request (a ``--scorer`` function is not called on made-up input: until its
        first batch is measured, it admits one request at a time)."""
        if self.runtime.kind == "scorer":
            return
        text = " ".join(["the population of berlin grew in the last century"] * 10)
        pairs = self.runtime.tokenize("how many people live in berlin", [text] * 16)
        self._calibration_tokens = sum(p.length for p in pairs)
        t0 = time.perf_counter()
        self.runtime.forward(pairs)
        self._observe(sum(p.length for p in pairs), time.perf_counter() - t0, full=True)

    def _take(self) -> list[list[tuple[Job[Submission], int]]] | None:
        """Block until work is queued; the next batches (as many as the runtime runs side
        by side, when there is work for them), each as (job, pair number) items. Requests
        past their deadline are dropped first."""
        while True:
            with self._cond:
                now = time.perf_counter()
                expired = [job for job in self._active if job.started and job.expired(now)]
                shed = self._shed_locked(now, skip=expired)
                for job in expired + shed:
                    self._close_locked(job)
                retry_after = self._retry_after_locked()
                if not expired and not shed:
                    if self._active:
                        batches = []
                        for _ in range(parallel_batches(self.runtime)):
                            batch = next_batch(
                                self._active,
                                max_batch_tokens=self.max_batch_tokens,
                                fair_share=self.fair_share,
                            )
                            if not batch:
                                break
                            batches.append(batch)
                        self._running_tokens = sum(
                            job.pairs[i].length for batch in batches for job, i in batch
                        )
                        self._running_since = time.perf_counter()
                        return batches
                    if self._stopping:
                        return None
                    if not self._recalibrate:
                        self._cond.wait()
                        continue
                    self._recalibrate = False
            if not expired and not shed:  # idle, refusing on a stale rate
                self._calibrate()
                continue
            # Answered outside the lock.
            for job in expired:
                if self.metrics is not None:
                    self.metrics.dropped.labels(reason="deadline").inc()
                late = time.perf_counter() - job.arrived
                self._answer(
                    job,
                    DeadlineError(
                        f"the request's deadline (--request-timeout) passed after {late:.1f} s, "
                        "while its work was running: the server slowed down after admitting it"
                    ),
                )
            for job in shed:
                if self.metrics is not None:
                    self.metrics.dropped.labels(reason="shed").inc()
                waited = time.perf_counter() - job.arrived
                self._answer(
                    job,
                    OverloadedError(
                        f"the request was refused after {waited:.1f} s in the queue, before its "
                        "work started: at the server's recent throughput it could no longer "
                        "finish before its deadline (--request-timeout); retry later",
                        retry_after=retry_after,
                    ),
                )

    def _shed_locked(self, now: float, *, skip: list[Job[Submission]]) -> list[Job[Submission]]:
        """Queued requests, not in ``skip``, whose work has not started and that would
        finish after their deadline at the conservative rate, their own model time counted
        ``START_MARGIN`` times, behind the work ahead of them in arrival order (what the
        scheduler about follows); and those whose deadline has passed. The oldest, with
        nothing running ahead of it, is shed on its deadline only at a fresh rate."""
        rate = self._rate.low(now=now)
        fresh = self._rate.fresh(now=now)
        shed: list[Job[Submission]] = []
        ahead = 0.0
        for job in self._active:
            if job in skip:
                continue
            own = 0.0 if rate is None else job.tokens_left / rate
            if not job.started and (
                job.expired(now)
                or (
                    (ahead > 0 or fresh)
                    and job.deadline is not None
                    and now + ahead + START_MARGIN * own > job.deadline
                )
            ):
                shed.append(job)
                continue
            if not job.started:  # its latest forecast before it starts
                job.forecast_at, job.predicted_s = now, ahead + own
            ahead += own
        return shed

    def _run(self, batches: list[list[tuple[Job[Submission], int]]]) -> None:
        """Run the batches, measure the throughput, answer the jobs they complete."""
        batch = [item for b in batches for item in b]
        jobs = list(dict.fromkeys(job for job, _ in batch))
        t0 = time.perf_counter()
        try:
            scores = run_batches(self.runtime, [[job.pairs[i] for job, i in b] for b in batches])
            out: Scores | None = np.concatenate(scores)
            error: Exception | None = None
        except Exception as exc:  # the model failed on this batch: fail its requests
            out, error = None, exc
        end = time.perf_counter()
        elapsed = end - t0
        tokens = sum(job.pairs[i].length for job, i in batch)
        if error is None:  # measured before any answer, so a caller sees it afterwards
            padded = sum(max(job.pairs[i].length for job, i in b) * len(b) for b in batches)
            full = padded >= self.max_batch_tokens * len(batches) / 2
            self._observe(tokens, end - (self._busy_since or t0), full=full)
        done: list[Job[Submission]] = []
        with self._cond:
            self._queued_tokens -= sum(job.pairs[i].length for job, i in batch if not job.closed)
            self._running_tokens = 0
            for k, (job, i) in enumerate(batch):
                job.tokens_left -= job.pairs[i].length
                if out is not None:
                    job.scores[i] = out[k]
                    job.computed += 1
            for job in jobs:
                job.inference_s += elapsed
                if (error is not None or job.finished) and self._close_locked(job):
                    done.append(job)
        for job in done:
            self._answer(job, None if error is None else _backend_error(error))
        if self.metrics is not None and error is None:
            m = self.metrics
            m.inference_time.observe(elapsed)
            for b in batches:
                m.batch_size.observe(len(b))
                m.batch_tokens.observe(max(job.pairs[i].length for job, i in b) * len(b))
            m.tokens.inc(tokens)
            m.pairs.inc(len(batch))

    def _answer(self, job: Job[Submission], error: ShimError | None) -> None:
        """Set the job's timing and its result (or ``error``); a cancelled one is skipped."""
        sub = job.handle
        end = time.perf_counter()
        engine_s = end - job.arrived - job.tokenization_s
        sub.timing = Timing(
            tokens=job.tokens,
            tokenization_s=job.tokenization_s,
            queue_s=max(0.0, engine_s - job.inference_s),
            inference_s=job.inference_s,
        )
        if self.metrics is not None and error is None:
            self.metrics.queue_time.observe(sub.timing.queue_s)
            self.metrics.request_inference_time.observe(sub.timing.inference_s)
        if self.metrics is not None and job.started and job.predicted_s > 0:
            # How the forecast of its last check before it started held up.
            self.metrics.finish_over_forecast.observe((end - job.forecast_at) / job.predicted_s)
        try:
            if error is None:
                sub.set_result(job.scores)
            else:
                sub.set_exception(error)
        except InvalidStateError:  # cancelled by its client meanwhile
            pass

    def _observe(self, tokens: int, elapsed: float, *, full: bool) -> None:
        # Under the lock: admission reads the batch history from request threads (without
        # it, a batch measured during a read failed that request with a 500).
        with self._cond:
            self._rate.observe(tokens, elapsed, now=time.perf_counter(), full=full)


def _whole_seconds(seconds: float) -> int:
    """A Retry-After: whole seconds, from 1 to ``RETRY_AFTER_MAX_S``."""
    return max(1, min(RETRY_AFTER_MAX_S, math.ceil(seconds)))


def _backend_error(exc: Exception) -> ShimError:
    if isinstance(exc, ShimError):
        return exc
    return BackendError(f"{type(exc).__name__}: {exc}")


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
