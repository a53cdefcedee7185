"""Rerankers: anything with ``rerank(query, texts) -> raw scores in input order``.

(The cluster's own ``_inference`` endpoints are served by
:class:`es_rerank.elastic.ElasticInferenceReranker`.)"""

from es_rerank.rerankers.base import FunctionReranker, Reranker, as_reranker, check_scores
from es_rerank.rerankers.cross_encoder import CrossEncoderReranker
from es_rerank.rerankers.shim import ShimReranker

__all__ = [
    "CrossEncoderReranker",
    "FunctionReranker",
    "Reranker",
    "ShimReranker",
    "as_reranker",
    "check_scores",
]
