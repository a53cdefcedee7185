"""The full-text constructs of the local index, built as ES's MatchQueryParser and
MultiMatchQueryParser build them (elastic/elasticsearch
``server/src/main/java/org/elasticsearch/index/search/MultiMatchQueryParser.java`` at
01195333bcdb620d4f5a5eef7bc8e3827dcb1f15):

- ``match``: the analysed terms, ``should`` (``operator: or``) or ``must`` (``and``);
- ``match_phrase``: a phrase (one term: a term query), with ``slop``;
- ``multi_match``: one query per field, combined by a dis-max whose ``tie_breaker``
  defaults to 0 (``best_fields``, ``phrase``, ``cross_fields``) or 1 (``most_fields``:
  the sum); ``cross_fields`` scores each term as one blended field (ES's
  ``BlendedTermQuery``: every field sees the term's largest document frequency);
- ``simple_query_string``: Lucene's simple grammar, each term a ``most_fields`` query over
  the fields, each phrase a ``phrase`` one, each ``prefix*`` a constant score per field.

Fields default to every mapped field, leniently (ES's ``index.query.default_field: *``);
``name^2`` boosts a field and ``na*`` names every field it matches.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable, Mapping
from typing import Any

import tantivy

from es_rerank.backends.local_bm25 import K1_PLUS_1, bm25
from es_rerank.backends.local_bm25 import idf as _idf
from es_rerank.backends.local_mapping import _FIELDS, FieldSpec, LocalMapping
from es_rerank.backends.local_simple_query import (
    Bool,
    MatchAll,
    MatchNone,
    parse_flags,
    parse_simple,
)
from es_rerank.backends.local_sloppy import sloppy_phrase_query

__all__ = ["TextQueries", "TranslationState"]

_DEFAULT_TIE_BREAKER = {"best_fields": 0.0, "most_fields": 1.0, "cross_fields": 0.0, "phrase": 0.0}
_OCCUR = {"must": tantivy.Occur.Must, "should": tantivy.Occur.Should}


#: Field kinds without text search: a match query on one is refused (lenient: no match).
_NO_MATCH_QUERIES = frozenset({"dense_vector", "rank_feature", "rank_features"})


class TranslationState(threading.local):
    """One translation's state, per thread (sync backends run in threads side by side):
    the searcher its statistics come from, and whether scores count here (not in filters)."""

    def __init__(self) -> None:
        self.depth = 0
        self.searcher: tantivy.Searcher | None = None
        self.scoring = True


class TextQueries:
    """Shared helpers and the text constructs of :class:`QueryTranslator`."""

    _mapping: LocalMapping
    _schema: tantivy.Schema
    _analyzers: Mapping[str, tantivy.TextAnalyzer]
    _searcher: Callable[[], tantivy.Searcher] | None
    _state: TranslationState
    _sum_doc_freq: dict[tuple[str, int, int], int]  # (field, docs, segments): values

    def translate(self, query: Mapping[str, Any] | None) -> tantivy.Query:
        raise NotImplementedError

    def _value_query(self, spec: FieldSpec, value: Any, construct: str) -> tantivy.Query:
        raise NotImplementedError

    def prefix_query(self, spec: FieldSpec, prefix: str, case_insensitive: bool) -> tantivy.Query:
        raise NotImplementedError

    # -- helpers ---------------------------------------------------------------------

    def _stats(self) -> tantivy.Searcher | None:
        """One searcher per translated query, for term statistics."""
        state = self._state
        if state.searcher is None and self._searcher is not None:
            state.searcher = self._searcher()
        return state.searcher

    def _lucene_factor(self, spec: FieldSpec, terms: list[str], df_as: int | None = None) -> float:
        """What turns tantivy's BM25 of ``terms`` on ``spec``'s field into Lucene's
        (apache/lucene BM25Similarity: ``idf * freq / (freq + k1 * (1 - b + b * dl /
        avgdl))`` with ``idf = ln(1 + (docCount - df + 0.5) / (df + 0.5))``, ``docCount``
        counting the documents that have the field): Lucene's idf over tantivy's, which
        counts every document, and without tantivy's ``(k1 + 1)``. ``df_as`` scores the
        term with another document frequency (cross_fields' blending)."""
        searcher = self._stats() if self._state.scoring else None
        if searcher is None:
            return 1.0 / K1_PLUS_1
        n_docs = int(searcher.num_docs)
        doc_count = int(searcher.doc_freq(_FIELDS, spec.name))
        dfs = [int(searcher.doc_freq(spec.name, t)) for t in terms]
        ours = sum(_idf(df, n_docs) for df in dfs)
        lucene = sum(_idf(df if df_as is None else df_as, doc_count) for df in dfs)
        return lucene / (ours * K1_PLUS_1) if ours > 0 else 1.0 / K1_PLUS_1

    def _lucene_idf(self, spec: FieldSpec, terms: list[str]) -> float:
        """The summed Lucene idf of ``terms`` on ``spec``'s field (needs statistics)."""
        searcher = self._stats()
        assert searcher is not None
        doc_count = int(searcher.doc_freq(_FIELDS, spec.name))
        return sum(_idf(int(searcher.doc_freq(spec.name, t)), doc_count) for t in terms)

    def _bm25(
        self, q: tantivy.Query, spec: FieldSpec, terms: list[str], df_as: int | None = None
    ) -> tantivy.Query:
        """``q``, a BM25 query of ``terms`` on ``spec``'s field, scored as Lucene scores it."""
        if spec.kind in ("keyword", "boolean"):  # no norms, no frequencies
            return tantivy.Query.const_score_query(q, self._keyword_score(spec, terms, df_as))
        return tantivy.Query.boost_query(q, self._lucene_factor(spec, terms, df_as))

    def _keyword_score(self, spec: FieldSpec, terms: list[str], df_as: int | None) -> float:
        """ES's score for a keyword term: a keyword field has no norms and no frequencies
        (KeywordFieldMapper: ``omitNorms``, ``IndexOptions.DOCS``), so Lucene's BM25 is
        the same for every document, ``idf / (1 + k1 * (1 - b + b / avgdl))`` with
        ``avgdl`` = values per document having the field."""
        searcher = self._stats() if self._state.scoring else None
        if searcher is None:
            return 1.0
        doc_count = int(searcher.doc_freq(_FIELDS, spec.name))
        if doc_count == 0:
            return 0.0
        # walking the term dictionary is slow for a large one: once per index state
        key = (spec.name, int(searcher.num_docs), int(searcher.num_segments))
        if key not in self._sum_doc_freq:
            pairs = searcher.terms_with_prefix(spec.name, "")
            self._sum_doc_freq[key] = sum(int(count) for _, count in pairs)
        avgdl = self._sum_doc_freq[key] / doc_count
        dfs = [int(searcher.doc_freq(spec.name, t)) if df_as is None else df_as for t in terms]
        return bm25(sum(_idf(df, doc_count) for df in dfs), freq=1.0, dl=1.0, avgdl=avgdl)

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
        unknown = sorted(set(body) - allowed - {"_name"})
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

    @staticmethod
    def _operator(body: Mapping[str, Any], construct: str, key: str = "operator") -> str:
        op = str(body.get(key, "or")).lower()
        if op not in ("or", "and"):
            raise ValueError(f"{construct}: {key} must be 'or' or 'and', got {op!r}")
        return op

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
                f"minimum_should_match {value!r} is not supported (an integer or a percentage)"
            )
        if n < 0:
            n = max(n_should + n, 0)
        return min(n, n_should) if n_should else n

    def _terms_query(
        self, terms: list[tantivy.Query], operator: str, msm: Any
    ) -> tantivy.Query | None:
        """Analysed terms joined as MatchQueryParser joins them (one: the term itself)."""
        if not terms:
            return None
        if len(terms) == 1 and msm is None:
            return terms[0]
        if operator == "and":
            return tantivy.Query.boolean_query([(tantivy.Occur.Must, t) for t in terms])
        n = self._minimum_should_match(msm, len(terms)) or 0
        clauses = [(tantivy.Occur.Should, t) for t in terms]
        return tantivy.Query.boolean_query(clauses, n if n > 1 else None)

    def _zero_terms(self, body: Mapping[str, Any], construct: str) -> tantivy.Query:
        option = str(body.get("zero_terms_query", "none")).lower()
        if option not in ("none", "all"):
            raise ValueError(f"{construct}: zero_terms_query must be 'none' or 'all'")
        return tantivy.Query.all_query() if option == "all" else tantivy.Query.empty_query()

    # -- per-field building blocks ---------------------------------------------------

    def field_match(
        self, spec: FieldSpec, text: Any, operator: str, *, msm: Any = None, lenient: bool = False
    ) -> tantivy.Query | None:
        """``match`` on one field; None when the text analyses to no term."""
        if spec.kind in _NO_MATCH_QUERIES:
            if lenient:
                return tantivy.Query.empty_query()
            # ES's MatchQueryParser for a field without text search (TextSearchInfo.NONE)
            raise ValueError(
                f"Field [{spec.name}] of type [{spec.es_type}] does not support match queries"
            )
        if spec.kind != "text":
            try:
                return self._value_query(spec, text, "match")
            except ValueError:
                if lenient:
                    return tantivy.Query.empty_query()
                raise
        terms = [
            self._bm25(
                tantivy.Query.term_query(self._schema, spec.name, t, index_option="freq"),
                spec,
                [t],
            )
            for t in self._analyzed_terms(spec, text)
        ]
        return self._terms_query(terms, operator, msm)

    def phrase_query(
        self, spec: FieldSpec, text: Any, slop: int, *, lenient: bool = False
    ) -> tantivy.Query | None:
        """``match_phrase`` on one field; None when the text analyses to no term."""
        if spec.kind != "text":
            return self.field_match(spec, text, "or", lenient=lenient)
        words = self._analyzed_terms(spec, text)
        if len(words) <= 1:
            return self.field_match(spec, text, "or")
        searcher = self._stats()
        if slop > 0 and searcher is not None and len(set(words)) == len(words):
            return sloppy_phrase_query(
                searcher,
                self._schema,
                self._mapping,
                spec,
                words,
                slop,
                self._analyzers[spec.tokenizer],
                self._lucene_idf(spec, words),
            )
        # exact (or with a repeated word, tantivy's in-order slop counting each match as 1)
        terms: list[str | tuple[int, str]] = list(words)
        phrase = tantivy.Query.phrase_query(self._schema, spec.name, terms, slop)
        return self._bm25(phrase, spec, words)  # a phrase's idf: the sum of its terms'

    def _fields(self, fields: Any, construct: str) -> tuple[list[tuple[FieldSpec, float]], bool]:
        """``fields`` (``name``, ``name^boost``, ``pat*``) resolved against the mapping, and
        whether the query is lenient by default (ES: when every field is searched)."""
        if fields is None or fields == [] or fields == "*" or fields == ["*"]:
            return [(spec, 1.0) for spec in self._mapping.fields.values()], True
        if isinstance(fields, str):
            fields = [fields]
        if not isinstance(fields, list):
            raise ValueError(f"{construct}: 'fields' must be a list of field names")
        out: dict[str, tuple[FieldSpec, float]] = {}
        for entry in fields:
            name, _, boost_text = str(entry).partition("^")
            try:
                boost = float(boost_text) if boost_text else 1.0
            except ValueError:
                raise ValueError(f"{construct}: bad field boost in {entry!r}") from None
            if "*" in name:
                for spec in self._mapping.fields.values():
                    if fnmatch.fnmatchcase(spec.name, name):
                        out[spec.name] = (spec, boost * out.get(spec.name, (spec, 1.0))[1])
                continue
            spec = self._field(name, construct)
            out[name] = (spec, boost * out.get(name, (spec, 1.0))[1])
        # patterns that match no field match no document, as in ES
        return list(out.values()), False

    @staticmethod
    def _combine(queries: list[tantivy.Query], tie_breaker: float) -> tantivy.Query | None:
        if not queries:
            return None
        if len(queries) == 1:
            return queries[0]
        return tantivy.Query.disjunction_max_query(queries, tie_breaker)

    # -- constructs ------------------------------------------------------------------

    def _match(self, body: Any) -> tantivy.Query:
        field, value = self._one_field(body, "match")
        spec = self._field(field, "match")
        if spec.kind == "semantic_text":  # ES runs a semantic query on such a field
            text = value.get("query") if isinstance(value, Mapping) else value
            boost = value.get("boost", 1.0) if isinstance(value, Mapping) else 1.0
            return self.translate({"semantic": {"field": field, "query": text, "boost": boost}})
        if not isinstance(value, Mapping):
            return self.field_match(spec, value, "or") or tantivy.Query.empty_query()
        self._check_keys(
            value,
            {"query", "operator", "boost", "minimum_should_match", "lenient", "zero_terms_query"},
            "match",
        )
        if "query" not in value:
            raise ValueError(f"match: field {field!r} needs a 'query'")
        q = self.field_match(
            spec,
            value["query"],
            self._operator(value, "match"),
            msm=value.get("minimum_should_match"),
            lenient=bool(value.get("lenient", False)),
        )
        return self._boosted(q or self._zero_terms(value, "match"), value.get("boost"))

    def _match_phrase(self, body: Any) -> tantivy.Query:
        field, value = self._one_field(body, "match_phrase")
        spec = self._field(field, "match_phrase")
        params: Mapping[str, Any] = value if isinstance(value, Mapping) else {"query": value}
        self._check_keys(
            params, {"query", "slop", "boost", "zero_terms_query", "analyzer"}, "match_phrase"
        )
        if "query" not in params:
            raise ValueError(f"match_phrase: field {field!r} needs a 'query'")
        self._same_analyzer(spec, params.get("analyzer"), "match_phrase")
        q = self.phrase_query(spec, params["query"], self._slop(params, "match_phrase"))
        return self._boosted(q or self._zero_terms(params, "match_phrase"), params.get("boost"))

    def _same_analyzer(self, spec: FieldSpec, analyzer: Any, construct: str) -> None:
        from es_rerank.backends.local_mapping import _ANALYZERS

        if analyzer is not None and _ANALYZERS.get(str(analyzer)) != spec.tokenizer:
            raise ValueError(
                f"{construct}: analyzer {analyzer!r} differs from field {spec.name!r}'s; "
                "only the field's own analyzer is supported"
            )

    @staticmethod
    def _slop(params: Mapping[str, Any], construct: str) -> int:
        slop = params.get("slop", 0)
        if isinstance(slop, bool) or not isinstance(slop, int) or slop < 0:
            raise ValueError(f"{construct}: slop must be a non-negative integer, got {slop!r}")
        return slop

    def _multi_match(self, body: Any) -> tantivy.Query:
        if not isinstance(body, Mapping) or "query" not in body:
            raise ValueError("multi_match: needs a 'query'")
        self._check_keys(
            body,
            {
                "query",
                "fields",
                "operator",
                "type",
                "tie_breaker",
                "boost",
                "minimum_should_match",
                "slop",
                "lenient",
                "zero_terms_query",
            },
            "multi_match",
        )
        kind = str(body.get("type", "best_fields")).lower()
        if kind not in _DEFAULT_TIE_BREAKER:
            raise ValueError(
                f"multi_match: type {kind!r} is not supported by the local index "
                f"(supported: {sorted(_DEFAULT_TIE_BREAKER)})"
            )
        fields, all_fields = self._fields(body.get("fields"), "multi_match")
        if not fields:
            return tantivy.Query.empty_query()
        lenient = bool(body.get("lenient", all_fields))
        tie = float(body.get("tie_breaker", _DEFAULT_TIE_BREAKER[kind]))
        op, msm, text = (
            self._operator(body, "multi_match"),
            body.get("minimum_should_match"),
            body["query"],
        )
        if kind == "cross_fields":
            queries = self._cross_fields(fields, text, op, msm, tie, lenient)
        else:
            queries = []
            for spec, boost in fields:
                q = (
                    self.phrase_query(spec, text, self._slop(body, "multi_match"), lenient=lenient)
                    if kind == "phrase"
                    else self.field_match(spec, text, op, msm=msm, lenient=lenient)
                )
                if q is not None:
                    queries.append(self._boosted(q, boost))
        q = self._combine(queries, tie) or self._zero_terms(body, "multi_match")
        return self._boosted(q, body.get("boost"))

    def _cross_fields(
        self,
        fields: list[tuple[FieldSpec, float]],
        text: Any,
        operator: str,
        msm: Any,
        tie: float,
        lenient: bool,
    ) -> list[tantivy.Query]:
        """One query per analyzer group; in a group, each term is a dis-max of its
        per-field term queries scored with the blended document frequency."""
        groups: dict[str, list[tuple[FieldSpec, float]]] = {}
        for spec, boost in fields:
            key = spec.tokenizer if spec.kind == "text" else "keyword"
            groups.setdefault(key, []).append((spec, boost))
        out = []
        for members in groups.values():
            if len(members) == 1:
                spec, boost = members[0]
                q = self.field_match(spec, text, operator, msm=msm, lenient=lenient)
                if q is not None:
                    out.append(self._boosted(q, boost))
                continue
            rep = members[0][0]
            terms = self._analyzed_terms(rep, text)
            per_term = [self._blended(members, t, tie, lenient) for t in terms]
            q = self._terms_query(per_term, operator, msm)
            if q is not None:
                out.append(q)
        return out

    def _blended(
        self, members: list[tuple[FieldSpec, float]], term: str, tie: float, lenient: bool
    ) -> tantivy.Query:
        """ES's BlendedTermQuery.blend (elastic/elasticsearch server/src/main/java/org/
        elasticsearch/lucene/queries/BlendedTermQuery.java at 0517663bae222a09cf7d1a93e5ec2
        88dd5d655c2): every field scores the term as if its document frequency were the
        largest of the fields' (plus one per step down, a bias to the frequent fields),
        capped by the field's document count. A term query's score scales with its idf,
        so each is scored with the blended df in Lucene's idf."""
        searcher = self._stats()
        if searcher is None:
            raise ValueError("multi_match: cross_fields needs the index's term statistics")
        n_docs = int(searcher.num_docs)
        extra: list[tantivy.Query] = []
        blended: list[tuple[FieldSpec, float, int]] = []
        for spec, boost in members:
            if spec.kind in ("text", "keyword"):
                blended.append((spec, boost, int(searcher.doc_freq(spec.name, term))))
            else:  # numbers and dates are not term queries: they join the dis-max as is
                q = self.field_match(spec, term, "or", lenient=lenient)
                if q is not None:
                    extra.append(self._boosted(q, boost))
        top = max((df for _, _, df in blended), default=0)
        queries = []
        if top > 0:
            order = sorted(range(len(blended)), key=lambda i: -blended[i][2])  # stable
            prev, actual = blended[order[0]][2], min(n_docs, top)
            for i in order:
                spec, boost, df = blended[i]
                if df == 0:
                    break
                if prev > df:
                    actual += 1
                doc_count = int(searcher.doc_freq(_FIELDS, spec.name))
                new_df = min(actual, doc_count, n_docs)
                prev = df
                q = tantivy.Query.term_query(
                    self._schema,
                    spec.name,
                    term,
                    index_option="freq" if spec.kind == "text" else "basic",
                )
                queries.append(self._boosted(self._bm25(q, spec, [term], new_df), boost))
        return self._combine(queries + extra, tie) or tantivy.Query.empty_query()

    def _simple_query_string(self, body: Any) -> tantivy.Query:
        if not isinstance(body, Mapping) or "query" not in body:
            raise ValueError("[simple_query_string] query text missing")
        self._check_keys(
            body,
            {
                "query",
                "fields",
                "default_operator",
                "flags",
                "boost",
                "minimum_should_match",
                "lenient",
                "analyze_wildcard",
                "auto_generate_synonyms_phrase_query",
            },
            "simple_query_string",
        )
        fields, all_fields = self._fields(body.get("fields"), "simple_query_string")
        if not fields:
            return tantivy.Query.empty_query()
        lenient = bool(body.get("lenient", all_fields))
        op = self._operator(body, "simple_query_string", "default_operator")
        leaves = _SimpleLeaves(self, fields, op, lenient, bool(body.get("analyze_wildcard")))
        tree = parse_simple(
            str(body["query"]),
            leaves,
            default_operator="must" if op == "and" else "should",
            flags=parse_flags(body.get("flags")),
        )
        q = self._compile(tree, body.get("minimum_should_match"))
        return self._boosted(q, body.get("boost"))

    def _compile(self, node: Any, msm: Any = None) -> tantivy.Query:
        """A simple-query tree as tantivy queries; ``msm`` applies to the top boolean."""
        if isinstance(node, MatchAll):
            return tantivy.Query.all_query()
        if isinstance(node, MatchNone):
            return tantivy.Query.empty_query()
        if not isinstance(node, Bool):
            return node  # type: ignore[no-any-return]
        occur = {**_OCCUR, "must_not": tantivy.Occur.MustNot}
        clauses = [(occur[o], self._compile(c)) for o, c in node.clauses]
        should = [c for c in clauses if c[0] == tantivy.Occur.Should]
        n = self._minimum_should_match(msm, len(should)) or 0
        if n > 0:
            rest = [c for c in clauses if c[0] != tantivy.Occur.Should]
            group = tantivy.Query.boolean_query(should, n if n > 1 else None)
            clauses = [*rest, (tantivy.Occur.Must, group)]
        return tantivy.Query.boolean_query(clauses)


