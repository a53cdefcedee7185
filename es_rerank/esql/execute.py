"""Running an ES|QL pipeline with ``RERANK`` natively (``POST _query``) or externally: the
commands before ``RERANK`` run in Elasticsearch (or any :class:`EsqlSource`), the rerank runs
here with any es-rerank reranker and ES|QL's rules (see :mod:`es_rerank.esql.rerank_inputs`),
then the commands after it that the client can apply (``LIMIT``, ``SORT`` on columns,
``KEEP``, ``DROP``). Any other command after ``RERANK`` is refused before anything runs.

The external path adds what ES adds: since 9.3 at most ``row_limit`` rows (the cluster
setting ``esql.command.rerank.limit``, default 1000) reach ``RERANK``, as a ``LIMIT``
before it; ``ON`` items that are expressions are evaluated by the source (an ``EVAL`` into
temporary columns, dropped afterwards); the score column replaces a column of the same name
and goes last; ``timeout`` bounds the time spent reranking.

>>> from es_rerank.esql import EsqlQuery, EsqlResult, run_external
>>> class Rows:  # any EsqlSource: here, fixed rows
...     def esql(self, query):
...         return EsqlResult.from_response({
...             "columns": [{"name": "title", "type": "text"}],
...             "values": [["a long title"], ["short"], [None]]})
>>> q = EsqlQuery.from_("books").rerank("q", on="title").sort("_score DESC")
>>> by_length = lambda query, texts: [1 / len(t) for t in texts]
>>> result = run_external(q, source=Rows(), reranker=by_length)
>>> result.column("title"), result.column("_score")
([None, 'short', 'a long title'], [None, 0.20000000298023224, 0.0833333358168602])
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol, cast, runtime_checkable

from es_rerank.elastic.esql import ElasticsearchEsql
from es_rerank.errors import (
    EsRerankError,
    RerankerNotConfiguredError,
    RerankError,
)
from es_rerank.esql.commands import (
    Command,
    Drop,
    EsqlError,
    EsqlExpression,
    Keep,
    Limit,
    Rerank,
    Sort,
    parse_time_value,
)
from es_rerank.esql.query import EsqlQuery
from es_rerank.esql.rerank_inputs import (
    DEFAULT_BATCH_SIZE,
    as_float32,
    request_batches,
    row_scores,
    row_texts,
)
from es_rerank.esql.table import (
    EsqlColumn,
    EsqlResult,
    drop_columns,
    keep_columns,
    limit_rows,
    set_column,
    sort_rows,
)
from es_rerank.esql.text import quote_identifier
from es_rerank.rerankers.base import (
    Reranker,
    RerankerSpec,
    check_scores,
    given_reranker,
)

__all__ = [
    "DEFAULT_RERANK_ROW_LIMIT",
    "EsqlSource",
    "run_external",
    "run_native",
]

#: ``esql.command.rerank.limit``'s default (ES 9.3+): rows that reach ``RERANK`` at most.
DEFAULT_RERANK_ROW_LIMIT = 1000
_CLIENT_SIDE = (Limit, Sort, Keep, Drop)
_INPUT_PREFIX = "__es_rerank_input_"


@runtime_checkable
class EsqlSource(Protocol):
    """Something that runs ES|QL text: it answers with an :class:`EsqlResult` or the JSON
    body of ``POST _query``. An Elasticsearch client is taken as one too."""

    def esql(self, query: str) -> EsqlResult | Mapping[str, Any]: ...


def _as_source(source: Any) -> EsqlSource:
    # An Elasticsearch client has an ``esql.query`` API, not an esql(query) method.
    api = getattr(source, "esql", None)
    if api is not None and callable(getattr(api, "query", None)):
        return ElasticsearchEsql(source)
    if callable(api):
        return cast(EsqlSource, source)
    raise EsqlError(f"source must be an Elasticsearch client or have esql(query), got {source!r}")


def _ask(source: EsqlSource, query: str) -> EsqlResult:
    answer = source.esql(query)
    return answer if isinstance(answer, EsqlResult) else EsqlResult.from_response(answer)


def _as_query(query: EsqlQuery | str) -> EsqlQuery:
    if isinstance(query, EsqlQuery):
        return query
    if isinstance(query, str):
        return EsqlQuery.parse(query)
    raise EsqlError(f"query must be an EsqlQuery or ES|QL text, got {query!r}")


def run_native(query: EsqlQuery | str, *, source: Any) -> EsqlResult:
    """The whole pipeline in Elasticsearch (``source``: a client or :class:`EsqlSource`);
    ``RERANK`` calls the cluster's endpoint."""
    return _ask(_as_source(source), str(_as_query(query)))


