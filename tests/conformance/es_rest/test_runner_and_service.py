"""The YAML runner and the port of ES's test reranking service, checked on their own: a
runner that could not fail, or a port with other rules, would make the YAML results
worthless."""

from __future__ import annotations

import dataclasses
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from es_rerank.errors import ConfigurationError, InferenceEndpointNotFoundError
from tests.conformance.es_rest.es_targets import _rename
from tests.conformance.es_rest.reranking_service import (
    TestRerankingService,
    default_scorer,
    java_parse_float,
)
from tests.conformance.es_rest.runner import _check_catch, _match, load_rules, lookup, run_case
from tests.conformance.es_rest.suite import Case, _EsYamlLoader
from tests.conformance.es_rest.targets import LocalTarget, bulk_items, drop_fields

# -- the test reranking service ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("10", 10.0), (" -1 ", -1.0), ("+2", 2.0), ("1e3", 1000.0), ("1.5d", 1.5), ("2F", 2.0),
     (".5", 0.5), ("0x1p3", 8.0), ("Infinity", math.inf), ("-Infinity", -math.inf)],
)  # fmt: skip
def test_java_float_grammar(text: str, value: float) -> None:
    assert java_parse_float(text) == value


def test_java_float_is_float32() -> None:
    assert java_parse_float("0.1") == float(np.float32(0.1)) != 0.1
    assert math.isnan(java_parse_float("NaN"))


@pytest.mark.parametrize("text", ["", "1,5", "one", "0x1", "1e", "- 1", "inf", "nan"])
def test_java_float_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="For input string"):
        java_parse_float(text)


def test_numeric_inputs_are_their_scores() -> None:
    assert TestRerankingService({}).rerank("q", ["0", "-1", "10"]) == [0.0, -1.0, 10.0]


def test_one_non_number_falls_back_for_all_inputs_last_input_highest() -> None:
    service = TestRerankingService({"min_score": "0.5", "result_diff": "0.2"})
    scores = service.rerank("q", ["3", "moon", "1"])
    f32 = np.float32
    assert scores == [float(f32(0.5) + f32(0.2) * f32(k)) for k in (1, 2, 3)]
    assert scores == sorted(scores)  # the input at index j scores min + diff * (j + 1)


def test_default_min_score_is_drawn_once_per_endpoint() -> None:
    a = TestRerankingService({}, rng=random.Random(1))
    b = TestRerankingService({}, rng=random.Random(2))
    assert -1.0 <= a.min_score < 1.0 and a.min_score != b.min_score
    assert a.rerank("q", ["x", "y"]) == a.rerank("q", ["x", "y"])
    assert a.rerank("q", ["x", "y"]) != b.rerank("q", ["x", "y"])
    assert default_scorer("q", ["x", "y"]) == default_scorer("q", ["x", "y"])


def test_use_text_length_scores_one_over_length() -> None:
    service = TestRerankingService({"use_text_length": "TRUE"})
    assert service.rerank("q", ["ab", "abcd", "7"]) == [0.5, 0.25, 1.0]


def test_should_fail_validation_and_top_n_fail() -> None:
    with pytest.raises(RuntimeError, match="intentionally failed"):
        TestRerankingService({"should_fail_validation": True}).rerank("q", ["1"])
    with pytest.raises(RuntimeError, match="top_n"):
        TestRerankingService({"top_n": 1}).rerank("q", ["1", "2"])
    assert TestRerankingService({"top_n": 2}).rerank("q", ["1", "2"]) == [1.0, 2.0]


# -- the runner ---------------------------------------------------------------------------


def test_yaml_reads_exponents_without_a_sign_as_numbers() -> None:
    import yaml

    doc = yaml.load("a: 1.7014124E38\nb: 10\nc: 1e-5\nd: doc1", Loader=_EsYamlLoader)
    assert doc == {"a": 1.7014124e38, "b": 10, "c": 1e-5, "d": "doc1"}


def test_lookup_follows_es_object_paths() -> None:
    body = {"hits": {"hits": [{"_id": "a", "fields": {"x.y": [1]}}]}}
    assert lookup(body, "hits.hits.0._id") == "a"
    assert lookup(body, "hits.hits.0.fields.x\\.y.0") == 1
    assert lookup(body, "hits.hits.3._id") is None
    # ES's runner reads `{ hits.hits.2._score < 100.0 }` as a path with a null value.
    assert lookup(body, "hits.hits.0._score < 100.0") is None


def test_match_regex_ignores_whitespace_in_the_pattern_as_es_does() -> None:
    assert _match("rrf score: [0.5] computed", "/rrf.score:.\\[0.5\\].*/")
    assert not _match("rrf score: [0.5]", "/rrf score: \\[0.5\\]/")  # Pattern.COMMENTS
    assert not _match(0.5, "/0.5/")  # a regex needs a string
    assert _match(2.0, 2) and not _match(True, 1)
    assert _match({"a": [1, "x"]}, {"a": [1.0, "x"]}) and not _match({"a": 1, "b": 2}, {"a": 1})


