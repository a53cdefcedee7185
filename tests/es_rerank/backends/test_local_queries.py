"""The query constructs of the local index, each against the rule ES/Lucene define.

Scores are checked against their formulas (constant_score = boost, dis_max = best +
tie_breaker * others, boosting multiplies, most_fields sums), using the scores the same
index gives the parts, so each test fails if the combination rule is wrong.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from es_rerank import LocalIndex

MAPPING = {
    "mappings": {
        "properties": {
            "title": {"type": "text"},
            "body": {"type": "text"},
            "tag": {"type": "keyword"},
            "year": {"type": "integer"},
        }
    }
}
DOCS: list[dict[str, Any]] = [
    {
        "_id": "1",
        "title": "quick brown fox",
        "body": "the fox jumps over the lazy dog",
        "tag": "Animal",
        "year": 2020,
    },
    {"_id": "2", "title": "lazy dog", "body": "a quick dog sleeps", "tag": "animal", "year": 2021},
    {
        "_id": "3",
        "title": "brown bread",
        "body": "quick recipes for brown bread",
        "tag": "Food",
        "year": 2019,
    },
    {"_id": "4", "title": "fox news", "body": "the brown fox and the quick dog", "tag": "news"},
    {"_id": "5", "title": "dogs", "body": "running dogs", "tag": "Animals"},
]


@pytest.fixture(scope="module")
def idx(tmp_path_factory: pytest.TempPathFactory) -> LocalIndex:
    index = LocalIndex(tmp_path_factory.mktemp("q") / "idx", mapping=MAPPING)
    assert index.add(DOCS, progress=False).indexed == len(DOCS)
    return index


def scores(idx: LocalIndex, query: Any) -> dict[str, float]:
    return {h.id: h.score for h in idx.search_query(query, size=100)}


def match(field: str, text: str) -> dict[str, Any]:
    return {"match": {field: text}}


def test_constant_score_scores_its_boost(idx: LocalIndex) -> None:
    assert scores(idx, {"constant_score": {"filter": match("body", "quick")}}) == {
        "2": 1.0,
        "3": 1.0,
        "4": 1.0,
    }
    got = scores(idx, {"constant_score": {"filter": match("body", "quick"), "boost": 2.5}})
    assert got == {"2": 2.5, "3": 2.5, "4": 2.5}
    with pytest.raises(ValueError, match=r"constant_score.*filter"):
        idx.search_query({"constant_score": {"boost": 1}}, size=1)


def test_ids_match_given_ids_with_constant_score(idx: LocalIndex) -> None:
    assert scores(idx, {"ids": {"values": ["3", "1", "nope"]}}) == {"1": 1.0, "3": 1.0}
    assert scores(idx, {"ids": {"values": ["2"], "boost": 3}}) == {"2": 3.0}
    assert scores(idx, {"ids": {"values": []}}) == {}


def test_prefix_is_not_analysed_and_scores_constant(idx: LocalIndex) -> None:
    assert scores(idx, {"prefix": {"tag": "Anim"}}) == {"1": 1.0, "5": 1.0}
    insensitive = {"prefix": {"tag": {"value": "anim", "case_insensitive": True}}}
    assert scores(idx, insensitive) == {"1": 1.0, "2": 1.0, "5": 1.0}
    # text tokens are lowercased; the prefix is used as given (ES does not analyse it)
    assert set(scores(idx, {"prefix": {"title": "bro"}})) == {"1", "3"}
    assert scores(idx, {"prefix": {"title": "Bro"}}) == {}
    assert scores(idx, {"prefix": {"title": {"value": "do", "boost": 2}}}) == {"2": 2.0, "5": 2.0}
    with pytest.raises(ValueError, match=r"prefix queries on keyword and text fields.*\[year\]"):
        idx.search_query({"prefix": {"year": "20"}}, size=1)


def test_match_phrase_needs_order_and_adjacency_unless_slop(idx: LocalIndex) -> None:
    def phrase(body: Any) -> set[str]:
        return set(scores(idx, {"match_phrase": {"body": body}}))

    assert phrase("quick dog") == {"2", "4"}
    assert phrase("dog quick") == set()
    assert phrase("brown quick") == set()
    # slop counts moves: "fox ... dog" with 3 words between (doc 4) needs 3, with 4 (doc 1) 4
    assert phrase({"query": "fox dog", "slop": 2}) == set()
    assert phrase({"query": "fox dog", "slop": 3}) == {"4"}
    assert phrase({"query": "fox dog", "slop": 4}) == {"1", "4"}
    # one analysed term: the term query's score
    assert scores(idx, {"match_phrase": {"body": "bread"}}) == scores(idx, match("body", "bread"))
    everything = {"match_phrase": {"body": {"query": "!!", "zero_terms_query": "all"}}}
    assert scores(idx, everything) == {d["_id"]: 1.0 for d in DOCS}


def test_dis_max_is_best_plus_tie_breaker_times_the_rest(idx: LocalIndex) -> None:
    a, b = match("title", "fox"), match("body", "fox")
    sa, sb = scores(idx, a), scores(idx, b)
    got = scores(idx, {"dis_max": {"queries": [a, b], "tie_breaker": 0.3}})
    assert set(got) == set(sa) | set(sb) == {"1", "4"}
    for doc, score in got.items():
        parts = sorted([sa.get(doc, 0.0), sb.get(doc, 0.0)], reverse=True)
        assert score == pytest.approx(parts[0] + 0.3 * parts[1], rel=1e-5)
    with pytest.raises(ValueError, match=r"dis_max.*at least one"):
        idx.search_query({"dis_max": {"queries": []}}, size=1)


def test_boosting_multiplies_where_negative_matches(idx: LocalIndex) -> None:
    positive = match("body", "quick")
    base = scores(idx, positive)
    negative = match("title", "bread")
    body = {"positive": positive, "negative": negative, "negative_boost": 0.2}
    got = scores(idx, {"boosting": body})
    assert set(got) == set(base) == {"2", "3", "4"}
    assert got["3"] == pytest.approx(base["3"] * 0.2, rel=1e-5)
    for doc in ("2", "4"):
        assert got[doc] == pytest.approx(base[doc], rel=1e-6)
    with pytest.raises(ValueError, match="negative_boost"):
        idx.search_query({"boosting": {"positive": positive, "negative": positive}}, size=1)


def multi(query: str, fields: list[str], kind: str, **kw: Any) -> dict[str, Any]:
    return {"multi_match": {"query": query, "fields": fields, "type": kind, **kw}}


def test_multi_match_most_fields_sums_and_best_fields_takes_max(idx: LocalIndex) -> None:
    st, sb = scores(idx, match("title", "brown fox")), scores(idx, match("body", "brown fox"))
    most = scores(idx, multi("brown fox", ["title", "body"], "most_fields"))
    best = scores(idx, multi("brown fox", ["title", "body"], "best_fields"))
    assert set(most) == set(best) == set(st) | set(sb)
    for doc in most:
        assert most[doc] == pytest.approx(st.get(doc, 0) + sb.get(doc, 0), rel=1e-5)
        assert best[doc] == pytest.approx(max(st.get(doc, 0), sb.get(doc, 0)), rel=1e-5)
    boosted = scores(idx, multi("bread", ["title^3"], "most_fields"))
    assert boosted["3"] == pytest.approx(3 * scores(idx, match("title", "bread"))["3"], rel=1e-5)


def test_multi_match_phrase_matches_phrases_per_field(idx: LocalIndex) -> None:
    got = scores(idx, multi("lazy dog", ["title", "body"], "phrase"))
    pt = scores(idx, {"match_phrase": {"title": "lazy dog"}})
    pb = scores(idx, {"match_phrase": {"body": "lazy dog"}})
    assert set(got) == {"1", "2"}
    for doc, score in got.items():
        assert score == pytest.approx(max(pt.get(doc, 0), pb.get(doc, 0)), rel=1e-5)


def _idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def test_cross_fields_blends_document_frequencies(idx: LocalIndex) -> None:
    # "quick": title df 1 (doc 1), body df 3 (docs 2, 3, 4). ES's BlendedTermQuery
    # (elastic/elasticsearch server/src/main/java/org/elasticsearch/lucene/queries/
    # BlendedTermQuery.java at 0517663bae222a09cf7d1a93e5ec288dd5d655c2): body keeps the
    # largest df, 3; title comes next in df order, so it is scored as df 3 + 1 = 4.
    n = len(DOCS)
    got = scores(idx, multi("quick", ["title", "body"], "cross_fields"))
    title, body = scores(idx, match("title", "quick")), scores(idx, match("body", "quick"))
    assert set(got) == {"1", "2", "3", "4"}
    assert got["1"] == pytest.approx(title["1"] * _idf(4, n) / _idf(1, n), rel=1e-5)
    for doc in ("2", "3", "4"):
        assert got[doc] == pytest.approx(body[doc], rel=1e-5)
    # operator and: every term in some field
    both = multi("quick fox", ["title", "body"], "cross_fields", operator="and")
    assert set(scores(idx, both)) == {"1", "4"}


def test_simple_query_string_operators(idx: LocalIndex) -> None:
    def sqs(text: str, **kw: Any) -> set[str]:
        body = {"query": text, "fields": ["body"], **kw}
        return set(scores(idx, {"simple_query_string": body}))

    assert sqs("bread sleeps") == {"2", "3"}
    assert sqs("bread sleeps", default_operator="and") == set()
    assert sqs("quick +dog") == {"2", "4"}
    # Lucene reads "-dog" as (NOT dog, match_all): with OR, every non-dog doc matches
    assert sqs("quick -dog") == {"2", "3", "4", "5"}
    assert sqs("quick -dog", default_operator="and") == {"3"}
    assert sqs("bread | sleeps") == {"2", "3"}
    assert sqs('"quick dog"') == {"2", "4"}
    assert sqs('"fox dog"~3') == {"4"}
    assert sqs("recip*") == {"3"}
    assert sqs("(bread | sleeps) +quick") == {"2", "3"}
    assert sqs("*") == {d["_id"] for d in DOCS}
    # without the WHITESPACE flag the text is one clause, analysed into two terms
    assert sqs("bread sleeps", flags="NONE", default_operator="and") == set()
    assert sqs("bread sleeps", flags="NONE") == {"2", "3"}


def test_simple_query_string_scores_most_fields_with_boosts(idx: LocalIndex) -> None:
    got = scores(idx, {"simple_query_string": {"query": "fox", "fields": ["title^2", "body"]}})
    st, sb = scores(idx, match("title", "fox")), scores(idx, match("body", "fox"))
    assert set(got) == {"1", "4"}
    for doc in got:
        assert got[doc] == pytest.approx(2 * st.get(doc, 0) + sb.get(doc, 0), rel=1e-5)
    # two clauses: the boolean sums them, as match does
    two = scores(idx, {"simple_query_string": {"query": "fox bread", "fields": ["body"]}})
    single = scores(idx, match("body", "fox bread"))
    assert two == pytest.approx(single, rel=1e-5)
    # a prefix clause scores a constant per field
    assert scores(idx, {"simple_query_string": {"query": "rec*", "fields": ["body"]}}) == {"3": 1.0}


def test_simple_query_string_all_fields_are_lenient(idx: LocalIndex) -> None:
    # no fields: every field, leniently; "2021" matches the integer field
    assert set(scores(idx, {"simple_query_string": {"query": "2021"}})) == {"2"}
    with pytest.raises(ValueError, match="fuzzy"):
        idx.search_query({"simple_query_string": {"query": "fxo~1", "fields": ["body"]}}, size=1)
    with pytest.raises(ValueError, match="flag"):
        idx.search_query({"simple_query_string": {"query": "x", "flags": "BOGUS"}}, size=1)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"wildcard": {"body": "f*"}}, "wildcard"),
        ({"multi_match": {"query": "x", "type": "bool_prefix"}}, "bool_prefix"),
        ({"match_phrase": {"body": {"query": "x", "analyzer": "whitespace"}}}, "analyzer"),
        ({"prefix": {"tag": {"value": "a", "rewrite": "scoring_boolean"}}}, "rewrite"),
        ({"dis_max": {"queries": [{"regexp": {"body": "f.*"}}]}}, "regexp"),
    ],
)
def test_unknown_constructs_still_raise(idx: LocalIndex, query: Any, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        idx.search_query(query, size=1)


def test_new_constructs_nest_in_bool(idx: LocalIndex) -> None:
    q = {
        "bool": {
            "must": [{"dis_max": {"queries": [match("title", "fox"), match("body", "fox")]}}],
            "filter": [{"constant_score": {"filter": {"ids": {"values": ["1", "4", "5"]}}}}],
            "must_not": [{"prefix": {"tag": "new"}}],
        }
    }
    assert set(scores(idx, q)) == {"1"}


def test_bm25_is_lucenes_without_the_k1_plus_1_numerator(tmp_path: Path) -> None:
    # apache/lucene lucene/core/src/java/org/apache/lucene/search/similarities/
    # BM25Similarity.java: idf * freq / (freq + k1 * (1 - b + b * dl / avgdl)), k1 1.2,
    # b 0.75 (the (k1 + 1) factor went in Lucene 8.0, LUCENE-8563); a numeric term is a
    # point query scoring 1
    index = LocalIndex(tmp_path / "idx", mapping=MAPPING)
    index.add(
        [{"_id": "long", "body": "a b c", "year": 1}, {"_id": "short", "body": "a a", "year": 2}],
        progress=False,
    )
    idf = math.log(1 + (2 - 2 + 0.5) / (2 + 0.5))
    avgdl = (3 + 2) / 2

    def bm25(freq: int, dl: int) -> float:
        return idf * freq / (freq + 1.2 * (1 - 0.75 + 0.75 * dl / avgdl))

    got = scores(index, match("body", "a"))
    assert got["short"] == pytest.approx(bm25(2, 2), rel=1e-6)
    assert got["long"] == pytest.approx(bm25(1, 3), rel=1e-6)
    phrase = scores(index, {"match_phrase": {"body": "a b"}})
    b_idf = math.log(1 + (2 - 1 + 0.5) / (1 + 0.5))
    assert phrase["long"] == pytest.approx((idf + b_idf) * bm25(1, 3) / idf, rel=1e-6)
    assert scores(index, {"term": {"year": 2}}) == {"short": 1.0}
    # so a constant_score beside a match weighs as it does in ES
    mixed = {
        "bool": {"should": [match("body", "a"), {"constant_score": {"filter": match("body", "c")}}]}
    }
    assert scores(index, mixed)["long"] == pytest.approx(bm25(1, 3) + 1.0, rel=1e-6)


def test_sloppy_phrase_matches_and_scores_as_lucene(tmp_path: Path) -> None:
    # apache/lucene SloppyPhraseMatcher: a match of length d adds 1 / (1 + d) to the
    # phrase frequency, and words may move ("b a" is "a b" with 2 moves)
    index = LocalIndex(tmp_path / "idx", mapping=MAPPING)
    bodies = {"exact": "x a b", "gap": "a x b", "swapped": "b a", "far": "a y y y b"}
    index.add([{"_id": k, "body": v} for k, v in bodies.items()], progress=False)
    idf = 2 * math.log(1 + (4 - 4 + 0.5) / (4 + 0.5))
    avgdl = (3 + 3 + 2 + 5) / 4

    def bm25(freq: float, dl: int) -> float:
        return idf * freq / (freq + 1.2 * (1 - 0.75 + 0.75 * dl / avgdl))

    got = scores(index, {"match_phrase": {"body": {"query": "a b", "slop": 2}}})
    assert set(got) == {"exact", "gap", "swapped"}  # "far" needs 3 moves
    assert got["exact"] == pytest.approx(bm25(1.0, 3), rel=1e-5)
    assert got["gap"] == pytest.approx(bm25(1 / 2, 3), rel=1e-5)
    assert got["swapped"] == pytest.approx(bm25(1 / 3, 2), rel=1e-5)
    assert set(scores(index, {"match_phrase": {"body": {"query": "a b", "slop": 3}}})) == set(
        bodies
    )
    # the same through simple_query_string's "..."~N and multi_match's phrase type
    sqs = scores(index, {"simple_query_string": {"query": '"a b"~2', "fields": ["body"]}})
    assert sqs == pytest.approx(got, rel=1e-6)
    mm = {"multi_match": {"query": "a b", "fields": ["body"], "type": "phrase", "slop": 2}}
    assert scores(index, mm) == pytest.approx(got, rel=1e-6)


def test_keyword_term_scores_as_an_es_keyword(tmp_path: Path) -> None:
    # elastic/elasticsearch KeywordFieldMapper: no norms, IndexOptions.DOCS, so Lucene's
    # BM25 gives every matching document idf / (1 + k1 * (1 - b + b / avgdl)), avgdl being
    # the values per document that has the field; documents without it do not count
    index = LocalIndex(tmp_path / "idx", mapping=MAPPING)
    docs = [
        {"_id": "one", "tag": "x"},
        {"_id": "two", "tag": ["x", "y"]},
        {"_id": "other", "tag": "z"},
        {"_id": "none", "body": "no tag"},
        {"_id": "none2", "body": "no tag either"},
    ]
    index.add(docs, progress=False)
    idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))
    expected = idf / (1 + 1.2 * (1 - 0.75 + 0.75 / (4 / 3)))
    got = scores(index, {"term": {"tag": "x"}})
    assert got == pytest.approx({"one": expected, "two": expected}, rel=1e-6)
    assert scores(index, {"match": {"tag": "x"}}) == got


def test_sloppy_and_exact_phrase_agree_on_an_exact_match(tmp_path: Path) -> None:
    # the sloppy path computes BM25 itself (lengths as one-byte norms); an exact match
    # (frequency 1 either way) must score as tantivy's exact phrase rescaled to Lucene's
    index = LocalIndex(tmp_path / "idx", mapping=MAPPING)
    filler = " ".join(f"w{i}" for i in range(150))
    index.add(
        [
            {"_id": "long", "body": f"{filler} quick fox {filler}"},
            {"_id": "mid", "body": ["quick fox jumps", f"{filler} and more"]},
            {"_id": "short", "body": "the quick fox"},
        ],
        progress=False,
    )
    exact = scores(index, {"match_phrase": {"body": "quick fox"}})
    sloppy = scores(index, {"match_phrase": {"body": {"query": "quick fox", "slop": 1}}})
    assert set(exact) == {"long", "mid", "short"}
    assert sloppy == pytest.approx(exact, rel=1e-6)


def test_term_case_insensitive_scores_a_constant(idx: LocalIndex) -> None:
    q = {"term": {"tag": {"value": "ANIMAL", "case_insensitive": True, "boost": 2}}}
    assert scores(idx, q) == {"1": 2.0, "2": 2.0}
    assert scores(idx, {"term": {"tag": "ANIMAL"}}) == {}
    assert set(scores(idx, {"range": {"year": {"gte": 2020}}})) == {"1", "2"}
    with pytest.raises(ValueError, match="only numeric and date fields"):
        idx.search_query({"range": {"tag": {"gte": "a"}}}, size=1)


def test_concurrent_translations_keep_their_own_scores(idx: LocalIndex) -> None:
    # sync backends run in threads side by side (rrf children): while one thread is inside
    # a filter (no scores there), another thread's query must still be scored. The filter's
    # thread is held inside the filter while the other translates.
    import threading

    from es_rerank.backends.local_query import QueryTranslator

    translator = QueryTranslator(idx.mapping, idx._schema, idx._analyzers, idx._searcher)
    inside, done = threading.Event(), threading.Event()
    check_keys = translator._check_keys

    def held_check_keys(body: Any, allowed: set[str], construct: str) -> None:
        if threading.current_thread().name == "filter" and construct == "term":
            inside.set()
            done.wait(5)
        check_keys(body, allowed, construct)

    translator._check_keys = held_check_keys  # type: ignore[method-assign]
    scored = {"term": {"tag": "news"}}

    def score(query: Any) -> list[float]:
        return [s for s, _ in idx._searcher().search(translator.translate(query), 10).hits]

    expected = score(scored)
    assert expected and expected[0] != 1.0  # a keyword term scores its BM25, not 1
    filtered = {"bool": {"filter": [{"term": {"tag": {"value": "news"}}}]}}
    thread = threading.Thread(target=lambda: score(filtered), name="filter")
    thread.start()
    assert inside.wait(5)
    try:
        assert score(scored) == expected
    finally:
        done.set()
        thread.join(5)
