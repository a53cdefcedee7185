"""The OpenAPI document of every route, generated from the wire models in
:mod:`es_rerank.wire` (requests in their validation form, responses as serialized).

The committed ``inference_shim/openapi.json`` is ``openapi_document()`` written out; a test
regenerates it and compares, so the two cannot drift apart. Regenerate it with
``python -c 'from inference_shim.schemas import render_openapi; print(render_openapi(), end="")'
> inference_shim/openapi.json``.

>>> doc = openapi_document()
>>> sorted(doc["paths"])[:3]
['/health', '/inference/rerank', '/info']
>>> doc["components"]["schemas"]["TeiRerankRequest"]["required"]
['query', 'texts']
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from es_rerank.version import package_version
from es_rerank.wire import (
    WIRE_FORMATS,
    ErrorBody,
    NormalizedScoreList,
    ScoreList,
    ScoreMode,
    WireFormat,
    WireModel,
    route_score_modes,
    shim_routes,
)

__all__ = [
    "SCHEMAS",
    "Info",
    "Status",
    "committed_openapi",
    "openapi_document",
    "render_openapi",
]

Schema = dict[str, Any]


class Status(WireModel):
    status: str


class Info(BaseModel):
    """What ``GET /info`` reports; servers may add fields."""

    model_config = ConfigDict(extra="allow")

    model_id: str
    kind: Literal["cross-encoder", "bi-encoder", "scorer"]
    backend: str = Field(description="the model runtime (as runtime)")
    runtime: Literal["torch", "onnx", "openvino", "python"] | None = None
    dtype: Literal["fp32", "bf16", "fp16", "int8", "n/a"] | None = None
    device: str
    max_input_length: int | None
    score_mode: ScoreMode | None = Field(
        description="--score-mode: the score of every route when a request asks for none; "
        "null: each route's own (score_modes)"
    )
    score_modes: dict[str, ScoreMode] = Field(
        description="each rerank route's score when a request asks for none"
    )
    version: str
    limits: dict[str, int | None]
    family: str | None = Field(
        default=None,
        description="the model family: bert, xlm-roberta, deberta-v2, electra, modernbert "
        "(an encoder's model type), llm-reranker (a causal LM scored logit(yes) - logit(no)) "
        "or llm-seq-cls (its classifier conversion)",
    )
    architecture: str | None = None
    template: str | None = Field(
        default=None, description="an LLM reranker's prompt template (null: none)"
    )
    instruction: str | None = Field(
        default=None,
        description="the instruction of requests that send none (--instruction, else the "
        "model card's)",
    )
    selection: dict[str, Any] | None = Field(
        default=None,
        description="with --runtime auto: the chosen runtime and dtype and what was measured "
        "for every candidate on the calibration set",
    )


_VALIDATION: JsonSchemaMode = "validation"
_SERIALIZATION: JsonSchemaMode = "serialization"

_MODELS: list[tuple[type[BaseModel], JsonSchemaMode]] = [
    *((f.request, _VALIDATION) for f in WIRE_FORMATS.values()),
    *((f.response, _SERIALIZATION) for f in WIRE_FORMATS.values()),
    (ScoreList, "validation"),
    (ScoreList, "serialization"),
    (NormalizedScoreList, "validation"),
    (ErrorBody, "serialization"),
    (Status, "serialization"),
    (Info, "serialization"),
]

_REF = "#/components/schemas/{model}"


def _schemas() -> dict[str, Schema]:
    _, top = models_json_schema(_MODELS, ref_template=_REF)
    schemas: dict[str, Schema] = top["$defs"]
    return schemas


SCHEMAS: dict[str, Schema] = _schemas()


def _ref(name: str) -> Schema:
    return {"$ref": _REF.format(model=name)}


def _json(name: str, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


_ERRORS: dict[str, Schema] = {
    "400": _json("ErrorBody", "malformed body (not UTF-8 JSON) or empty query/texts"),
    "401": _json("ErrorBody", "missing or wrong API key"),
    "413": _json("ErrorBody", "body larger than --max-payload-bytes"),
    "415": _json("ErrorBody", "the body is not declared as application/json"),
    "422": _json(
        "ErrorBody",
        "invalid request: the message names the field (types, ranges, lone surrogates, "
        "more texts than --max-client-batch-size, longer than --max-text-chars, an "
        "over-long pair with truncate=false)",
    ),
    "424": _json("ErrorBody", "the model failed"),
    "429": _json(
        "ErrorBody",
        "queue full (--max-queue) or its estimated wait above --max-queue-wait; see Retry-After",
    ),
    "503": _json(
        "ErrorBody",
        "not ready, shutting down, or (error_type Timeout) dropped when --request-timeout "
        "passed before it was computed",
    ),
}


def _post(summary: str, request: type[BaseModel], response: str, **extra: Any) -> Schema:
    return {
        "post": {
            "summary": summary,
            **extra,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref(request.__name__)}},
            },
            "responses": {"200": _json(response, "ranked results"), **_ERRORS},
            "security": [{}, {"bearer": []}],
        }
    }


def _get(summary: str, response: Schema) -> Schema:
    return {"get": {"summary": summary, "responses": {"200": response}}}


def _scores(wire: WireFormat, mode: ScoreMode, override: bool) -> str:
    why = "the server's --score-mode" if override else "this format's convention"
    if mode == "raw" and not override:
        why += "; Elasticsearch normalizes raw scores itself"
    ask = "" if mode == "raw" else f" Raw logits: send {wire.raw_field}."
    return (
        f"Scores when the request asks for none: {mode} ({why}).{ask} score_mode picks raw, "
        "sigmoid or normalized per request."
    )


def _rerank_paths(score_mode: ScoreMode | None) -> dict[str, Schema]:
    modes = route_score_modes(score_mode)
    return {
        route.path: _post(
            route.summary,
            wire.request,
            wire.response.__name__,
            description=_scores(wire, modes[route.path], score_mode is not None),
            **{"x-default-score-mode": modes[route.path]},
        )
        for wire, route in shim_routes()
    }


def openapi_document(score_mode: ScoreMode | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route; ``score_mode`` is the server's
    ``--score-mode`` (``None``: each route's own default)."""
    unhealthy = _json("ErrorBody", "the engine is loading, has stopped, or the server drains")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "inference_shim",
            "version": package_version(),
            "description": "Rerank inference endpoint for Elasticsearch.",
        },
        "paths": {
            **_rerank_paths(score_mode),
            "/scores/normalize": _post(
                "Elasticsearch's max(s,0)+min(exp(s),1) on a list", ScoreList, "ScoreList"
            ),
            "/scores/denormalize": _post(
                "inverse of normalize, defined above 0", NormalizedScoreList, "ScoreList"
            ),
            "/health": {
                "get": {
                    "summary": "liveness",
                    "responses": {
                        "200": _json("Status", "the process serves requests"),
                        "503": unhealthy,
                    },
                }
            },
            "/ready": {
                "get": {
                    "summary": "model loaded and warmed up",
                    "responses": {"200": _json("Status", "ready"), "503": unhealthy},
                }
            },
            "/info": {
                "get": {
                    "summary": "model and limits (needs the API key when one is set)",
                    "responses": {
                        "200": _json("Info", "model and limits"),
                        "401": _json("ErrorBody", "missing or wrong API key"),
                    },
                    "security": [{}, {"bearer": []}],
                }
            },
            "/metrics": _get(
                "Prometheus metrics",
                {"description": "text exposition format", "content": {"text/plain": {}}},
            ),
            "/openapi.json": _get(
                "this document", {"description": "OpenAPI", "content": {"application/json": {}}}
            ),
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def render_openapi(score_mode: ScoreMode | None = None) -> str:
    """The document as the committed file holds it (that is, with ``score_mode`` None)."""
    return json.dumps(openapi_document(score_mode), indent=2, sort_keys=True) + "\n"


def committed_openapi() -> str:
    """The committed ``inference_shim/openapi.json``."""
    return resources.files("inference_shim").joinpath("openapi.json").read_text("utf-8")
