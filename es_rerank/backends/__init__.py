"""First-stage executors: where a child retriever's hits come from, and the optional
capabilities a backend may declare (running retrievers natively, serving inference
rerankers)."""

from es_rerank.backends.base import (
    Backend,
    ChunkDefaultsBackend,
    Hit,
    Hits,
    InferenceRerankBackend,
    RetrieverBackend,
    SearchRequestBackend,
)
from es_rerank.backends.retriever_request import RetrieverRequest

__all__ = [
    "Backend",
    "ChunkDefaultsBackend",
    "Hit",
    "Hits",
    "InferenceRerankBackend",
    "RetrieverBackend",
    "RetrieverRequest",
    "SearchRequestBackend",
]
