"""Every wire format the project speaks, each declared once as typed pydantic models:
Text Embeddings Inference (:mod:`~es_rerank.wire.tei`), Cohere v1/v2
(:mod:`~es_rerank.wire.cohere`), Elasticsearch's inference API
(:mod:`~es_rerank.wire.es_inference`) and score lists (:mod:`~es_rerank.wire.scores`);
:mod:`~es_rerank.wire.registry` is the one table of rerank formats (routes, models,
Elasticsearch service, batch limit, default score) the client and the shim are built from.

The inference shim validates requests, shapes responses and writes its OpenAPI document
from these models; clients can parse the same messages with them. No web framework needed.

>>> from es_rerank.wire import InferenceRerankRequest, Limits, parse
>>> req = parse(InferenceRerankRequest, b'{"query": "q", "input": "a text"}')
>>> req.texts_to_rank, req.top_n
(['a text'], None)
>>> parse(InferenceRerankRequest, b'{"query": "q", "input": ["a", "b"]}', Limits(max_texts=1))
Traceback (most recent call last):
...
es_rerank.wire.decode.WireError: `input`: has 2 items, above the limit of 1 (--max-client-...)
"""

from es_rerank.wire.base import Direction, ErrorBody, RerankRequest, WireModel
from es_rerank.wire.cohere import (
    CohereDocument,
    CohereMeta,
    CohereRerankRequest,
    CohereRerankResponse,
    CohereResult,
)
from es_rerank.wire.decode import WireError, describe, parse, read_json, validate
from es_rerank.wire.es_inference import (
    InferenceRank,
    InferenceRerankRequest,
    InferenceRerankResponse,
)
from es_rerank.wire.fields import (
    MAX_TOP_N,
    SCORE_MODES,
    Limits,
    Ranking,
    ScoreMode,
)
from es_rerank.wire.registry import (
    FORMAT_NAMES,
    WIRE_FORMATS,
    Route,
    WireFormat,
    format_of_service,
    resolve_route,
    route_score_modes,
    shim_routes,
    wire_format,
)
from es_rerank.wire.scores import NormalizedScoreList, ScoreList
from es_rerank.wire.tei import TeiRank, TeiRerankRequest, TeiRerankResponse

__all__ = [
    "FORMAT_NAMES",
    "MAX_TOP_N",
    "SCORE_MODES",
    "WIRE_FORMATS",
    "CohereDocument",
    "CohereMeta",
    "CohereRerankRequest",
    "CohereRerankResponse",
    "CohereResult",
    "Direction",
    "ErrorBody",
    "InferenceRank",
    "InferenceRerankRequest",
    "InferenceRerankResponse",
    "Limits",
    "NormalizedScoreList",
    "Ranking",
    "RerankRequest",
    "Route",
    "ScoreList",
    "ScoreMode",
    "TeiRank",
    "TeiRerankRequest",
    "TeiRerankResponse",
    "WireError",
    "WireFormat",
    "WireModel",
    "describe",
    "format_of_service",
    "parse",
    "read_json",
    "resolve_route",
    "route_score_modes",
    "shim_routes",
    "validate",
    "wire_format",
]
