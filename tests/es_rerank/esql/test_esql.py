"""es_rerank.esql: the builder writes valid ES|QL and reads it back; the external path runs
the commands before RERANK in the source, reranks with ES|QL's rules, applies LIMIT/SORT/
KEEP/DROP and refuses the rest by name; the native path sends the query as is.

Rules pinned from Elasticsearch main (x-pack/plugin/esql: RerankRequestIterator,
RerankOutputBuilder at c0219749d3afcfd467e9fe1da9d49d5263cdc6d3, RerankOperator and the
rerank docs at 0128e30676c6961849e4d2d0f92b6b1eb58e4433, LogicalPlanBuilder.visitRerankCommand).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from es_rerank import InferenceEndpointNotFoundError, RerankerNotConfiguredError, RerankError
from es_rerank.esql import (
    EsqlColumn,
    EsqlError,
    EsqlExpression,
    EsqlQuery,
    EsqlResult,
    Rerank,
    SortKey,
    match,
    quote_identifier,
    quote_string,
    run_external,
    run_native,
)
from es_rerank.esql.rerank_inputs import as_float32, request_batches
from es_rerank.esql.table import keep_columns, sort_rows
from es_rerank.esql.text import unquote_string


class Rows:
    """An EsqlSource answering every query with fixed rows, and recording the queries."""

    def __init__(self, columns: Sequence[tuple[str, str]], values: Sequence[Sequence[Any]]):
        self.body = {
            "columns": [{"name": n, "type": t} for n, t in columns],
            "values": [list(v) for v in values],
        }
        self.queries: list[str] = []

    def esql(self, query: str) -> dict[str, Any]:
        self.queries.append(query)
        return self.body


class Recorder:
    def __init__(self, score: Any = None) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.score = score or (lambda t: float(len(t)))

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        self.calls.append((query, list(texts)))
        return [self.score(t) for t in texts]


BOOKS = Rows(
    [("book_no", "keyword"), ("title", "text"), ("author", "text"), ("_score", "double")],
    [
        ["1", "War and Peace", "Leo Tolstoy", 5.0],
        ["2", "Signet", ["John Hockenberry", "Leo Tolstoy", "Pat Conroy"], 4.0],
        ["3", None, None, 3.0],
        ["4", "   ", "Tolstoy Leo", 2.0],
    ],
)


# ---------------------------------------------------------------- writing ES|QL


@pytest.mark.parametrize(
    "value",
    ["plain", 'say "hi"', "back\\slash", "line\nbreak\ttab\rcr", "pipe | inside", "ünï 🙂"],
)
def test_strings_are_quoted_and_read_back(value: str) -> None:
    literal = quote_string(value)
    assert "\n" not in literal and unquote_string(literal) == value


def test_names_are_quoted_only_when_they_must() -> None:
    assert quote_identifier("author.keyword") == "author.keyword"
    assert quote_identifier("_score") == "_score"
    assert quote_identifier("my col") == "`my col`"
    assert quote_identifier("1st") == "`1st`"
    assert quote_identifier("we`ird") == "`we``ird`"


def test_the_builder_writes_every_rerank_option_and_parses_back() -> None:
    q = (
        EsqlQuery.from_("books", metadata=["_score"])
        .where(match("title", 'war "and" peace'))
        .rerank(
            'war "and" peace',
            on=["title", "my field", EsqlExpression('TOP_SNIPPETS(description, "war")')],
            inference_id="my-rr",
            column="rerank score",
            timeout="30s",
        )
        .sort(SortKey("rerank score", descending=True, nulls_first=False), "book_no")
        .keep("book_no", "rerank*")
    )
    text = str(q)
    assert 'RERANK `rerank score` = "war \\"and\\" peace" ON title, `my field`, ' in text
    assert 'WITH { "inference_id" : "my-rr", "timeout" : "30s" }' in text
    assert "SORT `rerank score` DESC NULLS LAST, book_no" in text
    assert EsqlQuery.parse(text) == q


def test_parsing_keeps_other_commands_verbatim_and_finds_rerank() -> None:
    q = EsqlQuery.parse(
        'FROM books METADATA _score | WHERE title:"a | b" | EVAL x = 1 '
        '| RERANK "q" ON title WITH { "inference_id": "e" } | LIMIT 3'
    )
    assert q.rerank_at == 2
    assert q.commands[0].text() == 'WHERE title:"a | b"'
    rerank = q.commands[2]
    assert isinstance(rerank, Rerank) and rerank.inference_id == "e" and rerank.on == ("title",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('FROM b | RERANK "q" ON t WITH { "top_n": "3" }', "Invalid option [top_n] in RERANK"),
        ('FROM b | RERANK "q" ON t WITH { "inference_id": 3 }', "Option [inference_id] must be"),
        ('FROM b | RERANK "q" ON t WITH { "timeout": "soon" }', "failed to parse [soon]"),
        ("FROM b | RERANK ?q ON t", "RERANK query must be a string literal"),
        ('FROM b | RERANK "q"', "RERANK needs ON"),
        ('FROM b | RERANK "" ON t', "must not be empty"),
        ("WHERE x | LIMIT 1", "starts with a source command"),
        ("FROM b || LIMIT 1", "empty command"),
    ],
)
def test_bad_rerank_text_names_the_problem(text: str, message: str) -> None:
    with pytest.raises(EsqlError, match=message.replace("[", r"\[").replace("]", r"\]")):
        EsqlQuery.parse(text)


def test_builder_refuses_bad_arguments() -> None:
    base = EsqlQuery.from_("books")
    with pytest.raises(EsqlError, match="LIMIT takes a non-negative"):
        base.limit(-1)
    with pytest.raises(EsqlError, match="RERANK ON needs"):
        base.rerank("q", on=[])
    with pytest.raises(EsqlError, match="one command"):
        base.where("a | LIMIT 3")
    with pytest.raises(EsqlError, match="cannot be written in FROM"):
        EsqlQuery.from_("bad index")


# ---------------------------------------------------------------- client-side commands


def test_sort_puts_nulls_where_esql_does_and_reads_multi_values() -> None:
    r = EsqlResult((EsqlColumn("v", "integer"),), ((3,), (None,), ([1, 9],), (2,)))
    assert sort_rows(r, [SortKey("v")]).column("v") == [[1, 9], 2, 3, None]
    assert sort_rows(r, [SortKey("v", descending=True)]).column("v") == [None, [1, 9], 3, 2]
    assert sort_rows(r, [SortKey("v", nulls_first=True)]).column("v")[0] is None


def test_keep_orders_by_pattern_and_names_beat_wildcards() -> None:
    r = EsqlResult(tuple(EsqlColumn(n, "keyword") for n in ("a", "ab", "b")), (("1", "2", "3"),))
    assert keep_columns(r, ["a*", "b"]).names == ("a", "ab", "b")
    assert keep_columns(r, ["*", "a"]).names == ("ab", "b", "a")
    with pytest.raises(EsqlError, match=r"Unknown column \[c\]"):
        keep_columns(r, ["c"])


# ---------------------------------------------------------------- external rerank


def test_external_rerank_scores_every_value_keeps_the_best_and_nulls_rows_without_text() -> None:
    rec = Recorder()
    q = EsqlQuery.parse('FROM books METADATA _score | RERANK "war" ON title, author')
    result = run_external(q, source=BOOKS, reranker=rec)
    # The score replaces _score and goes last (ES's mergeOutputAttributes).
    assert result.names == ("book_no", "title", "author", "_score")
    assert result.column("_score") == [13.0, 16.0, None, 11.0]
    # One request (fewer than 10 inputs), each value once, blank and null ones skipped.
    assert rec.calls == [
        (
            "war",
            ["War and Peace", "Leo Tolstoy", "Signet", "John Hockenberry", "Leo Tolstoy",
             "Pat Conroy", "Tolstoy Leo"],
        )
    ]  # fmt: skip


def test_scores_are_es_floats() -> None:
    q = EsqlQuery.parse('FROM books | RERANK s = "q" ON title | KEEP s')
    result = run_external(q, source=BOOKS, reranker=lambda q, ts: [1 / 3] * len(ts))
    assert result.column("s") == [as_float32(1 / 3), as_float32(1 / 3), None, None]
    assert result.columns[0] == EsqlColumn("s", "double")


def test_the_source_gets_the_commands_before_rerank_and_the_row_limit() -> None:
    source = Rows([("title", "text")], [["x"]])
    q = EsqlQuery.parse('FROM books | WHERE year > 2000 | RERANK "q" ON title | LIMIT 1')
    run_external(q, source=source, reranker=lambda q, ts: [1.0] * len(ts))
    run_external(q, source=source, reranker=lambda q, ts: [1.0] * len(ts), row_limit=None)
    run_external(q, source=source, reranker=lambda q, ts: [1.0] * len(ts), row_limit=5)
    assert source.queries == [
        "FROM books | WHERE year > 2000 | LIMIT 1000",
        "FROM books | WHERE year > 2000",
        "FROM books | WHERE year > 2000 | LIMIT 5",
    ]


def test_on_expressions_are_evaluated_by_the_source_and_dropped() -> None:
    source = Rows([("title", "text"), ("__es_rerank_input_1", "keyword")], [["t1", ["a", "bbb"]]])
    q = EsqlQuery.parse('FROM books | RERANK "q" ON title, TOP_SNIPPETS(description, "q")')
    result = run_external(q, source=source, reranker=Recorder())
    assert source.queries == [
        'FROM books | LIMIT 1000 | EVAL __es_rerank_input_1 = TOP_SNIPPETS(description, "q")'
    ]
    assert result.names == ("title", "_score") and result.column("_score") == [3.0]


def test_commands_after_rerank_other_than_limit_sort_keep_drop_are_refused_by_name() -> None:
    source = Rows([("title", "text")], [["x"]])
    for command in ("EVAL x = 1", "WHERE _score > 0", "STATS c = COUNT(*)", "SORT LENGTH(title)",
                    'RERANK "again" ON title'):  # fmt: skip
        q = EsqlQuery.parse(f'FROM books | RERANK "q" ON title | LIMIT 2 | {command}')
        name = command.split()[0]
        with pytest.raises(EsqlError, match=rf"^\[{name}\] after RERANK cannot run"):
            run_external(q, source=source, reranker=Recorder())
    assert source.queries == []  # refused before anything ran


def test_client_side_commands_after_rerank_follow_esql() -> None:
    q = EsqlQuery.parse(
        'FROM books METADATA _score | RERANK r = "q" ON title '
        "| SORT r DESC, book_no | DROP author | LIMIT 3 | KEEP r, *"
    )
    result = run_external(q, source=BOOKS, reranker=Recorder())
    assert result.names == ("r", "book_no", "title", "_score")
    # Nulls first when descending (3 has no title, 4 a blank one), ties by book_no.
    assert result.column("book_no") == ["3", "4", "1"]


def test_requests_are_batched_by_whole_rows_like_es() -> None:
    assert request_batches([3, 3, 3, 3, 0, 0, 2], batch_size=10) == [range(0, 6), range(6, 7)]
    values = [[f"t{i}"] * 4 for i in range(5)]
    source = Rows([("title", "keyword")], [[v] for v in values])
    rec = Recorder()
    run_external(EsqlQuery.parse('FROM b | RERANK "q" ON title'), source=source, reranker=rec)
    assert [len(texts) for _, texts in rec.calls] == [12, 8]


def test_reranker_by_endpoint_and_missing_ones() -> None:
    q = EsqlQuery.from_("books").rerank("q", on="title", inference_id="mine")
    by_id = {"mine": lambda q, ts: [2.0] * len(ts)}
    assert run_external(q, source=BOOKS, reranker=by_id).column("_score")[0] == 2.0
    with pytest.raises(InferenceEndpointNotFoundError, match=r"not found \[mine\]"):
        run_external(q, source=BOOKS, reranker={"other": by_id["mine"]})
    with pytest.raises(RerankerNotConfiguredError, match=r"\[mine\]"):
        run_external(q, source=BOOKS)


def test_a_failing_or_miscounting_reranker_is_a_rerank_error() -> None:
    q = EsqlQuery.from_("books").rerank("q", on="title")
    with pytest.raises(RerankError, match="count mismatch"):
        run_external(q, source=BOOKS, reranker=lambda q, ts: [1.0])

    def broken(query: str, texts: Sequence[str]) -> list[float]:
        raise OSError("down")

    with pytest.raises(RerankError, match=r"\.rerank-v1-elasticsearch\] failed: OSError: down"):
        run_external(q, source=BOOKS, reranker=broken)


def test_timeout_bounds_the_rerank() -> None:
    values = [[f"t{i}"] for i in range(30)]
    source = Rows([("title", "keyword")], values)

    def slow(query: str, texts: Sequence[str]) -> list[float]:
        time.sleep(0.05)
        return [1.0] * len(texts)

    q = EsqlQuery.from_("b").rerank("q", on="title", timeout="10ms")
    with pytest.raises(RerankError, match=r"timed out: .* timeout \[10ms\]"):
        run_external(q, source=source, reranker=slow)
    ok = EsqlQuery.from_("b").rerank("q", on="title", timeout="1m")
    assert len(run_external(ok, source=source, reranker=slow)) == 30


def test_arguments_are_checked() -> None:
    q = EsqlQuery.from_("books").rerank("q", on="title")
    with pytest.raises(EsqlError, match="row_limit"):
        run_external(q, source=BOOKS, reranker=Recorder(), row_limit=-1)
    with pytest.raises(EsqlError, match="no RERANK"):
        run_external(EsqlQuery.from_("books"), source=BOOKS, reranker=Recorder())
    with pytest.raises(EsqlError, match="source must be"):
        run_external(q, source=object(), reranker=Recorder())


# ---------------------------------------------------------------- native


class FakeClient:
    """Stands in for elasticsearch.Elasticsearch: an ``esql.query`` API."""

    class _Esql:
        def __init__(self) -> None:
            self.queries: list[str] = []

        def query(self, *, query: str) -> Any:
            self.queries.append(query)

            return SimpleNamespace(
                body={"columns": [{"name": "_score", "type": "double"}], "values": [[0.5]]}
            )

    def __init__(self) -> None:
        self.esql = self._Esql()


def test_native_sends_the_whole_query_and_types_the_rows() -> None:
    client = FakeClient()
    q = EsqlQuery.from_("books").rerank("q", on="title", inference_id="e")
    result = run_native(q, source=client)
    assert client.esql.queries == [str(q)]
    assert result.rows() == [{"_score": 0.5}] and result.columns[0].type == "double"
