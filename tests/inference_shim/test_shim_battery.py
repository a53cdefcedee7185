"""Hostile and malformed requests against the real server over loopback: each gets its
4xx JSON error naming the problem, and the server keeps serving
(tests/inference_shim/battery.py)."""

from __future__ import annotations

import json

import httpx
import pytest

from es_rerank.wire import MAX_TOP_N
from tests.helpers.shim import ShimProcess
from tests.inference_shim.battery import AUTH, CASES, MAX_CHARS, MAX_TEXTS, VALID, Case

pytestmark = pytest.mark.slow


def _still_serving(c: httpx.Client) -> None:
    assert c.get("/health").status_code == 200
    ok = c.post("/rerank", json=VALID, headers=AUTH)
    assert ok.status_code == 200 and [x["index"] for x in ok.json()] != []


def test_battery_is_broad() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)
    assert {c.status for c in CASES} == {400, 401, 404, 405, 413, 415, 422}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_request_gets_a_json_4xx(keyed_shim: ShimProcess, case: Case) -> None:
    with keyed_shim.client() as c:
        r = case.send(c)
        assert r.status_code == case.status, r.text
        assert r.headers["Content-Type"] == "application/json"
        doc = r.json()
        assert set(doc) == {"error", "error_type"}, doc
        assert doc["error_type"] == case.error_type, doc
        assert doc["error"] and case.needle in doc["error"], doc
        _still_serving(c)


def _rerank(c: httpx.Client, body: bytes, content_type: str = "application/json") -> httpx.Response:
    return c.post("/rerank", content=body, headers={**AUTH, "Content-Type": content_type})


def test_edge_values_that_are_valid(keyed_shim: ShimProcess) -> None:
    """What looks odd but is a valid request is served, not refused."""
    emoji = "berlin \U0001f600 city"
    with keyed_shim.client() as c:
        nul = _rerank(c, json.dumps({"query": "q\u0000", "texts": ["a\u0000b"]}).encode())
        pair = _rerank(
            c, json.dumps({"query": "q", "texts": [emoji], "return_text": True}).encode()
        )
        raw_utf8 = _rerank(
            c,
            json.dumps(
                {"query": "q", "texts": [emoji], "return_text": True}, ensure_ascii=False
            ).encode(),
            "application/json; charset=utf-8",
        )
        top = _rerank(
            c, json.dumps({"query": "q", "texts": ["a", "b"], "top_n": MAX_TOP_N}).encode()
        )
        empty_text = _rerank(c, b'{"query": "q", "texts": ["", "a"]}')
        duplicate = _rerank(c, b'{"query": "q", "texts": ["a"], "texts": ["a", "b", "c"]}')
        at_limits = _rerank(
            c, json.dumps({"query": "q", "texts": ["b" * MAX_CHARS] * MAX_TEXTS}).encode()
        )
        alias = _rerank(c, b'{"query": "q", "texts": null, "documents": ["a", "b"]}')
        suffix = _rerank(c, json.dumps(VALID).encode(), "application/vnd.rerank+json")
        single = c.post("/inference/rerank", json={"query": "q", "input": "one"}, headers=AUTH)
    for r in (nul, pair, raw_utf8, top, empty_text, duplicate, at_limits, alias, suffix, single):
        assert r.status_code == 200, r.text
    assert pair.json()[0]["text"] == emoji and raw_utf8.json()[0]["text"] == emoji
    assert len(top.json()) == 2 and len(empty_text.json()) == 2 and len(alias.json()) == 2
    assert len(duplicate.json()) == 3  # the last value of a repeated key wins
    assert len(at_limits.json()) == MAX_TEXTS
    assert [x["index"] for x in single.json()["rerank"]] == [0]