def _reranker_for(command: Rerank, reranker: RerankerSpec | None, source: EsqlSource) -> Reranker:
    inference_id = command.effective_inference_id
    given = given_reranker(inference_id, reranker)
    if given is not None:
        return given
    serve = getattr(source, "inference_reranker", None)
    if callable(serve):
        found: Reranker = serve(inference_id)
        return found
    raise RerankerNotConfiguredError(
        f"RERANK with [{inference_id}] runs here only with a reranker: pass reranker= (a "
        "Reranker, a function (query, texts) -> scores, or a mapping inference_id -> "
        "reranker), or a source that serves inference endpoints (an Elasticsearch client)"
    )


def _check_after(commands: tuple[Command, ...]) -> None:
    for command in commands:
        if not isinstance(command, _CLIENT_SIDE):
            name = command.name or command.text().split(None, 1)[0].upper()
            raise EsqlError(
                f"[{name}] after RERANK cannot run on the external path, which applies only "
                "LIMIT, SORT (on columns), KEEP and DROP after RERANK; move it before RERANK "
                f"or run the query natively: {command.text()}"
            )


def _apply(result: EsqlResult, command: Command) -> EsqlResult:
    if isinstance(command, Limit):
        return limit_rows(result, command.count)
    if isinstance(command, Sort):
        return sort_rows(result, command.keys)
    if isinstance(command, Drop):
        return drop_columns(result, command.columns)
    if isinstance(command, Keep):
        return keep_columns(result, command.columns)
    raise EsqlError(f"cannot apply {command.text()} client-side")


def _scores(
    reranker: Reranker,
    command: Rerank,
    texts: list[list[str]],
    batch_size: int,
) -> list[float | None]:
    seconds = None if command.timeout is None else parse_time_value(command.timeout)
    deadline = None if seconds is None else time.monotonic() + seconds
    counts = [len(t) for t in texts]
    flat: list[float] = []
    for rows in request_batches(counts, batch_size):
        inputs = [text for r in rows for text in texts[r]]
        if not inputs:
            continue
        try:
            scores = check_scores(reranker.rerank(command.query, inputs), len(inputs))
        except EsRerankError:
            raise
        except Exception as exc:
            raise RerankError(
                f"RERANK with [{command.effective_inference_id}] failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        flat.extend(as_float32(s) for s in scores)
        if deadline is not None and time.monotonic() > deadline:
            raise RerankError(
                f"RERANK with [{command.effective_inference_id}] timed out: reranking took "
                f"longer than its timeout [{command.timeout}]"
            )
    return row_scores(counts, flat)


def run_external(
    query: EsqlQuery | str,
    *,
    source: Any,
    reranker: RerankerSpec | None = None,
    row_limit: int | None = DEFAULT_RERANK_ROW_LIMIT,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> EsqlResult:
    """Run ``query`` with its (first) ``RERANK`` here and everything before it in
    ``source``. ``reranker``: a reranker or function for every endpoint, or a mapping
    ``inference_id -> reranker``; without one the source's endpoint is called (an
    Elasticsearch client serves its ``_inference`` endpoints). ``row_limit=None`` is
    ES 9.2's behaviour (no bound but the result's own)."""
    q = _as_query(query)
    at = q.rerank_at
    if at is None:
        raise EsqlError(f"no RERANK in the query; run it with run_native: {q}")
    if row_limit is not None and (
        isinstance(row_limit, bool) or not isinstance(row_limit, int) or row_limit < 0
    ):
        raise EsqlError(f"row_limit must be a whole number >= 0 or None, got {row_limit!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise EsqlError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
    command = q.commands[at]
    assert isinstance(command, Rerank)
    _check_after(q.commands[at + 1 :])
    src = _as_source(source)
    scorer = _reranker_for(command, reranker, src)

    before = EsqlQuery(q.source, q.commands[:at])
    if row_limit is not None:
        before = before.limit(row_limit)
    inputs: list[str] = []
    for i, item in enumerate(command.on):
        if isinstance(item, EsqlExpression):
            name = f"{_INPUT_PREFIX}{i}"
            before = before.eval(f"{quote_identifier(name)} = {item.text}")
            inputs.append(name)
        else:
            inputs.append(item)
    rows = _ask(src, str(before))
    positions = [rows.index(name) for name in inputs]
    texts = [row_texts([row[p] for p in positions]) for row in rows.values]
    scores = _scores(scorer, command, texts, batch_size)
    result = set_column(rows, EsqlColumn(command.score_column, "double"), scores)
    temporary = [n for n in inputs if n.startswith(_INPUT_PREFIX)]
    if temporary:
        result = drop_columns(result, temporary)
    for after in q.commands[at + 1 :]:
        result = _apply(result, after)
    return result
