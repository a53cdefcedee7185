"""ES|QL processing commands as typed values: each renders its ES|QL text, and
:func:`parse_command` reads one back. Only the commands the external path must understand
(``RERANK`` and the ones it applies client-side: ``LIMIT``, ``SORT``, ``KEEP``, ``DROP``)
are typed; every other command is kept verbatim as a :class:`RawCommand`.

``RERANK``'s shape and options follow Elasticsearch's parser (``EsqlBaseParser.g4``'s
``rerankCommand``, ``LogicalPlanBuilder.visitRerankCommand``/``applyRerankOptions``):
``RERANK [column =] "query" ON field[, field...] [WITH {"inference_id": ..., "timeout": ...}]``;
the score goes to ``_score`` unless ``column =`` names another column, and the endpoint
defaults to ``.rerank-v1-elasticsearch``.

>>> cmd = Rerank("war and peace", ("title", "author"), inference_id="my-reranker", timeout="30s")
>>> cmd.text()
'RERANK "war and peace" ON title, author WITH { "inference_id" : "my-reranker", "timeout" : "30s" }'
>>> parse_command(cmd.text()) == cmd
True
>>> parse_command("SORT _score DESC NULLS LAST, book_no").text()
'SORT _score DESC NULLS LAST, book_no'
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from es_rerank.errors import ConfigurationError
from es_rerank.esql.text import (
    find_keyword,
    masked,
    quote_identifier,
    quote_string,
    split_top_level,
    unquote_identifier,
    unquote_string,
)

__all__ = [
    "DEFAULT_RERANK_INFERENCE_ID",
    "RERANK_OPTIONS",
    "Command",
    "Drop",
    "EsqlError",
    "EsqlExpression",
    "Keep",
    "Limit",
    "RawCommand",
    "Rerank",
    "Sort",
    "SortKey",
    "parse_command",
    "parse_time_value",
]

#: The endpoint ``RERANK`` calls without ``inference_id`` (ES's ``Rerank.DEFAULT_INFERENCE_ID``).
DEFAULT_RERANK_INFERENCE_ID = ".rerank-v1-elasticsearch"
#: ``RERANK``'s ``WITH`` options in the newest ES (``inference_id``; ``timeout`` since the
#: ``inference_accept_timeout`` capability).
RERANK_OPTIONS = ("inference_id", "timeout")

_IDENTIFIER = re.compile(r"\s*(`(?:[^`]|``)+`|[A-Za-z@_][A-Za-z0-9_@.]*)\s*\Z")
_TIME_VALUE = re.compile(r"\s*(-1|0|\d+(?:\.\d+)?\s*(?:nanos|micros|ms|s|m|h|d))\s*\Z", re.I)
_TIME_UNITS = {"nanos": 1e-9, "micros": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class EsqlError(ConfigurationError):
    """An ES|QL query this package cannot build, parse, or run the way it was asked to."""


@dataclass(frozen=True)
class EsqlExpression:
    """ES|QL expression text used as is (a ``RERANK ... ON`` item that is not a column,
    such as ``TOP_SNIPPETS(description, "q")``)."""

    text: str


def _column_name(text: str) -> str | None:
    """The column ``text`` names when it is a bare or quoted name, else None."""
    return unquote_identifier(text) if _IDENTIFIER.match(text) else None


def parse_time_value(value: str) -> float | None:
    """Seconds in an ES time value (``30s``, ``500ms``, ``10m``); None for ``-1`` (no
    limit). Anything else raises :class:`EsqlError`.

    >>> parse_time_value("30s"), parse_time_value("1.5m"), parse_time_value("-1")
    (30.0, 90.0, None)
    """
    if not isinstance(value, str) or not _TIME_VALUE.match(value):
        raise EsqlError(
            f"failed to parse [{value}] as a time value in RERANK option [timeout]: "
            "expected a number with a unit (nanos, micros, ms, s, m, h, d), such as 30s"
        )
    text = value.strip().lower()
    if text == "-1":
        return None
    if text == "0":
        return 0.0
    number, unit = re.fullmatch(r"([\d.]+)\s*([a-z]+)", text).groups()  # type: ignore[union-attr]
    return float(number) * (86400.0 if unit == "d" else _TIME_UNITS[unit])


class Command:
    """One ES|QL processing command; :meth:`text` is how it is written in a query."""

    name: ClassVar[str] = ""

    def text(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class RawCommand(Command):
    """Any other command, kept as written."""

    source: str

    def text(self) -> str:
        return self.source.strip()


@dataclass(frozen=True)
class Limit(Command):
    name: ClassVar[str] = "LIMIT"
    count: int

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 0:
            raise EsqlError(f"LIMIT takes a non-negative whole number of rows, got {self.count!r}")

    def text(self) -> str:
        return f"LIMIT {self.count}"


@dataclass(frozen=True)
class SortKey:
    """One ``SORT`` key: ES|QL puts nulls last ascending and first descending unless told."""

    column: str
    descending: bool = False
    nulls_first: bool | None = None

    @property
    def effective_nulls_first(self) -> bool:
        return self.descending if self.nulls_first is None else self.nulls_first

    def text(self) -> str:
        out = quote_identifier(self.column) + (" DESC" if self.descending else "")
        if self.nulls_first is not None:
            out += " NULLS FIRST" if self.nulls_first else " NULLS LAST"
        return out


@dataclass(frozen=True)
class Sort(Command):
    name: ClassVar[str] = "SORT"
    keys: tuple[SortKey, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise EsqlError("SORT needs at least one column")

    def text(self) -> str:
        return "SORT " + ", ".join(k.text() for k in self.keys)


@dataclass(frozen=True)
class Keep(Command):
    """``KEEP`` with column names or ``*`` patterns."""

    name: ClassVar[str] = "KEEP"
    columns: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.columns:
            raise EsqlError(f"{self.name} needs at least one column")

    def text(self) -> str:
        return f"{self.name} " + ", ".join(_pattern_text(c) for c in self.columns)


@dataclass(frozen=True)
class Drop(Keep):
    name: ClassVar[str] = "DROP"


def _pattern_text(pattern: str) -> str:
    if "*" in pattern and "`" not in pattern and re.fullmatch(r"[A-Za-z0-9_@.*]+", pattern):
        return pattern
    return quote_identifier(pattern)


@dataclass(frozen=True)
class Rerank(Command):
    """``RERANK``: score each row's ``on`` columns (or expressions) against ``query``."""

    name: ClassVar[str] = "RERANK"
    query: str
    on: tuple[str | EsqlExpression, ...]
    inference_id: str | None = None
    column: str | None = None
    timeout: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.query, str):
            raise EsqlError(f"RERANK query must be a string, got {self.query!r}")
        if not self.query.strip():
            raise EsqlError("RERANK query must not be empty")
        on = (self.on,) if isinstance(self.on, str | EsqlExpression) else tuple(self.on)
        if not on or not all(
            isinstance(f, EsqlExpression) or (isinstance(f, str) and f) for f in on
        ):
            raise EsqlError(
                f"RERANK ON needs one or more column names or EsqlExpression, got {self.on!r}"
            )
        object.__setattr__(self, "on", on)
        if self.inference_id is not None and (
            not isinstance(self.inference_id, str) or not self.inference_id
        ):
            raise EsqlError(
                f"Option [inference_id] must be a valid string, found [{self.inference_id!r}]"
            )
        if self.column is not None and (not isinstance(self.column, str) or not self.column):
            raise EsqlError(f"RERANK column must be a non-empty name, got {self.column!r}")
        if self.timeout is not None:
            parse_time_value(self.timeout)

    @property
    def score_column(self) -> str:
        return "_score" if self.column is None else self.column

    @property
    def effective_inference_id(self) -> str:
        return DEFAULT_RERANK_INFERENCE_ID if self.inference_id is None else self.inference_id

    def text(self) -> str:
        target = "" if self.column is None else f"{quote_identifier(self.column)} = "
        fields = ", ".join(
            f.text if isinstance(f, EsqlExpression) else quote_identifier(f) for f in self.on
        )
        out = f"RERANK {target}{quote_string(self.query)} ON {fields}"
        options = {"inference_id": self.inference_id, "timeout": self.timeout}
        written = [f"{quote_string(k)} : {quote_string(v)}" for k, v in options.items() if v]
        if written:
            out += " WITH { " + ", ".join(written) + " }"
        return out


