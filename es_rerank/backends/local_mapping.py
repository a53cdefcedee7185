"""Turn an Elasticsearch mapping into a tantivy schema, and documents into tantivy documents.

Only the field types a passage index needs are supported; anything else in the mapping
raises ``ValueError`` naming the field and type, so a mapping never half-applies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import tantivy

from es_rerank.backends.coercion import to_float, to_integer
from es_rerank.backends.semantic_text import SemanticTextSpec, chunks_field
from es_rerank.backends.vectors import DenseVectorSpec
from es_rerank.documents import document_error

__all__ = ["FieldSpec", "LocalMapping", "RejectedDocument"]

FieldKind = Literal["text", "keyword", "integer", "float", "dense_vector", "semantic_text"]

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
    es_type: str = ""  # the mapping's type: its range and its name in messages
    coerce: bool = True  # ES's ``coerce`` mapping parameter (numbers only)
    vector: DenseVectorSpec | None = None  # dense_vector fields (and semantic_text chunks)
    semantic: SemanticTextSpec | None = None
    copy_to: tuple[str, ...] = ()  # semantic_text fields this field's values also go to


def vector_field(name: str) -> str:
    """The stored bytes field holding field ``name``'s vectors (float32, row after row)."""
    return f"_vec_{name}"


class LocalMapping:
    """The fields of an ES ``{"mappings": {"properties": ...}}`` object, as tantivy sees them."""

    def __init__(self, mapping: Mapping[str, Any]) -> None:
        if not isinstance(mapping, Mapping):
            raise ValueError("mapping must be a JSON object")
        body = mapping.get("mappings", mapping)
        props = body.get("properties") if isinstance(body, Mapping) else None
        if not isinstance(props, Mapping) or not props:
            raise ValueError('mapping needs {"mappings": {"properties": {...}}} with fields')
        coerce = _index_coerce(mapping)
        self.fields: dict[str, FieldSpec] = {}
        for name, spec in props.items():
            self.fields[name] = _field_spec(name, spec, coerce=coerce)
        for f in self.fields.values():
            for target in f.copy_to:
                t = self.fields.get(target)
                if t is None or t.semantic is None:
                    raise ValueError(
                        f"mapping field {f.name!r}: copy_to {target!r} is supported locally "
                        "into semantic_text fields of the mapping only"
                    )
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
            elif f.kind in ("dense_vector", "semantic_text"):
                sb.add_bytes_field(vector_field(f.name), stored=True, indexed=False)
                if f.kind == "semantic_text":
                    sb.add_bytes_field(chunks_field(f.name), stored=True, indexed=False)
            elif f.kind == "integer":
                sb.add_integer_field(f.name, indexed=True, fast=True)
            else:
                sb.add_float_field(f.name, indexed=True, fast=True)
        return sb.build()

    def semantic_inputs(self, doc: Mapping[str, Any], name: str) -> list[Any]:
        """The values a semantic_text field ``name`` embeds: its own, then those copied to it
        (``copy_to``) in mapping order, as ES concatenates them."""
        values: list[Any] = []
        own = doc.get(name)
        if own is not None:
            values.extend(own if isinstance(own, list) else [own])
        for f in self.fields.values():
            if name in f.copy_to and doc.get(f.name) is not None:
                v = doc[f.name]
                values.extend(v if isinstance(v, list) else [v])
        return values

    def to_document(
        self, doc: Any, *, id_field: str, embedded: Mapping[str, Any] | None = None
    ) -> tuple[str, tantivy.Document]:
        """Validate ``doc`` against the mapping, coercing numbers as ES does; raise
        ``RejectedDocument`` with the reason (ES's words where ES would refuse it too).
        ``embedded`` holds each semantic_text field's ``(chunks, vectors)``."""
        problem = document_error(doc, id_field=id_field)
        if problem is not None:
            raise RejectedDocument(problem)
        doc_id = str(doc[id_field])
        source = {k: v for k, v in doc.items() if k != id_field}
        out = tantivy.Document()
        out.add_text(_ID, doc_id)
        for name, entry in (embedded or {}).items():
            # semantic_text fields, their own values and those copied to them
            if isinstance(entry, Exception):
                value = source.get(name)
                raise RejectedDocument(_parse_failure(self.fields[name], doc_id, value, entry))
            texts, chunks, vectors = entry
            if chunks:
                out.add_bytes(vector_field(name), vectors.astype("float32").tobytes())
                stored = {"texts": texts, "chunks": chunks}
                out.add_bytes(chunks_field(name), json.dumps(stored).encode())
                out.add_text(_FIELDS, name)
        for name, value in source.items():
            spec = self.fields.get(name)
            if spec is None or value is None or spec.semantic is not None:
                continue  # kept in _source, not indexed (ES "dynamic": false)
            present = False
            if spec.vector is not None:
                try:
                    out.add_bytes(vector_field(name), spec.vector.check(value).tobytes())
                except ValueError as exc:
                    raise RejectedDocument(_parse_failure(spec, doc_id, "[...]", exc)) from None
                out.add_text(_FIELDS, name)
                continue
            for v in _flatten(value):
                if v is None:
                    continue
                try:
                    _add_value(out, spec, v)
                except ValueError as exc:
                    raise RejectedDocument(_parse_failure(spec, doc_id, v, exc)) from None
                present = True
            if present:
                out.add_text(_FIELDS, name)
        try:
            blob = json.dumps(source, ensure_ascii=False, allow_nan=False).encode()
        except ValueError as exc:
            raise RejectedDocument(f"not valid JSON: {exc}") from exc
        out.add_bytes(_SOURCE, blob)
        return doc_id, out


