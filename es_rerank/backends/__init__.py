"""First-stage executors: where a child retriever's hits come from."""

from es_rerank.backends.base import Backend, Hit

__all__ = ["Backend", "Hit"]
