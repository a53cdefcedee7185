"""The inference shim's own client: an :class:`~es_rerank.rerankers.http.HttpReranker` in the
``es`` format (the shim's Elasticsearch-inference route ``/inference/rerank``)."""

from __future__ import annotations

from collections.abc import Collection

import httpx

from es_rerank.rerankers.formats import FORMATS, rerank_endpoint
from es_rerank.rerankers.http import HttpReranker
from es_rerank.rerankers.retry import DEFAULT_RETRY_ON_STATUS

__all__ = ["ROUTE", "ShimReranker", "shim_endpoint"]

#: The shim route this client posts to (the ``es`` format's, from the registry).
ROUTE = FORMATS["es"].route


def shim_endpoint(url: str, *, name: str = "url") -> str:
    """The URL :class:`ShimReranker` posts to: a base URL gets the shim's ES-inference route
    ``/inference/rerank``; a URL already ending in it is used as is; any other path (such
    as the TEI route ``/rerank``) is refused rather than extended.

    >>> shim_endpoint("http://shim:8080/")
    'http://shim:8080/inference/rerank'
    >>> shim_endpoint("http://gw/shim/inference/rerank")
    'http://gw/shim/inference/rerank'
    """
    return rerank_endpoint("es", url, name=name)


class ShimReranker(HttpReranker):
    """Scores with the shim over HTTP: ``POST {url}/inference/rerank`` with
    ``{"query", "input", "top_n", "score_mode": "raw"}`` (the declared
    :class:`~es_rerank.wire.InferenceRerankRequest`), reading
    ``{"rerank": [{"index", "relevance_score"}]}`` back into input order.

    The retry, timeout and key policy is :class:`HttpReranker`'s: 429, 502, 503 and 504
    answers, refused connections and connections the shim dropped are retried up to
    ``retries`` times (``Retry-After``, else ``backoff * 2**attempt`` seconds); a read
    timeout is not, unless ``retry_on_timeout=True``, since the shim may still be computing.
    ``api_key`` is sent as ``Authorization: Bearer KEY``; ``max_batch`` splits a larger
    input into several requests.

    >>> ShimReranker("http://localhost:8080", timeout=5.0)
    ShimReranker('http://localhost:8080')
    >>> ShimReranker("http://localhost:8080").rerank("q", ["a"])  # doctest: +SKIP
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
        retry_on_timeout: bool = False,
        retry_on_status: Collection[int] = DEFAULT_RETRY_ON_STATUS,
        max_batch: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            url,
            format="es",
            api_key=api_key,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            retry_on_timeout=retry_on_timeout,
            retry_on_status=retry_on_status,
            max_batch=max_batch,
            transport=transport,
        )

    @property
    def _name(self) -> str:
        return f"shim at {self.endpoint}"

    def __repr__(self) -> str:
        return f"ShimReranker({self.url!r})"
