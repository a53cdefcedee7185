"""Each rerank route answers, when a request asks for no score mode, the score its format's
clients expect, and says so in ``/info``, ``inference-shim serve --help`` and the OpenAPI
document.

- TEI ``/rerank``: sigmoid unless ``raw_scores: true``. In huggingface/text-embeddings-inference
  at commit 0d124dc9773be6ac5a9a57d8439aba9bbbf33273, ``router/src/http/types.rs`` declares
  ``RerankRequest.raw_scores`` as ``#[serde(default)] pub raw_scores: bool`` (absent: false)
  and ``core/src/infer.rs`` (``Infer::predict``) applies ``1 / (1 + exp(-score))`` to a
  single-logit reranker's score ``if !raw_scores``.
- Cohere ``/v1/rerank`` and ``/v2/rerank``: "Relevance scores are normalized to be in the
  range [0, 1]" (Cohere's API reference, https://docs.cohere.com/reference/rerank); the
  shim answers the sigmoid, raw on ``score_mode: "raw"``.
- Elasticsearch inference ``/inference/rerank``: raw; Elasticsearch normalizes it itself.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from flask.testing import FlaskClient

import inference_shim
from es_rerank.rerankers import HttpReranker
from es_rerank.runtime import FunctionRuntime
from inference_shim.app import create_app
from inference_shim.cli import main
from inference_shim.config import Settings
from inference_shim.runner import Engine
from inference_shim.schemas import committed_openapi, openapi_document
from tests.helpers.shim import serve_shim

TEXTS = ["a", "abc", "abcdef"]
RAW = [-2.0, 0.0, 3.0]  # the scorer's raw score of each text: len - 3 (>= 0) or -2
SIGMOID = [1 / (1 + math.exp(-s)) for s in RAW]


def _scorer(query: str, texts: Sequence[str]) -> list[float]:
    return [max(len(t) - 3.0, -2.0) for t in texts]


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    engine = Engine(FunctionRuntime(_scorer, name="len"))
    engine.start()
    yield engine
    engine.close()


def _client(engine: Engine, **settings: Any) -> FlaskClient:
    return create_app(Settings(scorer="len", **settings), engine=engine).test_client()


def _body(response: Any) -> Any:
    body = response.get_json()
    assert body is not None, response.text
    return body


def _by_index(items: list[dict[str, Any]], score: str) -> list[float]:
    found = {item["index"]: item[score] for item in items}
    return [found[i] for i in range(len(TEXTS))]


def _tei(client: FlaskClient, **extra: Any) -> list[float]:
    r = client.post("/rerank", json={"query": "q", "texts": TEXTS, **extra})
    assert r.status_code == 200, r.text
    return _by_index(_body(r), "score")


def _cohere(client: FlaskClient, route: str, **extra: Any) -> list[float]:
    r = client.post(route, json={"query": "q", "documents": TEXTS, **extra})
    assert r.status_code == 200, r.text
    return _by_index(_body(r)["results"], "relevance_score")


def _es(client: FlaskClient, **extra: Any) -> list[float]:
    r = client.post("/inference/rerank", json={"query": "q", "input": TEXTS, **extra})
    assert r.status_code == 200, r.text
    return _by_index(_body(r)["rerank"], "relevance_score")


def test_tei_route_answers_sigmoid_unless_asked_for_raw(engine: Engine) -> None:
    client = _client(engine)
    assert _tei(client) == pytest.approx(SIGMOID)
    assert _tei(client, raw_scores=False) == pytest.approx(SIGMOID)
    assert _tei(client, raw_scores=True) == pytest.approx(RAW)
    assert _tei(client, score_mode="raw") == pytest.approx(RAW)


@pytest.mark.parametrize("route", ["/v1/rerank", "/v2/rerank"])
def test_cohere_routes_answer_scores_in_0_1_unless_asked_for_raw(
    engine: Engine, route: str
) -> None:
    client = _client(engine)
    default = _cohere(client, route)
    assert default == pytest.approx(SIGMOID)
    assert all(0.0 <= s <= 1.0 for s in default)
    assert _cohere(client, route, score_mode="raw") == pytest.approx(RAW)


def test_elasticsearch_route_stays_raw(engine: Engine) -> None:
    client = _client(engine)
    assert _es(client) == pytest.approx(RAW)
    assert _es(client, score_mode="sigmoid") == pytest.approx(SIGMOID)


def test_score_mode_flag_sets_every_route(engine: Engine) -> None:
    client = _client(engine, score_mode="raw")
    assert _tei(client) == pytest.approx(RAW)
    assert _cohere(client, "/v2/rerank") == pytest.approx(RAW)
    assert _tei(client, raw_scores=False) == pytest.approx(SIGMOID)  # the request still wins
    info = _body(client.get("/info"))
    assert info["score_mode"] == "raw"
    assert set(info["score_modes"].values()) == {"raw"}
    served = _body(client.get("/openapi.json"))
    for path in ("/rerank", "/v1/rerank", "/v2/rerank", "/inference/rerank"):
        assert served["paths"][path]["post"]["x-default-score-mode"] == "raw"
        assert "--score-mode" in served["paths"][path]["post"]["description"]


def test_info_states_each_routes_default(engine: Engine) -> None:
    info = _body(_client(engine).get("/info"))
    assert info["score_mode"] is None
    assert info["score_modes"] == {
        "/rerank": "sigmoid",
        "/v1/rerank": "sigmoid",
        "/v2/rerank": "sigmoid",
        "/inference/rerank": "raw",
    }
    assert info["version"] == inference_shim.__version__


def test_openapi_states_each_routes_default_and_how_to_get_raw(engine: Engine) -> None:
    committed = json.loads(committed_openapi())
    assert committed == json.loads(json.dumps(openapi_document()))
    assert _body(_client(engine).get("/openapi.json")) == committed
    paths = committed["paths"]
    expected = {"/rerank": "sigmoid", "/v1/rerank": "sigmoid", "/v2/rerank": "sigmoid"}
    for path, mode in {**expected, "/inference/rerank": "raw"}.items():
        post = paths[path]["post"]
        assert post["x-default-score-mode"] == mode
        assert f"asks for none: {mode}" in post["description"]
    assert '"raw_scores": true' in paths["/rerank"]["post"]["description"]
    assert '"score_mode": "raw"' in paths["/v2/rerank"]["post"]["description"]
    assert "Elasticsearch normalizes" in paths["/inference/rerank"]["post"]["description"]
    info = committed["components"]["schemas"]["Info"]
    assert "score_modes" in info["required"]


def test_serve_help_states_each_routes_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["serve", "--help"])
    assert exit.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert '/rerank sigmoid (raw: "raw_scores": true)' in text
    assert "/v2/rerank, /v1/rerank sigmoid" in text
    assert "/inference/rerank raw" in text


@pytest.mark.parametrize(("fmt", "scale"), [("tei", "raw"), ("es", "raw"), ("cohere", "sigmoid")])
def test_http_clients_get_raw_scores_from_the_shim(fmt: str, scale: str) -> None:
    """The client asks for raw where the format can (TEI raw_scores, ES score_mode) and turns
    Cohere's [0, 1] scores back into logits when told they are sigmoid."""
    with serve_shim(scorer=f"{__name__}:_scorer") as url:
        reranker = HttpReranker(url, format=fmt, score_scale=scale)
        try:
            assert reranker.rerank("q", TEXTS) == pytest.approx(RAW, abs=1e-9)
        finally:
            reranker.close()
