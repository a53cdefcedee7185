"""The ``boolean``, ``rank_feature`` and ``rank_features`` field types and the
``rank_feature`` query of the local index, with ES's semantics.

Rules from elastic/elasticsearch: ``modules/mapper-extras/src/main/java/org/elasticsearch/
index/mapper/extras/RankFeatureQueryBuilder.java`` at 13ae1548e7d2d5e1bd2a0b7889b635a0aa40f905,
``RankFeaturesFieldMapper.java`` at 0629870fce2e744b55d59df284fce84de4c2ab9f,
``RankFeatureFieldMapper.java`` at 00203b9af13ca7b1798b10eac5159301e7312a08,
``server/src/main/java/org/elasticsearch/index/mapper/BooleanFieldMapper.java`` at
00b35b0366c0a58105142d76619e006f0d2bcbd1; and apache/lucene
``lucene/core/src/java/org/apache/lucene/document/FeatureField.java`` at
0a0701995a66cd29460e19c2f9b7336e26ea50a4 (values kept to 9 significant bits; saturation's
default pivot is the decoded mean of the stored frequencies, about the geometric mean).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from es_rerank import LocalIndex

MAPPING: dict[str, Any] = {
    "mappings": {
        "properties": {
            "features": {"type": "rank_features"},
            "inverse": {"type": "rank_features", "positive_score_impact": False},
            "pagerank": {"type": "rank_feature"},
            "url_length": {"type": "rank_feature", "positive_score_impact": False},
            "available": {"type": "boolean"},
            "flag": {"type": "keyword"},
            "tag": {"type": "keyword"},
        }
    }
}
DOCS: list[dict[str, Any]] = [
    {"_id": "a", "features": {"x": 1, "y": 0.3}, "inverse": {"x": 4}, "pagerank": 1,
     "url_length": 4, "available": True, "flag": "T", "tag": "k"},
    {"_id": "b", "features": {"x": 4}, "inverse": {"x": 2}, "pagerank": 4, "url_length": 2,
     "available": "false", "flag": "F"},
    {"_id": "c", "features": {"z": 10, "w": None}, "available": "", "flag": "F"},
    {"_id": "d", "available": [True], "flag": "T"},
]  # fmt: skip


@pytest.fixture(scope="module")
def idx(tmp_path_factory: pytest.TempPathFactory) -> LocalIndex:
    index = LocalIndex(tmp_path_factory.mktemp("rf") / "idx", mapping=MAPPING)
    result = index.add(DOCS, progress=False)
    assert result.indexed == len(DOCS), result.rejected
    return index


def scores(idx: LocalIndex, query: Any) -> dict[str, float]:
    return {h.id: h.score for h in idx.search_query(query, size=10)}


def test_linear_scores_the_value_as_lucene_stores_it(idx: LocalIndex) -> None:
    # 0.3 keeps 9 significant bits in Lucene's FeatureField: 0.2998046875
    assert scores(idx, {"rank_feature": {"field": "features.y", "linear": {}}}) == {
        "a": 0.2998046875
    }
    got = scores(idx, {"rank_feature": {"field": "features.x", "linear": {}, "boost": 2}})
    assert got == {"a": 2.0, "b": 8.0}
    assert [h.id for h in idx.search_query({"rank_feature": {"field": "pagerank",
            "linear": {}}}, size=10)] == ["b", "a"]  # fmt: skip


def test_default_saturation_pivot_is_about_the_geometric_mean(idx: LocalIndex) -> None:
    # values 1 and 4: pivot 2 (the geometric mean; the arithmetic one would be 2.5)
    got = scores(idx, {"rank_feature": {"field": "features.x"}})
    assert got == pytest.approx({"a": 1 / 3, "b": 2 / 3}, rel=1e-6)
    # one document: the pivot is its own value, so it scores w / 2
    assert scores(idx, {"rank_feature": {"field": "features.z", "boost": 3}}) == {"c": 1.5}
    explicit = {"rank_feature": {"field": "features.x", "saturation": {"pivot": 4}}}
    assert scores(idx, explicit) == pytest.approx({"a": 0.2, "b": 0.5}, rel=1e-6)


def test_log_and_sigmoid(idx: LocalIndex) -> None:
    log = {"rank_feature": {"field": "pagerank", "log": {"scaling_factor": 4}}}
    assert scores(idx, log) == pytest.approx({"a": 1.6094379, "b": 2.0794415}, rel=1e-6)
    sigmoid = {"rank_feature": {"field": "pagerank", "sigmoid": {"pivot": 4, "exponent": 2}}}
    assert scores(idx, sigmoid) == pytest.approx({"a": 1 / 17, "b": 0.5}, rel=1e-6)


def test_negative_score_impact_stores_the_inverse(idx: LocalIndex) -> None:
    got = scores(idx, {"rank_feature": {"field": "url_length", "linear": {}}})
    assert got == {"a": 0.25, "b": 0.5}
    with pytest.raises(ValueError, match=r"Cannot use the \[log\] function with a field that"):
        idx.search_query({"rank_feature": {"field": "url_length", "log": {"scaling_factor": 1}}},
                         size=10)  # fmt: skip
    # rank_features: ES's query builder passes a positive impact whatever the mapping says
    log = {"rank_feature": {"field": "inverse.x", "log": {"scaling_factor": 1}}}
    assert scores(idx, log) == pytest.approx({"a": 0.22314355, "b": 0.4054651}, rel=1e-6)


def test_query_refusals_and_unmapped_fields(idx: LocalIndex) -> None:
    with pytest.raises(ValueError, match=r"only works on \[rank_feature\] fields .* not \[keyword"):
        idx.search_query({"rank_feature": {"field": "tag"}}, size=10)
    with pytest.raises(ValueError, match=r"Can only specify one of \[log\], \[saturation\]"):
        idx.search_query({"rank_feature": {"field": "pagerank", "linear": {}, "log": {
            "scaling_factor": 2}}}, size=10)  # fmt: skip
    with pytest.raises(ValueError, match=r"scalingFactor must be >= 1, got: 0.5"):
        idx.search_query({"rank_feature": {"field": "pagerank", "log": {"scaling_factor": 0.5}}},
                         size=10)  # fmt: skip
    with pytest.raises(ValueError, match=r"\[sigmoid\] Required \[exponent\]"):
        idx.search_query({"rank_feature": {"field": "pagerank", "sigmoid": {"pivot": 1}}}, size=10)
    with pytest.raises(ValueError, match=r"do not support \[exists\] queries"):
        idx.search_query({"exists": {"field": "features"}}, size=10)
    with pytest.raises(ValueError, match=r"Queries on \[rank_feature\] fields are not supported"):
        idx.search_query({"term": {"pagerank": 1}}, size=10)
    assert scores(idx, {"rank_feature": {"field": "nothing.here"}}) == {}
    assert set(scores(idx, {"exists": {"field": "pagerank"}})) == {"a", "b"}


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ({"features": {"x": -1}}, "featureValue must be a positive normal float, got: -1.0"),
        ({"features": 3}, "must be json objects, expected a START_OBJECT but got: VALUE_NUMBER"),
        ({"features": {"x": [1]}}, "but got unexpected token START_ARRAY"),
        ({"features": [{"x": 1}, {"x": 2}]}, "multiple values for the same rank feature"),
        ({"pagerank": [1, 2]}, "multiple values for the same field [pagerank]"),
        ({"url_length": 0}, "featureValue must be finite, got: Infinity"),
        ({"available": "yes"}, "Failed to parse value [yes] as only [true] or [false]"),
        ({"available": 1}, "not of boolean type"),
    ],
)
def test_documents_es_refuses_are_rejected(tmp_path: Path, doc: Any, reason: str) -> None:
    index = LocalIndex(tmp_path / "idx", mapping=MAPPING)
    result = index.add([{"_id": "x", **doc}], progress=False)
    assert result.indexed == 0
    assert reason in result.rejected[0].reason


def test_boolean_field_matches_and_scores_as_es_does(idx: LocalIndex) -> None:
    assert set(scores(idx, {"term": {"available": True}})) == {"a", "d"}
    assert set(scores(idx, {"match": {"available": "false"}})) == {"b", "c"}  # "" is false
    # a term on a boolean scores as on a keyword (no norms, no frequencies): same terms here
    assert scores(idx, {"term": {"available": "true"}}) == scores(idx, {"term": {"flag": "T"}})
    assert set(scores(idx, {"range": {"available": {"gt": False}}})) == {"a", "d"}
    assert set(scores(idx, {"exists": {"field": "available"}})) == {"a", "b", "c", "d"}
    with pytest.raises(ValueError, match=r"Can't parse boolean value \[yes\], expected"):
        idx.search_query({"term": {"available": "yes"}}, size=10)


def test_sort_and_collapse_on_these_fields_are_refused(idx: LocalIndex) -> None:
    with pytest.raises(ValueError, match=r"\[rank_feature\] fields do not support sorting"):
        idx.search_request(None, size=10, options={"sort": [{"pagerank": "asc"}]})
    with pytest.raises(ValueError, match=r"field \[available\] of type \[boolean\] is not"):
        idx.search_request(None, size=10, options={"collapse": {"field": "available"}})
