"""Rerankers for the frameworks RAG applications are built with, as optional extras:

- :mod:`es_rerank.integrations.langchain` (extra ``langchain``): ``EsRerankCompressor``, a
  ``BaseDocumentCompressor``, and ``EsRerankRetriever``, a ``BaseRetriever`` that runs a
  ``text_similarity_reranker`` tree natively or externally with :func:`es_rerank.search`;
- :mod:`es_rerank.integrations.llamaindex` (extra ``llamaindex``):
  ``EsRerankNodePostprocessor``;
- :mod:`es_rerank.integrations.haystack` (extra ``haystack``): ``EsRerankRanker``, a
  Haystack 2 ``@component``.

Each takes any es-rerank reranker (a :class:`~es_rerank.Reranker` or a function
``f(query, texts) -> raw scores``), maps scores back to documents **by position** (never
by text, so duplicates and reordered server replies stay with their own document), orders
them as ES does (normalized score, then input order) and keeps both scores in metadata
under :data:`RAW_SCORE_KEY` and :data:`SCORE_KEY`. Importing this package imports no
framework; each submodule imports its own.

>>> from es_rerank.integrations import rank
>>> ranked = rank(lambda q, ts: [-1.0, 2.0, 2.0], "q", ["a", "b", "b"])
>>> [(r.index, r.raw, round(r.score, 4)) for r in ranked]
[(1, 2.0, 3.0), (2, 2.0, 3.0), (0, -1.0, 0.3679)]
"""

from es_rerank.integrations.ranking import RAW_SCORE_KEY, SCORE_KEY, Ranked, rank, scored_metadata

__all__ = ["RAW_SCORE_KEY", "SCORE_KEY", "Ranked", "rank", "scored_metadata"]
