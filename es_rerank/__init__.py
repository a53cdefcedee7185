"""es_rerank: cross-encoder re-ranking for Elasticsearch search.

>>> import es_rerank
>>> es_rerank.normalize(-1.0)
0.36787944117144233
"""

from es_rerank.backends import Backend, Hit
from es_rerank.backends.elasticsearch import ElasticsearchBackend
from es_rerank.backends.local import LocalIndex
from es_rerank.endpoints import EndpointError
from es_rerank.errors import (
    ElasticsearchError,
    ElasticsearchRequestError,
    EsRerankError,
    InferenceEndpointNotFoundError,
    LicenseError,
    RerankerNotConfiguredError,
    RerankError,
    RetrieverValidationError,
)
from es_rerank.evaluation import Evaluation, evaluate
from es_rerank.rerankers import (
    CrossEncoderReranker,
    ElasticInferenceReranker,
    Reranker,
    ShimReranker,
)
from es_rerank.retrievers import (
    KnnRetriever,
    Retriever,
    RRFRetriever,
    StandardRetriever,
    TextSimilarityReranker,
    retriever_from_dict,
)
from es_rerank.runtime import ModelRuntime, RuntimeUnavailableError, load_runtime
from es_rerank.scores import denormalize, min_score_to_raw, normalize
from es_rerank.search import SearchHit, SearchResult, search
from es_rerank.upload import UploadError

__all__ = [
    "Backend",
    "CrossEncoderReranker",
    "ElasticInferenceReranker",
    "ElasticsearchBackend",
    "ElasticsearchError",
    "ElasticsearchRequestError",
    "EndpointError",
    "EsRerankError",
    "Evaluation",
    "Hit",
    "InferenceEndpointNotFoundError",
    "KnnRetriever",
    "LicenseError",
    "LocalIndex",
    "ModelRuntime",
    "RRFRetriever",
    "RerankError",
    "Reranker",
    "RerankerNotConfiguredError",
    "Retriever",
    "RetrieverValidationError",
    "RuntimeUnavailableError",
    "SearchHit",
    "SearchResult",
    "ShimReranker",
    "StandardRetriever",
    "TextSimilarityReranker",
    "UploadError",
    "denormalize",
    "evaluate",
    "load_runtime",
    "min_score_to_raw",
    "normalize",
    "retriever_from_dict",
    "search",
]
__version__ = "0.1.0"
