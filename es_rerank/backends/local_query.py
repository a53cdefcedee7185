"""Translate the Elasticsearch query DSL subset a leaf retriever uses into tantivy queries.

Scoring follows Lucene's: ``match`` is a sum of BM25 term scores (``should`` for
``operator: or``, ``must`` for ``and``), ``multi_match`` (``best_fields``) is a dis-max over
fields, ``bool`` sums its scoring clauses, and ``filter`` / ``must_not`` never change a score.
Anything else raises ``ValueError`` naming the construct.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import tantivy

from es_rerank.backends.local_mapping import _FIELDS, FieldSpec, LocalMapping

__all__ = ["QueryTranslator"]

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


class QueryTranslator:
    def __init__(
        self,
        mapping: LocalMapping,
        schema: tantivy.Schema,
        analyzers: Mapping[str, tantivy.TextAnalyzer],
    ) -> None:
        self._mapping = mapping
        self._schema = schema
        self._analyzers = analyzers
        self._handlers: dict[str, Callable[[Any], tantivy.Query]] = {
            "match_all": self._match_all,
            "match": self._match,
            "multi_match": self._multi_match,
            "bool": self._bool,
            "term": self._term,
            "terms": self._terms,
            "range": self._range,
            "exists": self._exists,
        }

    def register(self, name: str, handler: Callable[[Any], tantivy.Query]) -> None:
        """Serve query ``name`` with ``handler`` (the index adds ``knn`` and ``semantic``)."""
        self._handlers[name] = handler

    def translate(self, query: Mapping[str, Any] | None) -> tantivy.Query:
        if query is None:
            return tantivy.Query.all_query()
        if not isinstance(query, Mapping) or len(query) != 1:
            raise ValueError(f"a query must be an object with exactly one key, got {query!r}")
        ((name, body),) = query.items()
        handler = self._handlers.get(name)
        if handler is None:
            raise ValueError(
                f"query {name!r} is not supported by the local index "
                f"(supported: {sorted(self._handlers)})"
            )
        return handler(body)

    # -- helpers ---------------------------------------------------------------------

    def _field(self, name: str, construct: str) -> FieldSpec:
        spec = self._mapping.fields.get(name)
        if spec is None:
            raise ValueError(f"{construct}: field {name!r} is not in the index mapping")
        return spec

    def _one_field(self, body: Any, construct: str) -> tuple[str, Any]:
        if not isinstance(body, Mapping) or len(body) != 1:
            raise ValueError(f"{construct}: expected {{field: value}} with exactly one field")
        ((field, value),) = body.items()
        return str(field), value

    @staticmethod
    def _check_keys(body: Mapping[str, Any], allowed: set[str], construct: str) -> None:
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise ValueError(
                f"{construct}: parameter(s) {unknown} not supported by the local index"
            )

    @staticmethod
    def _boosted(q: tantivy.Query, boost: Any) -> tantivy.Query:
        if boost is None or float(boost) == 1.0:
            return q
        return tantivy.Query.boost_query(q, float(boost))

    def _analyzed_terms(self, spec: FieldSpec, text: Any) -> list[str]:
        if spec.kind != "text":
            return [str(text)]
        return list(self._analyzers[spec.tokenizer].analyze(str(text)))

    def _value_query(self, spec: FieldSpec, value: Any, construct: str) -> tantivy.Query:
        """Exact term on one field, the value coerced to the field's type."""
        if isinstance(value, (dict, list)):
            raise ValueError(f"{construct}: value for field {spec.name!r} must be a scalar")
        v: Any
        if spec.kind == "integer":
            try:
                v = int(value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{construct}: {value!r} is not an integer ({spec.name!r})"
                ) from None
        elif spec.kind == "float":
            try:
                v = float(value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{construct}: {value!r} is not a number ({spec.name!r})"
                ) from None
        else:
            v = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return tantivy.Query.term_query(self._schema, spec.name, v)

    def _field_match(self, spec: FieldSpec, text: Any, operator: str) -> tantivy.Query:
        if spec.kind != "text":
            return self._value_query(spec, text, "match")
        terms = self._analyzed_terms(spec, text)
        if not terms:
            return tantivy.Query.empty_query()
        occur = tantivy.Occur.Must if operator == "and" else tantivy.Occur.Should
        clauses = [
            (occur, tantivy.Query.term_query(self._schema, spec.name, t, index_option="freq"))
            for t in terms
        ]
        return tantivy.Query.boolean_query(clauses)

    @staticmethod
    def _operator(body: Mapping[str, Any], construct: str) -> str:
        op = str(body.get("operator", "or")).lower()
        if op not in ("or", "and"):
            raise ValueError(f"{construct}: operator must be 'or' or 'and', got {op!r}")
        return op

    # -- constructs ------------------------------------------------------------------

    def _match_all(self, body: Any) -> tantivy.Query:
        body = body or {}
        self._check_keys(body, {"boost"}, "match_all")
        return self._boosted(tantivy.Query.all_query(), body.get("boost"))

    def _match(self, body: Any) -> tantivy.Query:
        field, value = self._one_field(body, "match")
        spec = self._field(field, "match")
        if spec.kind == "semantic_text":  # ES runs a semantic query on such a field
            text = value.get("query") if isinstance(value, Mapping) else value
            boost = value.get("boost", 1.0) if isinstance(value, Mapping) else 1.0
            return self.translate({"semantic": {"field": field, "query": text, "boost": boost}})
        if isinstance(value, Mapping):
            self._check_keys(value, {"query", "operator", "boost"}, "match")
            if "query" not in value:
                raise ValueError(f"match: field {field!r} needs a 'query'")
            q = self._field_match(spec, value["query"], self._operator(value, "match"))
            return self._boosted(q, value.get("boost"))
        return self._field_match(spec, value, "or")

    def _multi_match(self, body: Any) -> tantivy.Query:
        if not isinstance(body, Mapping) or "query" not in body:
            raise ValueError("multi_match: needs a 'query'")
        self._check_keys(
            body, {"query", "fields", "operator", "type", "tie_breaker", "boost"}, "multi_match"
        )
        if body.get("type", "best_fields") != "best_fields":
            raise ValueError(
                f"multi_match: type {body['type']!r} is not supported (only 'best_fields')"
            )
        fields = body.get("fields")
        if fields is None:
            fields = [n for n, s in self._mapping.fields.items() if s.kind == "text"]
        if isinstance(fields, str):
            fields = [fields]
        if not fields:
            raise ValueError("multi_match: 'fields' must name at least one field")
        op = self._operator(body, "multi_match")
        per_field = []
        for entry in fields:
            name, _, boost = str(entry).partition("^")
            if "*" in name:
                raise ValueError(f"multi_match: field wildcards ({entry!r}) are not supported")
            spec = self._field(name, "multi_match")
            per_field.append(
                self._boosted(self._field_match(spec, body["query"], op), boost or None)
            )
        q = (
            per_field[0]
            if len(per_field) == 1
            else tantivy.Query.disjunction_max_query(per_field, float(body.get("tie_breaker", 0.0)))
        )
        return self._boosted(q, body.get("boost"))

    def _bool(self, body: Any) -> tantivy.Query:
        if not isinstance(body, Mapping):
            raise ValueError("bool: expected an object")
        self._check_keys(
            body, {"must", "should", "filter", "must_not", "minimum_should_match", "boost"}, "bool"
        )

        def listed(key: str) -> list[tantivy.Query]:
            v = body.get(key, [])
            items = v if isinstance(v, list) else [v]
            return [self.translate(x) for x in items]

        must, should, filt, must_not = (
            listed("must"),
            listed("should"),
            listed("filter"),
            listed("must_not"),
        )
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        clauses += [(tantivy.Occur.Must, q) for q in must]
        # Filters match like `must` but add 0 to the score.
        clauses += [(tantivy.Occur.Must, tantivy.Query.const_score_query(q, 0.0)) for q in filt]
        clauses += [(tantivy.Occur.MustNot, q) for q in must_not]
        msm = self._minimum_should_match(body.get("minimum_should_match"), len(should))
        if msm is None:  # ES default: 1 if there is no must/filter, else 0
            msm = 0 if (must or filt) else min(1, len(should))
        if should:
            if msm == 0:
                clauses += [(tantivy.Occur.Should, q) for q in should]
            else:
                group = tantivy.Query.boolean_query(
                    [(tantivy.Occur.Should, q) for q in should], msm if msm > 1 else None
                )
                clauses.append((tantivy.Occur.Must, group))
        elif msm and msm > 0:
            return tantivy.Query.empty_query()
        if not any(occ == tantivy.Occur.Must for occ, _ in clauses):
            # Only must_not (or nothing): ES matches everything else, scoring 0.
            clauses.append(
                (
                    tantivy.Occur.Must,
                    tantivy.Query.const_score_query(tantivy.Query.all_query(), 0.0),
                )
            )
        return self._boosted(tantivy.Query.boolean_query(clauses), body.get("boost"))

    @staticmethod
    def _minimum_should_match(value: Any, n_should: int) -> int | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            n = value
        elif isinstance(value, str) and value.lstrip("-").isdigit():
            n = int(value)
        elif isinstance(value, str) and value.endswith("%") and value[:-1].lstrip("-").isdigit():
            pct = int(value[:-1])
            n = int(n_should * abs(pct) / 100)
            n = n if pct >= 0 else n_should - n
        else:
            raise ValueError(
                f"bool: minimum_should_match {value!r} is not supported "
                "(an integer or a percentage)"
            )
        if n < 0:
            n = max(n_should + n, 0)
        return min(n, n_should) if n_should else n

    def _term(self, body: Any) -> tantivy.Query:
        field, value = self._one_field(body, "term")
        boost = None
        if isinstance(value, Mapping):
            self._check_keys(value, {"value", "boost"}, "term")
            if "value" not in value:
                raise ValueError(f"term: field {field!r} needs a 'value'")
            value, boost = value["value"], value.get("boost")
        spec = self._field(field, "term")
        return self._boosted(self._value_query(spec, value, "term"), boost)

    def _terms(self, body: Any) -> tantivy.Query:
        if not isinstance(body, Mapping):
            raise ValueError("terms: expected an object")
        boost = body.get("boost")
        rest = {k: v for k, v in body.items() if k != "boost"}
        field, values = self._one_field(rest, "terms")
        if not isinstance(values, list):
            raise ValueError(f"terms: field {field!r} needs a list of values (lookup unsupported)")
        spec = self._field(field, "terms")
        if not values:
            return tantivy.Query.empty_query()
        # ES scores `terms` as a constant 1.0 (times boost) in query context.
        group = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, self._value_query(spec, v, "terms")) for v in values]
        )
        return tantivy.Query.const_score_query(group, float(boost) if boost is not None else 1.0)

    def _range(self, body: Any) -> tantivy.Query:
        field, params = self._one_field(body, "range")
        if not isinstance(params, Mapping):
            raise ValueError(f"range: field {field!r} needs an object of bounds")
        self._check_keys(params, {"gt", "gte", "lt", "lte", "boost"}, "range")
        spec = self._field(field, "range")
        if spec.kind not in ("integer", "float"):
            raise ValueError(f"range: field {field!r} is {spec.kind}; only numeric fields")
        ftype = tantivy.FieldType.Integer if spec.kind == "integer" else tantivy.FieldType.Float

        def bound(key: str) -> Any:
            v = params.get(key)
            if v is None:
                return None
            try:
                if spec.kind == "float":
                    return float(v)
                if isinstance(v, str):
                    return int(v) if v.lstrip("-").isdigit() else float(v)
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise TypeError
                return v
            except (TypeError, ValueError):
                raise ValueError(f"range: {key}={v!r} is not a number ({field!r})") from None

        lo, lo_inc = (bound("gt"), False) if "gt" in params else (bound("gte"), True)
        hi, hi_inc = (bound("lt"), False) if "lt" in params else (bound("lte"), True)
        if spec.kind == "integer":
            # Fractional bounds on an integer field: round inward like ES.
            if isinstance(lo, float):
                lo, lo_inc = (math.floor(lo), False) if not lo.is_integer() else (int(lo), lo_inc)
            if isinstance(hi, float):
                hi, hi_inc = (math.ceil(hi), False) if not hi.is_integer() else (int(hi), hi_inc)
        if lo is None and hi is None:
            q = tantivy.Query.term_query(self._schema, _FIELDS, field)
        else:
            q = tantivy.Query.range_query(
                self._schema,
                field,
                ftype,
                lo,
                hi,
                include_lower=lo_inc if lo is not None else True,
                include_upper=hi_inc if hi is not None else True,
            )
        boost = params.get("boost")
        return tantivy.Query.const_score_query(q, float(boost) if boost is not None else 1.0)

    def _exists(self, body: Any) -> tantivy.Query:
        if not isinstance(body, Mapping) or "field" not in body:
            raise ValueError("exists: needs a 'field'")
        self._check_keys(body, {"field", "boost"}, "exists")
        field = str(body["field"])
        self._field(field, "exists")
        q = tantivy.Query.term_query(self._schema, _FIELDS, field)
        boost = body.get("boost")
        return tantivy.Query.const_score_query(q, float(boost) if boost is not None else 1.0)