def _parse_sort(body: str, source: str) -> Command:
    keys: list[SortKey] = []
    for item in split_top_level(body, ","):
        m = re.fullmatch(
            r"\s*(.+?)(?:\s+(ASC|DESC))?(?:\s+NULLS\s+(FIRST|LAST))?\s*", item, re.I | re.S
        )
        column = _column_name(m.group(1)) if m else None
        if m is None or column is None:
            return RawCommand(source)  # a sort on an expression: only ES can evaluate it
        direction, nulls = (m.group(2) or "").upper(), (m.group(3) or "").upper()
        keys.append(SortKey(column, direction == "DESC", None if not nulls else nulls == "FIRST"))
    return Sort(tuple(keys))


def _parse_with(text: str) -> dict[str, Any]:
    try:
        options = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EsqlError(f"RERANK WITH must be a map of constants, got {text.strip()}") from exc
    if not isinstance(options, dict):
        raise EsqlError(f"RERANK WITH must be a map, got {text.strip()}")
    for key in options:
        if key not in RERANK_OPTIONS:
            raise EsqlError(
                f"Invalid option [{key}] in RERANK, expected one of [{', '.join(RERANK_OPTIONS)}]"
            )
    for key, value in options.items():
        if not isinstance(value, str):
            raise EsqlError(f"Option [{key}] must be a valid string, found [{value}]")
    return options


