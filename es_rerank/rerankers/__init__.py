"""Rerankers: anything with ``rerank(query, texts) -> raw scores in input order``.

In process (:class:`CrossEncoderReranker`), over HTTP to a rerank server in the TEI, Cohere
or Elasticsearch-inference format (:class:`HttpReranker`; :class:`ShimReranker` for the
shim), with one :class:`RetryPolicy`. (The cluster's own ``_inference`` endpoints are served
by :class:`es_rerank.elastic.ElasticInferenceReranker`.)"""

from es_rerank.rerankers.base import FunctionReranker, Reranker, as_reranker, check_scores
from es_rerank.rerankers.cross_encoder import CrossEncoderReranker
from es_rerank.rerankers.formats import FORMAT_NAMES, rerank_endpoint
from es_rerank.rerankers.http import SCORE_SCALES, HttpReranker
from es_rerank.rerankers.retry import DEFAULT_RETRY_ON_STATUS, RetryPolicy
from es_rerank.rerankers.shim import ShimReranker

__all__ = [
    "DEFAULT_RETRY_ON_STATUS",
    "FORMAT_NAMES",
    "SCORE_SCALES",
    "CrossEncoderReranker",
    "FunctionReranker",
    "HttpReranker",
    "Reranker",
    "RetryPolicy",
    "ShimReranker",
    "as_reranker",
    "check_scores",
    "rerank_endpoint",
]
