from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from es_rerank import LocalIndex

DOCS: list[dict[str, Any]] = [
    {
        "_id": "1",
        "title": "Cats",
        "text": "cats purr and cats sleep",
        "tags": ["pet"],
        "year": 2020,
    },
    {
        "_id": "2",
        "title": "Dogs",
        "text": "dogs bark at cats",
        "tags": ["pet", "loud"],
        "year": 2021,
    },
    {"_id": "3", "title": "Cars", "text": "engines roar", "source": "wiki", "year": 2019},
    {"_id": "4", "title": "Purring", "text": "a cat purr is a sound"},
]


@pytest.fixture()
def idx(tmp_path: Path) -> LocalIndex:
    index = LocalIndex(tmp_path / "idx", mapping="passages")
    res = index.add(DOCS, progress=False)
    assert res.indexed == 4 and res.rejected == []
    return index


def ids(index: LocalIndex, query: Any, size: int = 10) -> list[str]:
    return [h.id for h in index.search_query(query, size=size)]


def test_match_ranks_by_bm25_and_operator(idx: LocalIndex) -> None:
    assert ids(idx, {"match": {"text": "cats"}}) == ["1", "2"]  # tf 2 beats tf 1
    assert ids(idx, {"match": {"text": "CATS purr"}})[0] == "1"
    assert set(ids(idx, {"match": {"text": {"query": "cats bark", "operator": "or"}}})) == {
        "1",
        "2",
    }
    assert ids(idx, {"match": {"text": {"query": "cats bark", "operator": "and"}}}) == ["2"]


def test_filters_do_not_change_scores(idx: LocalIndex) -> None:
    plain = {h.id: h.score for h in idx.search_query({"match": {"text": "cats"}}, size=10)}
    filtered = idx.search_query(
        {"bool": {"must": [{"match": {"text": "cats"}}], "filter": [{"term": {"tags": "loud"}}]}},
        size=10,
    )
    assert [h.id for h in filtered] == ["2"]
    assert filtered[0].score == pytest.approx(plain["2"])


def test_term_terms_range_exists_must_not(idx: LocalIndex) -> None:
    assert ids(idx, {"term": {"source": "wiki"}}) == ["3"]
    assert ids(idx, {"term": {"source": "Wiki"}}) == []  # keyword is exact
    assert sorted(ids(idx, {"terms": {"tags": ["loud", "nope"]}})) == ["2"]
    assert sorted(ids(idx, {"range": {"year": {"gte": 2020}}})) == ["1", "2"]
    assert sorted(ids(idx, {"range": {"year": {"gt": 2019, "lt": 2021}}})) == ["1"]
    assert sorted(ids(idx, {"bool": {"must_not": [{"exists": {"field": "year"}}]}})) == ["4"]
    assert sorted(
        ids(idx, {"bool": {"should": [{"term": {"tags": "pet"}}], "minimum_should_match": 1}})
    ) == ["1", "2"]


def test_multi_match_best_fields_with_boost(idx: LocalIndex) -> None:
    def scores(fields: list[str]) -> dict[str, float]:
        q = {"multi_match": {"query": "purring cats", "fields": fields}}
        return {h.id: h.score for h in idx.search_query(q, size=10)}

    title, text, both = scores(["title"]), scores(["text"]), scores(["title^3", "text"])
    assert set(both) == {"1", "2", "4"}
    # best_fields: the best single field's score, boost applied to that field
    for doc in both:
        assert both[doc] == pytest.approx(max(3 * title.get(doc, 0.0), text.get(doc, 0.0)))


def test_match_all_ties_are_stable(idx: LocalIndex) -> None:
    first = idx.search_query(None, size=10)
    assert [h.score for h in first] == [1.0] * 4
    assert [h.id for h in first] == [h.id for h in idx.search_query({"match_all": {}}, size=10)]
    assert len(idx.search_query(None, size=2)) == 2


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"fuzzy": {"text": "cat"}}, "fuzzy"),
        ({"match": {"text": {"query": "cat", "fuzziness": 2}}}, "fuzziness"),
        ({"multi_match": {"query": "x", "type": "phrase_prefix"}}, "phrase_prefix"),
        ({"match": {"nope": "x"}}, "nope"),
        ({"bool": {"must": [{"wildcard": {"text": "c*"}}]}}, "wildcard"),
        ({"range": {"title": {"gte": "a"}}}, "title"),
    ],
)
def test_unsupported_constructs_raise_naming_them(idx: LocalIndex, query: Any, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        idx.search_query(query, size=5)


def test_add_is_idempotent_and_reports_rejects(idx: LocalIndex, tmp_path: Path) -> None:
    res = idx.add([*DOCS, {"_id": "1", "text": "replaced"}], progress=False)
    assert idx.count() == 4
    assert idx.get("1") == {"text": "replaced"}
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text(
        "\n".join(
            [
                json.dumps({"_id": "9", "text": "ok"}),
                "{broken",
                json.dumps({"text": "no id"}),
                json.dumps({"_id": "8", "year": "soon"}),
                json.dumps([1, 2]),
            ]
        )
        + "\n"
    )
    res = idx.add(jsonl, progress=False)
    assert res.indexed == 1
    reasons = {r.position: r.reason for r in res.rejected}
    assert set(reasons) == {2, 3, 4, 5}
    assert "invalid JSON" in reasons[2] and "missing id" in reasons[3]
    assert "year" in reasons[4] and "not a JSON object" in reasons[5]
    assert idx.count() == 5 and idx.get("9") == {"text": "ok"}


def test_reopen_keeps_docs_and_mapping(idx: LocalIndex) -> None:
    again = LocalIndex(idx.path)
    assert again.count() == 4
    assert ids(again, {"match": {"title": "dogs"}}) == ["2"]
    with pytest.raises(ValueError, match="different mapping"):
        LocalIndex(idx.path, mapping={"mappings": {"properties": {"x": {"type": "text"}}}})


def test_bad_mapping_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nested"):
        LocalIndex(tmp_path / "x", mapping={"mappings": {"properties": {"n": {"type": "nested"}}}})


def test_english_analyzer_stems_only_when_asked(tmp_path: Path) -> None:
    m = {
        "mappings": {
            "properties": {"en": {"type": "text", "analyzer": "english"}, "st": {"type": "text"}}
        }
    }
    index = LocalIndex(tmp_path / "en", mapping=m)
    index.add([{"_id": "1", "en": "running dogs", "st": "running dogs"}], progress=False)
    assert ids(index, {"match": {"en": "run dog"}}) == ["1"]
    assert ids(index, {"match": {"st": "run dog"}}) == []
