"""A test-only ES|QL interpreter over ES's ``books`` dataset: just what ``rerank.csv-spec``
uses around ``RERANK`` (``FROM ... METADATA``, ``ROW``, ``WHERE`` with ``:``/``MATCH``/
comparisons/``IS NULL``, ``EVAL`` with ``ROUND``/``CASE``, ``SORT``, ``LIMIT``, ``KEEP``,
``DROP``, ``MV_EXPAND``, ``STATS x = COUNT(*) [WHERE ...]``). It plays Elasticsearch for the
commands before ``RERANK`` (an :class:`~es_rerank.esql.EsqlSource`) and applies what the
client refuses after it. ``SORT``/``LIMIT``/``KEEP``/``DROP`` are the library's own.
Anything else raises :class:`Unsupported`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from es_rerank.esql import EsqlColumn, EsqlQuery, EsqlResult, Keep, Limit, Sort
from es_rerank.esql.commands import Command, Drop, RawCommand, Rerank
from es_rerank.esql.rerank_inputs import as_float32
from es_rerank.esql.table import (
    drop_columns,
    keep_columns,
    limit_rows,
    set_column,
    sort_rows,
)
from es_rerank.esql.text import split_top_level, unquote_identifier, unquote_string
from tests.conformance.esql.bm25 import Bm25Field
from tests.conformance.esql.csv_spec import value

DATA = Path(__file__).resolve().parent / "data"
DOC = "__doc"  # hidden column: the row's document, for full-text scoring


class Unsupported(NotImplementedError):
    """A construct this test interpreter does not implement."""


# ---------------------------------------------------------------- the dataset


def _csv_fields(line: str) -> list[str]:
    out, current, depth, i = [], "", 0, 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and line[i + 1 : i + 2] == ",":
            current, i = current + ",", i + 2
            continue
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            out.append(current)
            current = ""
        else:
            current += ch
        i += 1
    return [*out, current]


_TYPES = {"text": "text", "keyword": "keyword", "integer": "integer", "float": "double"}


def _convert(text: str, kind: str) -> Any:
    cell = value(text, kind, null="")
    if kind != "float" or cell is None:
        return cell
    # a float field, read back as ES|QL's double
    return [as_float32(c) for c in cell] if isinstance(cell, list) else as_float32(cell)


class Dataset:
    """ES's CSV test data (``name:type`` header, ``\\,`` escapes, ``[a, b]`` multi-values)
    and its mapping: text fields with a ``keyword`` sub-field are read from its doc values,
    so their values come sorted and deduplicated, and the sub-field is a column too."""

    def __init__(self, csv_path: Path, mapping_path: Path) -> None:
        lines = [x for x in csv_path.read_text().split("\n") if x]
        header = [h.split(":") for h in _csv_fields(lines[0])]
        props = json.loads(mapping_path.read_text())["properties"]
        self.docs: list[dict[str, Any]] = []
        for line in lines[1:]:
            raw = dict(zip((n for n, _ in header), _csv_fields(line), strict=True))
            doc = {n: _convert(raw[n], t) for n, t in header}
            for name, spec in props.items():
                if "keyword" in spec.get("fields", {}) and isinstance(doc.get(name), list):
                    doc[name] = sorted(set(doc[name]))
                if "keyword" in spec.get("fields", {}):
                    doc[f"{name}.keyword"] = doc.get(name)
            self.docs.append(doc)
        self.types = {n: _TYPES[t] for n, t in header if n != "_id"}
        for name, spec in props.items():
            if "keyword" in spec.get("fields", {}):
                self.types[f"{name}.keyword"] = "keyword"
        self._fields: dict[str, Bm25Field] = {}

    def field(self, name: str) -> Bm25Field:
        if name not in self._fields:
            values = []
            for doc in self.docs:
                v = doc.get(name)
                values.append(
                    [] if v is None else [str(x) for x in (v if isinstance(v, list) else [v])]
                )
            self._fields[name] = Bm25Field(values)
        return self._fields[name]


def books() -> Dataset:
    return Dataset(DATA / "books.csv", DATA / "mapping-books.json")


# ---------------------------------------------------------------- expressions

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"""(?:.|\n)*?"""|"(?:[^"\\]|\\.)*")|(?P<num>\d+(?:\.\d+)?)'
    r"|(?P<op>==|!=|>=|<=|[<>=:+\-*/(),\[\]{}])|(?P<name>`(?:[^`]|``)+`|[A-Za-z_@][\w.@]*))",
    re.S,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise Unsupported(f"cannot read {text[pos:]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, value: str | None = None) -> bool:
        if self.i >= len(self.toks):
            return False
        kind, tok = self.toks[self.i]
        return value is None or (tok.upper() == value.upper() and kind in ("op", "name"))

    def take(self, value: str | None = None) -> str:
        if value is not None and not self.peek(value):
            raise Unsupported(f"expected {value} at {self.toks[self.i :]}")
        self.i += 1
        return self.toks[self.i - 1][1]

    def parse(self) -> Any:
        node = self.or_()
        if self.i != len(self.toks):
            raise Unsupported(f"unexpected {self.toks[self.i :]}")
        return node

    def or_(self) -> Any:
        node = self.and_()
        while self.peek("OR"):
            self.take()
            node = ("or", node, self.and_())
        return node

    def and_(self) -> Any:
        node = self.not_()
        while self.peek("AND"):
            self.take()
            node = ("and", node, self.not_())
        return node

    def not_(self) -> Any:
        if self.peek("NOT"):
            self.take()
            return ("not", self.not_())
        return self.comparison()

    def comparison(self) -> Any:
        left = self.additive()
        if self.peek("IS"):
            self.take()
            negate = self.peek("NOT")
            if negate:
                self.take()
            self.take("NULL")
            return ("isnull", left, negate)
        if self.peek(":"):
            self.take()
            return ("match", left, self.additive(), {})
        for op in ("==", "!=", ">=", "<=", ">", "<"):
            if self.peek(op):
                self.take()
                return ("cmp", op, left, self.additive())
        return left

    def additive(self) -> Any:
        node = self.primary()
        while self.peek("+") or self.peek("-"):
            op = self.take()
            node = ("arith", op, node, self.primary())
        return node

    def primary(self) -> Any:
        kind, tok = self.toks[self.i]
        if kind == "str":
            self.i += 1
            return ("lit", unquote_string(tok))
        if kind == "num":
            self.i += 1
            return ("lit", float(tok) if "." in tok else int(tok))
        if tok == "(":
            self.take()
            node = self.or_()
            self.take(")")
            return node
        if tok == "[":
            self.take()
            items = [self.or_()]
            while self.peek(","):
                self.take()
                items.append(self.or_())
            self.take("]")
            return ("list", items)
        if tok == "{":
            depth, start = 0, self.i
            while True:
                t = self.take()
                depth += {"{": 1, "}": -1}.get(t, 0)
                if depth == 0:
                    break
            text = "".join(t for _, t in self.toks[start : self.i])
            return ("lit", json.loads(text))
        if kind == "name":
            self.i += 1
            upper = tok.upper()
            if upper in ("NULL", "TRUE", "FALSE"):
                return ("lit", {"NULL": None, "TRUE": True, "FALSE": False}[upper])
            if self.peek("("):
                self.take()
                args = []
                if not self.peek(")"):
                    args.append(self.or_() if not self.peek("*") else ("star",))
                    while self.peek(","):
                        self.take()
                        args.append(self.or_())
                self.take(")")
                if upper == "MATCH":
                    return ("match", args[0], args[1], args[2][1] if len(args) > 2 else {})
                return ("call", upper, args)
            return ("col", unquote_identifier(tok))
        raise Unsupported(f"unexpected {tok!r}")


def _round(value: Any, digits: Any) -> Any:
    if value is None:
        return None
    exact = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-int(digits)), ROUND_HALF_UP)
    return float(exact)


def _compare(op: str, a: Any, b: Any) -> bool | None:
    if a is None or b is None or isinstance(a, list) or isinstance(b, list):
        return None
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "==": lambda x, y: bool(x == y),
        "!=": lambda x, y: bool(x != y),
        ">=": lambda x, y: bool(x >= y),
        "<=": lambda x, y: bool(x <= y),
        ">": lambda x, y: bool(x > y),
        "<": lambda x, y: bool(x < y),
    }
    return ops[op](a, b)


class _Evaluator:
    def __init__(self, dataset: Dataset | None) -> None:
        self.dataset = dataset

    def value(self, node: Any, row: dict[str, Any]) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "col":
            if node[1] not in row:
                raise Unsupported(f"Unknown column [{node[1]}]")
            return row[node[1]]
        if kind == "list":
            return [self.value(n, row) for n in node[1]]
        if kind == "arith":
            a, b = self.value(node[2], row), self.value(node[3], row)
            return None if a is None or b is None else (a + b if node[1] == "+" else a - b)
        if kind == "call":
            name, args = node[1], node[2]
            if name == "ROUND":
                return _round(
                    self.value(args[0], row), self.value(args[1], row) if len(args) > 1 else 0
                )
            if name == "CASE":
                for cond, out in zip(args[0::2], args[1::2], strict=False):
                    if self.condition(cond, row)[0]:
                        return self.value(out, row)
                return self.value(args[-1], row) if len(args) % 2 else None
            raise Unsupported(f"function {name} is not implemented by the test interpreter")
        return self.condition(node, row)[0]

    def condition(self, node: Any, row: dict[str, Any]) -> tuple[bool | None, float]:
        """Truth and full-text score (a bool query's: summed over matching clauses)."""
        kind = node[0]
        if kind == "and":
            (a, sa), (b, sb) = self.condition(node[1], row), self.condition(node[2], row)
            return (bool(a and b), sa + sb) if a is not None and b is not None else (False, 0.0)
        if kind == "or":
            (a, sa), (b, sb) = self.condition(node[1], row), self.condition(node[2], row)
            return bool(a) or bool(b), (sa if a else 0.0) + (sb if b else 0.0)
        if kind == "not":
            a, _ = self.condition(node[1], row)
            return (None if a is None else not a), 0.0
        if kind == "isnull":
            is_null = self.value(node[1], row) is None
            return (not is_null if node[2] else is_null), 0.0
        if kind == "cmp":
            return _compare(node[1], self.value(node[2], row), self.value(node[3], row)), 0.0
        if kind == "match":
            return self._match(node, row)
        value = self.value(node, row)
        return (None if value is None else bool(value)), 0.0

    def _match(self, node: Any, row: dict[str, Any]) -> tuple[bool, float]:
        if self.dataset is None or DOC not in row or node[1][0] != "col":
            raise Unsupported("full-text match needs a FROM over the dataset and a field")
        options = node[3]
        msm = options.get("minimum_should_match")
        if msm not in (None, "100%"):
            raise Unsupported(f"minimum_should_match {msm!r}")
        scores = self.dataset.field(node[1][1]).score(
            self.value(node[2], row), all_terms=msm == "100%"
        )
        score = scores[row[DOC]]
        return (score is not None), (score or 0.0)


# ---------------------------------------------------------------- commands


def _type_of(values: Sequence[Any], previous: str | None) -> str:
    for v in values:
        for x in v if isinstance(v, list) else [v]:
            if isinstance(x, bool):
                return "boolean"
            if isinstance(x, int):
                return "integer"
            if isinstance(x, float):
                return "double"
            if isinstance(x, str):
                return previous if previous in ("text", "keyword") else "keyword"
    return previous or "null"


class LocalEsql:
    """An :class:`~es_rerank.esql.EsqlSource` over one dataset, named ``index``."""

    def __init__(self, dataset: Dataset, index: str) -> None:
        self.dataset = dataset
        self.index = index
        self.evaluator = _Evaluator(dataset)
        self.queries: list[str] = []

    def esql(self, query: str) -> EsqlResult:
        self.queries.append(query)
        parsed = EsqlQuery.parse(query)
        result = self._source(parsed.source)
        for command in parsed.commands:
            result = self.apply(result, command)
        return _without_doc(result)

    def _source(self, text: str) -> EsqlResult:
        word, _, rest = text.partition(" ")
        if word.upper() == "ROW":
            return self._eval(EsqlResult((), ((),)), rest)
        if word.upper() != "FROM":
            raise Unsupported(text)
        m = re.fullmatch(r"\s*(\S+)(?:\s+METADATA\s+(.+))?", rest, re.I)
        if m is None or m.group(1) != self.index:
            raise Unsupported(f"FROM {rest}")
        metadata = [x.strip() for x in (m.group(2) or "").split(",") if x.strip()]
        names = sorted(self.dataset.types)
        columns = [EsqlColumn(n, self.dataset.types[n]) for n in names]
        meta_types = {"_score": "double", "_id": "keyword", "_index": "keyword"}
        columns += [EsqlColumn(n, meta_types[n]) for n in metadata] + [EsqlColumn(DOC, "integer")]
        meta = {"_score": 0.0, "_index": self.index}
        rows = tuple(
            (
                *(doc.get(n) for n in names),
                *(doc["_id"] if n == "_id" else meta[n] for n in metadata),
                i,
            )
            for i, doc in enumerate(self.dataset.docs)
        )
        return EsqlResult(tuple(columns), rows)

    def apply(self, result: EsqlResult, command: Command) -> EsqlResult:
        """One processing command over ``result``."""
        if isinstance(command, Limit):
            return limit_rows(result, command.count)
        if isinstance(command, Sort):
            return sort_rows(result, command.keys)
        if isinstance(command, Drop):
            return _keep_doc(result, drop_columns(result, command.columns))
        if isinstance(command, Keep):
            return _keep_doc(result, keep_columns(result, command.columns))
        if isinstance(command, Rerank):
            raise Unsupported("RERANK runs in the code under test, not here")
        text = command.text() if isinstance(command, RawCommand) else ""
        word, _, body = text.partition(" ")
        word = word.upper()
        if word == "WHERE":
            return self._where(result, body)
        if word == "EVAL":
            return self._eval(result, body)
        if word == "MV_EXPAND":
            return self._mv_expand(result, unquote_identifier(body))
        if word == "STATS":
            return self._stats(result, body)
        raise Unsupported(f"{word} is not implemented by the test interpreter")

    def _rows(self, result: EsqlResult) -> list[dict[str, Any]]:
        return result.rows()

    def _where(self, result: EsqlResult, body: str) -> EsqlResult:
        node = _Parser(body).parse()
        # Only full-text conditions score; others leave _score as it is (null included).
        has_score = "_score" in result.names and "'match'" in repr(node)
        kept, scores = [], []
        for row, values in zip(self._rows(result), result.values, strict=True):
            ok, score = self.evaluator.condition(node, row)
            if ok:
                kept.append(values)
                scores.append(as_float32((row["_score"] or 0.0) + score) if has_score else None)
        out = EsqlResult(result.columns, tuple(kept))
        if not has_score:
            return out
        i = out.index("_score")
        return EsqlResult(
            out.columns,
            tuple((*r[:i], s, *r[i + 1 :]) for r, s in zip(out.values, scores, strict=True)),
        )

    def _eval(self, result: EsqlResult, body: str) -> EsqlResult:
        for assignment in split_top_level(body, ","):
            m = re.match(r"\s*(`(?:[^`]|``)+`|[A-Za-z_@][\w.@]*)\s*=(?!=)(.*)\Z", assignment, re.S)
            if m is None:
                raise Unsupported(f"EVAL {assignment}")
            name, node = unquote_identifier(m.group(1)), _Parser(m.group(2)).parse()
            values = [self.evaluator.value(node, row) for row in self._rows(result)]
            previous = next((c.type for c in result.columns if c.name == name), None)
            result = set_column(result, EsqlColumn(name, _type_of(values, previous)), values)
            result = _doc_last(result)
        return result

    def _mv_expand(self, result: EsqlResult, name: str) -> EsqlResult:
        i = result.index(name)
        rows = []
        for row in result.values:
            items = row[i] if isinstance(row[i], list) else [row[i]]
            rows += [(*row[:i], item, *row[i + 1 :]) for item in items]
        return EsqlResult(result.columns, tuple(rows))

    def _stats(self, result: EsqlResult, body: str) -> EsqlResult:
        m = re.fullmatch(r"\s*(\w+)\s*=\s*COUNT\(\*\)(?:\s+WHERE\s+(.+))?\s*", body, re.I | re.S)
        if m is None:
            raise Unsupported(f"STATS {body}")
        node = _Parser(m.group(2)).parse() if m.group(2) else None
        rows = self._rows(result)
        count = sum(1 for r in rows if node is None or self.evaluator.condition(node, r)[0])
        return EsqlResult((EsqlColumn(m.group(1), "long"),), ((count,),))


def _without_doc(result: EsqlResult) -> EsqlResult:
    return drop_columns(result, [DOC]) if DOC in result.names else result


def _keep_doc(before: EsqlResult, after: EsqlResult) -> EsqlResult:
    if DOC in before.names and DOC not in after.names:
        return set_column(after, EsqlColumn(DOC, "integer"), before.column(DOC))
    return after


def _doc_last(result: EsqlResult) -> EsqlResult:
    return (
        set_column(result, EsqlColumn(DOC, "integer"), result.column(DOC))
        if DOC in result.names
        else result
    )
