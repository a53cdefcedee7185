"""A typed, immutable builder for ES|QL pipelines with ``RERANK``; every method returns a
new query, and ``str(query)`` is valid ES|QL.

>>> q = (
...     EsqlQuery.from_("books", metadata=["_score"])
...     .where(match("description", "hobbit"))
...     .sort("_score DESC")
...     .limit(100)
...     .rerank("hobbit", on="description", inference_id="my-reranker")
...     .limit(3)
...     .keep("title", "_score")
... )
>>> print(str(q).replace(" | ", "\\n| "))
FROM books METADATA _score
| WHERE MATCH(description, "hobbit")
| SORT _score DESC
| LIMIT 100
| RERANK "hobbit" ON description WITH { "inference_id" : "my-reranker" }
| LIMIT 3
| KEEP title, _score
>>> EsqlQuery.parse(str(q)) == q
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from es_rerank.esql.commands import (
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
    parse_command,
)
from es_rerank.esql.text import quote_identifier, quote_string, split_top_level

__all__ = ["EsqlQuery", "match"]

_SOURCE_COMMANDS = ("FROM", "ROW", "TS", "SHOW")


def match(field: str, query: str) -> str:
    """The ES|QL condition ``MATCH(field, "query")`` (full-text match, scored into
    ``_score`` when the query asks for ``METADATA _score``).

    >>> match("title", 'war "and" peace')
    'MATCH(title, "war \\\\"and\\\\" peace")'
    """
    return f"MATCH({quote_identifier(field)}, {quote_string(query)})"


@dataclass(frozen=True)
class EsqlQuery:
    """A source command (``FROM ...``, kept as written) and the processing commands after
    it. Build one with :meth:`from_` or read one with :meth:`parse`."""

    source: str
    commands: tuple[Command, ...] = ()

    @classmethod
    def from_(cls, *indices: str, metadata: Sequence[str] = ()) -> EsqlQuery:
        """``FROM index[, index...] [METADATA field, ...]``."""
        if not indices or not all(isinstance(i, str) and i.strip() for i in indices):
            raise EsqlError(f"FROM needs one or more index names, got {indices!r}")
        for index in indices:
            if re.search(r"[\s,|\"`]", index):
                raise EsqlError(f"index name {index!r} cannot be written in FROM")
        text = "FROM " + ", ".join(indices)
        if metadata:
            text += " METADATA " + ", ".join(quote_identifier(m) for m in metadata)
        return cls(text)

    @classmethod
    def parse(cls, text: str) -> EsqlQuery:
        """A query from its ES|QL text (``|`` separates commands)."""
        if not isinstance(text, str) or not text.strip():
            raise EsqlError("an ES|QL query must be a non-empty string")
        head, *rest = split_top_level(text, "|")
        first = head.strip().split(None, 1)[0].upper() if head.strip() else ""
        if first not in _SOURCE_COMMANDS:
            raise EsqlError(
                f"an ES|QL query starts with a source command ({', '.join(_SOURCE_COMMANDS)}), "
                f"got {head.strip()[:40]!r}"
            )
        commands = []
        for part in rest:
            if not part.strip():
                raise EsqlError("empty command between two '|'")
            commands.append(parse_command(part))
        return cls(" ".join(head.split()), tuple(commands))

    def then(self, command: Command | str) -> EsqlQuery:
        """This query with ``command`` appended (a :class:`Command`, or ES|QL text)."""
        cmd = parse_command(command) if isinstance(command, str) else command
        if not isinstance(cmd, Command):
            raise EsqlError(f"not an ES|QL command: {command!r}")
        return EsqlQuery(self.source, (*self.commands, cmd))

    def where(self, condition: str) -> EsqlQuery:
        """``WHERE condition`` (ES|QL text; see :func:`match`)."""
        return self.then(RawCommand(f"WHERE {_text('WHERE', condition)}"))

    def eval(self, assignments: str) -> EsqlQuery:
        """``EVAL assignments`` (ES|QL text, such as ``x = ROUND(_score, 2)``)."""
        return self.then(RawCommand(f"EVAL {_text('EVAL', assignments)}"))

    def sort(self, *keys: str | SortKey) -> EsqlQuery:
        """``SORT``: :class:`SortKey` values or ``"column [ASC|DESC] [NULLS FIRST|LAST]"``."""
        if all(isinstance(k, SortKey) for k in keys):
            return self.then(Sort(tuple(keys)))  # type: ignore[arg-type]
        return self.then(
            "SORT " + ", ".join(k.text() if isinstance(k, SortKey) else k for k in keys)
        )

    def limit(self, count: int) -> EsqlQuery:
        return self.then(Limit(count))

    def keep(self, *columns: str) -> EsqlQuery:
        return self.then(Keep(columns))

    def drop(self, *columns: str) -> EsqlQuery:
        return self.then(Drop(columns))

    def rerank(
        self,
        query: str,
        *,
        on: str | EsqlExpression | Sequence[str | EsqlExpression],
        inference_id: str | None = None,
        column: str | None = None,
        timeout: str | None = None,
    ) -> EsqlQuery:
        """``RERANK [column =] "query" ON on... WITH {inference_id, timeout}``: the score goes
        to ``_score`` (or ``column``); ``timeout`` is an ES time value such as ``"30s"``."""
        fields = (on,) if isinstance(on, str | EsqlExpression) else tuple(on)
        return self.then(Rerank(query, fields, inference_id, column, timeout))

    @property
    def rerank_at(self) -> int | None:
        """The position of the first ``RERANK`` among :attr:`commands`, if any."""
        return next((i for i, c in enumerate(self.commands) if isinstance(c, Rerank)), None)

    def text(self) -> str:
        return " | ".join([self.source, *(c.text() for c in self.commands)])

    def __str__(self) -> str:
        return self.text()


def _text(command: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise EsqlError(f"{command} needs ES|QL text, got {value!r}")
    if len(split_top_level(value, "|")) > 1:
        raise EsqlError(f"{command} text must be one command, got a '|' in {value!r}")
    return value.strip()
