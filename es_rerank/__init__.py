"""es_rerank: cross-encoder re-ranking for Elasticsearch search.

>>> import es_rerank
>>> es_rerank.normalize(-1.0)
0.36787944117144233
"""

from es_rerank.backends import Backend, Hit
from es_rerank.backends.local import LocalIndex
from es_rerank.evaluation import Evaluation, evaluate
from es_rerank.scores import denormalize, min_score_to_raw, normalize

__all__ = [
    "Backend",
    "Evaluation",
    "Hit",
    "LocalIndex",
    "denormalize",
    "evaluate",
    "min_score_to_raw",
    "normalize",
]
__version__ = "0.1.0"
