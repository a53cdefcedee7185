"""Translate the Elasticsearch query DSL subset a leaf retriever uses into tantivy queries.

Scoring follows Lucene's: ``match`` is a sum of BM25 term scores (``should`` for
``operator: or``, ``must`` for ``and``), ``bool`` sums its scoring clauses, and ``filter`` /
``must_not`` never change a score; ``constant_score``, ``ids``, ``prefix``, ``terms``,
``range`` and ``exists`` score their boost; ``dis_max`` is the best clause plus
``tie_breaker`` times the others; ``boosting`` multiplies by ``negative_boost`` where the
negative query matches. The text constructs (``match_phrase``, ``multi_match`` types,
``simple_query_string``) are in :mod:`es_rerank.backends.local_text_query`. Anything else
raises ``ValueError`` naming the construct.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import tantivy

from es_rerank.backends.local_dates import DateFormat, parse_date_math, time_zone
from es_rerank.backends.local_mapping import _FIELDS, _ID, FieldSpec, LocalMapping
from es_rerank.backends.local_text_query import TextQueries, TranslationState

__all__ = ["QueryTranslator"]

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1

# Field kinds a term (or match) query cannot read, with ES's refusal.
_NO_TERM_QUERIES = {
    "rank_feature": "Queries on [rank_feature] fields are not supported",
    "rank_features": (
        "term queries on [rank_features] field [{name}] are not supported by the local index "
        "(query a feature with rank_feature)"
    ),
    "dense_vector": "Field [{name}] of type [{type}] does not support term queries",
}


def boolean_term(value: Any) -> str:
    """The term ES's BooleanFieldType searches for ``value`` ("T" or "F")."""
    if value is None or value is False or value == "false":
        return "F"
    if value is True or value == "true":
        return "T"
    raise ValueError(f"Can't parse boolean value [{value}], expected [true] or [false]")


