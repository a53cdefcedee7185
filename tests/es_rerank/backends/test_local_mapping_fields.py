"""Mapping features ES's docs and tests use beside plain fields: multi-fields
(``title.keyword``), ``copy_to``, object fields, ``"dynamic": "strict"``; and parameters the
local index cannot honour are refused, never ignored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from es_rerank import LocalIndex
from es_rerank.errors import LocalIndexError

MAPPING: dict[str, Any] = {
    "mappings": {
        "properties": {
            "title": {
                "type": "text",
                "fields": {"keyword": {"type": "keyword", "ignore_above": 20}},
                "copy_to": "all",
            },
            "body": {"type": "text", "copy_to": ["all"]},
            "all": {"type": "text"},
            "author": {
                "properties": {"name": {"type": "keyword"}, "born": {"type": "date"}},
            },
        }
    }
}
DOCS: list[dict[str, Any]] = [
    {"_id": "1", "title": "Zebra Tales", "body": "striped horses", "author": {"name": "Ann"}},
    {"_id": "2", "title": "Apple Pie", "body": "baking", "author": {"name": "Bob", "born": "1950"}},
    {"_id": "3", "title": "A very long title over twenty chars", "author.name": "Cy"},
    {"_id": "4", "title": ["Mango", "Kiwi"], "author": [{"name": "Di"}, {"name": "Ed"}]},
]


@pytest.fixture(scope="module")
def idx(tmp_path_factory: pytest.TempPathFactory) -> LocalIndex:
    index = LocalIndex(tmp_path_factory.mktemp("m") / "idx", mapping=MAPPING)
    result = index.add(DOCS, progress=False)
    assert result.indexed == len(DOCS), result.rejected
    return index


def found(idx: LocalIndex, query: Any) -> set[str]:
    return {h.id for h in idx.search_query(query, size=10)}


def test_multi_field_indexes_the_parent_value(idx: LocalIndex) -> None:
    assert found(idx, {"term": {"title.keyword": "Apple Pie"}}) == {"2"}
    assert found(idx, {"match": {"title": "apple"}}) == {"2"}
    assert found(idx, {"exists": {"field": "title.keyword"}}) == {"1", "2", "4"}  # ignore_above
    hits = idx.search_request(None, size=10, options={"sort": [{"title.keyword": "asc"}]})
    assert [(h.id, h.sort) for h in hits] == [
        ("2", ("Apple Pie",)),
        ("4", ("Kiwi",)),  # the smallest of its values, ascending
        ("1", ("Zebra Tales",)),
        ("3", (None,)),
    ]


def test_copy_to_indexes_into_the_target(idx: LocalIndex) -> None:
    assert found(idx, {"match": {"all": "zebra horses"}}) == {"1"}
    assert found(idx, {"match": {"all": "baking"}}) == {"2"}
    assert idx.get("1") == {k: v for k, v in DOCS[0].items() if k != "_id"}  # _source as sent
    # the copied values keep their own fields apart: a phrase across them does not match
    assert found(idx, {"match_phrase": {"all": "tales striped"}}) == set()


def test_object_fields_by_dotted_path(idx: LocalIndex) -> None:
    assert found(idx, {"term": {"author.name": "Cy"}}) == {"3"}  # a dotted key in _source
    assert found(idx, {"term": {"author.name": "Ed"}}) == {"4"}  # an array of objects
    assert found(idx, {"range": {"author.born": {"lt": "1960"}}}) == {"2"}
    hits = idx.search_request(None, size=2, options={"sort": [{"author.name": "desc"}]})
    assert [h.id for h in hits] == ["4", "3"]


def test_object_given_a_concrete_value_is_rejected(tmp_path: Path) -> None:
    index = LocalIndex(tmp_path / "idx", mapping=MAPPING)
    result = index.add([{"_id": "x", "author": "Ann"}], progress=False)
    assert result.indexed == 0
    assert result.rejected[0].reason == (
        "mapper_parsing_exception: object mapping for [author] tried to parse field [author] "
        "as object, but found a concrete value"
    )


def test_strict_mapping_rejects_unmapped_fields(tmp_path: Path) -> None:
    mapping = {"mappings": {"dynamic": "strict", "properties": {"t": {"type": "text"}}}}
    index = LocalIndex(tmp_path / "idx", mapping=mapping)
    result = index.add([{"_id": "a", "t": "x"}, {"_id": "b", "t": "x", "extra": 1}], progress=False)
    assert result.indexed == 1
    assert result.rejected[0].reason == (
        "strict_dynamic_mapping_exception: mapping set to strict, dynamic introduction of "
        "[extra] within [_doc] is not allowed"
    )


@pytest.mark.parametrize(
    ("field", "named"),
    [
        ({"type": "keyword", "normalizer": "lowercase"}, "normalizer"),
        ({"type": "text", "index": False}, "index"),
        ({"type": "text", "norms": False}, "norms"),
        ({"type": "keyword", "null_value": "NULL"}, "null_value"),
        ({"type": "text", "similarity": "boolean"}, "similarity"),
        ({"type": "text", "copy_to": "nope"}, "nope"),
        ({"type": "nested", "properties": {"a": {"type": "keyword"}}}, "nested"),
    ],
)
def test_parameters_that_would_change_results_are_refused(
    tmp_path: Path, field: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        LocalIndex(tmp_path / "idx", mapping={"mappings": {"properties": {"f": field}}})


def test_harmless_parameters_are_accepted(tmp_path: Path) -> None:
    field = {"type": "keyword", "doc_values": False, "norms": False, "store": True}
    index = LocalIndex(tmp_path / "idx", mapping={"mappings": {"properties": {"f": field}}})
    assert index.add([{"_id": "a", "f": "v"}], progress=False).indexed == 1


def test_an_index_built_with_other_fields_is_refused_clearly(tmp_path: Path) -> None:
    # an index whose stored mapping now yields more index fields (multi-fields were not
    # indexed before): reopening says so instead of tantivy's schema error
    path = tmp_path / "idx"
    LocalIndex(path, mapping={"mappings": {"properties": {"t": {"type": "text"}}}})
    stored = path / "es_rerank_mapping.json"
    stored.write_text(
        '{"mappings": {"properties": {"t": {"type": "text", '
        '"fields": {"k": {"type": "keyword"}}}}}}'
    )
    with pytest.raises(LocalIndexError, match="rebuild it"):
        LocalIndex.open(path)
