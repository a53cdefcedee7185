"""Where conformance cases run. Each executor is a factory ``(docs, tmp_path) -> context
manager yielding an ExecutorRun``; register more with :func:`register_executor`.

- ``memory-external``: external mode over the test-only in-memory backend (always).
- ``local-external``: external mode over the embedded ``LocalIndex``.
- ``shim-external``: external mode over the in-memory backend, scored through the real
  inference shim (its app factory, serving each rule with ``--scorer``) by ``ShimReranker``.
- ``es-external``: external mode over a real cluster (``ES_URL`` with ``ES_API_KEY`` or
  ``ES_USERNAME``/``ES_PASSWORD``; a temp index, deleted after).
- ``es-native``: Elasticsearch reranks natively; needs ``ES_URL`` and
  ``ES_RERANK_CONFORMANCE_INFERENCE_ID``, a template such as ``conformance-{scorer}`` naming
  one rerank endpoint per rule in :mod:`tests.conformance.scorers` (e.g. the shim serving
  ``--scorer tests.conformance.scorers:score_is_text``).

The ``async-*`` executors run the same cases through ``await es_rerank.asyncio.search``:

- ``async-memory-external``: an async in-memory backend, async scoring functions;
- ``async-local-external``: the (synchronous) ``LocalIndex`` with async scoring functions;
- ``async-shim-external``: the async in-memory backend scored through the real shim by
  ``AsyncHttpReranker`` (httpx);
- ``async-es-external`` / ``async-es-native``: ``AsyncElasticsearchBackend`` over
  ``AsyncElasticsearch`` (httpx), as ``es-external`` / ``es-native`` (same variables).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from es_rerank.backends.base import Hit
from es_rerank.backends.local import LocalIndex
from es_rerank.rerankers.base import Reranker, as_reranker
from tests.conformance.scorers import SCORERS
from tests.helpers.memory_backend import MemoryBackend
from tests.helpers.shim import serve_shim

#: One mapping for every case, so ES and the local index type the fields alike.
MAPPING: dict[str, Any] = {
    "properties": {
        "text": {"type": "text"},
        "title": {"type": "text"},
        "tag": {"type": "keyword"},
        "g1": {"type": "keyword"},
        "g2": {"type": "keyword"},
        "code": {"type": "keyword"},
        "num": {"type": "integer"},
    }
}


@dataclass
class ExecutorRun:
    backend: Any  # a Backend, or an async backend when ``asynchronous``
    mode: str
    #: scorer name -> inference_id this executor reaches it under
    endpoint: Callable[[str], str]
    reranker: Mapping[str, Any] | None
    #: run through ``await es_rerank.asyncio.search``
    asynchronous: bool = False
    #: closes async clients, on the loop that used them
    aclose: Callable[[], Awaitable[None]] | None = None


ExecutorFactory = Callable[[list[dict[str, Any]], Path], AbstractContextManager[ExecutorRun]]
EXECUTORS: dict[str, ExecutorFactory] = {}


def register_executor(name: str, factory: ExecutorFactory) -> None:
    EXECUTORS[name] = factory


def _endpoint(scorer: str) -> str:
    return f"conformance-{scorer}"


def _local_rerankers() -> dict[str, Reranker]:
    return {_endpoint(name): as_reranker(fn) for name, fn in SCORERS.items()}


@contextlib.contextmanager
def memory_external(docs: list[dict[str, Any]], tmp_path: Path) -> Iterator[ExecutorRun]:
    yield ExecutorRun(MemoryBackend(docs), "external", _endpoint, _local_rerankers())


@contextlib.contextmanager
def local_external(docs: list[dict[str, Any]], tmp_path: Path) -> Iterator[ExecutorRun]:
    index = LocalIndex(tmp_path / "local-index", mapping=MAPPING)
    index.add(docs, id_field="_id")
    yield ExecutorRun(index, "external", _endpoint, _local_rerankers())


_SHIMS: dict[str, str] = {}
_SESSION_SHIMS = contextlib.ExitStack()
atexit.register(_SESSION_SHIMS.close)


def _shim_url(scorer: str) -> str:
    """A real shim serving ``scorer`` on loopback, started once per test session."""
    if scorer not in _SHIMS:
        _SHIMS[scorer] = _SESSION_SHIMS.enter_context(
            serve_shim(scorer=f"tests.conformance.scorers:{scorer}")
        )
    return _SHIMS[scorer]


@contextlib.contextmanager
def shim_external(docs: list[dict[str, Any]], tmp_path: Path) -> Iterator[ExecutorRun]:
    from es_rerank.rerankers.shim import ShimReranker

    rerankers: dict[str, Reranker] = {
        _endpoint(name): ShimReranker(_shim_url(name), retries=0, timeout=30) for name in SCORERS
    }
    yield ExecutorRun(MemoryBackend(docs), "external", _endpoint, rerankers)


def _es_client() -> Any:
    if not os.environ.get("ES_URL"):
        pytest.skip("ES_URL is not set: no Elasticsearch cluster to run against")
    from es_rerank.elastic import ConnectionOptions

    return ConnectionOptions.resolve(request_timeout=120).client()


@contextlib.contextmanager
def _es_index(docs: list[dict[str, Any]]) -> Iterator[tuple[Any, str]]:
    from es_rerank.elastic import bulk_index

    client = _es_client()
    name = f"es-rerank-conformance-{uuid.uuid4().hex[:12]}"
    mapping = {"settings": {"number_of_shards": 1}, "mappings": MAPPING}
    try:
        result = bulk_index(client, name, docs, mapping=mapping, progress=False)
        assert not result.rejected, result.rejected
        yield client, name
    finally:
        client.indices.delete(index=name, ignore_unavailable=True)


@contextlib.contextmanager
def es_external(docs: list[dict[str, Any]], tmp_path: Path) -> Iterator[ExecutorRun]:
    from es_rerank.elastic import ElasticsearchBackend

    with _es_index(docs) as (client, name):
        backend = ElasticsearchBackend(client, name)
        yield ExecutorRun(backend, "external", _endpoint, _local_rerankers())


@contextlib.contextmanager
def es_native(docs: list[dict[str, Any]], tmp_path: Path) -> Iterator[ExecutorRun]:
    template = os.environ.get("ES_RERANK_CONFORMANCE_INFERENCE_ID")
    if not os.environ.get("ES_URL"):
        pytest.skip("ES_URL is not set: no Elasticsearch cluster to run natively against")
    if not template or "{scorer}" not in template:
        pytest.skip(
            "ES_RERANK_CONFORMANCE_INFERENCE_ID is not set to a template such as "
            "'conformance-{scorer}' naming rerank endpoints that apply tests/conformance/scorers"
        )
    from es_rerank.elastic import ElasticsearchBackend

    with _es_index(docs) as (client, name):
        yield ExecutorRun(
            ElasticsearchBackend(client, name), "native", lambda s: template.format(scorer=s), None
        )


class AsyncMemoryBackend:
    """The in-memory backend with ``async def search_query`` (it yields to the loop once)."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.inner = MemoryBackend(docs)

    async def search_query(self, query: Mapping[str, Any] | None, *, size: int) -> Sequence[Hit]:
        await asyncio.sleep(0)
        return self.inner.search_query(query, size=size)


