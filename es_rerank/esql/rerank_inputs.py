"""How ES|QL's ``RERANK`` turns rows into reranker inputs and scores back into one score per
row; the retriever's external ``fields=[...]`` scores hits with the same functions.

Followed: Elasticsearch ``main`` (x-pack/plugin/esql, ``RerankOperator``,
``RerankRequestIterator``, ``RerankOutputBuilder``, ``LocalExecutionPlanner.planRerank``;
read at commits 0128e30676c6961849e4d2d0f92b6b1eb58e4433 and
c0219749d3afcfd467e9fe1da9d49d5263cdc6d3), the behaviour ``rerank.csv-spec`` pins. Each
``ON`` field is evaluated on its own, and every value of every field is one input: a
multi-valued field sends each value, null and blank (whitespace-only) values send nothing.
A row's score is the max over its inputs' scores; a row with no input gets null. Requests
group whole rows until a request holds at least ``batch_size`` (10) inputs, and scores come
back as ES's ``float`` relevance scores. (ES 9.1/9.2 encoded several fields as one YAML text
per row instead.)

>>> row_texts(["War and Peace", ["Leo Tolstoy", "  ", None], 2012])
['War and Peace', 'Leo Tolstoy', '2012']
>>> value_text(1.0), value_text(1e-05), value_text(12345678.9), value_text(True)
('1.0', '1.0E-5', '1.23456789E7', 'true')
>>> row_scores([1, 0, 2], [0.5, 0.25, 0.75])
[0.5, None, 0.75]
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "as_float32",
    "has_text",
    "request_batches",
    "row_scores",
    "row_texts",
    "source_values",
    "value_text",
]

#: ``RerankOperator.DEFAULT_BATCH_SIZE``: a request is closed once it holds this many inputs.
DEFAULT_BATCH_SIZE = 10

# Java's Character.isWhitespace is Python's isspace minus the no-break spaces and NEL.
_NOT_JAVA_WHITESPACE = frozenset("\u00a0\u2007\u202f\u0085")


def has_text(text: str) -> bool:
    """Java ``Strings.hasText``: some character is not whitespace.

    >>> has_text(" \\t\\n"), has_text("\\u00a0")
    (False, True)
    """
    return any(not ch.isspace() or ch in _NOT_JAVA_WHITESPACE for ch in text)


def _java_double(value: float) -> str:
    # Double.toString: plain from 1e-3 up to 1e7, else d.dddE<n>; shortest digits either way.
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)
    exact = Decimal(repr(value))
    digits = "".join(map(str, exact.as_tuple().digits)).rstrip("0") or "0"
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exact.adjusted()}"


def value_text(value: Any) -> str | None:
    """One value as the text ES|QL sends: strings as they are, booleans ``true``/``false``,
    numbers as Java prints them; None for a null or an object."""
    if value is None or isinstance(value, Mapping | list | tuple):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _java_double(value)
    return str(value)


def row_texts(values: Sequence[Any]) -> list[str]:
    """The inputs one row sends: every value of every field, in field order, skipping nulls
    and blank texts."""
    out: list[str] = []
    for value in values:
        items = value if isinstance(value, list | tuple) else [value]
        for item in items:
            text = value_text(item)
            if text is not None and has_text(text):
                out.append(text)
    return out


def source_values(source: Mapping[str, Any], path: str) -> list[Any]:
    """Every value at ``path`` in a ``_source`` (dotted paths, through lists of objects).

    >>> source_values({"a": [{"b": "x"}, {"b": ["y", "z"]}], "c.d": 1}, "a.b")
    ['x', 'y', 'z']
    """
    if path in source:
        found = source[path]
        return list(found) if isinstance(found, list) else [found]
    nodes: list[Any] = [source]
    for part in path.split("."):
        step: list[Any] = []
        for node in nodes:
            for item in node if isinstance(node, list) else [node]:
                if isinstance(item, Mapping) and part in item:
                    step.append(item[part])
        nodes = step
    flat: list[Any] = []
    for node in nodes:
        flat.extend(node if isinstance(node, list) else [node])
    return flat


def request_batches(counts: Sequence[int], batch_size: int = DEFAULT_BATCH_SIZE) -> list[range]:
    """The rows of each rerank request, given each row's input count: rows are added until a
    request holds ``batch_size`` inputs, then rows with no input are swept along with it
    (``RerankRequestIterator``). A request may therefore hold more than ``batch_size``.

    >>> request_batches([4, 4, 4, 0, 3], batch_size=10)
    [range(0, 4), range(4, 5)]
    """
    batches: list[range] = []
    pos = 0
    while pos < len(counts):
        start, held = pos, 0
        while held < batch_size and pos < len(counts):
            held += counts[pos]
            pos += 1
        while pos < len(counts) and counts[pos] == 0:
            pos += 1
        batches.append(range(start, pos))
    return batches


def as_float32(score: float) -> float:
    """``score`` as ES holds a relevance score (a Java ``float``), widened back to double."""
    return float(struct.unpack("f", struct.pack("f", score))[0])


def row_scores(counts: Sequence[int], scores: Sequence[float]) -> list[float | None]:
    """One score per row from the scores of its inputs (``counts[i]`` of them, in order):
    their max, or None for a row that sent none (``RerankOutputBuilder``)."""
    if sum(counts) != len(scores):
        raise ValueError(
            "Mismatch between score count and position value counts: "
            f"expected {sum(counts)} scores but got {len(scores)}"
        )
    out: list[float | None] = []
    at = 0
    for count in counts:
        out.append(max(scores[at : at + count]) if count else None)
        at += count
    return out
