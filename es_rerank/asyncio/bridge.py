"""The bridge's old name: it is :mod:`es_rerank.async_bridge` (outside this package, so
:mod:`es_rerank.elastic.async_backend` can use it without importing the facade that
re-exports it). Kept for older imports."""

from es_rerank.async_bridge import await_, resolve, run_sync

__all__ = ["await_", "resolve", "run_sync"]