def _async_scorer(fn: Callable[[str, Sequence[str]], Sequence[float]]) -> Any:
    async def score(query: str, texts: Sequence[str]) -> Sequence[float]:
        await asyncio.sleep(0)
        return fn(query, texts)

    return score


def _async_rerankers() -> dict[str, Any]:
    return {_endpoint(name): _async_scorer(fn) for name, fn in SCORERS.items()}


@contextlib.contextmanager
def async_memory_external(docs: list[dict[str, Any]], tmp_path: Path) -> Iterator[ExecutorRun]:
    yield ExecutorRun(
        AsyncMemoryBackend(docs), "external", _endpoint, _async_rerankers(), asynchronous=True
    )


@contextlib.contextmanager
def async_local_external(docs: list[dict[str, Any]], tmp_path: Path) -> Iterator[ExecutorRun]:
    with local_external(docs, tmp_path) as run:
        yield ExecutorRun(run.backend, "external", _endpoint, _async_rerankers(), asynchronous=True)


@contextlib.contextmanager
def async_shim_external(docs: list[dict[str, Any]], tmp_path: Path) -> Iterator[ExecutorRun]:
    from es_rerank.asyncio import AsyncHttpReranker

    rerankers = {
        _endpoint(name): AsyncHttpReranker(_shim_url(name), format="es", retries=0, timeout=30)
        for name in SCORERS
    }

    async def aclose() -> None:
        for reranker in rerankers.values():
            await reranker.aclose()

    yield ExecutorRun(
        AsyncMemoryBackend(docs),
        "external",
        _endpoint,
        rerankers,
        asynchronous=True,
        aclose=aclose,
    )


def _async_es(name: str) -> tuple[Any, Callable[[], Awaitable[None]]]:
    from es_rerank.asyncio import AsyncElasticsearchBackend
    from es_rerank.elastic import ConnectionOptions

    async_client = ConnectionOptions.resolve(request_timeout=120).async_client()
    return AsyncElasticsearchBackend(async_client, name), async_client.close


@contextlib.contextmanager
def async_es_external(docs: list[dict[str, Any]], tmp_path: Path) -> Iterator[ExecutorRun]:
    with es_external(docs, tmp_path) as run:
        backend, aclose = _async_es(run.backend.index)
        yield ExecutorRun(
            backend, "external", _endpoint, _async_rerankers(), asynchronous=True, aclose=aclose
        )


@contextlib.contextmanager
def async_es_native(docs: list[dict[str, Any]], tmp_path: Path) -> Iterator[ExecutorRun]:
    with es_native(docs, tmp_path) as run:
        backend, aclose = _async_es(run.backend.index)
        yield ExecutorRun(backend, "native", run.endpoint, None, asynchronous=True, aclose=aclose)


register_executor("memory-external", memory_external)
register_executor("local-external", local_external)
register_executor("shim-external", shim_external)
register_executor("es-external", es_external)
register_executor("es-native", es_native)
register_executor("async-memory-external", async_memory_external)
register_executor("async-local-external", async_local_external)
register_executor("async-shim-external", async_shim_external)
register_executor("async-es-external", async_es_external)
register_executor("async-es-native", async_es_native)
