"""The registry of wire formats is the only place a rerank route is written: the client, the
endpoint CLI, the shim's routes and its OpenAPI document are built from it, and one
function matches a URL to a route. The shim writes every error body with one function."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from es_rerank.elastic import endpoint_body, shim_route
from es_rerank.elastic.endpoints import SHIM_ROUTES
from es_rerank.errors import ConfigurationError
from es_rerank.rerankers import FORMAT_NAMES, ShimReranker, rerank_endpoint
from es_rerank.rerankers.formats import FORMATS
from es_rerank.wire import (
    WIRE_FORMATS,
    ErrorBody,
    format_of_service,
    resolve_route,
    route_score_modes,
    shim_routes,
)
from inference_shim.errors import OverloadedError, error_json
from inference_shim.schemas import openapi_document
from tests.helpers import ROOT

ROUTES = {"/rerank", "/v1/rerank", "/v2/rerank", "/inference/rerank"}


def test_the_registry_holds_every_format_once() -> None:
    assert FORMAT_NAMES == ("es", "tei", "cohere")
    assert {r.path for _, r in shim_routes()} == ROUTES
    assert {f.name: f.service for f in WIRE_FORMATS.values()} == {
        "es": "custom",
        "tei": "hugging_face",
        "cohere": "cohere",
    }
    assert {f.name: f.max_batch for f in WIRE_FORMATS.values()} == {
        "es": None,
        "tei": 32,
        "cohere": None,
    }
    assert route_score_modes() == {
        "/inference/rerank": "raw",
        "/rerank": "sigmoid",
        "/v2/rerank": "sigmoid",
        "/v1/rerank": "sigmoid",
    }


def test_client_and_endpoint_cli_are_built_from_the_registry() -> None:
    for name, wire in WIRE_FORMATS.items():
        client = FORMATS[name]
        assert (client.spec, client.route, client.max_batch) == (wire, wire.route, wire.max_batch)
        assert SHIM_ROUTES[wire.service] == wire.route
        assert format_of_service(wire.service) is wire
        url = endpoint_body(wire.service, url="http://s", api_key="k", model_id="m")
        assert url["service_settings"]["url"] == "http://s" + wire.route
        assert rerank_endpoint(name, "http://s") == "http://s" + wire.route
    assert ShimReranker("http://s").endpoint == "http://s" + WIRE_FORMATS["es"].route


def test_shim_routes_and_openapi_are_built_from_the_registry() -> None:
    from es_rerank.runtime import FunctionRuntime
    from inference_shim.app import create_app
    from inference_shim.config import Settings
    from inference_shim.runner import Engine

    engine = Engine(FunctionRuntime(lambda q, ts: [0.0] * len(ts), name="zero"))
    app = create_app(Settings(scorer="zero"), engine=engine)
    posted = {r.rule for r in app.url_map.iter_rules() if "POST" in (r.methods or ())}
    assert posted >= ROUTES
    assert posted - ROUTES == {"/scores/normalize", "/scores/denormalize"}
    doc = openapi_document()
    for wire, route in shim_routes():
        post = doc["paths"][route.path]["post"]
        schema = post["requestBody"]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("/" + wire.request.__name__)
        answer = post["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer["$ref"].endswith("/" + wire.response.__name__)


def _constants(path: Path) -> list[object]:
    """The string and bytes constants of a module, docstrings left out."""
    tree = ast.parse(path.read_text("utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str | bytes)
        and id(node) not in docstrings
    ]


def test_a_route_is_written_in_the_registry_only() -> None:
    found = {
        str(p.relative_to(ROOT)): lines
        for package in ("es_rerank", "inference_shim")
        for p in sorted((ROOT / package).rglob("*.py"))
        if (lines := [c for c in _constants(p) if c in ROUTES])
    }
    assert list(found) == ["es_rerank/wire/registry.py"], found


@pytest.mark.parametrize(
    ("target", "url", "expected"),
    [
        ("any", "http://gw/shim/inference/rerank/", "http://gw/shim/inference/rerank"),
        ("shim", "http://gw/proxy/path", "http://gw/proxy/path"),
        ("shim", "http://s/", "http://s/inference/rerank"),
    ],
)
def test_one_resolver_for_client_and_shim_targets(target: str, url: str, expected: str) -> None:
    assert resolve_route("es", url, target=target) == expected  # type: ignore[arg-type]


def test_the_resolver_names_the_other_format_in_the_callers_words() -> None:
    with pytest.raises(ConfigurationError, match="call it with the tei format or the cohere"):
        rerank_endpoint("es", "http://s/rerank")
    with pytest.raises(ConfigurationError, match="or call it with --service hugging_face"):
        shim_route("custom", "http://s/rerank")
    # Infinity's Cohere route is a client's, never the shim's (its /rerank speaks TEI).
    assert rerank_endpoint("cohere", "http://s/rerank") == "http://s/rerank"
    with pytest.raises(ConfigurationError, match="a route of the tei format, not cohere"):
        shim_route("cohere", "http://s/rerank")


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, "BadRequest"),
        (404, "NotFound"),
        (405, "MethodNotAllowed"),
        (413, "PayloadTooLarge"),
        (415, "UnsupportedMediaType"),
        (431, "RequestHeaderFieldsTooLarge"),
        (500, "Internal"),
        (501, "NotImplemented"),
        (503, "Unhealthy"),
        (505, "HTTPVersionNotSupported"),
    ],
)
def test_one_status_table_for_every_error_reply(status: int, error_type: str) -> None:
    body = ErrorBody.model_validate_json(error_json(status, "why"))
    assert (body.error, body.error_type) == ("why", error_type)


def test_error_bodies_are_error_body_models_and_never_fail_to_encode() -> None:
    exc = OverloadedError("queue full", retry_after=3)
    assert json.loads(exc.json()) == {"error": "queue full", "error_type": "Overloaded"}
    lone = json.loads(error_json(422, "bad \ud800 text"))
    assert lone["error"] == "bad \\ud800 text"


def test_the_shim_writes_error_bodies_in_one_place() -> None:
    """No module of the shim spells an error body's key (a dict key or a JSON literal):
    they all call errors.error_json, which fills an ErrorBody."""

    def spells_a_body(c: object) -> bool:
        text = c.decode("latin-1") if isinstance(c, bytes) else str(c)
        return text == "error_type" or '"error_type"' in text

    writers = [
        p.name
        for p in sorted((ROOT / "inference_shim").glob("*.py"))
        if any(spells_a_body(c) for c in _constants(p))
    ]
    assert writers == []