def test_catch_maps_errors_to_statuses() -> None:
    _check_catch("bad_request", ConfigurationError("bad"))
    _check_catch("missing", InferenceEndpointNotFoundError("Inference endpoint not found [x]"))
    _check_catch("/endpoint not found/", InferenceEndpointNotFoundError("x endpoint not found"))
    with pytest.raises(AssertionError, match="expected status 400"):
        _check_catch("bad_request", ValueError("query 'x' is not supported"))  # a 500
    with pytest.raises(AssertionError, match="does not match"):
        _check_catch("/other/", ConfigurationError("bad"))


SETUP: tuple[dict[str, Any], ...] = (
    {"do": {"indices.create": {"index": "t", "body": {"mappings": {"properties": {
        "text": {"type": "text"}, "v": {"type": "dense_vector", "dims": 1},
        "sv": {"type": "sparse_vector"}}}}}}},
    {"do": {"bulk": {"index": "t", "refresh": True, "body": [
        {"index": {"_id": "1"}}, {"text": "moon", "score": "2", "v": [1.0]},
        {"index": {"_id": "2"}}, {"text": "moon moon", "score": "5", "v": [2.0]},
        '{"index": {"_id": "3"}}', '{"text": "sun", "score": "9", "v": [3.0]}']}}},
    {"do": {"inference.put": {"task_type": "rerank", "inference_id": "m", "body":
        '{"service": "test_reranking_service", "service_settings": {"model_id": "x"}}'}}},
)  # fmt: skip


def search(retriever: dict[str, Any], **body: Any) -> dict[str, Any]:
    return {"do": {"search": {"index": "t", "body": {"retriever": retriever, **body}}}}


RERANK = {"text_similarity_reranker": {
    "retriever": {"standard": {"query": {"match": {"text": "moon"}}}},
    "inference_id": "m", "inference_text": "q", "field": "score"}}  # fmt: skip


def run(tmp_path: Path, *steps: dict[str, Any]) -> Any:
    return run_case(Case("f", "c", SETUP, steps), LocalTarget(tmp_path))


def test_a_true_case_passes_and_a_false_one_fails(tmp_path: Path) -> None:
    good = run(
        tmp_path / "a",
        search(RERANK, aggs={"x": {}}),
        {"match": {"hits.total.value": 2}},
        {"match": {"hits.hits.0._id": "2"}},
        # ES turns a raw score s >= 0 into s + 1 (and s < 0 into exp(s)): "2" scores 3
        {"close_to": {"hits.hits.1._score": {"value": 3.0, "error": 1e-6}}},
        {"length": {"hits.hits": 2}},
        {"match": {"aggregations.x.value": 1}},
    )
    assert good.passed, good.failure
    assert good.searches == 1 and good.assertions == 4
    assert [what for what, _ in good.set_aside] == [
        "search body aggs",
        "match aggregations.x.value",
    ]
    bad = run(tmp_path / "b", search(RERANK), {"match": {"hits.hits.0._id": "1"}})
    assert not bad.passed and "expected '1', got '2'" in (bad.failure or "")


def test_catch_and_unknown_steps(tmp_path: Path) -> None:
    missing = {
        "text_similarity_reranker": {**RERANK["text_similarity_reranker"], "inference_id": "n"}
    }
    caught = run(
        tmp_path / "a",
        {
            "do": {
                "catch": "/Inference endpoint not found/",
                "search": search(missing)["do"]["search"],
            }
        },
        {"match": {"status": 404}},
    )
    assert caught.passed, caught.failure
    uncaught = run(tmp_path / "b", search(missing))
    assert not uncaught.passed and "InferenceEndpointNotFoundError" in (uncaught.failure or "")
    unknown = run(tmp_path / "c", {"do": {"indices.delete": {"index": "t"}}})
    assert not unknown.passed and "indices.delete" in (unknown.failure or "")


def test_a_catch_set_aside_checks_only_the_refusal(tmp_path: Path) -> None:
    """ES matches a catch regex against the Java toString of the error object, class name
    included (DoSection); set aside for a case, only a 4xx refusal is checked."""
    missing = {
        "text_similarity_reranker": {**RERANK["text_similarity_reranker"], "inference_id": "n"}
    }
    step = {"do": {"catch": "/some_exception.+reason=other/", **search(missing)["do"]}}
    base = load_rules()
    aside = dataclasses.replace(
        base, cases={**base.cases, "f::c": {"set_aside": {"catch": "names a class"}}}
    )
    case = Case("f", "c", SETUP, (step,))
    kept = run_case(case, LocalTarget(tmp_path / "a"), aside)
    assert kept.passed, kept.failure
    assert kept.set_aside == [("catch /some_exception.+reason=other/", "names a class")]
    strict = run_case(case, LocalTarget(tmp_path / "b"), base)
    assert not strict.passed and "does not match" in (strict.failure or "")
    found = {"do": {"catch": "/x/", **search(RERANK)["do"]}}
    succeeded = run_case(Case("f", "c", SETUP, (found,)), LocalTarget(tmp_path / "c"), aside)
    assert not succeeded.passed and "succeeded" in (succeeded.failure or "")


