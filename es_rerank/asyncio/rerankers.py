"""Async rerankers: :class:`AsyncHttpReranker` speaks the same formats as
:class:`~es_rerank.HttpReranker` (the same wire models, retry policy and checks) over an
``httpx.AsyncClient``; any object with ``async def rerank(query, texts)``, or an async
function ``(query, texts) -> scores``, is an :class:`AsyncReranker` too.

>>> AsyncHttpReranker("http://tei:8080", format="tei")
AsyncHttpReranker('http://tei:8080/rerank', format='tei')
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, runtime_checkable

import httpx

from es_rerank.rerankers.http import HttpRerankerBase
from es_rerank.rerankers.retry import RequestFailed

__all__ = ["AsyncHttpReranker", "AsyncRerankFunction", "AsyncReranker"]

AsyncRerankFunction = Callable[[str, Sequence[str]], Awaitable[Sequence[float]]]


@runtime_checkable
class AsyncReranker(Protocol):
    """Scores ``texts`` against ``query`` without blocking the event loop; returns RAW
    scores in input order, one per text."""

    async def rerank(self, query: str, texts: Sequence[str]) -> Sequence[float]: ...


class AsyncHttpReranker(HttpRerankerBase):
    """:class:`~es_rerank.HttpReranker` for asyncio: the same ``url``, ``format``
    (``es``, ``tei``, ``cohere``), ``model``, ``api_key``, ``score_scale``, ``max_batch``,
    ``timeout`` and retry arguments (a read timeout is not retried unless
    ``retry_on_timeout=True``), and the same errors; ``transport`` is an
    ``httpx.AsyncBaseTransport``. Close it with ``await reranker.aclose()`` or use
    ``async with``.
    """

    def _open(self, transport: httpx.AsyncBaseTransport | None) -> None:
        self._client = httpx.AsyncClient(
            timeout=self.timeout, headers=self.headers, transport=transport
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> AsyncHttpReranker:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        scores: list[float] = []
        for batch in self._batches(texts):
            scores.extend(await self._post(query, batch))
        return scores

    async def _post(self, query: str, texts: Sequence[str]) -> list[float]:
        payload = self._payload(query, texts)
        try:
            response, attempts = await self.retry.send_async(
                lambda: self._client.post(self.endpoint, json=payload)
            )
        except RequestFailed as exc:
            raise self._failure(exc) from exc.error
        return self._answer(response, attempts, len(texts))
