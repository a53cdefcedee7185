"""LocalIndex.search_request: the standard retriever's own options, as ES applies them.

Rules pinned here come from elastic/elasticsearch: the options StandardRetrieverBuilder
accepts (server/src/main/java/org/elasticsearch/search/retriever/
StandardRetrieverBuilder.java), integer and date sort values as longs with
Long.MAX_VALUE/MIN_VALUE for a missing value (IndexNumericFieldData.NumericType), and
search_after excluding the documents equal to the after values (SearchAfterBuilder builds
its FieldDoc with doc Integer.MAX_VALUE).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from es_rerank import LocalIndex
from es_rerank.backends.base import SearchRequestBackend

MAPPING = {
    "mappings": {
        "properties": {
            "text": {"type": "text"},
            "tag": {"type": "keyword"},
            "n": {"type": "integer"},
            "price": {"type": "double"},
            "day": {"type": "date"},
        }
    }
}
DOCS: list[dict[str, Any]] = [
    {"_id": "a", "text": "red apple", "tag": "fruit", "n": 3, "price": 1.5, "day": "2020-01-02"},
    {"_id": "b", "text": "red red car", "tag": "car", "n": [7, 1], "day": 1577836800000},
    {"_id": "c", "text": "green apple", "tag": "fruit", "n": 3, "price": 0.5},
    {"_id": "d", "text": "blue car", "n": 5, "price": 9.0, "day": "2021-06-01T12:00:00Z"},
    {"_id": "e", "text": "red sky", "tag": "sky", "price": 2.0, "day": "2019"},
]
LONG_MAX, LONG_MIN = 2**63 - 1, -(2**63)


@pytest.fixture(scope="module")
def idx(tmp_path_factory: pytest.TempPathFactory) -> LocalIndex:
    index = LocalIndex(tmp_path_factory.mktemp("r") / "idx", mapping=MAPPING)
    # two batches: two segments, so "index order" spans segments
    assert index.add(DOCS[:3], progress=False, batch_size=3).indexed == 3
    assert index.add(DOCS[3:], progress=False).indexed == 2
    return index


def run(idx: LocalIndex, query: Any = None, size: int = 10, **options: Any) -> list[Any]:
    return list(idx.search_request(query, size=size, options=options))


def ids(hits: list[Any]) -> list[str]:
    return [h.id for h in hits]


def test_local_index_is_a_search_request_backend(idx: LocalIndex) -> None:
    assert isinstance(idx, SearchRequestBackend)


def test_keyword_sort_missing_last_ties_in_index_order(idx: LocalIndex) -> None:
    hits = run(idx, sort=[{"tag": "asc"}])
    assert ids(hits) == ["b", "a", "c", "e", "d"]  # a and c tie: index order
    assert [h.sort for h in hits] == [("car",), ("fruit",), ("fruit",), ("sky",), (None,)]
    hits = run(idx, sort=[{"tag": {"order": "desc", "missing": "_first"}}])
    assert ids(hits) == ["d", "e", "a", "c", "b"]


def test_field_sort_reports_nan_scores_unless_track_scores(idx: LocalIndex) -> None:
    hits = run(idx, {"match": {"text": "red"}}, sort="tag")
    assert ids(hits) == ["b", "a", "e"]
    assert all(math.isnan(h.score) for h in hits)
    tracked = run(idx, {"match": {"text": "red"}}, sort="tag", track_scores=True)
    plain = {h.id: h.score for h in idx.search_query({"match": {"text": "red"}}, size=10)}
    assert {h.id: h.score for h in tracked} == plain


def test_numeric_sort_uses_min_ascending_max_descending(idx: LocalIndex) -> None:
    # b has n = [7, 1]: ES sorts it by 1 ascending, by 7 descending
    asc = run(idx, sort=[{"n": "asc"}])
    assert ids(asc) == ["b", "a", "c", "d", "e"]
    assert [h.sort for h in asc] == [(1,), (3,), (3,), (5,), (LONG_MAX,)]
    desc = run(idx, sort=[{"n": {"order": "desc"}}])
    assert ids(desc) == ["b", "d", "a", "c", "e"]
    assert desc[-1].sort == (LONG_MIN,)
    summed = run(idx, sort=[{"n": {"order": "desc", "mode": "sum"}}])
    assert summed[0].sort == (8,)
    assert run(idx, sort=[{"price": "asc"}])[-1].sort == (math.inf,)


def test_date_sort_values_are_epoch_millis(idx: LocalIndex) -> None:
    hits = run(idx, sort=[{"day": "desc"}, "_score"])
    assert ids(hits) == ["d", "a", "b", "e", "c"]
    assert [h.sort[0] for h in hits] == [
        1622548800000,
        1577923200000,
        1577836800000,
        1546300800000,
        LONG_MIN,
    ]
    assert hits[0].sort[1] == 1.0 and hits[0].score == 1.0  # _score sorted: scores kept


def test_score_and_doc_sorts(idx: LocalIndex) -> None:
    q = {"match": {"text": "red"}}
    by_score = run(idx, q, sort=["_score"])
    assert ids(by_score) == ids(idx.search_query(q, size=10))
    assert [h.sort for h in by_score] == [(h.score,) for h in by_score]
    by_doc = run(idx, sort="_doc")
    assert ids(by_doc) == ["a", "b", "c", "d", "e"]
    assert [h.sort[0] for h in by_doc] == sorted(h.sort[0] for h in by_doc)
    assert ids(run(idx, sort={"_doc": "desc"})) == ["e", "d", "c", "b", "a"]


def test_search_after_pages_through_without_gaps_or_repeats(idx: LocalIndex) -> None:
    sort: list[Any] = [{"n": "asc"}, {"tag": "asc"}, "_doc"]  # _doc: a unique tiebreaker
    full = run(idx, sort=sort)
    seen: list[str] = []
    after = None
    while True:
        page = run(idx, size=2, sort=sort, **({} if after is None else {"search_after": after}))
        if not page:
            break
        seen += ids(page)
        after = list(page[-1].sort)
    assert seen == ids(full)
    # values equal to the after values are excluded: a and c tie on (3, "fruit"), so
    # without a tiebreaker paging after a skips c, as in ES
    assert ids(run(idx, sort=[{"n": "asc"}], search_after=[3])) == ["d", "e"]
    assert ids(run(idx, sort=sort[:2], search_after=[3, "fruit"])) == ["d", "e"]
    with pytest.raises(ValueError, match="search_after has 2 value"):
        run(idx, sort=[{"n": "asc"}], search_after=[1, 2])


def test_terminate_after_keeps_first_matches_in_index_order(idx: LocalIndex) -> None:
    # elastic/elasticsearch server/src/main/java/org/elasticsearch/search/query/
    # QueryPhaseCollector.java: min_score is checked before a hit counts toward
    # terminate_after; 0 means no limit
    q = {"match": {"text": "red"}}
    hits = idx.search_request(q, size=10, options={"terminate_after": 2})
    assert hits.total == 2 and hits.relation == "eq"
    assert set(ids(hits)) == {"a", "b"}  # e is the third match in index order
    assert idx.search_request(q, size=10, options={"terminate_after": 0}).total == 3
    scores = {h.id: h.score for h in idx.search_query(q, size=10)}
    above_a = {"min_score": scores["a"] + 1e-6, "terminate_after": 1}
    # a is below min_score, so the one counted hit is the next match that passes it
    assert ids(idx.search_request(q, size=10, options=above_a)) == ["b"]


def test_min_score_filters_and_counts(idx: LocalIndex) -> None:
    q = {"match": {"text": "red"}}
    plain = idx.search_query(q, size=10)
    cut = (plain[0].score + plain[1].score) / 2
    hits = idx.search_request(q, size=10, options={"min_score": cut})
    assert ids(hits) == [plain[0].id] and hits.total == 1


def test_collapse_keeps_the_top_hit_per_value(idx: LocalIndex) -> None:
    hits = idx.search_request(None, size=10, options={"collapse": {"field": "tag"}, "sort": "n"})
    # sorted by n: b(1) car, a(3) fruit, c(3) fruit, d(5) missing, e(missing) sky
    assert ids(hits) == ["b", "a", "d", "e"]
    assert hits.total == 5  # ES does not collapse hits.total
    with pytest.raises(ValueError, match="single valued"):
        idx.search_request(None, size=10, options={"collapse": {"field": "n"}})
    with pytest.raises(ValueError, match="text"):
        idx.search_request(None, size=10, options={"collapse": {"field": "text"}})


def test_track_total_hits_caps_the_count(idx: LocalIndex) -> None:
    hits = idx.search_request(None, size=1, options={"track_total_hits": 3})
    assert (hits.total, hits.relation) == (3, "gte")
    hits = idx.search_request(None, size=1, options={})
    assert (hits.total, hits.relation) == (5, "eq")


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"aggs": {}}, "aggs"),
        ({"sort": [{"text": "asc"}]}, "Text fields are not optimised"),
        ({"sort": [{"nope": "asc"}]}, r"No mapping found for \[nope\]"),
        ({"sort": [{"n": {"order": "up"}}]}, "order"),
        ({"sort": [{"n": {"nested": {}}}]}, "nested"),
        ({"sort": [{"_geo_distance": {}}]}, "_geo_distance"),
        ({"terminate_after": -1}, "terminate_after"),
        ({"collapse": {"field": "tag", "inner_hits": {}}}, "inner_hits"),
        ({"collapse": {"field": "tag"}, "search_after": ["x"], "sort": "n"}, "collapse"),
    ],
)
def test_unsupported_or_bad_options_raise_naming_them(
    idx: LocalIndex, options: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        idx.search_request(None, size=1, options=options)


def test_unmapped_type_sorts_everything_as_missing(idx: LocalIndex) -> None:
    hits = run(idx, sort=[{"nope": {"order": "asc", "unmapped_type": "long"}}])
    assert ids(hits) == ["a", "b", "c", "d", "e"]


def test_relevance_order_is_the_same_with_and_without_options(idx: LocalIndex) -> None:
    # relevance order alone takes tantivy's top-k; any option orders every match in Python
    q = {"match": {"text": "red apple car"}}
    plain = idx.search_request(q, size=3, options={})
    ordered = idx.search_request(q, size=3, options={"min_score": -1.0, "sort": ["_score"]})
    assert [(h.id, h.score) for h in plain] == [(h.id, h.score) for h in ordered]
    assert plain.total == ordered.total == 5
    assert all(h.sort is None for h in plain)
    assert [h.sort for h in ordered] == [(h.score,) for h in ordered]
    fast_sorted = idx.search_request(q, size=3, options={"sort": "_score"})
    assert [(h.id, h.sort) for h in fast_sorted] == [(h.id, h.sort) for h in ordered]


def test_custom_missing_value_and_numeric_modes(idx: LocalIndex) -> None:
    # a missing value given as a number sorts (and is reported) as that number
    hits = run(idx, sort=[{"n": {"order": "asc", "missing": 4}}])
    assert [(h.id, h.sort) for h in hits] == [
        ("b", (1,)),
        ("a", (3,)),
        ("c", (3,)),
        ("e", (4,)),
        ("d", (5,)),
    ]
    avg = run(idx, size=1, sort=[{"n": {"order": "desc", "mode": "avg"}}])
    assert avg[0].id == "d" and avg[0].sort == (5,)  # b's average is 4
    with pytest.raises(ValueError, match="mode"):
        run(idx, sort=[{"tag": {"mode": "sum"}}])


def test_average_of_integers_rounds_half_up_as_java(tmp_path: Any) -> None:
    # ES's MultiValueMode.AVG on longs: Math.round(sum / count), so 4.5 -> 5 (not 4)
    index = LocalIndex(tmp_path / "idx", mapping=MAPPING)
    index.add([{"_id": "x", "n": [3, 6]}, {"_id": "y", "n": [1, 2]}], progress=False)
    hits = index.search_request(None, size=2, options={"sort": [{"n": {"mode": "avg"}}]})
    assert [(h.id, h.sort) for h in hits] == [("y", (2,)), ("x", (5,))]