class _SimpleLeaves:
    """The leaves of a ``simple_query_string``, as ES's SimpleQueryStringQueryParser
    builds them (elastic/elasticsearch server/src/main/java/org/elasticsearch/index/search/
    SimpleQueryStringQueryParser.java at 004b12c0bd4b2822bbc3c92a151e3fca5144bfbf)."""

    def __init__(
        self,
        owner: TextQueries,
        fields: list[tuple[FieldSpec, float]],
        operator: str,
        lenient: bool,
        analyze_wildcard: bool,
    ) -> None:
        self.owner, self.fields, self.operator = owner, fields, operator
        self.lenient, self.analyze_wildcard = lenient, analyze_wildcard

    def default(self, text: str) -> tantivy.Query | None:
        # a most_fields multi_match over the fields: their sum
        queries = []
        for spec, boost in self.fields:
            q = self.owner.field_match(spec, text, self.operator, lenient=self.lenient)
            if q is not None:
                queries.append(self.owner._boosted(q, boost))
        return self.owner._combine(queries, 1.0)

    def phrase(self, text: str, slop: int) -> tantivy.Query | None:
        # a phrase multi_match: the best field (tie_breaker 0)
        queries = []
        for spec, boost in self.fields:
            q = self.owner.phrase_query(spec, text, slop, lenient=self.lenient)
            if q is not None:
                queries.append(self.owner._boosted(q, boost))
        return self.owner._combine(queries, 0.0)

    def prefix(self, text: str) -> tantivy.Query | None:
        if self.analyze_wildcard:
            raise ValueError("simple_query_string: analyze_wildcard is not supported")
        queries = []
        for spec, boost in self.fields:
            if spec.kind not in ("text", "keyword"):
                if self.lenient:
                    continue
                self.owner.prefix_query(spec, text, False)  # raises ES's message
            normalized = text.lower() if spec.kind == "text" else text
            q = tantivy.Query.const_score_query(
                self.owner.prefix_query(spec, normalized, False), 1.0
            )
            queries.append(self.owner._boosted(q, boost))
        return self.owner._combine(queries, 1.0) or tantivy.Query.empty_query()

    def fuzzy(self, text: str, edits: int) -> tantivy.Query | None:
        raise ValueError(
            f"simple_query_string: the fuzzy operator ({text}~{edits}) is not supported by "
            "the local index; leave FUZZY out of flags to read '~' as text"
        )
