"""The endpoint bodies ``es-rerank endpoint create`` sends, replayed against a live shim on
loopback the way Elasticsearch would use them: the request rendered as ES renders it for
each service, the reply parsed as ES parses it. What ES would see must be the scorer's
own raw scores.

ES's side, from its source (x-pack/plugin/inference):
- hugging_face rerank: POST ``service_settings.url`` with ``Authorization: Bearer <api_key>``
  and ``{"texts", "query", "return_text"?, "top_n"?}``; the reply is a top-level array of
  ``{index, score, text?}``.
- custom: ``${name}`` in ``request`` is replaced by JSON values (secret parameters, then
  ``task_settings.parameters``, then the request's ``input``/``query``/``top_n``/
  ``return_documents``); headers and url take plain-string values of the secret and task
  parameters; a placeholder left over is an error. At creation ES renders the template
  with ``query="test query"``, ``input=["test input"]`` and no top_n / return_documents.
  The reply's root must be an object; ``json_parser`` paths are ``$.a.b[*].c``.
- cohere v2: ``{"model", "query", "documents", "top_n"?, "return_documents"?}`` with a bearer
  key to ``service_settings.url``; the reply has ``results[{index, relevance_score}]``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from es_rerank.elastic import endpoint_body
from tests.elasticsearch.es_scorers import word_overlap
from tests.helpers.shim import ShimProcess

KEY = "replay-key"
QUERY = "how many people live in berlin"
TEXTS = [
    "Berlin has about 3.7 million people.",
    "The Eiffel Tower is in Paris.",
    'How many people live in "Berlin" today?',
    "Cats purr.",
]


@pytest.fixture(scope="module")
def shim() -> Iterator[Any]:
    proc = ShimProcess(
        ["--scorer", "tests.elasticsearch.es_scorers:word_overlap", "--api-key", KEY]
    )
    yield proc
    assert proc.terminate() == 0


def expected_ranking(sigmoid: bool = False) -> list[tuple[int, float]]:
    """Best first; ``sigmoid``: as the TEI and Cohere routes answer by default."""
    scores = word_overlap(QUERY, TEXTS)
    if sigmoid:
        scores = [1 / (1 + math.exp(-s)) for s in scores]
    return sorted(enumerate(scores), key=lambda p: -p[1])


# -- hugging_face ------------------------------------------------------------------------


def hugging_face_request(
    body: dict[str, Any], query: str, texts: list[str], top_n: int | None, return_text: bool | None
) -> tuple[str, dict[str, str], bytes]:
    settings = body["service_settings"]
    entity: dict[str, Any] = {"texts": texts, "query": query}
    if return_text is not None:
        entity["return_text"] = return_text
    # ES prefers the request's top_n over the endpoint's task settings.
    top_n = top_n if top_n is not None else body.get("task_settings", {}).get("top_n")
    if top_n is not None:
        entity["top_n"] = top_n
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {settings['api_key']}"}
    return settings["url"], headers, json.dumps(entity).encode()


def parse_hugging_face(payload: Any) -> list[tuple[int, float, str | None]]:
    assert isinstance(payload, list), "ES's hugging_face parser needs a top-level array"
    return [(int(r["index"]), float(r["score"]), r.get("text")) for r in payload]


@pytest.mark.parametrize(("top_n", "return_text"), [(None, None), (2, True), (10, False)])
def test_hugging_face_body_replayed(shim: Any, top_n: int | None, return_text: bool | None) -> None:
    body = endpoint_body("hugging_face", url=shim.url, api_key=KEY)
    assert body["service_settings"]["url"] == shim.url + "/rerank"
    url, headers, data = hugging_face_request(body, QUERY, TEXTS, top_n, return_text)
    resp = httpx.post(url, headers=headers, content=data, timeout=30)
    assert resp.status_code == 200, resp.text
    got = parse_hugging_face(resp.json())
    want = expected_ranking(sigmoid=True)[: top_n or len(TEXTS)]
    assert [i for i, _, _ in got] == [i for i, _ in want]
    assert [s for _, s, _ in got] == pytest.approx([s for _, s in want], abs=1e-6)
    if return_text:
        assert [t for _, _, t in got] == [TEXTS[i] for i, _ in want]
    # The key ES stores as a secret is what lets it in.
    wrong = {**headers, "Authorization": "Bearer nope"}
    assert httpx.post(url, headers=wrong, content=data, timeout=30).status_code == 401


# -- custom ------------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def _substitute(text: str, params: dict[str, str], field: str) -> str:
    out = PLACEHOLDER.sub(lambda m: params.get(m.group(1), m.group(0)), text)
    left = PLACEHOLDER.search(out)
    if left:
        raise ValueError(
            f"Found placeholder [{left.group(0)}] in field [{field}] after replacement call, "
            "please check that all templates have a corresponding field definition."
        )
    return out


def custom_request(
    body: dict[str, Any],
    query: str,
    texts: list[str],
    top_n: int | None = None,
    return_documents: bool | None = None,
) -> tuple[str, dict[str, str], bytes]:
    settings = body["service_settings"]
    secret = settings.get("secret_parameters", {})
    task = body.get("task_settings", {}).get("parameters", {})
    strings = {k: v for k, v in {**secret, **task}.items() if isinstance(v, str)}
    json_params = {k: json.dumps(v) for k, v in {**secret, **task}.items()}
    json_params["input"] = json.dumps(texts)
    json_params["query"] = json.dumps(query)
    if top_n is not None:
        json_params["top_n"] = json.dumps(top_n)
    if return_documents is not None:
        json_params["return_documents"] = json.dumps(return_documents)
    url = _substitute(settings["url"], strings, "url")
    headers = {"Content-Type": "application/json"}
    for name, value in settings.get("headers", {}).items():
        headers[name] = _substitute(value, strings, f"header.{name}")
    data = _substitute(settings["request"], json_params, "request")
    return url, headers, data.encode()


def json_path(doc: Any, path: str) -> list[Any]:
    assert path.startswith("$."), path
    assert isinstance(doc, dict), "ES's custom parser needs an object at the root"
    values: list[Any] = [doc]
    for part in path[2:].split("."):
        key, star = (part[:-3], True) if part.endswith("[*]") else (part, False)
        values = [x for v in values for x in (v[key] if star else [v[key]])]
    return values


def parse_custom(body: dict[str, Any], payload: Any) -> list[tuple[int, float]]:
    parser = body["service_settings"]["response"]["json_parser"]
    scores = json_path(payload, parser["relevance_score"])
    indexes = json_path(payload, parser["reranked_index"])
    assert len(scores) == len(indexes)
    return [(int(i), float(s)) for i, s in zip(indexes, scores, strict=True)]


@pytest.mark.parametrize(("top_n", "return_documents"), [(None, None), (2, True), (3, False)])
def test_custom_body_replayed(shim: Any, top_n: int | None, return_documents: bool | None) -> None:
    body = endpoint_body("custom", url=shim.url, api_key=KEY)
    url, headers, data = custom_request(body, QUERY, TEXTS, top_n, return_documents)
    assert url == shim.url + "/inference/rerank"
    assert headers["Authorization"] == f"Bearer {KEY}"
    json.loads(data)  # the rendered template is valid JSON, quotes in texts included
    resp = httpx.post(url, headers=headers, content=data, timeout=30)
    assert resp.status_code == 200, resp.text
    got = parse_custom(body, resp.json())
    want = expected_ranking()[: top_n or len(TEXTS)]
    assert [i for i, _ in got] == [i for i, _ in want]
    assert [s for _, s in got] == pytest.approx([s for _, s in want], abs=1e-6)


def test_custom_template_passes_es_creation_check(shim: Any) -> None:
    """What ES renders while creating the endpoint: no top_n, no return_documents."""
    body = endpoint_body("custom", url=shim.url, api_key=KEY)
    url, headers, data = custom_request(body, "test query", ["test input"])
    resp = httpx.post(url, headers=headers, content=data, timeout=30)
    assert resp.status_code == 200, resp.text
    assert len(parse_custom(body, resp.json())) == 1
    # Without the task-settings defaults the same check fails the way ES would.
    bare = {**body, "task_settings": {}}
    with pytest.raises(ValueError, match=r"Found placeholder \[\$\{top_n\}\]"):
        custom_request(bare, "test query", ["test input"])


@pytest.mark.slow
def test_custom_without_key_reaches_an_open_shim() -> None:
    open_shim = ShimProcess(["--scorer", "tests.elasticsearch.es_scorers:word_overlap"])
    try:
        body = endpoint_body("custom", url=open_shim.url)
        url, headers, data = custom_request(body, QUERY, TEXTS)
        assert "Authorization" not in headers
        resp = httpx.post(url, headers=headers, content=data, timeout=30)
        assert resp.status_code == 200, resp.text
        assert [i for i, _ in parse_custom(body, resp.json())] == [i for i, _ in expected_ranking()]
    finally:
        assert open_shim.terminate() == 0


# -- cohere ------------------------------------------------------------------------------


def test_cohere_body_replayed(shim: Any) -> None:
    body = endpoint_body("cohere", url=shim.url, api_key=KEY, model_id="word-overlap")
    settings = body["service_settings"]
    assert settings["url"] == shim.url + "/v2/rerank"
    entity = {"model": settings["model_id"], "query": QUERY, "documents": TEXTS, "top_n": 3}
    resp = httpx.post(
        settings["url"],
        headers={"Authorization": f"Bearer {settings['api_key']}"},
        json=entity,
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    got = [(r["index"], r["relevance_score"]) for r in resp.json()["results"]]
    want = expected_ranking(sigmoid=True)[:3]
    assert [i for i, _ in got] == [i for i, _ in want]
    assert [s for _, s in got] == pytest.approx([s for _, s in want], abs=1e-6)


# -- the conformance rules as ES's native runs reach them ---------------------------------


@pytest.mark.slow
def test_conformance_rule_passes_es_creation_probe_and_scores_raw() -> None:
    """tests/elasticsearch serves tests/conformance/scorers.py through this wrapper: ES's
    creation probe must succeed, and real calls must reach the rule unchanged."""
    rule_shim = ShimProcess(  # with --score-mode raw, as tests.helpers.shim.shim_for_cluster
        ["--scorer", "tests.elasticsearch.conformance_rules:score_is_text", "--score-mode", "raw"]
    )
    try:
        body = endpoint_body("hugging_face", url=rule_shim.url, api_key=KEY)
        for query, texts, want in [
            ("test query", ["how big"], [(0, 0.0)]),
            ("conformance query", ["1", "3", "-2"], [(1, 3.0), (0, 1.0), (2, -2.0)]),
        ]:
            url, headers, data = hugging_face_request(body, query, texts, None, None)
            resp = httpx.post(url, headers=headers, content=data, timeout=30)
            assert resp.status_code == 200, resp.text
            assert [(i, s) for i, s, _ in parse_hugging_face(resp.json())] == want
        # Without the wrapper the probe fails, as it would make ES refuse the endpoint.
        url, headers, data = hugging_face_request(body, "q", ["how big"], None, None)
        assert httpx.post(url, headers=headers, content=data, timeout=30).status_code >= 400
    finally:
        assert rule_shim.terminate() == 0