def _parse_rerank(body: str) -> Rerank:
    on_at = find_keyword(body, "ON")
    if on_at < 0:
        raise EsqlError(f"RERANK needs ON and one or more fields: RERANK {body.strip()}")
    head, rest = body[:on_at], body[on_at + 2 :]
    with_at = find_keyword(rest, "WITH")
    fields_text, options = (rest, {}) if with_at < 0 else (rest[:with_at], {})
    if with_at >= 0:
        options = _parse_with(rest[with_at + 4 :])
    column = None
    assign = [i for i, ch in enumerate(masked(head)) if ch == "="]
    if assign:
        column = _column_name(head[: assign[0]])
        if column is None:
            raise EsqlError(f"RERANK target must be a column name, got {head[: assign[0]]!r}")
        head = head[assign[0] + 1 :]
    try:
        query = unquote_string(head.strip())
    except ValueError as exc:
        raise EsqlError(
            f"RERANK query must be a string literal, got {head.strip()} (parameters and "
            "expressions are not supported here)"
        ) from exc
    on: list[str | EsqlExpression] = []
    for item in split_top_level(fields_text, ","):
        mask = masked(item)
        eq = re.search(r"(?<![=!<>])=(?!=)", mask)
        expression = item[eq.end() :] if eq else item
        name = _column_name(expression)
        on.append(name if name is not None else EsqlExpression(expression.strip()))
    return Rerank(query, tuple(on), options.get("inference_id"), column, options.get("timeout"))


def parse_command(source: str) -> Command:
    """One command from its ES|QL text: a typed command when this module types it (and it
    has a form the client can apply), else a :class:`RawCommand`."""
    text = source.strip()
    word, _, body = text.partition(" ")
    keyword = word.upper()
    if keyword == "LIMIT" and re.fullmatch(r"\s*\d+\s*", body):
        return Limit(int(body))
    if keyword == "SORT":
        return _parse_sort(body, text)
    if keyword in ("KEEP", "DROP"):
        columns = tuple(unquote_identifier(c) for c in split_top_level(body, ","))
        return Keep(columns) if keyword == "KEEP" else Drop(columns)
    if keyword == "RERANK":
        return _parse_rerank(body)
    return RawCommand(text)