def _index_coerce(mapping: Mapping[str, Any]) -> bool:
    """``index.mapping.coerce`` from the settings (flat or nested form); ES's default true."""
    settings = mapping.get("settings")
    if not isinstance(settings, Mapping):
        return True
    flat = settings.get("index.mapping.coerce")
    if flat is None:
        index = settings.get("index")
        nested = index.get("mapping") if isinstance(index, Mapping) else None
        flat = nested.get("coerce") if isinstance(nested, Mapping) else None
    return _as_bool(flat, "settings index.mapping.coerce", default=True)


def _as_bool(value: Any, what: str, *, default: bool) -> bool:
    if value is None:
        return default
    if value in (True, "true"):
        return True
    if value in (False, "false"):
        return False
    raise ValueError(f"mapping {what}: expected true or false, got {value!r}")


def _field_spec(name: str, spec: Any, *, coerce: bool = True) -> FieldSpec:
    if name in _RESERVED or not name or name.startswith("_"):
        raise ValueError(f"mapping field {name!r}: names starting with '_' are reserved")
    if not isinstance(spec, Mapping):
        raise ValueError(f"mapping field {name!r}: expected an object")
    es_type = spec.get("type", "object" if "properties" in spec else None)
    if es_type == "dense_vector":
        vector = DenseVectorSpec.from_mapping(name, spec)
        return FieldSpec(name, "dense_vector", es_type="dense_vector", vector=vector)
    if es_type == "semantic_text":
        semantic = SemanticTextSpec.from_mapping(name, spec)
        return FieldSpec(
            name, "semantic_text", es_type=es_type, vector=semantic.vector, semantic=semantic
        )
    kind = _TYPES.get(str(es_type))
    if kind is None:
        raise ValueError(
            f"mapping field {name!r}: type {es_type!r} is not supported by the local index "
            f"(supported: {sorted([*_TYPES, 'dense_vector', 'semantic_text'])})"
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
    field_coerce = _as_bool(spec.get("coerce"), f"field {name!r} coerce", default=coerce)
    copy_to = spec.get("copy_to", [])
    copy_to = (copy_to,) if isinstance(copy_to, str) else tuple(str(t) for t in copy_to)
    return FieldSpec(
        name, kind, tokenizer, es_type=str(es_type), coerce=field_coerce, copy_to=copy_to
    )


def _flatten(value: Any) -> list[Any]:
    """The values of a field: arrays (of arrays) are flattened, as ES does."""
    if not isinstance(value, list):
        return [value]
    return [v for item in value for v in _flatten(item)]


def _parse_failure(spec: FieldSpec, doc_id: str, value: Any, exc: Exception) -> str:
    """ES's item error for a value that does not fit, as the bulk indexer reports it."""
    preview = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value
    if isinstance(value, bool):
        preview = "true" if value else "false"
    return (
        f"mapper_parsing_exception: failed to parse field [{spec.name}] of type "
        f"[{spec.es_type}] in document with id '{doc_id}'. Preview of field's value: "
        f"'{preview}' ({exc})"
    )


def _add_value(out: tantivy.Document, spec: FieldSpec, v: Any) -> None:
    if spec.kind in ("text", "keyword"):
        if isinstance(v, dict):
            raise ValueError("Can't get text on a START_OBJECT")
        if isinstance(v, bool):
            v = "true" if v else "false"
        if not isinstance(v, (str, int, float)):
            raise ValueError(f"unexpected value of type {type(v).__name__}")
        out.add_text(spec.name, str(v))
    elif spec.kind == "integer":
        out.add_integer(spec.name, to_integer(v, spec.es_type, coerce=spec.coerce))
    else:
        out.add_float(spec.name, to_float(v, spec.es_type, coerce=spec.coerce))
