"""An ``AsyncElasticsearch`` index as an async backend. It is
:class:`~es_rerank.ElasticsearchBackend` itself, run over the async client through the
bridge (:mod:`es_rerank.async_bridge`): the same requests, response parsing, license check
and error translation, awaited.

>>> from elasticsearch import AsyncElasticsearch
>>> client = AsyncElasticsearch("http://localhost:9200", node_class="httpxasync")
>>> AsyncElasticsearchBackend(client, "docs")
AsyncElasticsearchBackend(index='docs')
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, cast

from elasticsearch import AsyncElasticsearch, Elasticsearch

# The base of the async client's namespaces (.inference, .license...): no public name.
from elasticsearch._async.client._base import NamespacedClient

from es_rerank.async_bridge import resolve, run_sync
from es_rerank.backends.base import Hits
from es_rerank.backends.retriever_request import RetrieverRequest
from es_rerank.elastic.backend import ElasticsearchBackend
from es_rerank.elastic.inference import ElasticInferenceReranker
from es_rerank.errors import ConfigurationError
from es_rerank.results import SearchResult

__all__ = ["AsyncElasticInferenceReranker", "AsyncElasticsearchBackend"]


class _BridgedClient:
    """An ``AsyncElasticsearch`` (or one of its namespaces, such as ``.inference``) seen as
    the synchronous client, whose API it mirrors method for method: each call is awaited
    through the bridge. Only usable inside :func:`~es_rerank.async_bridge.run_sync`."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if isinstance(value, AsyncElasticsearch | NamespacedClient):
            return _BridgedClient(value)
        if not callable(value):
            return value

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            out = resolve(value(*args, **kwargs))
            return _BridgedClient(out) if isinstance(out, AsyncElasticsearch) else out

        return call


def _bridged(client: AsyncElasticsearch) -> Elasticsearch:
    if not isinstance(client, AsyncElasticsearch):
        raise ConfigurationError(
            f"client must be an elasticsearch.AsyncElasticsearch, got {type(client).__name__}"
        )
    return cast(Elasticsearch, _BridgedClient(client))


class AsyncElasticInferenceReranker:
    """:class:`~es_rerank.ElasticInferenceReranker` over an ``AsyncElasticsearch``:
    ``await rerank(query, texts)`` calls ``POST _inference/rerank/<inference_id>``."""

    def __init__(self, client: AsyncElasticsearch, inference_id: str) -> None:
        self.sync_view = ElasticInferenceReranker(_bridged(client), inference_id)
        self.inference_id = self.sync_view.inference_id

    async def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        return await run_sync(self.sync_view.rerank, query, texts)

    def __repr__(self) -> str:
        return f"AsyncElasticInferenceReranker(inference_id={self.inference_id!r})"


class AsyncElasticsearchBackend:
    """:class:`~es_rerank.ElasticsearchBackend` for an ``AsyncElasticsearch`` client (e.g.
    ``AsyncElasticsearch(url, node_class="httpxasync")``, which needs no extra package): leaf
    queries for external reranking, whole retrievers natively, and the cluster's rerank
    inference endpoints as async rerankers; every method is a coroutine."""

    def __init__(self, client: AsyncElasticsearch, index: str) -> None:
        self.client = client
        #: The synchronous backend over the bridged client; es_rerank.asyncio.search runs
        #: it inside its bridge directly.
        self.sync_view = ElasticsearchBackend(_bridged(client), index)
        self.index = index

    async def search_query(self, query: Mapping[str, Any] | None, *, size: int) -> Hits:
        return await run_sync(self.sync_view.search_query, query, size=size)

    async def search_request(
        self, query: Mapping[str, Any] | None, *, size: int, options: Mapping[str, Any]
    ) -> Hits:
        """:meth:`ElasticsearchBackend.search_request`, awaited."""
        return await run_sync(self.sync_view.search_request, query, size=size, options=options)

    async def search_retriever(
        self, request: RetrieverRequest | Mapping[str, Any], /, **old: Any
    ) -> SearchResult:
        """:meth:`ElasticsearchBackend.search_retriever`, awaited."""
        return await run_sync(self.sync_view.search_retriever, request, **old)

    async def supports_native(self) -> bool:
        return await run_sync(self.sync_view.supports_native)

    async def inference_reranker(self, inference_id: str) -> AsyncElasticInferenceReranker:
        """An async reranker calling endpoint ``inference_id``, looked up first (once)."""
        await run_sync(self.sync_view.inference_reranker, inference_id)
        return AsyncElasticInferenceReranker(self.client, inference_id)

    def __repr__(self) -> str:
        return f"AsyncElasticsearchBackend(index={self.index!r})"
