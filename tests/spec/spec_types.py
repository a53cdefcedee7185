"""Check a JSON value against the elasticsearch-specification request types extracted by
:mod:`tests.spec.extract_inference_types` (``inference_types.json`` names the commit).

Objects are closed (ES refuses settings it does not know: "Model configuration contains
settings [...] unknown to the [service] service"), required fields must be present, and
primitives, literals, unions, arrays and records are checked by value.

:data:`ES_OVER_SPEC` lists the few places where the specification disagrees with what
Elasticsearch's own source reads; each one patches the spec narrowly, names the source,
and is asserted to still be a disagreement (so a corrected spec makes a test fail and the
patch gets dropped).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

SPEC_FILE = Path(__file__).with_name("inference_types.json")

#: ES service name -> the specification's request type for ``PUT _inference/{task}/{id}``.
PUT_REQUESTS = {
    "elastic": "InferencePutRequest",  # no put_elastic in the spec: the generic API
    "jinaai": "InferencePutJinaaiRequest",
    "voyageai": "InferencePutVoyageaiRequest",
    "watsonxai": "InferencePutWatsonxRequest",
    "azureaistudio": "InferencePutAzureaistudioRequest",
    "googlevertexai": "InferencePutGooglevertexaiRequest",
    "alibabacloud-ai-search": "InferencePutAlibabacloudRequest",
    "cohere": "InferencePutCohereRequest",
    "hugging_face": "InferencePutHuggingFaceRequest",
    "custom": "InferencePutCustomRequest",
    "elasticsearch": "InferencePutElasticsearchRequest",
}

_STRING = {"kind": "prim", "name": "string"}
#: (interface, field, ES's type, required in ES, why) -- where ES's source wins.
ES_OVER_SPEC: tuple[tuple[str, str, dict[str, Any], bool, str], ...] = (
    (
        "InferenceCustomServiceSettings",
        "request",
        _STRING,
        True,
        "ES reads service_settings.request as a string (CustomServiceSettings.fromMap: "
        "extractRequiredString(map, REQUEST, ...), elastic/elasticsearch search id 42739397); "
        "the {content: ...} object is the pre-release form (search ids 37469860432, 37093863632)",
    ),
    (
        "InferenceCustomServiceSettings",
        "secret_parameters",
        {"kind": "record", "key": _STRING, "value": _STRING},
        False,
        "CustomSecretSettings.fromMap reads secret_parameters with extractOptionalMap "
        "(elastic/elasticsearch search id 229302947): a custom endpoint without secrets is valid",
    ),
    (
        "InferenceCohereTaskSettings",
        "input_type",
        {"kind": "ref", "name": "InferenceCohereInputType"},
        False,
        "CohereRerankTaskSettings reads only return_documents, top_n and max_chunks_per_doc "
        "(search id 54575679301) and refuses other keys; input_type is for text_embedding",
    ),
    (
        "InferenceVoyageAIServiceSettings",
        "api_key",
        _STRING,
        True,
        "VoyageAIService reads the key from service_settings (DefaultSecretSettings.fromMap), "
        "like every hosted service; the spec's VoyageAIServiceSettings leaves it out",
    ),
)


@cache
def raw_spec() -> dict[str, Any]:
    return json.loads(SPEC_FILE.read_text())  # type: ignore[no-any-return]


@cache
def spec() -> dict[str, Any]:
    """The extracted spec with :data:`ES_OVER_SPEC` applied."""
    out = copy.deepcopy(raw_spec())
    for iface, field, es_type, required, _ in ES_OVER_SPEC:
        out["interfaces"][iface]["fields"][field] = {"required": required, "type": es_type}
    return out


def commit() -> str:
    return str(raw_spec()["commit"])


def _fields(name: str, types: dict[str, Any]) -> dict[str, Any]:
    iface = types["interfaces"][name]
    fields: dict[str, Any] = {}
    for parent in iface["extends"]:
        if parent in types["interfaces"]:
            fields.update(_fields(parent, types))
    fields.update(iface["fields"])
    return fields


def check(
    node: dict[str, Any], value: Any, path: str = "$", types: dict[str, Any] | None = None
) -> list[str]:
    """Every way ``value`` breaks ``node`` (an AST node), as ``path: problem`` lines."""
    types = spec() if types is None else types
    kind = node["kind"]
    if kind == "ref":
        name = node["name"]
        if name in types["interfaces"]:
            return _check_object(_fields(name, types), value, path, types, name)
        return check(types["aliases"][name], value, path, types)
    if kind == "object":
        return _check_object(node["fields"], value, path, types, "object")
    if kind == "prim":
        return [] if _prim_ok(node["name"], value) else [f"{path}: {value!r} is not {node['name']}"]
    if kind == "literal":
        return [] if value == node["value"] else [f"{path}: {value!r} is not {node['value']!r}"]
    if kind == "union":
        results = [check(option, value, path, types) for option in node["of"]]
        if any(not r for r in results):
            return []
        return [f"{path}: {value!r} matches no option ({'; '.join(r[0] for r in results)})"]
    if kind == "array":
        if not isinstance(value, list):
            return [f"{path}: {value!r} is not an array"]
        return [e for i, v in enumerate(value) for e in check(node["of"], v, f"{path}[{i}]", types)]
    if kind == "record":
        if not isinstance(value, dict):
            return [f"{path}: {value!r} is not an object"]
        errors = []
        for k, v in value.items():
            errors += check(node["key"], k, f"{path}.<key {k}>", types)
            errors += check(node["value"], v, f"{path}.{k}", types)
        return errors
    raise AssertionError(f"unknown spec node {node}")


def _prim_ok(name: str, value: Any) -> bool:
    if name == "any":
        return True
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name in ("integer", "long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if name in ("float", "double", "number"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if name == "null":
        return value is None
    raise AssertionError(f"unknown primitive {name}")


def _check_object(
    fields: dict[str, Any], value: Any, path: str, types: dict[str, Any], label: str
) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: {value!r} is not an object ({label})"]
    errors = [f"{path}: unknown field [{k}] ({label})" for k in value if k not in fields]
    for name, field in fields.items():
        if name in value:
            errors += check(field["type"], value[name], f"{path}.{name}", types)
        elif field["required"]:
            errors.append(f"{path}: missing required field [{name}] ({label})")
    return errors


def check_put(service: str, body: Any, task_type: str = "rerank") -> list[str]:
    """Check ``PUT _inference/{task_type}/{id}`` with ``body`` for ``service`` against the
    service's request type: the body and the ``task_type`` path part."""
    types = spec()
    request = _fields(PUT_REQUESTS[service], types)
    errors = check(request["task_type"]["type"], task_type, "path.task_type", types)
    return errors + check(request["body"]["type"], body, "body", types)


def check_rerank(body: Any) -> list[str]:
    """Check a ``POST _inference/rerank/{id}`` body against ``inference.rerank``."""
    types = spec()
    return check(_fields("InferenceRerankRequest", types)["body"]["type"], body, "body", types)
