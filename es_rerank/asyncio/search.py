"""``await search(...)``: :func:`es_rerank.search` for asyncio applications.

The same function runs: :func:`es_rerank.search` and its external executor
(:mod:`es_rerank.external`, applying :mod:`es_rerank.rules`) execute inside the bridge
(:mod:`es_rerank.async_bridge`), and every backend query and reranker call they make is
awaited on the event loop. One semantics, no thread pool: a request's reranker call waits
without holding a thread, and many searches run concurrently on one loop.

>>> import asyncio
>>> from es_rerank import Hit, StandardRetriever, TextSimilarityReranker
>>> class TwoDocs:
...     async def search_query(self, query, *, size):
...         return [Hit("a", 2.0, {"text": "-1.5"}), Hit("b", 1.0, {"text": "3"})][:size]
>>> async def by_value(query, texts):
...     return [float(t) for t in texts]
>>> spec = TextSimilarityReranker(retriever=StandardRetriever(), field="text",
...                               inference_text="q", min_score=-2.0)
>>> result = asyncio.run(search(spec, backend=TwoDocs(), reranker=by_value))
>>> [(h.id, round(h.score, 4)) for h in result.hits], result.mode
([('b', 4.0), ('a', 0.2231)], 'external')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from es_rerank.async_bridge import run_sync
from es_rerank.asyncio.backends import AnyReranker, AsyncBackend, sync_backend, sync_reranker
from es_rerank.backends.base import Backend
from es_rerank.external import RerankerSpec
from es_rerank.results import SearchResult
from es_rerank.retrievers import Retriever, retriever_from_dict
from es_rerank.search import MinScoreSpace, Mode
from es_rerank.search import search as sync_search

__all__ = ["AsyncRerankerSpec", "search"]

#: One reranker (async or synchronous) for every node, or one per ``inference_id``.
AsyncRerankerSpec = AnyReranker | Mapping[str, AnyReranker]


def _sync_spec(reranker: AsyncRerankerSpec | None) -> RerankerSpec | None:
    if reranker is None:
        return None
    if isinstance(reranker, Mapping):
        return {key: sync_reranker(value) for key, value in reranker.items()}
    return sync_reranker(reranker)


async def search(
    retriever: Retriever | Mapping[str, Any],
    *,
    backend: AsyncBackend | Backend,
    reranker: AsyncRerankerSpec | None = None,
    size: int | None = None,
    from_: int = 0,
    mode: Mode = "auto",
    source: bool | Sequence[str] = True,
    min_score_space: MinScoreSpace = "raw",
    explain: bool = False,
    collapse: Mapping[str, Any] | None = None,
    **top_level: Any,
) -> SearchResult:
    """:func:`es_rerank.search`, awaited: the same arguments, checks, errors and result.

    ``backend`` is an :class:`~es_rerank.asyncio.AsyncBackend` (e.g.
    :class:`~es_rerank.asyncio.AsyncElasticsearchBackend`) or a synchronous
    :class:`~es_rerank.Backend` (e.g. :class:`~es_rerank.LocalIndex`, queried on the
    loop's thread). ``reranker`` is an async reranker (e.g.
    :class:`~es_rerank.asyncio.AsyncHttpReranker`, or an ``async def f(query, texts)``), a
    synchronous one (called on the loop's thread: an in-process model blocks the loop while
    it scores), or a mapping ``inference_id -> reranker``.
    ``chunk_rescorer`` and ``explain`` run externally exactly as in :func:`es_rerank.search`
    (the same executor runs here); the parameters are :func:`es_rerank.search`'s, in the
    same order with the same defaults (a test compares the two signatures).
    """
    spec = retriever if isinstance(retriever, Retriever) else retriever_from_dict(retriever)
    return await run_sync(
        sync_search,
        spec,
        backend=sync_backend(backend),
        reranker=_sync_spec(reranker),
        size=size,
        from_=from_,
        mode=mode,
        source=source,
        min_score_space=min_score_space,
        explain=explain,
        collapse=collapse,
        **top_level,
    )
