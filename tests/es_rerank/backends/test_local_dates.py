"""``date`` fields in ES's default format ``strict_date_optional_time||epoch_millis``:
in documents, in term/range queries (date math, rounding) and in sorts.

ISO parsing follows elastic/elasticsearch server/src/main/java/org/elasticsearch/common/
time/Iso8601Parser.java at 1079ff6932d617db35929a07c8b56b7454c770f2; documents read the
value as text (DateFieldMapper.parseCreateField: ``textOrNull``), so the JSON number 2020 is
the year 2020; range bounds are rounded as DateFieldType.dateRangeQuery rounds them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from es_rerank import LocalIndex
from es_rerank.backends.local_dates import parse_date, parse_date_math


def ms(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, micro: int = 0) -> int:
    return int(datetime(y, mo, d, h, mi, s, tzinfo=UTC).timestamp() * 1000) + micro // 1000


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020", ms(2020, 1, 1)),
        ("2020-03", ms(2020, 3, 1)),
        ("2020-03-04", ms(2020, 3, 4)),
        ("2020-03-04T", ms(2020, 3, 4)),
        ("2020-03-04T05", ms(2020, 3, 4, 5)),
        ("2020-03-04T05:06", ms(2020, 3, 4, 5, 6)),
        ("2020-03-04T05:06:07", ms(2020, 3, 4, 5, 6, 7)),
        ("2020-03-04T05:06:07.8", ms(2020, 3, 4, 5, 6, 7, micro=800_000)),
        ("2020-03-04T05:06:07,123456789Z", ms(2020, 3, 4, 5, 6, 7, micro=123_456)),
        ("2020-03-04T05:06:07+02:00", ms(2020, 3, 4, 3, 6, 7)),
        ("2020-03-04T05:06:07-0130", ms(2020, 3, 4, 6, 36, 7)),
        ("2020-03-04T05+01", ms(2020, 3, 4, 4)),
        ("2020-07-01T12:00:00Europe/Paris", ms(2020, 7, 1, 10)),
        ("1969-12-31T23:59:59.999Z", -1),
        ("1583301967000", 1583301967000),
        (1583301967000, 1583301967000),
        (2020, ms(2020, 1, 1)),  # read as text: a year, as in ES
        ("-12345", -12345),  # not a year: "-YYYY" would be one (year -5000 for "-5000")
        ("20200304", 20200304),  # not ISO (no '-'): epoch millis
    ],
)
def test_default_format_accepts_iso_and_epoch_millis(value: Any, expected: int) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    "value",
    ["2020-02-30", "2020-13-01", "2020-1-01", "2020-01-01 10:00", "2020-01-01T25", "x", True, ""],
)
def test_bad_dates_get_es_message(value: Any) -> None:
    shown = {True: "true"}.get(value, value) if isinstance(value, bool) else value
    with pytest.raises(ValueError) as err:
        parse_date(value)
    assert str(err.value) == (
        f"failed to parse date field [{shown}] with format "
        "[strict_date_optional_time||epoch_millis]"
    )


def test_round_up_fills_missing_fields_as_es_does() -> None:
    # ES docs (range query, "Missing date components"): gt/lte fill month/day with 01 and
    # the time with 23:59:59.999
    assert parse_date("2020-03", round_up=True) == ms(2020, 3, 1, 23, 59, 59, micro=999_000)
    assert parse_date("2020-03-04T05", round_up=True) == ms(2020, 3, 4, 5, 59, 59, micro=999_000)
    assert parse_date_math("2020-03-04||/M", round_up=True) == ms(2020, 4, 1) - 1
    assert parse_date_math("2020-03-04||+1M-1d/d", round_up=False) == ms(2020, 4, 3)
    assert parse_date_math("now-1h", round_up=False, now_ms=ms(2020, 1, 1)) == ms(2019, 12, 31, 23)
    with pytest.raises(ValueError, match=r"failed to parse date field \[2020-03-04\|\|\+1x\]"):
        parse_date_math("2020-03-04||+1x", round_up=False)


MAPPING = {"mappings": {"properties": {"day": {"type": "date"}, "t": {"type": "text"}}}}


@pytest.fixture
def idx(tmp_path: Path) -> LocalIndex:
    index = LocalIndex(tmp_path / "idx", mapping=MAPPING)
    docs = [
        {"_id": "iso", "day": "2020-01-02T10:00:00Z"},
        {"_id": "day", "day": "2020-01-01"},
        {"_id": "millis", "day": 1577750400000},  # 2019-12-31
        {"_id": "zoned", "day": "2020-01-02T00:30:00+01:00"},  # 2020-01-01T23:30Z
        {"_id": "list", "day": ["2018-01-01", "2022-01-01"]},
    ]
    assert index.add(docs, progress=False).indexed == len(docs)
    return index


def found(idx: LocalIndex, query: Any) -> set[str]:
    return {h.id for h in idx.search_query(query, size=100)}


def test_range_on_dates_with_rounding_and_formats(idx: LocalIndex) -> None:
    assert found(idx, {"range": {"day": {"gte": "2020-01-01", "lt": "2020-01-02"}}}) == {
        "day",
        "zoned",
    }
    # lte rounds up to the end of the day; gt rounds up too (so it excludes the whole day)
    assert found(idx, {"range": {"day": {"lte": "2020-01-01"}}}) == {
        "day",
        "zoned",
        "millis",
        "list",
    }
    assert found(idx, {"range": {"day": {"gt": "2020-01-01"}}}) == {"iso", "list"}
    assert found(idx, {"range": {"day": {"gte": 1577836800000, "lte": 1577836800000}}}) == {"day"}
    assert found(idx, {"range": {"day": {"gte": "2020-01-01||-1d/d", "lt": "2020-01-01"}}}) == {
        "millis"
    }
    # time_zone moves a bound given without one
    tz = {"gte": "2020-01-02", "lt": "2020-01-03", "time_zone": "+01:00"}
    assert found(idx, {"range": {"day": tz}}) == {"iso", "zoned"}
    with_format = {"gte": "1577836800000", "lt": "1577923200000", "format": "epoch_millis"}
    assert found(idx, {"range": {"day": with_format}}) == {"day", "zoned"}


def test_term_on_a_date_matches_the_whole_unit(idx: LocalIndex) -> None:
    assert found(idx, {"term": {"day": "2020-01-01"}}) == {"day", "zoned"}
    assert found(idx, {"term": {"day": 1577750400000}}) == {"millis"}


def test_bad_range_bound_names_the_date_and_format(idx: LocalIndex) -> None:
    with pytest.raises(ValueError, match=r"failed to parse date field \[soon\] with format"):
        idx.search_query({"range": {"day": {"gte": "soon"}}}, size=1)
    with pytest.raises(ValueError, match="date format"):
        idx.search_query({"range": {"day": {"gte": "1", "format": "EEE, dd MMM yyyy"}}}, size=1)


def test_documents_with_bad_dates_are_rejected_with_es_reason(tmp_path: Path) -> None:
    index = LocalIndex(tmp_path / "idx", mapping=MAPPING)
    result = index.add(
        [{"_id": "ok", "day": "2020-05-05"}, {"_id": "bad", "day": "05/05/2020"}], progress=False
    )
    assert result.indexed == 1
    (rejected,) = result.rejected
    assert rejected.id == "bad"
    assert rejected.reason == (
        "mapper_parsing_exception: failed to parse field [day] of type [date] in document "
        "with id 'bad'. Preview of field's value: '05/05/2020' (failed to parse date field "
        "[05/05/2020] with format [strict_date_optional_time||epoch_millis])"
    )


def test_epoch_millis_only_mapping_refuses_iso(tmp_path: Path) -> None:
    mapping = {"mappings": {"properties": {"day": {"type": "date", "format": "epoch_millis"}}}}
    index = LocalIndex(tmp_path / "idx", mapping=mapping)
    result = index.add([{"_id": "a", "day": "2020-01-01"}, {"_id": "b", "day": 5}], progress=False)
    assert result.indexed == 1 and result.rejected[0].id == "a"
    assert "with format [epoch_millis]" in result.rejected[0].reason
    with pytest.raises(ValueError, match="date format"):
        LocalIndex(
            tmp_path / "other",
            mapping={"mappings": {"properties": {"d": {"type": "date", "format": "MMM yyyy"}}}},
        )


def test_java_patterns_and_named_formats(tmp_path: Path) -> None:
    # the format of ES's date type docs: "yyyy-MM-dd HH:mm:ss||yyyy-MM-dd||epoch_millis"
    fmt = "yyyy-MM-dd HH:mm:ss||yyyy-MM-dd||epoch_millis"
    assert parse_date("2015-01-01 12:10:30", fmt) == ms(2015, 1, 1, 12, 10, 30)
    assert parse_date("2015-01-01", fmt) == ms(2015, 1, 1)
    assert parse_date(1420070400001, fmt) == 1420070400001
    assert parse_date("04/03/2020", "dd/MM/yyyy") == ms(2020, 3, 4)
    assert parse_date("2020-03-04T05:06:07.123+01:00", "strict_date_time") == ms(
        2020, 3, 4, 4, 6, 7, micro=123_000
    )
    assert parse_date("2020-03-04", "yyyy-MM-dd", round_up=True) == ms(2020, 3, 5) - 1
    with pytest.raises(ValueError, match=r"failed to parse date field \[2015-01-01T12\]"):
        parse_date("2015-01-01T12", fmt)
    mapping = {"mappings": {"properties": {"d": {"type": "date", "format": fmt}}}}
    index = LocalIndex(tmp_path / "idx", mapping=mapping)
    result = index.add([{"_id": "a", "d": "2015-01-01 12:10:30"}, {"_id": "b", "d": "2015-01-02"}])
    assert result.indexed == 2
    hits = index.search_query(
        {"range": {"d": {"gte": "2015-01-01 12:00:00", "lt": "2015-01-02"}}}, size=5
    )
    assert [h.id for h in hits] == ["a"]
