"""es_rerank: cross-encoder re-ranking for Elasticsearch search.

>>> import es_rerank
>>> es_rerank.normalize(-1.0)
0.36787944117144233
"""

from es_rerank.backends import (
    Backend,
    Hit,
    Hits,
    InferenceRerankBackend,
    RetrieverBackend,
    RetrieverRequest,
    SearchRequestBackend,
)
from es_rerank.backends.local import LocalIndex
from es_rerank.calibration import Calibration, ThresholdPoint, calibrate
from es_rerank.chunking import Chunk, ChunkRescorer, best_chunks, document_score
from es_rerank.elastic import ConnectionOptions, ElasticInferenceReranker, ElasticsearchBackend
from es_rerank.elastic.esql import ElasticsearchEsql
from es_rerank.errors import (
    AuthenticationError,
    AuthorizationError,
    ChildRetrieversFailedError,
    ConfigurationError,
    ElasticsearchConflictError,
    ElasticsearchConnectionError,
    ElasticsearchError,
    ElasticsearchNotFoundError,
    ElasticsearchRequestError,
    EsRerankError,
    InferenceEndpointNotFoundError,
    LicenseError,
    LocalIndexError,
    NotElasticsearchError,
    RerankerNotConfiguredError,
    RerankError,
    RetrieverValidationError,
    UploadError,
)
from es_rerank.esql import EsqlColumn, EsqlError, EsqlExpression, EsqlQuery, EsqlResult
from es_rerank.evaluation import Evaluation, evaluate
from es_rerank.explain import HitExplanation, RerankExplanation
from es_rerank.extras import MissingExtraError
from es_rerank.models import ModelLoadError
from es_rerank.rerankers import CrossEncoderReranker, HttpReranker, Reranker, ShimReranker
from es_rerank.results import SearchHit, SearchResult
from es_rerank.retrievers import (
    DiversifyRetriever,
    KnnRetriever,
    LinearRetriever,
    PinnedRetriever,
    RescorerRetriever,
    Retriever,
    RRFRetriever,
    RuleRetriever,
    StandardRetriever,
    TextSimilarityReranker,
    WeightedRetriever,
    retriever_from_dict,
)
from es_rerank.runtime import ModelRuntime, RuntimeUnavailableError, load_runtime
from es_rerank.scores import denormalize, min_score_to_raw, normalize
from es_rerank.search import search
from es_rerank.version import package_version as _package_version

__all__ = [
    "AuthenticationError",
    "AuthorizationError",
    "Backend",
    "Calibration",
    "ChildRetrieversFailedError",
    "Chunk",
    "ChunkRescorer",
    "ConfigurationError",
    "ConnectionOptions",
    "CrossEncoderReranker",
    "DiversifyRetriever",
    "ElasticInferenceReranker",
    "ElasticsearchBackend",
    "ElasticsearchConflictError",
    "ElasticsearchConnectionError",
    "ElasticsearchError",
    "ElasticsearchEsql",
    "ElasticsearchNotFoundError",
    "ElasticsearchRequestError",
    "EsRerankError",
    "EsqlColumn",
    "EsqlError",
    "EsqlExpression",
    "EsqlQuery",
    "EsqlResult",
    "Evaluation",
    "Hit",
    "HitExplanation",
    "Hits",
    "HttpReranker",
    "InferenceEndpointNotFoundError",
    "InferenceRerankBackend",
    "KnnRetriever",
    "LicenseError",
    "LinearRetriever",
    "LocalIndex",
    "LocalIndexError",
    "MissingExtraError",
    "ModelLoadError",
    "ModelRuntime",
    "NotElasticsearchError",
    "PinnedRetriever",
    "RRFRetriever",
    "RerankError",
    "RerankExplanation",
    "Reranker",
    "RerankerNotConfiguredError",
    "RescorerRetriever",
    "Retriever",
    "RetrieverBackend",
    "RetrieverRequest",
    "RetrieverValidationError",
    "RuleRetriever",
    "RuntimeUnavailableError",
    "SearchHit",
    "SearchRequestBackend",
    "SearchResult",
    "ShimReranker",
    "StandardRetriever",
    "TextSimilarityReranker",
    "ThresholdPoint",
    "UploadError",
    "WeightedRetriever",
    "best_chunks",
    "calibrate",
    "denormalize",
    "document_score",
    "evaluate",
    "load_runtime",
    "min_score_to_raw",
    "normalize",
    "retriever_from_dict",
    "search",
]
__version__ = _package_version()
