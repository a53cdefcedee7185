"""es_rerank for asyncio: ``await search(...)`` over ``AsyncElasticsearch`` or any async
backend, with async HTTP rerankers (httpx), and exactly the semantics of
:func:`es_rerank.search`, whose executor it runs (see :mod:`es_rerank.asyncio.search`).

>>> import asyncio
>>> from es_rerank import LocalIndex, TextSimilarityReranker, StandardRetriever
>>> from es_rerank.asyncio import AsyncHttpReranker, search
>>> async def main():  # doctest: +SKIP
...     async with AsyncHttpReranker("http://localhost:8080", format="tei") as reranker:
...         return await search(
...             TextSimilarityReranker(
...                 retriever=StandardRetriever(query={"match": {"text": "moon"}}),
...                 field="text", inference_text="moon landing", rank_window_size=50),
...             backend=LocalIndex("./index"), reranker=reranker, size=10)
"""

from es_rerank.asyncio.backends import (
    AnyReranker,
    AsyncBackend,
    AsyncInferenceRerankBackend,
    AsyncRetrieverBackend,
)
from es_rerank.asyncio.rerankers import AsyncHttpReranker, AsyncReranker, AsyncRerankFunction
from es_rerank.asyncio.search import AsyncRerankerSpec, search
from es_rerank.elastic.async_backend import AsyncElasticInferenceReranker, AsyncElasticsearchBackend

__all__ = [
    "AnyReranker",
    "AsyncBackend",
    "AsyncElasticInferenceReranker",
    "AsyncElasticsearchBackend",
    "AsyncHttpReranker",
    "AsyncInferenceRerankBackend",
    "AsyncRerankFunction",
    "AsyncReranker",
    "AsyncRerankerSpec",
    "AsyncRetrieverBackend",
    "search",
]
