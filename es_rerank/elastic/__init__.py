"""The only part of ``es_rerank`` that talks to an Elasticsearch cluster.

- :mod:`~es_rerank.elastic.connection`: :class:`ConnectionOptions` (url, cloud id, API key,
  user/password, CA certs, insecure; each with an ``ES_*`` mirror), the client, and the
  argparse group every command uses;
- :mod:`~es_rerank.elastic.errors`: elasticsearch-py exceptions -> typed
  :mod:`es_rerank.errors` (with the product check: a URL that is not Elasticsearch is said
  to be one);
- :mod:`~es_rerank.elastic.responses`: ``_search`` response parsing;
- :mod:`~es_rerank.elastic.backend`: :class:`ElasticsearchBackend` (leaf queries, native
  retrievers, inference rerankers);
- :mod:`~es_rerank.elastic.inference` and :mod:`~es_rerank.elastic.endpoints`: the
  ``_inference`` client (:class:`ElasticInferenceReranker`, endpoint management and bodies);
- :mod:`~es_rerank.elastic.bulk`: :func:`bulk_index`, the one bulk indexer;
- :mod:`~es_rerank.elastic.cluster`: version, license, readiness, index creation;
- :mod:`~es_rerank.elastic.upload`: tracing with eland and uploading a model.

>>> from es_rerank.elastic import ConnectionOptions, ElasticsearchBackend
>>> opts = ConnectionOptions(url="http://localhost:9200")
>>> ElasticsearchBackend(opts.client(), "docs")
ElasticsearchBackend(index='docs')
"""

from es_rerank.elastic.backend import NATIVE_LICENSES, ElasticsearchBackend
from es_rerank.elastic.bulk import bulk_index
from es_rerank.elastic.cluster import cluster_version, ensure_index, license_type, wait_for_cluster
from es_rerank.elastic.connection import (
    ConnectionOptions,
    add_connection_arguments,
    connection_from_args,
)
from es_rerank.elastic.endpoints import SERVICES, endpoint_body, redact, shim_route
from es_rerank.elastic.errors import translate, translated
from es_rerank.elastic.inference import (
    ElasticInferenceReranker,
    RankedText,
    create_endpoint,
    delete_endpoint,
    get_endpoint,
    list_endpoints,
    rerank,
)

__all__ = [
    "NATIVE_LICENSES",
    "SERVICES",
    "ConnectionOptions",
    "ElasticInferenceReranker",
    "ElasticsearchBackend",
    "RankedText",
    "add_connection_arguments",
    "bulk_index",
    "cluster_version",
    "connection_from_args",
    "create_endpoint",
    "delete_endpoint",
    "endpoint_body",
    "ensure_index",
    "get_endpoint",
    "license_type",
    "list_endpoints",
    "redact",
    "rerank",
    "shim_route",
    "translate",
    "translated",
    "wait_for_cluster",
]
