"""Numbers go into a real on-disk local index the way Elasticsearch's mapper takes them:
coerced by default (numeric strings; floats truncated for integer types), refused with ES's
message when ES refuses them, and ``coerce: false`` honoured per field and per index."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from es_rerank import LocalIndex
from es_rerank.backends.coercion import to_float, to_integer

MAPPING = {
    "mappings": {
        "properties": {
            "b": {"type": "byte"},
            "i": {"type": "integer"},
            "n": {"type": "long"},
            "f": {"type": "float"},
            "d": {"type": "double"},
            "strict": {"type": "integer", "coerce": False},
        }
    }
}


# (ES type, JSON value, what ES indexes) - from NumberFieldMapper / AbstractXContentParser.
COERCED = [
    ("integer", "1999", 1999),
    ("integer", " 42 ", 42),  # Double.parseDouble trims
    ("integer", "1e3", 1000),
    ("integer", 2.0, 2),
    ("integer", 1.5, 1),  # truncated, not rounded
    ("integer", -2.7, -2),
    ("integer", "-2.7", -2),
    ("integer", "NaN", 0),  # Java's (int) NaN
    ("byte", 127, 127),
    ("long", "9223372036854775807", 2**63 - 1),
    ("long", "12.9", 12),
    ("long", 1e18, 10**18),
]
REFUSED = [
    ("integer", "abc", 'For input string: "abc"'),
    ("integer", "1_000", 'For input string: "1_000"'),
    ("integer", True, "Current token (VALUE_TRUE) not numeric"),
    ("integer", {"a": 1}, "Current token (START_OBJECT) not numeric"),
    ("integer", 2**31, "Value [2147483648] is out of range for an integer"),
    ("integer", "3e9", "Value [3e9] is out of range for an integer"),
    ("byte", 128, "Value [128] is out of range for a byte"),
    ("short", -32769, "Value [-32769] is out of range for a short"),
    ("long", "9223372036854775808", "out of range for a long"),
    ("long", " 5", 'For input string: " 5"'),  # BigDecimal does not trim
    ("long", 2**63, "out of range for a long"),
]


@pytest.mark.parametrize(("es_type", "value", "expected"), COERCED)
def test_values_es_coerces(es_type: str, value: Any, expected: int) -> None:
    got = to_integer(value, es_type, coerce=True)
    assert got == expected and type(got) is int


@pytest.mark.parametrize(("es_type", "value", "message"), REFUSED)
def test_values_es_refuses(es_type: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        to_integer(value, es_type, coerce=True)


def test_coerce_false_refuses_strings_and_fractions_but_not_whole_floats() -> None:
    assert to_integer(3.0, "integer", coerce=False) == 3
    with pytest.raises(ValueError, match="Integer value passed as String"):
        to_integer("3", "integer", coerce=False)
    with pytest.raises(ValueError, match=r"1\.5 cannot be converted to Integer without data loss"):
        to_integer(1.5, "integer", coerce=False)
    with pytest.raises(ValueError, match="Float value passed as String"):
        to_float("0.5", "float", coerce=False)


def test_floats() -> None:
    assert to_float("0.25", "float", coerce=True) == 0.25
    assert to_float(7, "double", coerce=True) == 7.0
    for value, kind in ((1e39, "float"), ("NaN", "float"), ("-Infinity", "double")):
        with pytest.raises(ValueError, match=rf"\[{kind}\] supports only finite values"):
            to_float(value, kind, coerce=True)


def test_local_index_stores_coerced_values_and_reports_es_reasons(tmp_path: Path) -> None:
    index = LocalIndex(tmp_path / "idx", mapping=MAPPING)
    docs: list[Any] = [
        {"_id": "s", "i": "1999", "n": "12.9", "f": "0.5"},
        {"_id": "t", "i": 1.5, "d": "2", "b": [1, [2.9, "3"]]},  # arrays of arrays flatten
        {"_id": "w", "strict": 4.0},
        {"_id": "x", "i": "abc"},
        {"_id": "y", "b": 300},
        {"_id": "z", "strict": "4"},
        {"_id": "u", "text": "lone \ud800 surrogate"},
    ]
    res = index.add(docs, progress=False)
    assert res.indexed == 3
    reasons = {r.id: r.reason for r in res.rejected}
    assert set(reasons) == {"x", "y", "z", "u"}
    assert reasons["x"] == (
        "mapper_parsing_exception: failed to parse field [i] of type [integer] in document "
        "with id 'x'. Preview of field's value: 'abc' (For input string: \"abc\")"
    )
    assert "Value [300] is out of range for a byte" in reasons["y"]
    assert "Integer value passed as String" in reasons["z"]
    assert reasons["u"] == r"lone surrogate \ud800 in field 'text': not valid Unicode text"

    def ids(query: dict[str, Any]) -> list[str]:
        return sorted(h.id for h in index.search_query(query, size=10))

    assert ids({"term": {"i": 1999}}) == ["s"]
    assert ids({"term": {"i": 1}}) == ["t"]
    assert ids({"term": {"n": 12}}) == ["s"]
    assert ids({"range": {"f": {"gte": 0.5, "lte": 0.5}}}) == ["s"]
    assert ids({"terms": {"b": [2, 3]}}) == ["t"]
    assert ids({"term": {"strict": 4}}) == ["w"]
    # _source keeps what was sent, as in ES
    assert index.get("s") == {"i": "1999", "n": "12.9", "f": "0.5"}


def test_index_level_coerce_setting(tmp_path: Path) -> None:
    mapping = {
        "settings": {"index": {"mapping": {"coerce": False}}},
        "mappings": {
            "properties": {"i": {"type": "integer"}, "j": {"type": "integer", "coerce": True}}
        },
    }
    index = LocalIndex(tmp_path / "idx", mapping=mapping)
    res = index.add([{"_id": "1", "j": "5"}, {"_id": "2", "i": "5"}], progress=False)
    assert res.indexed == 1
    assert [r.id for r in res.rejected] == ["2"]
    assert "Integer value passed as String" in res.rejected[0].reason