def test_fields_of_missing_types_are_refused_only_when_read(tmp_path: Path) -> None:
    body, dropped = drop_fields(
        {"mappings": {"properties": {"a": {"type": "text", "copy_to": "s"},
                                     "s": {"type": "semantic_text"}}}},
        frozenset({"semantic_text"}),
    )  # fmt: skip
    assert dropped == {"s": "semantic_text"} and body["mappings"]["properties"] == {
        "a": {"type": "text"}
    }
    # dense_vector is mapped (knn runs); sparse_vector is dropped, refused where it is read
    knn = {"knn": {"field": "v", "query_vector": [1.0], "k": 1, "num_candidates": 1}}
    found = run(tmp_path / "a", search(knn), {"match": {"hits.hits.0._id": "1"}})
    assert found.passed, found.failure
    sparse = {"standard": {"query": {"exists": {"field": "sv"}}}}
    outcome = run(tmp_path / "b", search(sparse))
    assert not outcome.passed and "sparse_vector" in (outcome.failure or "")


def test_es_targets_rename_only_the_named_keys() -> None:
    body = {"pinned": {"docs": [{"_index": "t", "_id": "t"}], "inference_id": "t"}}
    assert _rename(body, {"t": "p-t"}, frozenset({"_index"})) == {
        "pinned": {"docs": [{"_index": "p-t", "_id": "t"}], "inference_id": "t"}
    }


def test_bulk_reads_a_string_body_of_spread_out_json_objects() -> None:
    body = '{"index": {"_id": "1"}}\n{\n  "a": 1,\n  "b": [2]\n}\n'
    body += '{"index": {"_id": "2"}}\n{"a": 3}\n'
    assert list(bulk_items({"index": "t", "body": body})) == [
        ("t", "1", {"a": 1, "b": [2]}),
        ("t", "2", {"a": 3}),
    ]


def test_set_stashes_and_contains_matches_partial_objects(tmp_path: Path) -> None:
    standard = {"standard": {"query": {"match": {"text": "moon"}}}}
    outcome = run(
        tmp_path / "a",
        search(standard),
        {"set": {"hits.hits.0._id": "first"}},
        {"contains": {"hits.hits": {"_id": "1"}}},
        search(standard),
        {"match": {"hits.hits.0._id": "$first"}},
    )
    assert outcome.passed, outcome.failure
    wrong = run(tmp_path / "b", search(standard), {"contains": {"hits.hits": {"_id": "3"}}})
    assert not wrong.passed


class _Calls:
    """A stand-in for an elasticsearch-py client that records the calls the ES target makes
    while setting a case up (searches need a real cluster: ES_URL)."""

    def __init__(self, log: list[tuple[str, dict[str, Any]]], prefix: str = "") -> None:
        self._log = log
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        if name in ("indices", "inference"):
            return _Calls(self._log, f"{name}.")

        def call(**kwargs: Any) -> Any:
            self._log.append((self._prefix + name, kwargs))
            return type("Response", (), {"body": {}})()

        return call


def test_es_target_prefixes_names_drops_semantic_text_and_cleans_up() -> None:
    from tests.conformance.es_rest.es_targets import EsTarget

    log: list[tuple[str, dict[str, Any]]] = []
    target = EsTarget(_Calls(log), "native", shim_url="http://shim-host:9")
    mapping = {"properties": {"text": {"type": "text", "copy_to": "s"},
                              "s": {"type": "semantic_text", "inference_id": "x"}}}  # fmt: skip
    target.call("indices.create", {"index": "t", "body": {"mappings": mapping}})
    target.call("index", {"index": "t", "id": "d1", "body": {"text": "a", "s": "b"}})
    target.call("indices.put_alias", {"index": "t", "name": "al"})
    rerank = '{"service": "test_reranking_service", "service_settings": {"model_id": "m"}}'
    target.call("inference.put", {"task_type": "rerank", "inference_id": "m", "body": rerank})
    target.call("inference.put", {"task_type": "sparse_embedding", "inference_id": "x",
                                  "body": '{"service": "test_service"}'})  # fmt: skip
    target.close()
    real = target.prefix + "-t"
    assert log[0] == ("indices.create", {"index": real, "mappings": {
        "properties": {"text": {"type": "text"}}}})  # fmt: skip
    assert log[1] == ("index", {"index": real, "id": "d1", "document": {"text": "a"},
                                "refresh": True})  # fmt: skip
    assert log[2] == ("indices.put_alias", {"index": real, "name": target.prefix + "-al"})
    (name, put), *rest = log[3:]
    assert name == "inference.put" and put["inference_id"] == target.prefix + "-m"
    assert put["inference_config"]["service"] == "hugging_face"
    assert put["inference_config"]["service_settings"]["url"].startswith("http://shim-host:9")
    assert [c[0] for c in rest] == ["inference.delete", "indices.delete"]  # sparse: none made
    assert rest[1][1]["index"] == real
