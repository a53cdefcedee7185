"""The extension points for where hits come from.

:class:`Backend` executes *leaf* retrievers only (a ``standard`` query, with filters
already folded into it as ``bool.filter``); composite retrievers (``rrf``,
``text_similarity_reranker``) are run by :func:`es_rerank.search` on top of it, so the
reranking rules live in one place whatever the backend. Two optional capabilities are
declared as runtime-checkable protocols:

- :class:`RetrieverBackend` runs whole retrievers itself (Elasticsearch: ``mode="native"``);
- :class:`InferenceRerankBackend` serves rerank inference endpoints by id (Elasticsearch's
  ``_inference`` API), so external execution needs no reranker of its own.

>>> class TwoDocs:
...     def search_query(self, query, *, size):
...         return Hits([Hit("a", 2.0), Hit("b", 1.0)][:size], total=2)
>>> isinstance(TwoDocs(), Backend), isinstance(TwoDocs(), RetrieverBackend)
(True, False)
>>> hits = TwoDocs().search_query(None, size=1)
>>> [h.id for h in hits], hits.total
(['a'], 2)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from es_rerank.backends.retriever_request import RetrieverRequest
from es_rerank.hits import Hit, Hits, TotalRelation

if TYPE_CHECKING:
    from es_rerank.chunking.settings import ChunkRescorer
    from es_rerank.rerankers.base import Reranker
    from es_rerank.results import SearchResult

__all__ = [
    "Backend",
    "ChunkDefaultsBackend",
    "Hit",
    "Hits",
    "InferenceRerankBackend",
    "RetrieverBackend",
    "RetrieverRequest",
    "SearchRequestBackend",
    "TotalRelation",
]


@runtime_checkable
class Backend(Protocol):
    """Runs an ES query DSL object and returns the top ``size`` hits, best first.

    ``query=None`` means ``match_all``. Hits with equal scores keep a stable order.
    Return :class:`Hits` to report the total number of matches (a plain list is taken as
    a lower bound). A construct the backend cannot execute raises ``ValueError`` naming it.
    """

    def search_query(self, query: Mapping[str, Any] | None, *, size: int) -> Sequence[Hit]: ...


@runtime_checkable
class RetrieverBackend(Backend, Protocol):
    """A backend that runs whole retriever trees itself (``mode="native"``)."""

    def supports_native(self) -> bool:
        """Whether native execution works here (e.g. the cluster's license allows it)."""
        ...

    def search_retriever(self, request: RetrieverRequest) -> SearchResult:
        """Run ``request.retriever`` (its ES JSON) natively and return the page
        ``request.from_``..``from_+size``; the request's fields say what else is asked
        (:class:`~es_rerank.backends.retriever_request.RetrieverRequest`). A backend still
        written as ``search_retriever(retriever, *, size, ...)`` keeps working, with a
        ``DeprecationWarning``."""
        ...


@runtime_checkable
class SearchRequestBackend(Backend, Protocol):
    """A backend that also runs the standard retriever's own options: the keys of ES's
    search request body beside ``query`` (``sort``, ``search_after``, ``terminate_after``,
    ``min_score``, ``collapse``, ...), given as ES JSON in ``options``."""

    def search_request(
        self, query: Mapping[str, Any] | None, *, size: int, options: Mapping[str, Any]
    ) -> Hits:
        """The top ``size`` hits of ``query`` under ``options``; an option the backend
        cannot apply raises ``ValueError`` naming it."""
        ...


@runtime_checkable
class InferenceRerankBackend(Backend, Protocol):
    """A backend that serves rerank inference endpoints by id."""

    def inference_reranker(self, inference_id: str) -> Reranker:
        """A reranker calling endpoint ``inference_id``; fails when it does not exist."""
        ...


@runtime_checkable
class ChunkDefaultsBackend(Backend, Protocol):
    """A backend that knows the default ``chunk_rescorer`` chunking its cluster uses for an
    inference endpoint (from Elasticsearch 9.3 it comes from the endpoint's service), so
    an external run chunks as that cluster would."""

    def chunk_rescorer_for(self, inference_id: str, rescorer: ChunkRescorer) -> ChunkRescorer:
        """``rescorer`` with the cluster's default chunk size for ``inference_id``."""
        ...
