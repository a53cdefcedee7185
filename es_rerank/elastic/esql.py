"""The cluster's ES|QL API (``POST _query``): one query in, the JSON body out, refusals as
the typed errors of :mod:`es_rerank.errors` (ES's own reason kept, such as a ``RERANK``
parse error or ``Unknown column``).

>>> from elasticsearch import Elasticsearch
>>> esql_query(Elasticsearch("http://localhost:9200"), "FROM books | LIMIT 1")  # doctest: +SKIP
{'columns': [...], 'values': [[...]], ...}
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from es_rerank.elastic.errors import translated

__all__ = ["esql_query"]


def esql_query(client: Elasticsearch, query: str) -> dict[str, Any]:
    """Run ``query`` and return the response body (``columns`` and ``values``)."""
    with translated():
        response = client.esql.query(query=query)
    body: dict[str, Any] = dict(response.body)
    return body
