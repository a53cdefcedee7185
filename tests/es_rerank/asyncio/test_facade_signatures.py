"""The async facade's signatures are the synchronous ones: ``await es_rerank.asyncio.search``
takes what :func:`es_rerank.search` takes (same names, order, kinds and defaults; only the
backend and reranker may be async), and every ``search_retriever`` (the sync and async
protocols, both Elasticsearch backends and the adapter between them) has the protocol's
parameters. A parameter added on one side and not the other fails here."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

import es_rerank
import es_rerank.asyncio
from es_rerank.asyncio.backends import AsyncRetrieverBackend, sync_backend
from es_rerank.backends.base import RetrieverBackend
from es_rerank.elastic.async_backend import AsyncElasticsearchBackend
from es_rerank.elastic.backend import ElasticsearchBackend

#: The parameters whose types the async facade widens to async objects.
ASYNC_WIDENED = {"backend", "reranker"}


def shape(
    fn: Callable[..., Any], *, widened: frozenset[str] = frozenset()
) -> list[tuple[Any, ...]]:
    """Each parameter's name, kind, default and (unless widened) annotation, in order."""
    return [
        (p.name, p.kind, p.default, None if p.name in widened else str(p.annotation))
        for p in inspect.signature(fn).parameters.values()
        if p.name != "self"
    ]


def test_async_search_takes_what_search_takes() -> None:
    widened = frozenset(ASYNC_WIDENED)
    assert shape(es_rerank.asyncio.search, widened=widened) == shape(
        es_rerank.search, widened=widened
    )
    assert "explain" in inspect.signature(es_rerank.asyncio.search).parameters


def _adapter_method() -> Callable[..., Any]:
    class Native:
        async def search_query(self, query: Any, *, size: int) -> list[Any]:
            return []

        async def supports_native(self) -> bool:
            return True

        async def search_retriever(self, retriever: Any, **kw: Any) -> Any:
            return None

    adapter = sync_backend(Native())
    assert isinstance(adapter, RetrieverBackend)
    return type(adapter).search_retriever  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "method",
    [
        AsyncRetrieverBackend.search_retriever,
        ElasticsearchBackend.search_retriever,
        AsyncElasticsearchBackend.search_retriever,
        _adapter_method(),
    ],
    ids=["async protocol", "ElasticsearchBackend", "AsyncElasticsearchBackend", "adapter"],
)
def test_every_search_retriever_has_the_protocols_parameters(method: Callable[..., Any]) -> None:
    assert shape(method) == shape(RetrieverBackend.search_retriever)


def test_the_comparison_sees_a_lost_parameter() -> None:
    def lost(retriever: Any, *, size: int, from_: int = 0) -> None: ...

    assert shape(lost) != shape(RetrieverBackend.search_retriever)
