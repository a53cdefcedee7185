"""An ES|QL result as typed rows, and the commands the client applies to one with ES|QL's
semantics (``LIMIT``, ``SORT``, ``KEEP``, ``DROP``, and the column ``RERANK`` writes).

>>> result = EsqlResult.from_response({
...     "columns": [{"name": "title", "type": "text"}, {"name": "year", "type": "integer"}],
...     "values": [["b", 2001], ["a", None], ["c", 1999]],
... })
>>> sort_rows(result, [SortKey("year", descending=True)]).column("title")
['a', 'b', 'c']
>>> keep_columns(result, ["y*", "title"]).names
('year', 'title')
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from es_rerank.esql.commands import EsqlError, SortKey

__all__ = [
    "EsqlColumn",
    "EsqlResult",
    "drop_columns",
    "keep_columns",
    "limit_rows",
    "set_column",
    "sort_rows",
]


@dataclass(frozen=True)
class EsqlColumn:
    """A result column: its name and ES|QL type (``keyword``, ``text``, ``double``, ...)."""

    name: str
    type: str


@dataclass(frozen=True)
class EsqlResult:
    """Columns and rows of an ES|QL answer. A multi-valued cell is a list, a null ``None``."""

    columns: tuple[EsqlColumn, ...]
    values: tuple[tuple[Any, ...], ...]

    @classmethod
    def from_response(cls, body: Mapping[str, Any]) -> EsqlResult:
        """From the JSON body of ``POST _query`` (``columns`` and ``values``)."""
        try:
            columns = tuple(EsqlColumn(c["name"], c["type"]) for c in body["columns"])
            values = tuple(tuple(row) for row in body.get("values", []))
        except (KeyError, TypeError) as exc:
            raise EsqlError(f"not an ES|QL response (columns and values): {exc!r}") from exc
        for row in values:
            if len(row) != len(columns):
                raise EsqlError(f"an ES|QL row has {len(row)} values for {len(columns)} columns")
        return cls(columns, values)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def index(self, name: str) -> int:
        """The position of column ``name``; ES|QL's error when there is none."""
        try:
            return self.names.index(name)
        except ValueError:
            raise EsqlError(f"Unknown column [{name}]") from None

    def column(self, name: str) -> list[Any]:
        i = self.index(name)
        return [row[i] for row in self.values]

    def rows(self) -> list[dict[str, Any]]:
        """Each row as ``{column: value}``."""
        return [dict(zip(self.names, row, strict=True)) for row in self.values]

    def __len__(self) -> int:
        return len(self.values)


def limit_rows(result: EsqlResult, count: int) -> EsqlResult:
    return EsqlResult(result.columns, result.values[:count])


def _sort_value(value: Any, descending: bool) -> Any:
    # A multi-valued cell sorts by its lowest value ascending, its highest descending.
    if isinstance(value, list):
        values = [v for v in value if v is not None]
        if not values:
            return None
        return max(values) if descending else min(values)
    return value


def sort_rows(result: EsqlResult, keys: Sequence[SortKey]) -> EsqlResult:
    """``SORT``: keys in order, nulls last ascending and first descending unless a key says
    otherwise, ties kept in input order."""
    rows = list(result.values)
    # Stable sorts from the last key to the first give the multi-key order.
    for key in reversed(keys):
        i = result.index(key.column)
        present = [r for r in rows if _sort_value(r[i], key.descending) is not None]
        nulls = [r for r in rows if _sort_value(r[i], key.descending) is None]
        present.sort(key=lambda r: _sort_value(r[i], key.descending), reverse=key.descending)
        rows = nulls + present if key.effective_nulls_first else present + nulls
    return EsqlResult(result.columns, tuple(rows))


def _matches(name: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern) if "*" in pattern else name == pattern


def keep_columns(result: EsqlResult, patterns: Sequence[str]) -> EsqlResult:
    """``KEEP``: columns in the order of the patterns that claim them. A name claims its
    column over any wildcard, and a later wildcard over an earlier one; a name that is no
    column is ES|QL's ``Unknown column`` error."""
    claim: dict[str, tuple[int, int]] = {}  # column -> (exact?, pattern position)
    for position, pattern in enumerate(patterns):
        exact = "*" not in pattern
        matched = [n for n in result.names if _matches(n, pattern)]
        if exact and not matched:
            raise EsqlError(f"Unknown column [{pattern}]")
        for name in matched:
            rank = (1 if exact else 0, position)
            if name not in claim or rank >= claim[name]:
                claim[name] = rank
    order = sorted(claim, key=lambda n: (claim[n][1], result.names.index(n)))
    return _project(result, order)


def drop_columns(result: EsqlResult, patterns: Sequence[str]) -> EsqlResult:
    """``DROP``: every column a pattern matches; an unknown name is an error, as in ES|QL."""
    for pattern in patterns:
        if "*" not in pattern:
            result.index(pattern)
    kept = [n for n in result.names if not any(_matches(n, p) for p in patterns)]
    return _project(result, kept)


def _project(result: EsqlResult, names: Iterable[str]) -> EsqlResult:
    positions = [result.index(n) for n in names]
    return EsqlResult(
        tuple(result.columns[i] for i in positions),
        tuple(tuple(row[i] for i in positions) for row in result.values),
    )


def set_column(result: EsqlResult, column: EsqlColumn, values: Sequence[Any]) -> EsqlResult:
    """``result`` with ``column`` written: a column of the same name is removed and the new
    one goes last, as ES's ``mergeOutputAttributes`` orders a generated column."""
    if len(values) != len(result.values):
        raise EsqlError(f"{len(values)} values for {len(result.values)} rows")
    keep = [i for i, c in enumerate(result.columns) if c.name != column.name]
    return EsqlResult(
        (*(result.columns[i] for i in keep), column),
        tuple((*(row[i] for i in keep), v) for row, v in zip(result.values, values, strict=True)),
    )
