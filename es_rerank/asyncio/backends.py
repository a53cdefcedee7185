"""Where hits come from, for asyncio: the protocols of :mod:`es_rerank.backends` with
coroutine methods, and the synchronous views :func:`es_rerank.asyncio.search` runs the
executor over (inside its bridge, each call to an async method is awaited).

A synchronous :class:`~es_rerank.Backend` (the embedded :class:`~es_rerank.LocalIndex`, an
in-memory one) is accepted as it is: its queries run on the event loop's thread, as any
short CPU-bound call does.

>>> class TwoDocs:
...     async def search_query(self, query, *, size):
...         return [Hit("a", 2.0), Hit("b", 1.0)][:size]
>>> isinstance(TwoDocs(), AsyncBackend), isinstance(TwoDocs(), AsyncRetrieverBackend)
(True, False)
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from es_rerank.async_bridge import resolve
from es_rerank.asyncio.rerankers import AsyncReranker, AsyncRerankFunction
from es_rerank.backends.base import Backend, Hit, Hits
from es_rerank.backends.retriever_request import RetrieverRequest, call_search_retriever
from es_rerank.errors import ConfigurationError
from es_rerank.rerankers.base import Reranker, RerankFunction, as_reranker
from es_rerank.results import SearchResult

__all__ = [
    "AnyReranker",
    "AsyncBackend",
    "AsyncInferenceRerankBackend",
    "AsyncRetrieverBackend",
    "sync_backend",
    "sync_reranker",
]

#: What async search accepts as a reranker: async or synchronous, object or function.
AnyReranker = AsyncReranker | AsyncRerankFunction | Reranker | RerankFunction


@runtime_checkable
class AsyncBackend(Protocol):
    """:class:`~es_rerank.Backend` with ``async def search_query``."""

    async def search_query(
        self, query: Mapping[str, Any] | None, *, size: int
    ) -> Sequence[Hit]: ...


@runtime_checkable
class AsyncRetrieverBackend(AsyncBackend, Protocol):
    """:class:`~es_rerank.backends.RetrieverBackend` with coroutine methods."""

    async def supports_native(self) -> bool: ...

    async def search_retriever(self, request: RetrieverRequest) -> SearchResult: ...


@runtime_checkable
class AsyncInferenceRerankBackend(AsyncBackend, Protocol):
    """:class:`~es_rerank.backends.InferenceRerankBackend` with a coroutine method."""

    async def inference_reranker(self, inference_id: str) -> AsyncReranker: ...


class _SyncReranker:
    def __init__(self, inner: Reranker) -> None:
        self.inner = inner

    def rerank(self, query: str, texts: Sequence[str]) -> Sequence[float]:
        return resolve(self.inner.rerank(query, texts))

    def __repr__(self) -> str:
        return repr(self.inner)


def sync_reranker(reranker: AnyReranker) -> Reranker:
    """``reranker`` as a synchronous :class:`~es_rerank.Reranker` for the bridge."""
    # as_reranker checks the shape; a coroutine it returns is awaited by _SyncReranker
    return _SyncReranker(as_reranker(reranker))  # type: ignore[arg-type]


class _SyncBackend:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def semantic_fields(self) -> list[str]:
        """The inner backend's ``semantic_text`` fields (the multi-field format of
        ``rrf``/``linear`` queries them semantically); none when it has no such method."""
        probe = getattr(self.inner, "semantic_fields", None)
        return [str(f) for f in resolve(probe())] if callable(probe) else []

    def search_query(self, query: Mapping[str, Any] | None, *, size: int) -> Sequence[Hit]:
        hits: Sequence[Hit] = resolve(self.inner.search_query(query, size=size))
        return hits

    def __repr__(self) -> str:
        return repr(self.inner)


class _SyncRequestBackend(_SyncBackend):
    def search_request(
        self, query: Mapping[str, Any] | None, *, size: int, options: Mapping[str, Any]
    ) -> Hits:
        hits: Hits = resolve(self.inner.search_request(query, size=size, options=options))
        return hits


class _SyncRetrieverBackend(_SyncBackend):
    def supports_native(self) -> bool:
        return bool(resolve(self.inner.supports_native()))

    def search_retriever(self, request: RetrieverRequest) -> SearchResult:
        # an old-form inner backend is called as es_rerank.search calls a synchronous one
        result: SearchResult = resolve(call_search_retriever(self.inner.search_retriever, request))
        return result


class _SyncInferenceBackend(_SyncBackend):
    def inference_reranker(self, inference_id: str) -> Reranker:
        return sync_reranker(resolve(self.inner.inference_reranker(inference_id)))


class _SyncSemanticBackend(_SyncBackend):
    """The ``semantic_text`` reads of :class:`~es_rerank.semantic_rerank.SemanticFieldBackend`
    (a reranker on a semantic_text field reads the field's values and chunks)."""

    def semantic_field(self, field: str) -> object | None:
        settings: object | None = resolve(self.inner.semantic_field(field))
        return settings

    def semantic_text(self, doc_id: str, field: str) -> list[str]:
        return [str(t) for t in resolve(self.inner.semantic_text(doc_id, field))]

    def best_chunks(self, doc_id: str, field: str, text: str, size: int) -> list[str] | None:
        best = resolve(self.inner.best_chunks(doc_id, field, text, size))
        return None if best is None else [str(t) for t in best]


def sync_backend(backend: AsyncBackend | Backend) -> Backend:
    """``backend`` (async or synchronous) as a synchronous :class:`~es_rerank.Backend` for
    the bridge, with the same capabilities (native retrievers, inference endpoints)."""
    view = getattr(backend, "sync_view", None)
    if isinstance(view, Backend):
        return view  # AsyncElasticsearchBackend: its synchronous self over the bridged client
    if not callable(getattr(backend, "search_query", None)):
        raise ConfigurationError(
            "backend must have search_query(query, *, size) (an AsyncBackend or a Backend), "
            f"got {type(backend).__name__}"
        )
    native = isinstance(backend, AsyncRetrieverBackend)
    inference = isinstance(backend, AsyncInferenceRerankBackend)
    # the standard retriever's options (search_request), async or synchronous
    options = callable(getattr(backend, "search_request", None))
    semantic = all(
        callable(getattr(backend, name, None))
        for name in ("semantic_field", "semantic_text", "best_chunks")
    )
    bases = [
        base
        for base, wanted in (
            (_SyncRetrieverBackend, native),
            (_SyncInferenceBackend, inference),
            (_SyncRequestBackend, options),
            (_SyncSemanticBackend, semantic),
        )
        if wanted
    ]
    if not bases:
        return _SyncBackend(backend)
    if len(bases) == 1:
        return bases[0](backend)
    return _view_class(tuple(bases))(backend)


@functools.cache
def _view_class(bases: tuple[type[_SyncBackend], ...]) -> type[_SyncBackend]:
    """One class with the capabilities of ``bases`` (made once per combination)."""
    return type("_SyncView", bases, {})
