"""Turn an Elasticsearch mapping into a tantivy schema, and documents into tantivy documents.

Only the field types a passage index needs are supported; anything else in the mapping
raises ``ValueError`` naming the field and type, so a mapping never half-applies.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import tantivy

__all__ = ["FieldSpec", "LocalMapping", "RejectedDocument"]

FieldKind = Literal["text", "keyword", "integer", "float"]

_ID = "_id"
_SOURCE = "_source"
_FIELDS = "_fields"  # names of the fields a document has a value for: serves `exists`
_RESERVED = {_ID, _SOURCE, _FIELDS}

_TYPES: dict[str, FieldKind] = {
    "text": "text",
    "match_only_text": "text",
    "keyword": "keyword",
    "constant_keyword": "keyword",
    "long": "integer",
    "integer": "integer",
    "short": "integer",
    "byte": "integer",
    "date": "integer",  # epoch milliseconds only
    "double": "float",
    "float": "float",
    "half_float": "float",
}

# ES analyzer name -> tokenizer registered on the tantivy index.
_ANALYZERS = {"standard": "es_standard", "english": "es_english"}


def build_analyzer(name: str) -> tantivy.TextAnalyzer:
    """Unicode-alphanumeric tokens, lowercased (ES ``standard`` keeps stopwords too)."""
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(255))
        .filter(tantivy.Filter.lowercase())
    )
    if name == "es_english":
        builder = builder.filter(tantivy.Filter.stemmer("english"))
    return builder.build()


class RejectedDocument(ValueError):
    """A document that does not fit the mapping; the message says why."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: FieldKind
    tokenizer: str = "raw"


class LocalMapping:
    """The fields of an ES ``{"mappings": {"properties": ...}}`` object, as tantivy sees them."""

    def __init__(self, mapping: Mapping[str, Any]) -> None:
        if not isinstance(mapping, Mapping):
            raise ValueError("mapping must be a JSON object")
        body = mapping.get("mappings", mapping)
        props = body.get("properties") if isinstance(body, Mapping) else None
        if not isinstance(props, Mapping) or not props:
            raise ValueError('mapping needs {"mappings": {"properties": {...}}} with fields')
        self.fields: dict[str, FieldSpec] = {}
        for name, spec in props.items():
            self.fields[name] = _field_spec(name, spec)
        self.raw = json.loads(json.dumps(mapping))

    def schema(self) -> tantivy.Schema:
        sb = tantivy.SchemaBuilder()
        sb.add_text_field(_ID, stored=True, tokenizer_name="raw", index_option="basic")
        sb.add_bytes_field(_SOURCE, stored=True, indexed=False)
        sb.add_text_field(_FIELDS, tokenizer_name="raw", index_option="basic")
        for f in self.fields.values():
            if f.kind == "text":
                sb.add_text_field(f.name, tokenizer_name=f.tokenizer, index_option="position")
            elif f.kind == "keyword":
                sb.add_text_field(f.name, tokenizer_name="raw", index_option="freq")
            elif f.kind == "integer":
                sb.add_integer_field(f.name, indexed=True, fast=True)
            else:
                sb.add_float_field(f.name, indexed=True, fast=True)
        return sb.build()

    def to_document(self, doc: Any, *, id_field: str) -> tuple[str, tantivy.Document]:
        """Validate ``doc`` against the mapping; raise ``RejectedDocument`` with the reason."""
        if not isinstance(doc, Mapping):
            raise RejectedDocument(f"not a JSON object but {type(doc).__name__}")
        raw_id = doc.get(id_field)
        if raw_id is None or raw_id == "":
            raise RejectedDocument(f"missing id field {id_field!r}")
        if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool):
            raise RejectedDocument(f"id field {id_field!r} must be a string or integer")
        doc_id = str(raw_id)
        source = {k: v for k, v in doc.items() if k != id_field}
        out = tantivy.Document()
        out.add_text(_ID, doc_id)
        for name, value in source.items():
            spec = self.fields.get(name)
            if spec is None or value is None:
                continue  # kept in _source, not indexed (ES "dynamic": false)
            values = value if isinstance(value, list) else [value]
            present = False
            for v in values:
                if v is None:
                    continue
                _add_value(out, spec, v)
                present = True
            if present:
                out.add_text(_FIELDS, name)
        try:
            blob = json.dumps(source, ensure_ascii=False, allow_nan=False).encode()
        except ValueError as exc:
            raise RejectedDocument(f"not valid JSON: {exc}") from exc
        out.add_bytes(_SOURCE, blob)
        return doc_id, out


def _field_spec(name: str, spec: Any) -> FieldSpec:
    if name in _RESERVED or not name or name.startswith("_"):
        raise ValueError(f"mapping field {name!r}: names starting with '_' are reserved")
    if not isinstance(spec, Mapping):
        raise ValueError(f"mapping field {name!r}: expected an object")
    es_type = spec.get("type", "object" if "properties" in spec else None)
    kind = _TYPES.get(str(es_type))
    if kind is None:
        raise ValueError(
            f"mapping field {name!r}: type {es_type!r} is not supported by the local index "
            f"(supported: {sorted(_TYPES)})"
        )
    if es_type == "date" and spec.get("format", "epoch_millis") != "epoch_millis":
        raise ValueError(f"mapping field {name!r}: only date format 'epoch_millis' is supported")
    tokenizer = "raw"
    if kind == "text":
        analyzer = spec.get("analyzer", "standard")
        if spec.get("search_analyzer", analyzer) != analyzer or analyzer not in _ANALYZERS:
            raise ValueError(
                f"mapping field {name!r}: analyzer {analyzer!r} is not supported "
                f"(supported: {sorted(_ANALYZERS)})"
            )
        tokenizer = _ANALYZERS[analyzer]
    return FieldSpec(name, kind, tokenizer)


def _add_value(out: tantivy.Document, spec: FieldSpec, v: Any) -> None:
    if spec.kind in ("text", "keyword"):
        if isinstance(v, (dict, list)):
            raise RejectedDocument(f"field {spec.name!r} ({spec.kind}) got a nested value")
        if isinstance(v, bool):
            v = "true" if v else "false"
        if not isinstance(v, (str, int, float)):
            raise RejectedDocument(f"field {spec.name!r} ({spec.kind}) got {type(v).__name__}")
        out.add_text(spec.name, str(v))
    elif spec.kind == "integer":
        if isinstance(v, bool) or not isinstance(v, int):
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            else:
                raise RejectedDocument(f"field {spec.name!r} (integer) got {v!r}")
        if not -(2**63) <= v < 2**63:
            raise RejectedDocument(f"field {spec.name!r} (integer) out of range: {v}")
        out.add_integer(spec.name, v)
    else:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise RejectedDocument(f"field {spec.name!r} (float) got {v!r}")
        out.add_float(spec.name, float(v))
