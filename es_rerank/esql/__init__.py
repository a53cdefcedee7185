"""ES|QL pipelines with ``RERANK``: a typed builder (:class:`EsqlQuery`), native execution
(:func:`run_native`, ``POST _query``) and external execution with ES|QL's semantics
(:func:`run_external`: the commands before ``RERANK`` run in Elasticsearch, the rerank runs
here with any es-rerank reranker, then ``LIMIT``/``SORT``/``KEEP``/``DROP``).

>>> from es_rerank.esql import EsqlQuery
>>> print(EsqlQuery.parse('FROM books METADATA _score | RERANK score = "q" ON title, author'))
FROM books METADATA _score | RERANK score = "q" ON title, author
"""

from es_rerank.elastic.esql import ElasticsearchEsql
from es_rerank.esql.commands import (
    DEFAULT_RERANK_INFERENCE_ID,
    Command,
    Drop,
    EsqlError,
    EsqlExpression,
    Keep,
    Limit,
    RawCommand,
    Rerank,
    Sort,
    SortKey,
)
from es_rerank.esql.execute import (
    DEFAULT_RERANK_ROW_LIMIT,
    EsqlSource,
    run_external,
    run_native,
)
from es_rerank.esql.query import EsqlQuery, match
from es_rerank.esql.table import EsqlColumn, EsqlResult
from es_rerank.esql.text import quote_identifier, quote_string

__all__ = [
    "DEFAULT_RERANK_INFERENCE_ID",
    "DEFAULT_RERANK_ROW_LIMIT",
    "Command",
    "Drop",
    "ElasticsearchEsql",
    "EsqlColumn",
    "EsqlError",
    "EsqlExpression",
    "EsqlQuery",
    "EsqlResult",
    "EsqlSource",
    "Keep",
    "Limit",
    "RawCommand",
    "Rerank",
    "Sort",
    "SortKey",
    "match",
    "quote_identifier",
    "quote_string",
    "run_external",
    "run_native",
]
