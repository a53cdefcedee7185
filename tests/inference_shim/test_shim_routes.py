"""Every route of the real server over loopback HTTP, with the bodies ES sends."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from es_rerank.models import load_model
from es_rerank.scores import normalize
from inference_shim.schemas import SCHEMAS, committed_openapi
from tests.helpers.shim import ShimProcess
from tests.inference_shim import es_side
from tests.inference_shim.scorers import overlap

pytestmark = pytest.mark.slow

QUERY = "berlin population city"
TEXTS = [
    "berlin is a city of people",
    "the cat and the dog",
    "population of paris and berlin",
    "a river in france",
    "elasticsearch rerank model",
]


def _sigmoid(score: float) -> float:
    return 1 / (1 + math.exp(-score))


def _validate(payload: object, schema: str) -> None:
    jsonschema.validate(payload, {**SCHEMAS[schema], "components": {"schemas": SCHEMAS}})


@pytest.fixture(scope="module")
def expected_raw(spread_cross_encoder: Path) -> list[float]:
    """In-process raw logits (sentence-transformers) for QUERY x TEXTS."""
    return load_model(spread_cross_encoder).score(QUERY, TEXTS).tolist()


def test_scores_are_spread(expected_raw: list[float]) -> None:
    # Precondition of the mix-up tests: different texts score clearly differently.
    gaps = np.diff(np.sort(expected_raw))
    assert gaps.min() > 1e-3


def test_hugging_face_service_request(model_shim: ShimProcess, expected_raw: list[float]) -> None:
    body = es_side.hugging_face_body(QUERY, TEXTS, return_text=True, top_n=3)
    with model_shim.client() as c:
        r = c.post("/rerank", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    items = es_side.parse_hugging_face(r.content)
    _validate(items, "TeiRerankResponse")
    order = sorted(range(len(TEXTS)), key=lambda i: -expected_raw[i])[:3]
    assert [it["index"] for it in items] == order
    for it in items:  # ES sends no raw_scores: sigmoid, as TEI answers it
        assert it["score"] == pytest.approx(_sigmoid(expected_raw[it["index"]]), rel=1e-3)
        assert it["text"] == TEXTS[it["index"]]


def test_tei_defaults_and_score_modes(model_shim: ShimProcess, expected_raw: list[float]) -> None:
    with model_shim.client() as c:
        plain = c.post("/rerank", json={"query": QUERY, "texts": TEXTS}).json()
        tei_sigmoid = c.post(
            "/rerank", json={"query": QUERY, "texts": TEXTS, "raw_scores": False}
        ).json()
        tei_raw = c.post("/rerank", json={"query": QUERY, "texts": TEXTS, "raw_scores": True})
        normalized = c.post(
            "/rerank", json={"query": QUERY, "texts": TEXTS, "score_mode": "normalized"}
        ).json()
    assert len(plain) == len(TEXTS) and all("text" not in it for it in plain)
    assert [it["score"] for it in plain] == sorted((it["score"] for it in plain), reverse=True)
    by_index = {it["index"]: it["score"] for it in tei_raw.json()}
    for i, s in by_index.items():
        assert s == pytest.approx(expected_raw[i], abs=1e-4)
    for it in plain:  # TEI's default: sigmoid
        assert it["score"] == pytest.approx(_sigmoid(by_index[it["index"]]), rel=1e-6)
    assert tei_sigmoid == plain
    for it in normalized:
        assert it["score"] == pytest.approx(normalize(by_index[it["index"]]), abs=1e-6)


def test_truncation(model_shim: ShimProcess, spread_cross_encoder: Path) -> None:
    long_text = "berlin city " * 200  # far beyond the tiny model's 128 tokens
    texts = [long_text, "short berlin"]
    # Only the end differs, so only left truncation (which keeps the end) can tell apart.
    tails = [long_text + "paris museum river", long_text + "cat dog fast slow"]
    with model_shim.client() as c:
        right = c.post("/rerank", json={"query": QUERY, "texts": texts, "raw_scores": True})
        raw = {"query": QUERY, "texts": tails, "raw_scores": True}
        kept_start = c.post("/rerank", json=raw).json()
        kept_end = c.post("/rerank", json={**raw, "truncation_direction": "Left"}).json()
        refused = c.post("/rerank", json={"query": QUERY, "texts": texts, "truncate": False})
        fits = c.post(
            "/rerank", json={"query": QUERY, "texts": ["short berlin"], "truncate": False}
        )
    assert right.status_code == 200
    expected = load_model(spread_cross_encoder).score(QUERY, texts).tolist()
    for it in right.json():
        assert it["score"] == pytest.approx(expected[it["index"]], abs=1e-4)
    assert kept_start[0]["score"] == pytest.approx(kept_start[1]["score"], abs=1e-6)
    assert abs(kept_end[0]["score"] - kept_end[1]["score"]) > 1e-4
    assert refused.status_code == 422
    assert refused.json()["error_type"] == "Validation"
    assert "texts[0]" in refused.json()["error"]
    assert fits.status_code == 200


@pytest.mark.parametrize("route", ["/v1/rerank", "/v2/rerank"])
def test_cohere_format(model_shim: ShimProcess, expected_raw: list[float], route: str) -> None:
    docs: list[object] = [TEXTS[0], {"text": TEXTS[1]}, *TEXTS[2:]]
    body = es_side.COHERE_V2_RERANK % (json.dumps(QUERY), json.dumps(docs), 2)
    with model_shim.client() as c:
        r = c.post(route, content=body, headers={"Content-Type": "application/json"})
        with_docs = c.post(
            route, json={"query": QUERY, "documents": TEXTS, "return_documents": True}
        ).json()
    assert r.status_code == 200, r.text
    doc = r.json()
    _validate(doc, "CohereRerankResponse")
    assert doc["meta"]["api_version"]["version"] == route[2]
    order = sorted(range(len(TEXTS)), key=lambda i: -expected_raw[i])
    assert [x["index"] for x in doc["results"]] == order[:2]
    assert all("document" not in x for x in doc["results"])
    assert [x["document"]["text"] for x in with_docs["results"]] == [TEXTS[i] for i in order]


def test_es_inference_format(model_shim: ShimProcess, expected_raw: list[float]) -> None:
    with model_shim.client() as c:
        r = c.post(
            "/inference/rerank",
            json={"query": QUERY, "input": TEXTS, "top_n": 4, "return_documents": True},
        )
    assert r.status_code == 200, r.text
    doc = r.json()
    _validate(doc, "InferenceRerankResponse")
    order = sorted(range(len(TEXTS)), key=lambda i: -expected_raw[i])[:4]
    assert [x["index"] for x in doc["rerank"]] == order
    assert [x["text"] for x in doc["rerank"]] == [TEXTS[i] for i in order]
    for x in doc["rerank"]:
        assert x["relevance_score"] == pytest.approx(expected_raw[x["index"]], abs=1e-4)


def test_custom_service_template(scorer_shim: ShimProcess) -> None:
    params = {"query": QUERY, "input": TEXTS, "top_n": 3, "return_documents": True}
    body = es_side.render_custom(es_side.CUSTOM_TEMPLATE, params)
    with scorer_shim.client() as c:
        r = c.post("/inference/rerank", content=body, headers={"Content-Type": "application/json"})
        cohere_body = es_side.render_custom(
            '{"query": ${query}, "documents": ${input}, "top_n": ${top_n}}', params
        )
        rc = c.post("/v2/rerank", content=cohere_body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    doc = r.json()
    scores = es_side.json_path(doc, "$.rerank[*].relevance_score")
    indices = es_side.json_path(doc, "$.rerank[*].index")
    texts = es_side.json_path(doc, "$.rerank[*].text")
    raw = overlap(QUERY, TEXTS)
    order = sorted(range(len(TEXTS)), key=lambda i: -raw[i])[:3]
    assert indices == order
    assert scores == pytest.approx([raw[i] for i in order])
    assert texts == [TEXTS[i] for i in order]
    assert es_side.json_path(rc.json(), "$.results[*].index") == order
    assert es_side.json_path(rc.json(), "$.results[*].relevance_score") == pytest.approx(
        [_sigmoid(raw[i]) for i in order]  # Cohere's convention: scores in [0, 1]
    )


def test_score_conversion(scorer_shim: ShimProcess) -> None:
    raw = [-3.0, -0.5, 0.0, 2.5]
    with scorer_shim.client() as c:
        n = c.post("/scores/normalize", json={"scores": raw})
        back = c.post("/scores/denormalize", json=n.json())
        bad = c.post("/scores/denormalize", json={"scores": [0.5, 0.0]})
        neg = c.post("/scores/denormalize", json={"scores": [-1]})
    assert n.json() == {"scores": normalize(raw)}
    assert back.json()["scores"] == pytest.approx(raw)
    assert bad.status_code == 422 and bad.json()["error_type"] == "Validation"
    assert "0.0" in bad.json()["error"]
    assert neg.status_code == 422


def test_operations_routes(model_shim: ShimProcess, spread_cross_encoder: Path) -> None:
    with model_shim.client() as c:
        c.post("/rerank", json={"query": QUERY, "texts": TEXTS})
        health = c.get("/health")
        ready = c.get("/ready")
        info = c.get("/info").json()
        metrics = c.get("/metrics").text
        openapi = c.get("/openapi.json")
    assert health.status_code == 200 and ready.json() == {"status": "ready"}
    _validate(info, "Info")
    assert info["kind"] == "cross-encoder" and info["device"] == "cpu"
    # The model directory by its name, never the server's absolute path.
    assert info["model_id"] == spread_cross_encoder.name
    assert str(spread_cross_encoder.parent) not in json.dumps(info)
    assert info["max_input_length"] == 128
    assert info["limits"]["max_client_batch_size"] == 300
    assert info["limits"]["max_batch_tokens"] == 512
    assert 'shim_requests_total{route="/rerank",status="200"}' in metrics
    for name in (
        "shim_request_duration_seconds_bucket",
        "shim_queue_duration_seconds_count",
        "shim_batch_size_bucket",
        "shim_batch_tokens_bucket",
        "shim_tokens_total",
    ):
        assert name in metrics
    assert openapi.json() == json.loads(committed_openapi())
