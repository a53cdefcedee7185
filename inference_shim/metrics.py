"""Prometheus metrics, one registry per app so several apps can live in one process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["Metrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32)
_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
_TOKEN_BUCKETS = (64, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)
_RATIO_BUCKETS = (0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5)


class Metrics:
    """Request counts by route and status, latency, queue time, batch sizes and tokens.

    >>> m = Metrics()
    >>> m.requests.labels(route="/rerank", status="200").inc()
    >>> b"shim_requests_total" in m.render()
    True
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "shim_requests", "HTTP requests by route and status", ["route", "status"], registry=r
        )
        self.latency = Histogram(
            "shim_request_duration_seconds",
            "HTTP request latency",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.queue_time = self._seconds(
            "shim_queue_duration_seconds",
            "time an answered request waited in the engine, behind other requests (before "
            "its first batch and between its batches)",
        )
        self.request_inference_time = self._seconds(
            "shim_request_inference_duration_seconds",
            "model time of the batches that carried an answered request's pairs",
        )
        self.dropped = Counter(
            "shim_dropped_requests",
            "requests refused or dropped by the engine: admission (refused on arrival: "
            "estimated wait above --max-queue-wait or its deadline), shed (refused from the "
            "queue before its work started: it could no longer meet its deadline), deadline "
            "(--request-timeout passed while its work ran), cancelled (client gone)",
            ["reason"],
            registry=r,
        )
        self.finish_over_forecast = Histogram(
            "shim_finish_over_forecast",
            "an admitted request's time from its start to its answer over what admission "
            "forecast at the conservative rate just before it started (above 1: slower)",
            buckets=_RATIO_BUCKETS,
            registry=r,
        )
        self.inference_time = self._seconds(
            "shim_inference_duration_seconds",
            "model time per forward call (one batch, or one per stream side by side)",
        )
        self.batch_size = Histogram(
            "shim_batch_size", "pairs per model batch", buckets=_SIZE_BUCKETS, registry=r
        )
        self.batch_tokens = Histogram(
            "shim_batch_tokens",
            "padded tokens per model batch",
            buckets=_TOKEN_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "shim_tokens",
            "tokens scored (pair widths, without padding to a batch's widest)",
            registry=r,
        )
        self.pairs = Counter("shim_pairs", "(query, text) pairs scored", registry=r)
        self.queue_depth = Gauge(
            "shim_queue_depth", "requests waiting or running in the engine", registry=r
        )
        self.queue_drain = Gauge(
            "shim_queue_drain_seconds",
            "time the queued work takes at the current throughput (what Retry-After tells)",
            registry=r,
        )

    def _seconds(self, name: str, documentation: str) -> Histogram:
        return Histogram(name, documentation, buckets=_LATENCY_BUCKETS, registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
