"""Haystack 2: rerank documents with es-rerank (extra ``haystack``: ``haystack-ai``).

:class:`EsRerankRanker` is a ``@component`` with ``run(query, documents, top_k=None)`` ->
``{"documents": [...]}``, for a pipeline after any retriever. Returned documents are
copies whose ``score`` is ES's normalized score and whose ``meta`` holds
``rerank_raw_score`` and ``rerank_score``.

>>> from haystack import Document
>>> ranker = EsRerankRanker(reranker=lambda q, texts: [len(t) for t in texts], top_k=1)
>>> docs = [Document(content="ab"), Document(content="abc")]
>>> [d.content for d in ranker.run(query="q", documents=docs)["documents"]]
['abc']
"""

from __future__ import annotations

import dataclasses
from typing import Any

from es_rerank.extras import require_extra

require_extra("haystack", "haystack", feature="es_rerank.integrations.haystack")

from haystack import Document, component  # noqa: E402

from es_rerank.integrations.ranking import check_top_n, rank, scored_metadata  # noqa: E402
from es_rerank.rerankers.base import Reranker, RerankFunction  # noqa: E402

__all__ = ["EsRerankRanker"]


@component
class EsRerankRanker:
    """Ranks documents by an es-rerank reranker's score of their ``content``.

    ``reranker``: a :class:`~es_rerank.Reranker` or ``f(query, texts) -> raw scores``;
    ``top_k``: keep the best K (all when None; ``run(top_k=...)`` overrides it);
    ``min_score``: drop raw scores below it. Documents without content are scored as "".
    """

    def __init__(
        self,
        reranker: Reranker | RerankFunction,
        top_k: int | None = None,
        min_score: float | None = None,
    ) -> None:
        self.reranker = reranker
        self.top_k = check_top_n(top_k, "top_k")
        self.min_score = min_score

    @component.output_types(documents=list[Document])
    def run(
        self, query: str, documents: list[Document], top_k: int | None = None
    ) -> dict[str, Any]:
        top_k = self.top_k if top_k is None else check_top_n(top_k, "top_k")
        ranked = rank(
            self.reranker,
            query,
            [d.content or "" for d in documents],
            top_n=top_k,
            min_score=self.min_score,
        )
        return {
            "documents": [
                dataclasses.replace(
                    documents[r.index],
                    score=r.score,
                    meta=scored_metadata(documents[r.index].meta, r),
                )
                for r in ranked
            ]
        }
