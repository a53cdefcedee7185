"""Running one ported ``rerank.csv-spec`` case on the external path, and comparing it with
ES's expected answer the way ES's CSV tests do (columns by name, rows in order unless the
case says ``ignoreOrder``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from es_rerank.esql import EsqlError, EsqlQuery, EsqlResult, EsqlSource, Rerank, run_external
from es_rerank.rerankers import Reranker
from es_rerank.rerankers.base import RerankFunction
from tests.conformance.esql.csv_spec import SpecCase, parse
from tests.conformance.esql.mini_esql import LocalEsql

SPEC = Path(__file__).resolve().parent / "data" / "rerank.csv-spec"
CASES = parse(SPEC)


def refusal(query: EsqlQuery) -> str | None:
    """The external path's error for a command after RERANK it cannot apply (None when it
    applies them all). It checks before anything runs, so a source that is never reached
    tells the two apart."""
    try:
        run_external(query, source=_Unreached(), reranker=lambda q, texts: [0.0] * len(texts))
    except EsqlError as exc:
        return str(exc)
    except _Reached:
        return None
    raise AssertionError("run_external neither refused nor ran")


class _Reached(Exception):
    pass


class _Unreached:
    def esql(self, query: str) -> EsqlResult:
        raise _Reached


def run_case(
    case: SpecCase,
    source: EsqlSource,
    reranker: Reranker | RerankFunction,
    after: LocalEsql,
) -> EsqlResult:
    """The case's answer: through :func:`run_external` whole when every command after
    ``RERANK`` runs client-side; else up to and including ``RERANK`` through it, and the
    rest (``EVAL``, ``WHERE``, ``STATS``...) applied by ``after``, the test interpreter."""
    query = EsqlQuery.parse(case.query)
    at = query.rerank_at
    assert at is not None and isinstance(query.commands[at], Rerank)
    if refusal(query) is None:
        return run_external(query, source=source, reranker=reranker)
    head = EsqlQuery(query.source, query.commands[: at + 1])
    result = run_external(head, source=source, reranker=reranker)
    for command in query.commands[at + 1 :]:
        result = after.apply(result, command)
    return result


def answer_rows(result: EsqlResult, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    positions = [result.index(name) for name in columns]
    return [tuple(row[p] for p in positions) for row in result.values]


def mismatch(case: SpecCase, result: EsqlResult, *, ignore_order: bool = False) -> str | None:
    """Why ``result`` is not ES's expected answer (None when it is)."""
    names = [n for n, _ in case.columns]
    if list(result.names) != names:
        return f"columns {list(result.names)} != expected {names}"
    got = answer_rows(result, names)
    want = [tuple(r) for r in case.rows]
    if ignore_order or case.ignore_order:
        got, want = sorted(got, key=repr), sorted(want, key=repr)
    if got != want:
        return f"rows {got} != expected {want}"
    return None
