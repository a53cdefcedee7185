"""What Elasticsearch does on its side of the wire, for replaying its requests and
parsing the shim's replies the way it does (ES_FACTS.md section 3)."""

from __future__ import annotations

import json
import re
from typing import Any

# Bodies exactly as ES's services build them (field order as ES writes them).
HUGGING_FACE_RERANK = '{"texts":%s,"query":%s,"return_text":%s,"top_n":%s}'
COHERE_V2_RERANK = '{"model":"rerank-v3.5","query":%s,"documents":%s,"top_n":%s}'
CUSTOM_TEMPLATE = (
    '{"query": ${query}, "input": ${input}, "top_n": ${top_n}, '
    '"return_documents": ${return_documents}}'
)


def hugging_face_body(query: str, texts: list[str], *, return_text: bool, top_n: int) -> bytes:
    return (
        HUGGING_FACE_RERANK
        % (json.dumps(texts), json.dumps(query), json.dumps(return_text), json.dumps(top_n))
    ).encode()


def parse_hugging_face(payload: bytes) -> list[dict[str, Any]]:
    """ES's hugging_face rerank parser: a top-level array of {index, score, text?}."""
    doc = json.loads(payload)
    if not isinstance(doc, list):
        raise ValueError("expected a top-level array")
    out = []
    for item in doc:
        if not isinstance(item["index"], int) or not isinstance(item["score"], float | int):
            raise ValueError(f"bad item {item}")
        out.append(item)
    return out


def render_custom(template: str, params: dict[str, Any]) -> bytes:
    """ES's custom service: ``${name}`` is replaced by the JSON value (not quoted)."""

    def one(m: re.Match[str]) -> str:
        return json.dumps(params[m.group(1)])

    return re.sub(r"\$\{(\w+)\}", one, template).encode()


def json_path(doc: Any, path: str) -> list[Any]:
    """The subset of JSON path ES's custom service accepts: ``$.a.b[*].c``."""
    if not path.startswith("$."):
        raise ValueError(path)
    if not isinstance(doc, dict):
        raise ValueError("the response root must be an object")
    values: list[Any] = [doc]
    for part in path[2:].split("."):
        key, star = (part[:-3], True) if part.endswith("[*]") else (part, False)
        nxt: list[Any] = []
        for v in values:
            child = v[key]
            if star:
                nxt.extend(child)
            else:
                nxt.append(child)
        values = nxt
    return values
