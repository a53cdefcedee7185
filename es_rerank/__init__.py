"""es_rerank: cross-encoder re-ranking for Elasticsearch search.

>>> import es_rerank
>>> es_rerank.normalize(-1.0)
0.36787944117144233
"""

from es_rerank.backends import Backend, Hit
from es_rerank.endpoints import EndpointError
from es_rerank.scores import denormalize, min_score_to_raw, normalize
from es_rerank.upload import UploadError

__all__ = [
    "Backend",
    "EndpointError",
    "Hit",
    "UploadError",
    "denormalize",
    "min_score_to_raw",
    "normalize",
]
__version__ = "0.1.0"
