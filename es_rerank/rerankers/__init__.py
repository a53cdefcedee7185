"""Rerankers: anything with ``rerank(query, texts) -> raw scores in input order``."""

from es_rerank.rerankers.base import FunctionReranker, Reranker, as_reranker, check_scores
from es_rerank.rerankers.cross_encoder import CrossEncoderReranker
from es_rerank.rerankers.es_inference import ElasticInferenceReranker
from es_rerank.rerankers.shim import ShimReranker

__all__ = [
    "CrossEncoderReranker",
    "ElasticInferenceReranker",
    "FunctionReranker",
    "Reranker",
    "ShimReranker",
    "as_reranker",
    "check_scores",
]
