"""es_rerank.asyncio against real servers on loopback: AsyncHttpReranker on the shim's own
routes and on a double of Cohere's API, AsyncElasticsearchBackend over AsyncElasticsearch on
a recording Elasticsearch, and the bridge's behaviour (concurrency, cancellation, misuse).
The conformance suite (tests/conformance) runs every case through the async executor too."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch

import es_rerank.async_bridge as bridge_module
import es_rerank.rerankers.retry as retry_module
from es_rerank import (
    ConfigurationError,
    HttpReranker,
    InferenceEndpointNotFoundError,
    RerankError,
    RetrieverRequest,
    RetrieverValidationError,
    StandardRetriever,
    TextSimilarityReranker,
)
from es_rerank.asyncio import (
    AsyncElasticsearchBackend,
    AsyncHttpReranker,
    AsyncReranker,
    search,
)
from tests.es_rerank.rerankers.test_http_reranker import DOCS, KEY, TEXTS, CohereApi, raw, sigmoid
from tests.helpers.recording_es import RecordingES, recording_es
from tests.helpers.recording_server import Recorded, Reply, serve


@pytest.fixture(scope="module")
def shim_url() -> Iterator[str]:
    from tests.helpers.shim import serve_shim

    with serve_shim(scorer="tests.conformance.scorers:score_is_text", api_key=KEY) as url:
        yield url


@pytest.fixture
def async_sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Records the waits the retry policy asks for instead of sleeping."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(retry_module, "_async_sleep", record)
    yield waits


def rerank_spec(**params: Any) -> TextSimilarityReranker:
    return TextSimilarityReranker(
        retriever=StandardRetriever(query={"match": {"text": "moon"}}),
        field="text",
        inference_text="moon landing",
        **params,
    )


# -- AsyncHttpReranker -------------------------------------------------------------------------


@pytest.mark.parametrize("format", ["es", "tei", "cohere"])
def test_async_scores_equal_the_synchronous_reranker_on_each_route_of_the_shim(
    shim_url: str, format: str
) -> None:
    # The shim's Cohere routes answer sigmoid (Cohere's convention): turned back into logits.
    scale = "sigmoid" if format == "cohere" else "raw"

    async def scores() -> list[float]:
        async with AsyncHttpReranker(
            shim_url, format=format, api_key=KEY, score_scale=scale
        ) as reranker:
            assert isinstance(reranker, AsyncReranker)
            return await reranker.rerank("q", TEXTS)

    with HttpReranker(shim_url, format=format, api_key=KEY, score_scale=scale) as sync:
        expected = sync.rerank("q", TEXTS)
    assert asyncio.run(scores()) == expected
    assert expected == pytest.approx([float(t) for t in TEXTS], abs=1e-9)


@pytest.mark.parametrize("version", ["1", "2"])
def test_async_cohere_request_is_exactly_the_synchronous_one(version: str) -> None:
    async def scores(url: str) -> list[float]:
        async with AsyncHttpReranker(
            url, format="cohere", model="rerank-v3.5", api_key="co-key", score_scale="sigmoid"
        ) as reranker:
            return await reranker.rerank("which document is longest", DOCS)

    with serve(CohereApi()) as server:
        url = f"{server.url}/v{version}/rerank"
        got = asyncio.run(scores(url))
        HttpReranker(
            url, format="cohere", model="rerank-v3.5", api_key="co-key", score_scale="sigmoid"
        ).rerank("which document is longest", DOCS)
    assert got == pytest.approx([raw(d) for d in DOCS], abs=1e-9)
    async_request, sync_request = server.requests
    assert (
        async_request.body
        == sync_request.body
        == {
            "model": "rerank-v3.5",
            "query": "which document is longest",
            "documents": DOCS,
        }
    )
    assert async_request.headers["authorization"] == "Bearer co-key"


def test_async_rate_limit_is_retried_after_its_wait_then_reported(
    async_sleeps: list[float],
) -> None:
    limited = Reply(429, {"id": "x", "message": "rate limited"}, {"Retry-After": "3"})

    async def call(url: str, retries: int) -> list[float]:
        async with AsyncHttpReranker(
            url, format="cohere", model="m", api_key="co-key", retries=retries
        ) as reranker:
            return await reranker.rerank("q", ["abc"])

    with serve(CohereApi(limited, limited)) as server:
        assert asyncio.run(call(server.url, 3)) == pytest.approx([sigmoid(raw("abc"))])
    assert async_sleeps == [3.0, 3.0]
    with serve(CohereApi(*[limited] * 3)) as server, pytest.raises(RerankError) as info:
        asyncio.run(call(server.url, 2))
    assert "HTTP 429 after 3 attempt(s): rate limited" in str(info.value)


@pytest.mark.parametrize(("retry_on_timeout", "requests"), [(False, 1), (True, 3)])
def test_async_read_timeout_is_retried_only_when_asked(
    async_sleeps: list[float], retry_on_timeout: bool, requests: int
) -> None:
    def slow(rec: Recorded) -> Reply:
        return Reply(200, {"rerank": [{"index": 0, "relevance_score": 1.0}]}, delay_s=1.0)

    async def call(url: str) -> list[float]:
        async with AsyncHttpReranker(
            url, timeout=0.2, retries=2, retry_on_timeout=retry_on_timeout
        ) as reranker:
            return await reranker.rerank("q", ["a"])

    with serve(slow) as server, pytest.raises(RerankError, match="ReadTimeout") as info:
        asyncio.run(call(server.url))
    assert len(server.requests) == requests
    assert ("a read timeout is not retried" in str(info.value)) is not retry_on_timeout


def test_async_bad_answers_are_errors_never_partial() -> None:
    def one_score_for_two(rec: Recorded) -> Reply:
        return Reply(200, {"rerank": [{"index": 0, "relevance_score": 1.0}]})

    async def call(url: str) -> list[float]:
        async with AsyncHttpReranker(url) as reranker:
            return await reranker.rerank("q", ["a", "b"])

    with (
        serve(one_score_for_two) as server,
        pytest.raises(RerankError, match=r"count mismatch: \[2\] vs \[1\]"),
    ):
        asyncio.run(call(server.url))
    with pytest.raises(ConfigurationError, match="timeout must be > 0"):
        AsyncHttpReranker("http://localhost:8080", timeout=0)


# -- concurrency and the bridge ----------------------------------------------------------------


class Docs:
    """An async backend holding a few documents; every query returns all of them."""

    def __init__(self) -> None:
        self.queries: list[Any] = []

    async def search_query(self, query: Any, *, size: int) -> list[Any]:
        from es_rerank import Hit

        self.queries.append(query)
        await asyncio.sleep(0)
        docs = [Hit("a", 3.0, {"text": "-1"}), Hit("b", 2.0, {"text": "5"}), Hit("c", 1.0, {})]
        return docs[:size]


def test_concurrent_searches_wait_on_the_server_together_on_one_thread() -> None:
    """Eight searches on one loop: the server answers none until all eight have arrived, so
    a client that sent them one after another (or one per thread it does not have) fails."""
    n = 8
    arrived = threading.Barrier(n + 1)
    threads: set[int] = set()

    def together(rec: Recorded) -> Reply:
        arrived.wait(timeout=30)  # raises BrokenBarrierError when the searches are serial
        texts = rec.body["input"]
        return Reply(
            200,
            {"rerank": [{"index": i, "relevance_score": float(t)} for i, t in enumerate(texts)]},
        )

    async def one(reranker: AsyncHttpReranker) -> list[str]:
        threads.add(threading.get_ident())
        result = await search(rerank_spec(), backend=Docs(), reranker=reranker, size=3)
        threads.add(threading.get_ident())
        return [h.id for h in result.hits]

    async def all_of_them(url: str) -> list[list[str]]:
        async with AsyncHttpReranker(url, timeout=60, retries=0) as reranker:
            return await asyncio.gather(*(one(reranker) for _ in range(n)))

    with serve(together) as server:
        waiter = threading.Thread(target=arrived.wait, kwargs={"timeout": 30})
        waiter.start()
        results = asyncio.run(all_of_them(server.url))
        waiter.join()
    assert results == [["b", "a"]] * n
    assert len(threads) == 1 and len(server.requests) == n


def test_cancelling_a_search_cancels_its_reranker_call() -> None:
    released = threading.Event()

    def held(rec: Recorded) -> Reply:
        released.wait(timeout=30)
        return Reply(200, {"rerank": []})

    async def cancelled(url: str) -> None:
        async with AsyncHttpReranker(url, timeout=60, retries=0) as reranker:
            task = asyncio.create_task(search(rerank_spec(), backend=Docs(), reranker=reranker))
            while not server.requests:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    with serve(held) as server:
        asyncio.run(cancelled(server.url))
        released.set()
    assert len(server.requests) == 1


def test_sync_and_async_rerankers_and_backends_mix() -> None:
    from es_rerank import Hit

    class SyncDocs:
        def search_query(self, query: Any, *, size: int) -> list[Hit]:
            return [Hit("a", 1.0, {"text": "1"}), Hit("b", 0.5, {"text": "2"})][:size]

    async def async_scores(query: str, texts: Sequence[str]) -> list[float]:
        return [float(t) for t in texts]

    def sync_scores(query: str, texts: Sequence[str]) -> list[float]:
        return [-float(t) for t in texts]

    async def both() -> tuple[list[str], list[str]]:
        first = await search(rerank_spec(), backend=SyncDocs(), reranker=async_scores)
        second = await search(rerank_spec(), backend=Docs(), reranker=sync_scores)
        return [h.id for h in first.hits], [h.id for h in second.hits]

    assert asyncio.run(both()) == (["b", "a"], ["a", "b"])


def test_a_failing_async_reranker_follows_allow_rerank_failures() -> None:
    async def broken(query: str, texts: Sequence[str]) -> list[float]:
        raise RerankError("the server is down")

    async def run(allow: bool) -> list[str]:
        spec = rerank_spec(allow_rerank_failures=allow)
        return [h.id for h in (await search(spec, backend=Docs(), reranker=broken)).hits]

    assert asyncio.run(run(True)) == ["a", "b", "c"]
    with pytest.raises(RerankError, match="the server is down"):
        asyncio.run(run(False))


def test_misuse_is_named() -> None:
    async def scores(query: str, texts: Sequence[str]) -> list[float]:
        return [0.0] * len(texts)

    with pytest.raises(RuntimeError, match=r"outside es_rerank\.asyncio"):
        bridge_module.await_(scores("q", ["a"]))
    with pytest.raises(ConfigurationError, match="backend must have search_query"):
        asyncio.run(search(rerank_spec(), backend=object(), reranker=scores))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="reranker must have a rerank"):
        asyncio.run(search(rerank_spec(), backend=Docs(), reranker=42))  # type: ignore[arg-type]
    with pytest.raises(RetrieverValidationError, match="size"):
        asyncio.run(search(rerank_spec(), backend=Docs(), reranker=scores, size=-1))


def test_chunk_rescorer_runs_as_the_synchronous_executor_runs_it() -> None:
    from es_rerank import Hit
    from es_rerank import search as sync_search

    long = " ".join(f"word{i}" for i in range(40)) + " the moon landing"

    class LongDocs:
        def search_query(self, query: Any, *, size: int) -> list[Any]:
            return [Hit("a", 2.0, {"text": long}), Hit("b", 1.0, {"text": "moon"})][:size]

    sent_async: list[list[str]] = []
    sent_sync: list[list[str]] = []

    async def scores(query: str, texts: Sequence[str]) -> list[float]:
        sent_async.append(list(texts))
        return [float(len(t)) for t in texts]

    def sync_scores(query: str, texts: Sequence[str]) -> list[float]:
        sent_sync.append(list(texts))
        return [float(len(t)) for t in texts]

    words = {"strategy": "word", "max_chunk_size": 10, "overlap": 1}
    spec = rerank_spec(chunk_rescorer={"size": 1, "chunking_settings": words})
    got = asyncio.run(search(spec, backend=LongDocs(), reranker=scores, mode="external"))
    want = sync_search(spec, backend=LongDocs(), reranker=sync_scores, mode="external")
    assert sent_async == sent_sync
    assert "moon" in sent_async[0][0] and len(sent_async[0][0].split()) <= 10  # the best chunk
    assert [(h.id, h.score) for h in got.hits] == [(h.id, h.score) for h in want.hits]


# -- AsyncElasticsearchBackend -----------------------------------------------------------------

SEARCH_ANSWER = {
    "took": 3,
    "hits": {
        "total": {"value": 57, "relation": "eq"},
        "hits": [
            {"_id": "d1", "_score": 2.0, "_source": {"text": "-1.5"}},
            {"_id": "d2", "_score": 1.0, "_source": {"text": "3"}},
        ],
    },
}


@pytest.fixture
def es() -> Iterator[RecordingES]:
    with recording_es() as rec:
        rec.on("POST", "/docs/_search", (200, SEARCH_ANSWER))
        rec.on("GET", "/_license", (200, {"license": {"type": "basic", "status": "active"}}))
        rec.on(
            "GET",
            "/_inference/rerank/my-rerank",
            (200, {"endpoints": [{"inference_id": "my-rerank", "task_type": "rerank"}]}),
        )

        def scored(r: Any) -> tuple[int, Any]:
            texts = r.body["input"]
            ranked = [{"index": i, "relevance_score": float(t)} for i, t in enumerate(texts)]
            return 200, {"rerank": sorted(ranked, key=lambda x: -x["relevance_score"])}

        rec.on("POST", "/_inference/rerank/my-rerank", scored)
        yield rec


async def _with_backend(url: str, body: Any) -> Any:
    client = AsyncElasticsearch(url, node_class="httpxasync")
    try:
        return await body(AsyncElasticsearchBackend(client, "docs"))
    finally:
        await client.close()


def test_es_external_search_uses_the_clusters_endpoint_through_the_async_client(
    es: RecordingES,
) -> None:
    async def body(backend: AsyncElasticsearchBackend) -> Any:
        return await search(rerank_spec(inference_id="my-rerank"), backend=backend)

    result = asyncio.run(_with_backend(es.url, body))
    # a basic license: external, with the cluster's _inference endpoint as the reranker
    assert result.mode == "external"
    assert [(h.id, h.score) for h in result.hits] == [
        ("d2", 4.0),
        ("d1", pytest.approx(0.2231, abs=1e-4)),
    ]
    assert result.total == 57
    assert es.calls() == [
        ("GET", "/_license"),
        ("GET", "/_inference/rerank/my-rerank"),
        ("POST", "/docs/_search"),
        ("POST", "/_inference/rerank/my-rerank"),
    ]
    sent = es.requests[2].body
    assert sent == {"query": {"match": {"text": "moon"}}, "size": 10}


def test_es_native_search_sends_the_retriever_whole(es: RecordingES) -> None:
    es.on("GET", "/_license", (200, {"license": {"type": "trial", "status": "active"}}))

    async def native(backend: AsyncElasticsearchBackend) -> Any:
        return await search(
            rerank_spec(inference_id="my-rerank", chunk_rescorer={"size": 2}),
            backend=backend,
            size=2,
            mode="native",
        )

    result = asyncio.run(_with_backend(es.url, native))
    assert result.mode == "native" and [h.id for h in result.hits] == ["d1", "d2"]
    retriever = es.requests[-1].body["retriever"]["text_similarity_reranker"]
    assert retriever["chunk_rescorer"] == {"size": 2} and retriever["inference_id"] == "my-rerank"


def test_es_errors_are_the_typed_errors_of_the_synchronous_backend(es: RecordingES) -> None:
    missing = {
        "error": {
            "type": "resource_not_found_exception",
            "reason": "Inference endpoint not found [nope]",
        },
        "status": 404,
    }
    es.on("GET", "/_inference/rerank/nope", (404, missing))

    async def body(backend: AsyncElasticsearchBackend) -> Any:
        return await search(rerank_spec(inference_id="nope"), backend=backend, mode="external")

    with pytest.raises(
        InferenceEndpointNotFoundError, match=r"Inference endpoint not found \[nope\]"
    ):
        asyncio.run(_with_backend(es.url, body))
    with pytest.raises(ConfigurationError, match="AsyncElasticsearch"):
        AsyncElasticsearchBackend(object(), "docs")  # type: ignore[arg-type]


class _OwnAsyncBackend:
    """An async retriever backend of the user's own (no ``sync_view``), so the bridge's
    adapter carries the call; it delegates to AsyncElasticsearchBackend."""

    def __init__(self, inner: AsyncElasticsearchBackend) -> None:
        self.inner = inner

    async def search_query(self, query: Any, *, size: int) -> Any:
        return await self.inner.search_query(query, size=size)

    async def supports_native(self) -> bool:
        return await self.inner.supports_native()

    async def search_retriever(self, request: RetrieverRequest) -> Any:
        return await self.inner.search_retriever(request)


def test_native_explain_reaches_an_async_backend_of_ones_own(es: RecordingES) -> None:
    es.on("GET", "/_license", (200, {"license": {"type": "trial", "status": "active"}}))

    async def native(backend: AsyncElasticsearchBackend) -> Any:
        return await search(
            rerank_spec(inference_id="my-rerank"),
            backend=_OwnAsyncBackend(backend),
            size=2,
            mode="native",
            explain=True,
        )

    result = asyncio.run(_with_backend(es.url, native))
    assert result.mode == "native" and [h.id for h in result.hits] == ["d1", "d2"]
    assert es.requests[-1].body["explain"] is True
    assert result.explanation is not None and len(result.explanation) == 1
    assert [h.id for h in result.explanation[0].hits] == ["d1", "d2"]


def test_the_async_backends_old_call_form_still_runs_with_a_warning(es: RecordingES) -> None:
    tree = rerank_spec(inference_id="my-rerank").to_dict()

    async def both(backend: AsyncElasticsearchBackend) -> Any:
        await backend.search_retriever(RetrieverRequest(tree, size=2, from_=1))
        return await backend.search_retriever(tree, size=2, from_=1)

    with pytest.warns(DeprecationWarning, match="RetrieverRequest"):
        result = asyncio.run(_with_backend(es.url, both))
    assert [h.id for h in result.hits] == ["d1", "d2"]
    new, old = (r.body for r in es.requests[-2:])
    assert old == new and old["from"] == 1 and old["retriever"] == tree
