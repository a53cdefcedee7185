"""HTTP client for the inference shim's ES-inference rerank route."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from es_rerank.errors import ConfigurationError, RerankError
from es_rerank.rerankers.base import scores_from_rerank_response
from es_rerank.urls import check_http_url, url_path

__all__ = ["ShimReranker"]

_RETRY_STATUSES = frozenset({429, 503})
_MAX_RETRY_AFTER_S = 60.0


def _retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict) and "error" in body:
        err = body["error"]
        if isinstance(err, dict):
            return str(err.get("reason") or err)
        return str(err)
    return str(body)[:300]


ROUTE = "/inference/rerank"


def shim_endpoint(url: str, *, name: str = "url") -> str:
    """The URL :class:`ShimReranker` posts to: a base URL gets the shim's ES-inference route
    ``/inference/rerank``; a URL already ending in it is used as is; any other path (such
    as the TEI route ``/rerank``) is refused rather than extended.

    >>> shim_endpoint("http://shim:8080/")
    'http://shim:8080/inference/rerank'
    >>> shim_endpoint("http://gw/shim/inference/rerank")
    'http://gw/shim/inference/rerank'
    """
    check_http_url(url, name=name)
    path = url_path(url)
    if not path:
        return url.rstrip("/") + ROUTE
    if path.endswith(ROUTE):
        return url.rstrip("/")
    raise ConfigurationError(
        f"{name} {url!r} has the path {path!r}; the shim reranker calls the shim's "
        f"Elasticsearch-inference route {ROUTE}: give the shim's base URL (e.g. "
        f"{url[: len(url) - len(urlsplit(url).path)] or url}) or a URL ending in {ROUTE}"
    )


class ShimReranker:
    """Scores with the shim over HTTP: ``POST {url}/inference/rerank`` with
    ``{"query", "input", "top_n", "score_mode": "raw"}``, reading
    ``{"rerank": [{"index", "relevance_score"}]}`` back into input order.

    429 and 503 answers (and connection failures or timeouts) are retried up to
    ``retries`` times, waiting ``Retry-After`` when the server sends it, else
    ``backoff * 2**attempt`` seconds. ``api_key`` is sent as ``Authorization: Bearer KEY``.
    ``max_batch`` splits a larger input into several requests (for servers with a batch
    limit); the scores come back as one list in input order.

    >>> ShimReranker("http://localhost:8080", timeout=5.0).rerank("q", ["a"])  # doctest: +SKIP
    [1.25]
    """

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_batch: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoint = shim_endpoint(url)
        if timeout <= 0:
            raise ConfigurationError(f"timeout must be > 0 seconds, got {timeout!r}")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ConfigurationError(f"retries must be an integer >= 0, got {retries!r}")
        if backoff < 0:
            raise ConfigurationError(f"backoff must be >= 0 seconds, got {backoff!r}")
        if max_batch is not None and (
            isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1
        ):
            raise ConfigurationError(f"max_batch must be a positive integer, got {max_batch!r}")
        self.max_batch = max_batch
        self.url = url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ShimReranker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait(self, attempt: int, response: httpx.Response | None) -> None:
        delay = self.backoff * (2**attempt)
        if response is not None:
            after = _retry_after_seconds(response.headers.get("Retry-After"))
            if after is not None:
                delay = min(after, _MAX_RETRY_AFTER_S)
        time.sleep(delay)

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        step = self.max_batch or len(texts)
        scores: list[float] = []
        for start in range(0, len(texts), step):
            scores.extend(self._post(query, texts[start : start + step]))
        return scores

    def _post(self, query: str, texts: Sequence[str]) -> list[float]:
        # score_mode "raw": the protocol promises raw scores whatever the shim's default
        payload: dict[str, Any] = {
            "query": query,
            "input": list(texts),
            "top_n": len(texts),
            "score_mode": "raw",
        }
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._client.post(self.endpoint, json=payload)
            except httpx.TransportError as exc:
                if last:
                    raise RerankError(
                        f"shim at {self.endpoint} failed after {attempt + 1} attempt(s): "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                self._wait(attempt, None)
                continue
            if response.status_code in _RETRY_STATUSES and not last:
                self._wait(attempt, response)
                continue
            if response.status_code != 200:
                raise RerankError(
                    f"shim at {self.endpoint} answered HTTP {response.status_code}"
                    f" after {attempt + 1} attempt(s): {_error_text(response)}"
                )
            try:
                body = response.json()
            except ValueError as exc:
                raise RerankError(f"shim at {self.endpoint} answered non-JSON") from exc
            return scores_from_rerank_response(body, len(texts))
        raise AssertionError("unreachable")  # the loop always returns or raises

    def __repr__(self) -> str:
        return f"ShimReranker({self.url!r})"
