"""LangChain: rerank with es-rerank (extra ``langchain``: ``langchain-core``).

- :class:`EsRerankCompressor` is a ``BaseDocumentCompressor``: put it in a
  ``ContextualCompressionRetriever`` to rerank any retriever's documents with any
  es-rerank reranker.
- :class:`EsRerankRetriever` is a ``BaseRetriever`` that runs a ``text_similarity_reranker``
  tree with :func:`es_rerank.search`, natively on a cluster or externally on any backend
  (the embedded :class:`~es_rerank.LocalIndex` included), and returns ``Document`` objects.

Scores go to ``metadata["rerank_raw_score"]`` and ``metadata["rerank_score"]``.

>>> from langchain_core.documents import Document
>>> compressor = EsRerankCompressor(reranker=lambda q, texts: [len(t) for t in texts], top_n=1)
>>> [d.page_content for d in compressor.compress_documents([Document("ab"), Document("abc")], "q")]
['abc']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from es_rerank.extras import require_extra

require_extra("langchain", "langchain_core", feature="es_rerank.integrations.langchain")

from langchain_core.callbacks import Callbacks  # noqa: E402
from langchain_core.callbacks.manager import CallbackManagerForRetrieverRun  # noqa: E402
from langchain_core.documents import BaseDocumentCompressor, Document  # noqa: E402
from langchain_core.retrievers import BaseRetriever  # noqa: E402
from pydantic import ConfigDict  # noqa: E402

from es_rerank.backends.base import Backend  # noqa: E402
from es_rerank.errors import ConfigurationError  # noqa: E402
from es_rerank.integrations.ranking import (  # noqa: E402
    RAW_SCORE_KEY,
    SCORE_KEY,
    RankOptions,
    scored_metadata,
)
from es_rerank.results import SearchHit  # noqa: E402
from es_rerank.retrievers import Retriever, TextSimilarityReranker, retriever_from_dict  # noqa: E402
from es_rerank.scores import denormalize  # noqa: E402
from es_rerank.search import Mode, RerankerSpec, search  # noqa: E402

__all__ = ["EsRerankCompressor", "EsRerankRetriever"]


class EsRerankCompressor(RankOptions, BaseDocumentCompressor):
    """Reorders documents by an es-rerank reranker's score of ``page_content``.

    ``reranker``: a :class:`~es_rerank.Reranker` or ``f(query, texts) -> raw scores``;
    ``top_n``: keep the best N (all when None); ``min_score``: drop raw scores below it
    (ES's rule). Returned documents are copies with both scores in their metadata.
    """

    def compress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        ranked = self.ranked(query, [d.page_content for d in documents])
        return [
            Document(
                page_content=documents[r.index].page_content,
                metadata=scored_metadata(documents[r.index].metadata, r),
                id=documents[r.index].id,
            )
            for r in ranked
        ]


class EsRerankRetriever(BaseRetriever):
    """Documents from a ``text_similarity_reranker`` search.

    ``retriever``: ``query -> retriever tree`` (a :class:`~es_rerank.Retriever` or its ES
    JSON), so the query can go into the child and into ``inference_text``; ``backend``: an
    :class:`~es_rerank.ElasticsearchBackend` or any :class:`~es_rerank.Backend`;
    ``reranker``, ``mode``, ``size``: as for :func:`es_rerank.search`. ``content_field``
    becomes ``page_content`` (default: the top reranker's ``field``); the hit's other
    source fields, ``_id`` and ``rank`` go to metadata. When the tree's top node is a
    ``text_similarity_reranker``, a hit's score is ES's normalized score
    (``rerank_score``) and ``rerank_raw_score`` the reranker's raw score: exact when the
    client reranks (``mode="external"`` or a ``reranker`` given), else recovered with
    :func:`~es_rerank.denormalize` (exact up to ES's float32; None for a score of 0).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Callable[[str], Retriever | Mapping[str, Any]]
    backend: Any
    reranker: Any = None
    mode: Mode = "auto"
    size: int = 10
    content_field: str | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        tree = self.retriever(query)
        spec = tree if isinstance(tree, Retriever) else retriever_from_dict(tree)
        reranked = isinstance(spec, TextSimilarityReranker)
        field = self.content_field or (
            spec.field if isinstance(spec, TextSimilarityReranker) else None
        )
        if field is None:
            raise ConfigurationError(
                "content_field is required when the tree's top node is not a "
                "text_similarity_reranker (which field becomes page_content?)"
            )
        backend: Backend = self.backend
        reranker: RerankerSpec | None = self.reranker
        external = self.mode == "external" or reranker is not None
        result = search(
            spec,
            backend=backend,
            reranker=reranker,
            mode=self.mode,
            size=self.size,
            explain=reranked and external,
        )
        documents = []
        for hit in result.hits:
            source = dict(hit.source)
            text = source.pop(field, None)
            if isinstance(text, list):
                text = text[0] if text else None
            metadata: dict[str, Any] = {**source, "_id": hit.id, "rank": hit.rank}
            if reranked:
                metadata[SCORE_KEY] = hit.score
                metadata[RAW_SCORE_KEY] = _raw_score(hit)
            else:
                metadata["score"] = hit.score
            documents.append(
                Document(
                    page_content="" if text is None else str(text), metadata=metadata, id=hit.id
                )
            )
        return documents


def _raw_score(hit: SearchHit) -> float | None:
    if hit.explanation is not None and hit.explanation.raw_score is not None:
        return hit.explanation.raw_score
    return denormalize(hit.score) if hit.score > 0 else None
