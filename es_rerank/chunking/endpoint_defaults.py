"""``chunk_rescorer``'s default chunk size by the cluster's version and rerank endpoint.

Up to 9.2 a ``chunk_rescorer`` without ``chunking_settings`` cuts sentence chunks of
``ChunkScorerConfig.DEFAULT_CHUNK_SIZE`` (300) words. From 9.3 (elastic/elasticsearch
#137397) ``TextSimilarityRankFeaturePhaseRankCoordinatorContext`` asks the endpoint's
service first (``GetRerankerWindowSizeAction`` -> ``RerankingInferenceService
.rerankerWindowSize(model_id)``, #132169) and uses
``ChunkScorerConfig.defaultChunkingSettings(windowSize)``: sentence chunks of that many
words, no overlap. The words per service, read in elastic/elasticsearch:

- ``jinaai`` 5500 (``JinaAIService``); ``elastic`` the same (#148365: Jina models);
- ``voyageai`` 2800 for ``rerank-lite-1``, else 5500 (``VoyageAIService``);
- ``cohere`` 2800 and ``alibabacloud-ai-search`` 5500 (#132169's table);
- ``elasticsearch`` 300 (#132169's table, the 512-token Elastic Rerank model);
- ``watsonxai`` 350 (#140331);
- ``googlevertexai`` 600 for a model id ending ``-004``, else the conservative default;
- ``azureaistudio``, ``custom``: ``RerankingInferenceService.CONSERVATIVE_DEFAULT_WINDOW_SIZE``,
  250 in the stored interface (11cedb1d; an earlier stored version says 300).

``hugging_face`` is not in this table: its value was not found in the source read, so
:func:`default_chunk_size` says so instead of guessing.

>>> default_chunk_size((9, 2, 1), "jinaai")
300
>>> default_chunk_size((9, 3, 0), "voyageai", "rerank-lite-1")
2800
>>> default_chunk_size((9, 3, 0), "googlevertexai", "semantic-ranker-default-004")
600
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

from es_rerank.chunking.settings import DEFAULT_CHUNK_SIZE, ChunkRescorer
from es_rerank.errors import ConfigurationError

__all__ = [
    "CONSERVATIVE_WINDOW_SIZE",
    "ENDPOINT_CHUNK_SIZE_SINCE",
    "default_chunk_size",
    "default_chunk_size_for_endpoint",
    "for_cluster",
]

#: The first version whose ``chunk_rescorer`` default comes from the endpoint.
ENDPOINT_CHUNK_SIZE_SINCE: Final = (9, 3, 0)
#: ``RerankingInferenceService.CONSERVATIVE_DEFAULT_WINDOW_SIZE`` (words).
CONSERVATIVE_WINDOW_SIZE: Final = 250
_BY_SERVICE: Final[Mapping[str, int]] = {
    "jinaai": 5500,
    "elastic": 5500,
    "cohere": 2800,
    "alibabacloud-ai-search": 5500,
    "elasticsearch": 300,
    "watsonxai": 350,
    "azureaistudio": CONSERVATIVE_WINDOW_SIZE,
    "custom": CONSERVATIVE_WINDOW_SIZE,
}


def default_chunk_size(
    version: tuple[int, int, int], service: str | None = None, model_id: str | None = None
) -> int:
    """Words per default sentence chunk on a cluster of ``version`` for an endpoint of
    ``service`` serving ``model_id``; raises :class:`~es_rerank.errors.ConfigurationError`
    when 9.3+ needs an endpoint this client has no value for (give
    ``chunking_settings`` explicitly then)."""
    if tuple(version) < ENDPOINT_CHUNK_SIZE_SINCE:
        return DEFAULT_CHUNK_SIZE
    if service == "voyageai":
        return 2800 if model_id == "rerank-lite-1" else 5500
    if service == "googlevertexai":
        return 600 if model_id and model_id.endswith("-004") else CONSERVATIVE_WINDOW_SIZE
    if service is not None and service in _BY_SERVICE:
        return _BY_SERVICE[service]
    raise ConfigurationError(
        f"chunk_rescorer: from Elasticsearch 9.3 the default chunk size comes from the "
        f"endpoint's service, and this client has no value for service {service!r}: give "
        'chunking_settings (e.g. {"max_chunk_size": 250}) explicitly'
    )


def default_chunk_size_for_endpoint(
    version: tuple[int, int, int], endpoint: Mapping[str, Any]
) -> int:
    """:func:`default_chunk_size` for an endpoint as ``GET _inference`` returns it.

    >>> default_chunk_size_for_endpoint(
    ...     (9, 3, 1), {"service": "elasticsearch", "service_settings": {"model_id": ".rerank-v1"}}
    ... )
    300
    """
    settings = endpoint.get("service_settings") or {}
    return default_chunk_size(version, endpoint.get("service"), settings.get("model_id"))


def for_cluster(
    rescorer: ChunkRescorer, version: tuple[int, int, int], endpoint: Mapping[str, Any]
) -> ChunkRescorer:
    """``rescorer`` with the default chunk size a cluster of ``version`` uses for
    ``endpoint`` (``GET _inference`` form), as ES resolves it before the shards run;
    explicit ``chunking_settings`` still win, and nothing changes in the request. Give the
    result to ``TextSimilarityReranker(chunk_rescorer=...)`` so an external run chunks as
    that cluster would (e.g. ``for_cluster(r, cluster_version(es), get_endpoint(es, id))``).

    >>> r = for_cluster(ChunkRescorer(), (9, 3, 0), {"service": "cohere"})
    >>> r.effective_chunking_settings, r.to_dict()
    (SentenceChunking(max_chunk_size=2800, sentence_overlap=0), {})
    """
    return replace(rescorer, default_chunk_size=default_chunk_size_for_endpoint(version, endpoint))