class QueryTranslator(TextQueries):
    def __init__(
        self,
        mapping: LocalMapping,
        schema: tantivy.Schema,
        analyzers: Mapping[str, tantivy.TextAnalyzer],
        searcher: Callable[[], tantivy.Searcher] | None = None,
    ) -> None:
        self._mapping = mapping
        self._schema = schema
        self._analyzers = analyzers
        self._searcher = searcher  # term statistics for scoring as Lucene does
        self._state = TranslationState()
        self._sum_doc_freq: dict[tuple[str, int, int], int] = {}
        self._handlers: dict[str, Callable[[Any], tantivy.Query]] = {
            "match_all": self._match_all,
            "match_none": self._match_none,
            "match": self._match,
            "match_phrase": self._match_phrase,
            "multi_match": self._multi_match,
            "simple_query_string": self._simple_query_string,
            "bool": self._bool,
            "constant_score": self._constant_score,
            "dis_max": self._dis_max,
            "boosting": self._boosting,
            "ids": self._ids,
            "prefix": self._prefix,
            "term": self._term,
            "terms": self._terms,
            "range": self._range,
            "exists": self._exists,
        }

    def register(self, name: str, handler: Callable[[Any], tantivy.Query]) -> None:
        """Serve query ``name`` with ``handler`` (the index adds ``knn`` and ``semantic``)."""
        self._handlers[name] = handler

    def translate(self, query: Mapping[str, Any] | None) -> tantivy.Query:
        state = self._state
        state.depth += 1
        try:
            return self._dispatch(query)
        finally:
            state.depth -= 1
            if state.depth == 0:
                state.searcher = None  # the next query reads fresh statistics

    def matching(self, query: Mapping[str, Any] | None) -> tantivy.Query:
        """``query`` where only what it matches counts (a filter): no term statistics."""
        state = self._state
        scoring, state.scoring = state.scoring, False
        try:
            return self.translate(query)
        finally:
            state.scoring = scoring

    def _dispatch(self, query: Mapping[str, Any] | None) -> tantivy.Query:
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

    def _value_query(self, spec: FieldSpec, value: Any, construct: str) -> tantivy.Query:
        """Exact term on one field, the value coerced to the field's type."""
        if isinstance(value, (dict, list)):
            raise ValueError(f"{construct}: value for field {spec.name!r} must be a scalar")
        refusal = _NO_TERM_QUERIES.get(spec.kind)
        if refusal is not None:
            raise ValueError(refusal.format(name=spec.name, type=spec.es_type))
        v: Any
        if spec.kind == "boolean":
            v = boolean_term(value)
            return self._bm25(tantivy.Query.term_query(self._schema, spec.name, v), spec, [v])
        if spec.kind == "integer":
            try:
                v = int(value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{construct}: {value!r} is not an integer ({spec.name!r})"
                ) from None
        elif spec.kind == "date":
            # ES's DateFieldType.termQuery: the range the value covers ("2020-01-01": the day)
            q = self._date_range(spec, value, value, True, True, None, construct)
            return self._constant(q, None)
        elif spec.kind == "float":
            try:
                v = float(value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{construct}: {value!r} is not a number ({spec.name!r})"
                ) from None
        else:
            v = ("true" if value else "false") if isinstance(value, bool) else str(value)
            return self._bm25(tantivy.Query.term_query(self._schema, spec.name, v), spec, [v])
        # A number is a point query in ES: it scores a constant 1
        return self._constant(tantivy.Query.term_query(self._schema, spec.name, v), None)

    # -- constructs ------------------------------------------------------------------

    def _match_all(self, body: Any) -> tantivy.Query:
        body = body or {}
        self._check_keys(body, {"boost"}, "match_all")
        return self._boosted(tantivy.Query.all_query(), body.get("boost"))

    def _match_none(self, body: Any) -> tantivy.Query:
        self._check_keys(body or {}, set(), "match_none")
        return tantivy.Query.empty_query()

    @staticmethod
    def _constant(q: tantivy.Query, boost: Any) -> tantivy.Query:
        """``q`` scoring its boost (1 by default), as Lucene's ConstantScoreQuery."""
        return tantivy.Query.const_score_query(q, float(boost) if boost is not None else 1.0)

    def _constant_score(self, body: Any) -> tantivy.Query:
        if not isinstance(body, Mapping) or "filter" not in body:
            raise ValueError("[constant_score] requires a 'filter' element")
        self._check_keys(body, {"filter", "boost"}, "constant_score")
        return self._constant(self.matching(body["filter"]), body.get("boost"))

    def _dis_max(self, body: Any) -> tantivy.Query:
        if not isinstance(body, Mapping):
            raise ValueError("dis_max: expected an object")
        self._check_keys(body, {"queries", "tie_breaker", "boost"}, "dis_max")
        queries = body.get("queries")
        if isinstance(queries, Mapping):
            queries = [queries]
        if not isinstance(queries, list) or not queries:
            raise ValueError("[dis_max] requires 'queries' field with at least one clause")
        tie = self._number(body.get("tie_breaker", 0.0), "dis_max", "tie_breaker")
        q = tantivy.Query.disjunction_max_query([self.translate(x) for x in queries], tie)
        return self._boosted(q, body.get("boost"))

    def _boosting(self, body: Any) -> tantivy.Query:
        if not isinstance(body, Mapping):
            raise ValueError("boosting: expected an object")
        self._check_keys(body, {"positive", "negative", "negative_boost", "boost"}, "boosting")
        for key in ("positive", "negative"):
            if key not in body:
                raise ValueError(f"[boosting] query requires '{key}' query to be set'")
        if "negative_boost" not in body:
            raise ValueError(
                "[boosting] query requires 'negative_boost' to be set to be a positive value'"
            )
        factor = self._number(body["negative_boost"], "boosting", "negative_boost")
        if factor < 0:
            raise ValueError(
                "[boosting] query requires 'negative_boost' to be set to be a positive value'"
            )
        positive, negative = self.translate(body["positive"]), self.matching(body["negative"])
        # Lucene's FunctionScoreQuery.boostByQuery: the positive score, times the factor
        # where the negative query matches. Exactly one of the two branches matches a hit.
        plain = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, positive), (tantivy.Occur.MustNot, negative)]
        )
        demoted = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, tantivy.Query.boost_query(positive, factor)),
                (tantivy.Occur.Must, tantivy.Query.const_score_query(negative, 0.0)),
            ]
        )
        q = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, plain), (tantivy.Occur.Should, demoted)]
        )
        return self._boosted(q, body.get("boost"))

    def _ids(self, body: Any) -> tantivy.Query:
        if not isinstance(body, Mapping):
            raise ValueError("ids: expected an object")
        self._check_keys(body, {"values", "boost"}, "ids")
        values = body.get("values", [])
        if not isinstance(values, list):
            raise ValueError("[ids] values must be an array")
        if not values:
            return tantivy.Query.empty_query()
        q = tantivy.Query.term_set_query(self._schema, _ID, [str(v) for v in values])
        return self._constant(q, body.get("boost"))

    def _prefix(self, body: Any) -> tantivy.Query:
        field, value = self._one_field(body, "prefix")
        params: Mapping[str, Any] = value if isinstance(value, Mapping) else {"value": value}
        self._check_keys(params, {"value", "boost", "case_insensitive", "rewrite"}, "prefix")
        if "value" not in params or isinstance(params["value"], (dict, list)):
            raise ValueError(f"prefix: field {field!r} needs a string 'value'")
        rewrite = params.get("rewrite", "constant_score")
        if rewrite not in ("constant_score", "constant_score_blended", "constant_score_boolean"):
            raise ValueError(f"prefix: rewrite {rewrite!r} is not supported (constant_score only)")
        spec = self._field(field, "prefix")
        q = self.prefix_query(spec, str(params["value"]), bool(params.get("case_insensitive")))
        return self._constant(q, params.get("boost"))

    def prefix_query(self, spec: FieldSpec, prefix: str, case_insensitive: bool) -> tantivy.Query:
        """Terms of ``spec``'s field starting with ``prefix`` (not analysed, as in ES)."""
        if spec.kind not in ("text", "keyword"):
            raise ValueError(
                f"Can only use prefix queries on keyword and text fields - not on "
                f"[{spec.name}] which is of type [{spec.es_type}]"
            )
        pattern = ("(?i)" if case_insensitive else "") + re.escape(prefix) + ".*"
        return tantivy.Query.regex_query(self._schema, spec.name, pattern)

    @staticmethod
    def _number(value: Any, construct: str, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f"{construct}: {key} must be a number, got {value!r}")
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"{construct}: {key} must be a number, got {value!r}") from None

    def _bool(self, body: Any) -> tantivy.Query:
        if not isinstance(body, Mapping):
            raise ValueError("bool: expected an object")
        self._check_keys(
            body, {"must", "should", "filter", "must_not", "minimum_should_match", "boost"}, "bool"
        )

        def listed(key: str) -> list[tantivy.Query]:
            v = body.get(key, [])
            items = v if isinstance(v, list) else [v]
            translate = self.translate if key in ("must", "should") else self.matching
            return [translate(x) for x in items]

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

    def _term(self, body: Any) -> tantivy.Query:
        field, value = self._one_field(body, "term")
        boost, insensitive = None, False
        if isinstance(value, Mapping):
            self._check_keys(value, {"value", "boost", "case_insensitive"}, "term")
            if "value" not in value:
                raise ValueError(f"term: field {field!r} needs a 'value'")
            insensitive = bool(value.get("case_insensitive", False))
            value, boost = value["value"], value.get("boost")
        spec = self._field(field, "term")
        if insensitive and spec.kind in ("text", "keyword"):
            # ES: an automaton query, scoring a constant (its boost)
            pattern = "(?i)" + re.escape(str(value))
            q = tantivy.Query.regex_query(self._schema, spec.name, pattern)
            return self._constant(q, boost)
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
        self._check_keys(
            params, {"gt", "gte", "lt", "lte", "boost", "format", "time_zone"}, "range"
        )
        spec = self._field(field, "range")
        if spec.kind == "date":
            lo_key = "gt" if "gt" in params else "gte"
            hi_key = "lt" if "lt" in params else "lte"
            q = self._date_range(
                spec,
                params.get(lo_key),
                params.get(hi_key),
                lo_key == "gte",
                hi_key == "lte",
                params,
                "range",
            )
            return self._constant(q, params.get("boost"))
        if "format" in params or "time_zone" in params:
            raise ValueError(f"range: format and time_zone apply to date fields, not {field!r}")
        if spec.kind == "boolean":
            return self._constant(self._boolean_range(spec, params), params.get("boost"))
        if spec.kind not in ("integer", "float"):
            raise ValueError(f"range: field {field!r} is {spec.kind}; only numeric and date fields")
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

    def _boolean_range(self, spec: FieldSpec, params: Mapping[str, Any]) -> tantivy.Query:
        """ES's TermRangeQuery over the terms "F" < "T"."""
        terms = ["F", "T"]
        for key in ("gt", "gte", "lt", "lte"):
            if params.get(key) is None:
                continue
            bound = boolean_term(params[key])
            terms = [
                t
                for t in terms
                if {"gt": t > bound, "gte": t >= bound, "lt": t < bound, "lte": t <= bound}[key]
            ]
        if not terms:
            return tantivy.Query.empty_query()
        return tantivy.Query.term_set_query(self._schema, spec.name, terms)

    def _date_range(
        self,
        spec: FieldSpec,
        lo: Any,
        hi: Any,
        lo_inc: bool,
        hi_inc: bool,
        params: Mapping[str, Any] | None,
        construct: str,
    ) -> tantivy.Query:
        """ES's DateFieldType.dateRangeQuery: bounds read with date math, an exclusive lower
        bound rounded up and an inclusive upper one rounded up (``lte: "2020-01-01"`` takes
        the whole day), then made inclusive in millis."""
        params = params or {}
        fmt = spec.date_format or DateFormat()
        if params.get("format") is not None:
            fmt = DateFormat(str(params["format"]))
        zone = time_zone(params["time_zone"]) if params.get("time_zone") is not None else None
        kwargs: dict[str, Any] = {} if zone is None else {"zone": zone}
        low = high = None
        if lo is not None:
            low = parse_date_math(lo, fmt, round_up=not lo_inc, **kwargs) + (0 if lo_inc else 1)
        if hi is not None:
            high = parse_date_math(hi, fmt, round_up=hi_inc, **kwargs) - (0 if hi_inc else 1)
        if low is None and high is None:
            return tantivy.Query.term_query(self._schema, _FIELDS, spec.name)
        if low is not None and high is not None and low > high:
            return tantivy.Query.empty_query()
        return tantivy.Query.range_query(
            self._schema, spec.name, tantivy.FieldType.Integer, low, high
        )

    def _exists(self, body: Any) -> tantivy.Query:
        if not isinstance(body, Mapping) or "field" not in body:
            raise ValueError("exists: needs a 'field'")
        self._check_keys(body, {"field", "boost"}, "exists")
        field = str(body["field"])
        if self._field(field, "exists").kind == "rank_features":
            raise ValueError("[rank_features] fields do not support [exists] queries")
        q = tantivy.Query.term_query(self._schema, _FIELDS, field)
        boost = body.get("boost")
        return tantivy.Query.const_score_query(q, float(boost) if boost is not None else 1.0)
