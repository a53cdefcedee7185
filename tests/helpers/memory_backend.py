"""An in-memory Backend for tests: a list of documents and enough of the query DSL
(match_all, match, multi_match, term, terms, range, ids, exists, bool) to run the
client's semantics.

:meth:`MemoryBackend.search_request` runs the standard retriever's own options too
(``sort`` on fields, ``_score`` and ``_doc``; ``search_after``; ``terminate_after``;
``min_score``; ``collapse``), as a :class:`~es_rerank.backends.SearchRequestBackend`.

Scores: ``match`` counts the query's distinct terms found in the field; ``term``,
``terms``, ``range``, ``ids``, ``exists`` and ``match_all`` score 1.0 (or ``boost``); a
``bool`` sums its ``must`` and ``should`` clauses and scores 0 when it only filters, as
Elasticsearch does. Ties keep insertion order (ES with one shard: Lucene doc order).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from es_rerank.backends.base import Hit, Hits

_TOKEN = re.compile(r"\w+")


def _tokens(value: Any) -> set[str]:
    values = value if isinstance(value, list) else [value]
    out: set[str] = set()
    for v in values:
        if v is not None and not isinstance(v, Mapping):
            out.update(t.lower() for t in _TOKEN.findall(str(v)))
    return out


def _values(doc: Mapping[str, Any], path: str) -> list[Any]:
    if path in doc:
        value = doc[path]
    else:
        value = doc
        for part in path.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return []
            value = value[part]
    return value if isinstance(value, list) else [value]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).lower() == str(b).lower()
    if isinstance(a, int | float) and isinstance(b, int | float | str):
        try:
            return float(a) == float(b)
        except ValueError:
            return False
    return str(a) == str(b)


def _one(clause: Mapping[str, Any], what: str) -> tuple[str, Any]:
    if not isinstance(clause, Mapping) or len(clause) != 1:
        raise ValueError(f"[{what}] takes exactly one field, got {clause!r}")
    ((field, spec),) = clause.items()
    return field, spec


class MemoryBackend:
    """``MemoryBackend(docs)``; each doc has an ``_id`` (popped into :attr:`Hit.id`)."""

    def __init__(self, docs: Iterable[Mapping[str, Any]], *, id_field: str = "_id") -> None:
        self.docs: list[tuple[str, dict[str, Any]]] = []
        for i, doc in enumerate(docs):
            source = dict(doc)
            doc_id = str(source.pop(id_field, i))
            self.docs.append((doc_id, source))
        self.calls: list[tuple[Mapping[str, Any] | None, int]] = []

    def search_query(self, query: Mapping[str, Any] | None, *, size: int) -> Hits:
        self.calls.append((query, size))
        scored = []
        for position, (doc_id, source) in enumerate(self.docs):
            score = self._score(query or {"match_all": {}}, doc_id, source)
            if score is not None:
                scored.append((-score, position, Hit(doc_id, score, source)))
        scored.sort(key=lambda item: (item[0], item[1]))
        return Hits([hit for _, _, hit in scored[:size]], total=len(scored))

    def search_request(
        self, query: Mapping[str, Any] | None, *, size: int, options: Mapping[str, Any]
    ) -> Hits:
        """``query`` with the standard retriever's options (ES JSON), as ES runs them on
        one shard: ``terminate_after`` stops collecting after that many matches in index
        order; ``min_score`` drops lower scores (and from the total); ``sort`` orders by
        fields (missing values last), ``_score`` or ``_doc``, ties in index order;
        ``search_after`` starts after the given sort values; ``collapse`` keeps the first
        hit of each value of its field."""
        known = {"sort", "search_after", "terminate_after", "min_score", "collapse"}
        for key in options:
            if key not in known:
                raise ValueError(f"MemoryBackend does not support the option [{key}]")
        self.calls.append((query, size))
        matched: list[tuple[int, Hit]] = []
        for position, (doc_id, source) in enumerate(self.docs):
            score = self._score(query or {"match_all": {}}, doc_id, source)
            if score is None:
                continue
            if options.get("min_score") is not None and score < float(options["min_score"]):
                continue
            matched.append((position, Hit(doc_id, score, source)))
            if options.get("terminate_after") and len(matched) >= options["terminate_after"]:
                break
        sorts = _sort_specs(options.get("sort"))
        keyed = [(self._sort_values(sorts, pos, hit), pos, hit) for pos, hit in matched]
        orders = [order for _, order in sorts]
        Keyed = tuple[tuple[Any, ...], int, Hit]

        def order(a: Keyed, b: Keyed) -> int:
            return _compare(a[0], b[0], orders) or a[1] - b[1]

        keyed.sort(key=functools.cmp_to_key(order))
        if options.get("search_after") is not None:
            after = tuple(options["search_after"])
            keyed = [k for k in keyed if _compare(k[0], after, orders) > 0]
        if options.get("collapse") is not None:
            field = options["collapse"]["field"]
            seen: set[str] = set()
            unique = []
            for item in keyed:
                group = repr(_values(item[2].source, field)[:1])
                if group not in seen:
                    seen.add(group)
                    unique.append(item)
            keyed = unique
        hits = [
            Hit(hit.id, hit.score, hit.source, sort=values if sorts else None)
            for values, _, hit in keyed[:size]
        ]
        return Hits(hits, total=len(keyed) if options.get("collapse") is None else len(matched))

    @staticmethod
    def _sort_values(sorts: list[tuple[str, str]], position: int, hit: Hit) -> tuple[Any, ...]:
        out: list[Any] = []
        for field, _ in sorts:
            if field == "_score":
                out.append(hit.score)
            elif field == "_doc":
                out.append(position)
            else:
                values = _values(hit.source, field)
                out.append(values[0] if values else None)
        return tuple(out)

    def _score(self, query: Mapping[str, Any], doc_id: str, doc: Mapping[str, Any]) -> float | None:
        if not isinstance(query, Mapping) or len(query) != 1:
            raise ValueError(f"a query is an object with one key, got {query!r}")
        ((kind, spec),) = query.items()
        boost = float(spec.get("boost", 1.0)) if isinstance(spec, Mapping) else 1.0
        if kind == "match_all":
            return boost
        if kind == "match":
            field, value = _one(spec, kind)
            text = value.get("query") if isinstance(value, Mapping) else value
            wanted = _tokens(text)
            found = len(wanted & _tokens(_values(doc, field)))
            return float(found) if found else None
        if kind == "multi_match":
            # most_fields sums the fields' match scores, best_fields takes the best
            scores = [
                self._score({"match": {f.split("^")[0]: spec["query"]}}, doc_id, doc)
                for f in spec.get("fields", [])
            ]
            found = [s for s in scores if s is not None]
            if not found:
                return None
            return sum(found) if spec.get("type") == "most_fields" else max(found)
        if kind == "term":
            field, value = _one(spec, kind)
            value = value.get("value") if isinstance(value, Mapping) else value
            return boost if any(_same(v, value) for v in _values(doc, field)) else None
        if kind == "terms":
            field, values = _one({k: v for k, v in spec.items() if k != "boost"}, kind)
            hit = any(_same(v, w) for v in _values(doc, field) for w in values)
            return boost if hit else None
        if kind == "ids":
            return boost if doc_id in {str(v) for v in spec.get("values", [])} else None
        if kind == "exists":
            return boost if _values(doc, spec["field"]) else None
        if kind == "range":
            field, bounds = _one(spec, kind)
            return boost if any(self._in_range(v, bounds) for v in _values(doc, field)) else None
        if kind == "bool":
            return self._bool(spec, doc_id, doc)
        raise ValueError(f"MemoryBackend does not support the [{kind}] query")

    @staticmethod
    def _in_range(value: Any, bounds: Mapping[str, Any]) -> bool:
        checks = {"gt": float.__gt__, "gte": float.__ge__, "lt": float.__lt__, "lte": float.__le__}
        for op, bound in bounds.items():
            if op not in checks:
                raise ValueError(f"MemoryBackend does not support range option [{op}]")
            if not checks[op](float(value), float(bound)):
                return False
        return True

    def _bool(self, spec: Mapping[str, Any], doc_id: str, doc: Mapping[str, Any]) -> float | None:
        def clauses(key: str) -> Sequence[Mapping[str, Any]]:
            value = spec.get(key, [])
            return [value] if isinstance(value, Mapping) else list(value)

        for key in spec:
            if key not in ("must", "should", "filter", "must_not", "boost"):
                raise ValueError(f"MemoryBackend does not support bool option [{key}]")
        total = 0.0
        for q in clauses("must"):
            s = self._score(q, doc_id, doc)
            if s is None:
                return None
            total += s
        for q in clauses("filter"):
            if self._score(q, doc_id, doc) is None:
                return None
        for q in clauses("must_not"):
            if self._score(q, doc_id, doc) is not None:
                return None
        should = [self._score(q, doc_id, doc) for q in clauses("should")]
        only_should = should and not clauses("must") and not clauses("filter")
        if only_should and all(s is None for s in should):
            return None
        total += sum(s for s in should if s is not None)
        return total


def _sort_specs(sort: Any) -> list[tuple[str, str]]:
    """ES's sort forms as ``(field, order)``: ``"f"``, ``{"f": "desc"}``,
    ``{"f": {"order": "desc"}}``, or a list of them; ``_score`` sorts descending by default."""
    if sort is None:
        return [("_score", "desc")]
    items = sort if isinstance(sort, list) else [sort]
    out = []
    for item in items:
        if isinstance(item, str):
            out.append((item, "desc" if item == "_score" else "asc"))
            continue
        ((field, spec),) = item.items()
        order = spec.get("order") if isinstance(spec, Mapping) else spec
        out.append((field, order or ("desc" if field == "_score" else "asc")))
    return out


def _compare(a: Sequence[Any], b: Sequence[Any], orders: Sequence[str]) -> int:
    """ES's order of two sort-value tuples: missing values last in either direction."""
    for x, y, order in zip(a, b, orders, strict=False):
        if x == y:
            continue
        if x is None or y is None:
            return 1 if x is None else -1
        less = x < y
        return (-1 if less else 1) * (1 if order == "asc" else -1)
    return 0
