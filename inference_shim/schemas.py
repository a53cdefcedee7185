"""JSON Schemas of every request and response, and the OpenAPI document built from them.

The committed ``inference_shim/openapi.json`` is ``openapi_document()`` written out; a test
regenerates it and compares, so the two cannot drift apart.

>>> doc = openapi_document()
>>> sorted(doc["paths"])[:3]
['/health', '/inference/rerank', '/info']
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from inference_shim import __version__
from inference_shim.modes import SCORE_MODES

__all__ = ["SCHEMAS", "committed_openapi", "openapi_document", "render_openapi"]

Schema = dict[str, Any]

_MODE: Schema = {
    "type": "string",
    "enum": list(SCORE_MODES),
    "description": "raw logit, sigmoid, or Elasticsearch-normalized max(s,0)+min(exp(s),1); "
    "default: the server's --score-mode",
}
_TOP_N: Schema = {"type": ["integer", "null"], "minimum": 1, "description": "keep the best n"}
_TRUNCATE: Schema = {
    "type": "boolean",
    "default": True,
    "description": "truncate pairs to the model's max length; false: 422 for over-long pairs",
}
_QUERY: Schema = {"type": "string", "minLength": 1}
_TEXTS: Schema = {"type": "array", "items": {"type": "string"}, "minItems": 1}

SCHEMAS: dict[str, Schema] = {
    "TeiRerankRequest": {
        "type": "object",
        "description": "Text Embeddings Inference /rerank (what Elasticsearch's hugging_face "
        "service sends). `documents`/`return_documents` are accepted as aliases.",
        "required": ["query"],
        "properties": {
            "query": _QUERY,
            "texts": _TEXTS,
            "raw_scores": {
                "type": "boolean",
                "description": "true: raw logits; false: sigmoid (as TEI); absent: server default",
            },
            "return_text": {"type": "boolean", "default": False},
            "truncate": _TRUNCATE,
            "truncation_direction": {
                "type": "string",
                "enum": ["Right", "Left", "right", "left"],
                "default": "Right",
            },
            "top_n": _TOP_N,
            "score_mode": _MODE,
        },
    },
    "TeiRerankResponse": {
        "type": "array",
        "description": "sorted by score, best first",
        "items": {
            "type": "object",
            "required": ["index", "score"],
            "properties": {
                "index": {"type": "integer", "minimum": 0},
                "score": {"type": "number"},
                "text": {"type": "string"},
            },
        },
    },
    "CohereRerankRequest": {
        "type": "object",
        "required": ["query", "documents"],
        "properties": {
            "query": _QUERY,
            "documents": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "oneOf": [
                        {"type": "string"},
                        {
                            "type": "object",
                            "required": ["text"],
                            "properties": {"text": {"type": "string"}},
                        },
                    ]
                },
            },
            "top_n": _TOP_N,
            "return_documents": {"type": "boolean", "default": False},
            "model": {"type": "string", "description": "accepted and ignored"},
            "truncate": _TRUNCATE,
            "score_mode": _MODE,
        },
    },
    "CohereRerankResponse": {
        "type": "object",
        "required": ["id", "results", "meta"],
        "properties": {
            "id": {"type": "string"},
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["index", "relevance_score"],
                    "properties": {
                        "index": {"type": "integer", "minimum": 0},
                        "relevance_score": {"type": "number"},
                        "document": {
                            "type": "object",
                            "required": ["text"],
                            "properties": {"text": {"type": "string"}},
                        },
                    },
                },
            },
            "meta": {"type": "object"},
        },
    },
    "InferenceRerankRequest": {
        "type": "object",
        "description": "Elasticsearch inference API rerank body",
        "required": ["query", "input"],
        "properties": {
            "query": _QUERY,
            "input": _TEXTS,
            "top_n": _TOP_N,
            "return_documents": {"type": "boolean", "default": False},
            "truncate": _TRUNCATE,
            "score_mode": _MODE,
        },
    },
    "InferenceRerankResponse": {
        "type": "object",
        "required": ["rerank"],
        "properties": {
            "rerank": {
                "type": "array",
                "description": "sorted by relevance_score, best first",
                "items": {
                    "type": "object",
                    "required": ["index", "relevance_score"],
                    "properties": {
                        "index": {"type": "integer", "minimum": 0},
                        "relevance_score": {"type": "number"},
                        "text": {"type": "string"},
                    },
                },
            }
        },
    },
    "ScoreList": {
        "type": "object",
        "required": ["scores"],
        "properties": {"scores": {"type": "array", "items": {"type": "number"}}},
    },
    "Error": {
        "type": "object",
        "required": ["error", "error_type"],
        "properties": {"error": {"type": "string"}, "error_type": {"type": "string"}},
    },
    "Status": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string"}},
    },
    "Info": {
        "type": "object",
        "required": ["model_id", "kind", "backend", "device", "max_input_length", "limits"],
        "properties": {
            "model_id": {"type": "string"},
            "kind": {"type": "string", "enum": ["cross-encoder", "bi-encoder", "scorer"]},
            "backend": {"type": "string", "description": "the model runtime (as runtime)"},
            "runtime": {"type": "string", "enum": ["torch", "onnx", "openvino", "python"]},
            "dtype": {"type": "string", "enum": ["fp32", "bf16", "fp16", "int8", "n/a"]},
            "device": {"type": "string"},
            "max_input_length": {"type": ["integer", "null"]},
            "score_mode": {"type": "string", "enum": list(SCORE_MODES)},
            "version": {"type": "string"},
            "limits": {"type": "object"},
            "selection": {
                "type": "object",
                "description": "with --runtime auto: the chosen runtime and dtype and what "
                "was measured for every candidate on the calibration set",
            },
        },
    },
}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


_ERRORS: dict[str, Schema] = {
    "400": _json("Error", "malformed body (not UTF-8 JSON) or empty query/texts"),
    "401": _json("Error", "missing or wrong API key"),
    "413": _json("Error", "body larger than --max-payload-bytes"),
    "422": _json("Error", "invalid request"),
    "424": _json("Error", "the model failed"),
    "429": _json("Error", "queue full; see Retry-After"),
    "503": _json("Error", "not ready or shutting down"),
}


def _post(summary: str, request: str, response: str) -> Schema:
    return {
        "post": {
            "summary": summary,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref(request)}},
            },
            "responses": {"200": _json(response, "ranked results"), **_ERRORS},
            "security": [{}, {"bearer": []}],
        }
    }


def _get(summary: str, response: Schema) -> Schema:
    return {"get": {"summary": summary, "responses": {"200": response}}}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route."""
    cohere = "Cohere-compatible rerank (Elasticsearch cohere or custom service)"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "inference_shim",
            "version": __version__,
            "description": "Rerank inference endpoint for Elasticsearch.",
        },
        "paths": {
            "/rerank": _post(
                "TEI-compatible rerank (Elasticsearch hugging_face service)",
                "TeiRerankRequest",
                "TeiRerankResponse",
            ),
            "/v1/rerank": _post(cohere, "CohereRerankRequest", "CohereRerankResponse"),
            "/v2/rerank": _post(cohere, "CohereRerankRequest", "CohereRerankResponse"),
            "/inference/rerank": _post(
                "Elasticsearch inference API rerank format (custom service, ShimReranker)",
                "InferenceRerankRequest",
                "InferenceRerankResponse",
            ),
            "/scores/normalize": _post(
                "Elasticsearch's max(s,0)+min(exp(s),1) on a list", "ScoreList", "ScoreList"
            ),
            "/scores/denormalize": _post(
                "inverse of normalize; values <= 0 give 422", "ScoreList", "ScoreList"
            ),
            "/health": _get("liveness", _json("Status", "the process serves requests")),
            "/ready": _get("model loaded and warmed up (503 otherwise)", _json("Status", "ready")),
            "/info": _get("model and limits", _json("Info", "model and limits")),
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


def render_openapi() -> str:
    """The document as the committed file holds it."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


def committed_openapi() -> str:
    """The committed ``inference_shim/openapi.json``."""
    return resources.files("inference_shim").joinpath("openapi.json").read_text("utf-8")
