"""Turn an Elasticsearch mapping into a tantivy schema, and documents into tantivy documents.

Only the field types a passage index needs are supported; anything else in the mapping
raises ``ValueError`` naming the field and type, so a mapping never half-applies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import tantivy

from es_rerank.backends.coercion import to_float, to_integer
from es_rerank.backends.local_dates import DEFAULT_DATE_FORMAT, DateFormat, parse_date
from es_rerank.backends.local_rank_feature import RANK_KINDS, feature_values
from es_rerank.backends.semantic_text import SemanticTextSpec, chunks_field
from es_rerank.backends.vectors import DenseVectorSpec
from es_rerank.documents import document_error

__all__ = ["MAX_TERM_LENGTH", "FieldSpec", "LocalMapping", "RejectedDocument", "stored_source"]

FieldKind = Literal[
    "text",
    "keyword",
    "boolean",
    "integer",
    "float",
    "date",
    "dense_vector",
    "semantic_text",
    "rank_feature",
    "rank_features",
]

#: Lucene's IndexWriter.MAX_TERM_LENGTH: the most UTF-8 bytes one indexed term may have.
MAX_TERM_LENGTH = 32766

_ID = "_id"
_SOURCE = "_source"
_FIELDS = "_fields"  # names of the fields a document has a value for: serves `exists`
_RESERVED = {_ID, _SOURCE, _FIELDS}

_TYPES: dict[str, FieldKind] = {
    "text": "text",
    "match_only_text": "text",
    "keyword": "keyword",
    "constant_keyword": "keyword",
    "boolean": "boolean",  # indexed as the terms "T" and "F", as ES indexes it
    "long": "integer",
    "integer": "integer",
    "short": "integer",
    "byte": "integer",
    "date": "date",  # stored as epoch millis, as ES stores it
    "double": "float",
    "float": "float",
    "half_float": "float",
}

# Mapping parameters read here, and those that change nothing here at their given value
# (anything else, such as a normalizer or "index": false, is refused, never ignored).
_PARAMS = {
    "type",
    "analyzer",
    "search_analyzer",
    "format",
    "coerce",
    "ignore_above",
    "fields",
    "copy_to",
}
_HARMLESS: dict[str, Any] = {
    "index": True,
    "doc_values": None,  # any value: sorting reads _source
    "store": None,
    "norms": None,
    "index_options": None,
    "eager_global_ordinals": None,
    "meta": None,
    "term_vector": None,
    "similarity": "BM25",
    "position_increment_gap": 100,
    "split_queries_on_whitespace": False,
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
    date_format: DateFormat | None = None  # a date field's ``format``
    ignore_above: int | None = None  # a keyword field's ``ignore_above``
    #: the ``_source`` paths whose values it indexes: its own, a multi-field's parent,
    #: and the fields that ``copy_to`` it
    sources: tuple[str, ...] = ()
    vector: DenseVectorSpec | None = None  # dense_vector fields (and semantic_text chunks)
    semantic: SemanticTextSpec | None = None
    positive_impact: bool = True  # a rank_feature(s) field's ``positive_score_impact``

    @property
    def numeric(self) -> bool:
        """Stored in a tantivy numeric column (dates as epoch millis)."""
        return self.kind in ("integer", "float", "date")


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
        self.strict = body.get("dynamic") in ("strict", "false_strict")
        self.fields: dict[str, FieldSpec] = {}
        self.objects: set[str] = set()  # object fields: their values must be objects
        copies: dict[str, list[str]] = {}
        self._collect(props, "", coerce, copies)
        for target, paths in copies.items():
            if target not in self.fields:
                raise ValueError(f"mapping: copy_to target [{target}] is not a mapped field")
            spec = self.fields[target]
            self.fields[target] = replace(spec, sources=(*spec.sources, *paths))
        self.raw = json.loads(json.dumps(mapping))

    def _collect(
        self, props: Mapping[str, Any], prefix: str, coerce: bool, copies: dict[str, list[str]]
    ) -> None:
        """The leaf fields of ``props`` by dotted name: object fields' ``properties`` and
        multi-fields (``fields``) included."""
        for name, spec in props.items():
            full = prefix + str(name)
            if isinstance(spec, Mapping) and "properties" in spec:
                if spec.get("type", "object") != "object":
                    raise ValueError(
                        f"mapping field {full!r}: type {spec.get('type')!r} is not supported "
                        "by the local index (object fields are)"
                    )
                unknown = sorted(set(spec) - {"type", "properties", "dynamic", "enabled"})
                if unknown or spec.get("enabled", True) is not True:
                    raise ValueError(
                        f"mapping object {full!r}: {unknown or ['enabled']} unsupported"
                    )
                self.objects.add(full)
                self._collect(spec["properties"], full + ".", coerce, copies)
                continue
            field = _field_spec(full, spec, coerce=coerce)
            self.fields[full] = replace(field, sources=(full,))
            for target in _names(spec.get("copy_to"), full):
                copies.setdefault(target, []).append(full)
            subs = spec.get("fields") or {}
            if not isinstance(subs, Mapping):
                raise ValueError(f"mapping field {full!r}: fields must be an object")
            for sub, sub_spec in subs.items():
                if isinstance(sub_spec, Mapping) and (
                    "fields" in sub_spec or "copy_to" in sub_spec
                ):
                    raise ValueError(f"mapping field {full}.{sub}: multi-fields nest no further")
                child = _field_spec(f"{full}.{sub}", sub_spec, coerce=coerce)
                self.fields[child.name] = replace(child, sources=(full,))

    def values(self, spec: FieldSpec, source: Mapping[str, Any]) -> list[Any]:
        """The JSON values ``spec``'s field indexes from a document's ``_source``."""
        return [v for path in spec.sources or (spec.name,) for v in source_values(source, path)]

    def schema(self) -> tantivy.Schema:
        sb = tantivy.SchemaBuilder()
        sb.add_text_field(_ID, stored=True, tokenizer_name="raw", index_option="basic")
        sb.add_bytes_field(_SOURCE, stored=True, indexed=False)
        sb.add_text_field(_FIELDS, tokenizer_name="raw", index_option="basic")
        for f in self.fields.values():
            if f.kind == "text":
                sb.add_text_field(f.name, tokenizer_name=f.tokenizer, index_option="position")
            elif f.kind in ("keyword", "boolean"):
                sb.add_text_field(f.name, tokenizer_name="raw", index_option="freq")
            elif f.kind in RANK_KINDS:
                continue  # read from _source by the rank_feature query (presence: _FIELDS)
            elif f.kind in ("dense_vector", "semantic_text"):
                sb.add_bytes_field(vector_field(f.name), stored=True, indexed=False)
                if f.kind == "semantic_text":
                    sb.add_bytes_field(chunks_field(f.name), stored=True, indexed=False)
            elif f.kind in ("integer", "date"):
                sb.add_integer_field(f.name, indexed=True, fast=True)
            else:
                sb.add_float_field(f.name, indexed=True, fast=True)
        return sb.build()

    def semantic_inputs(self, doc: Mapping[str, Any], name: str) -> list[Any]:
        """The values a semantic_text field ``name`` embeds: its own, then those copied to it
        (``copy_to``), as ES gathers them."""
        return self.values(self.fields[name], doc)

    def to_document(
        self, doc: Any, *, id_field: str, embedded: Mapping[str, Any] | None = None
    ) -> tuple[str, tantivy.Document]:
        """Validate ``doc`` against the mapping, coercing numbers as ES does; raise
        ``RejectedDocument`` with the reason (ES's words where ES would refuse it too).
        ``embedded`` holds each semantic_text field's ``(values, chunks, vectors)``."""
        problem = document_error(doc, id_field=id_field)
        if problem is not None:
            raise RejectedDocument(problem)
        doc_id = str(doc[id_field])
        source = {k: v for k, v in doc.items() if k != id_field}
        out = tantivy.Document()
        out.add_text(_ID, doc_id)
        self._check_shape(source, doc_id)
        for name, entry in (embedded or {}).items():
            if isinstance(entry, Exception):
                value = source.get(name)
                raise RejectedDocument(_parse_failure(self.fields[name], doc_id, value, entry))
            texts, chunks, vectors = entry
            if chunks:
                out.add_bytes(vector_field(name), vectors.astype("float32").tobytes())
                stored = {"texts": texts, "chunks": chunks}
                out.add_bytes(chunks_field(name), json.dumps(stored).encode())
                out.add_text(_FIELDS, name)
        for spec in self.fields.values():
            if spec.semantic is not None:
                continue  # embedded above
            if spec.vector is not None:
                raw = _unflattened(source, spec.name)
                if raw is None:
                    continue
                try:
                    out.add_bytes(vector_field(spec.name), spec.vector.check(raw).tobytes())
                except ValueError as exc:
                    raise RejectedDocument(_parse_failure(spec, doc_id, "[...]", exc)) from None
                out.add_text(_FIELDS, spec.name)
                continue
            if spec.kind in RANK_KINDS:
                values = self.values(spec, source)
                try:
                    feature_values(spec.es_type, spec.name, values, spec.positive_impact)
                except ValueError as exc:
                    preview = values[0] if len(values) == 1 else values
                    raise RejectedDocument(_parse_failure(spec, doc_id, preview, exc)) from None
                if values:
                    out.add_text(_FIELDS, spec.name)
                continue
            present = False
            for v in self.values(spec, source):
                try:
                    present = _add_value(out, spec, v) or present
                except ValueError as exc:
                    raise RejectedDocument(_parse_failure(spec, doc_id, v, exc)) from None
            if present:
                out.add_text(_FIELDS, spec.name)
        try:
            blob = json.dumps(source, ensure_ascii=False, allow_nan=False).encode()
        except ValueError as exc:
            raise RejectedDocument(f"not valid JSON: {exc}") from exc
        out.add_bytes(_SOURCE, blob)
        return doc_id, out

    def _check_shape(self, source: Mapping[str, Any], doc_id: str) -> None:
        """ES's refusals of a document's shape: a concrete value where the mapping has an
        object, and (``"dynamic": "strict"``) any field the mapping does not have."""
        for path in sorted(self.objects):
            for v in source_values(source, path):
                if not isinstance(v, Mapping):
                    raise RejectedDocument(
                        f"mapper_parsing_exception: object mapping for [{path}] tried to "
                        f"parse field [{path}] as object, but found a concrete value"
                    )
        if self.strict:
            known = set(self.fields) | self.objects
            features = tuple(f"{n}." for n, f in self.fields.items() if f.kind == "rank_features")
            for key in _leaf_paths(source):
                if key not in known and not key.startswith(features):
                    raise RejectedDocument(
                        f"strict_dynamic_mapping_exception: mapping set to strict, "
                        f"dynamic introduction of [{key.rpartition('.')[2]}] within "
                        f"[{key.rpartition('.')[0] or '_doc'}] is not allowed"
                    )


def source_values(source: Any, path: str) -> list[Any]:
    """The values at a dotted ``path`` of a ``_source`` (objects or dotted keys, arrays
    flattened), None left out: what ES indexes for the field."""
    out: list[Any] = []

    def walk(node: Any, parts: list[str]) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, parts)
        elif not parts:
            if node is not None:
                out.append(node)
        elif isinstance(node, Mapping):
            for i in range(len(parts), 0, -1):
                key = ".".join(parts[:i])
                if key in node:
                    walk(node[key], parts[i:])

    walk(source, path.split("."))
    return out


def _unflattened(source: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` as sent (a dense_vector's array is one value)."""
    node: Any = source
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return source.get(path)
        node = node[part]
    return node


def _leaf_paths(source: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Every dotted field name of a document (objects inside arrays included)."""
    out: list[str] = []
    for key, value in source.items():
        name = prefix + str(key)
        items = value if isinstance(value, list) else [value]
        objects = [v for v in items if isinstance(v, Mapping)]
        if objects:
            out.append(name)  # the object field itself
            for obj in objects:
                out += _leaf_paths(obj, name + ".")
        else:
            out.append(name)
    return out


def _names(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    names = value if isinstance(value, list) else [value]
    if not all(isinstance(n, str) for n in names):
        raise ValueError(f"mapping field {field!r}: copy_to must name fields")
    return list(names)


def stored_source(doc: tantivy.Document) -> dict[str, Any]:
    """The ``_source`` stored with a document."""
    blob = doc.get_first(_SOURCE)
    data = json.loads(bytes(blob).decode()) if blob is not None else {}
    return data if isinstance(data, dict) else {}


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


def _harmless(key: str, value: Any, kind: FieldKind) -> bool:
    if key in _PARAMS:
        return True
    if key == "norms":  # no norms on a text field would change its scores
        return kind != "text" or value in (True, "true")
    if key not in _HARMLESS:
        return False
    harmless = _HARMLESS[key]  # None: any value; JSON booleans may come as strings
    return harmless is None or str(value).lower() == str(harmless).lower()


def _field_spec(name: str, spec: Any, *, coerce: bool = True) -> FieldSpec:
    if name in _RESERVED or not name or name.startswith("_"):
        raise ValueError(f"mapping field {name!r}: names starting with '_' are reserved")
    if not isinstance(spec, Mapping):
        raise ValueError(f"mapping field {name!r}: expected an object")
    es_type = spec.get("type", "object" if "properties" in spec else None)
    if es_type in RANK_KINDS:
        return _rank_feature_spec(name, str(es_type), spec)
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
            f"(supported: {sorted([*_TYPES, *RANK_KINDS, 'dense_vector', 'semantic_text'])})"
        )
    unsupported = sorted(k for k, v in spec.items() if not _harmless(k, v, kind))
    if unsupported:
        raise ValueError(
            f"mapping field {name!r}: parameter(s) {unsupported} not supported by the local "
            "index (they would change what is indexed or how it scores)"
        )
    date_format = None
    if es_type == "date":
        try:
            date_format = DateFormat(str(spec.get("format", DEFAULT_DATE_FORMAT)))
        except ValueError as exc:
            raise ValueError(f"mapping field {name!r}: {exc}") from None
    ignore_above = spec.get("ignore_above")
    if ignore_above is not None and (
        kind != "keyword" or isinstance(ignore_above, bool) or not isinstance(ignore_above, int)
    ):
        raise ValueError(
            f"mapping field {name!r}: ignore_above must be an integer on a keyword field"
        )
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
    return FieldSpec(
        name,
        kind,
        tokenizer,
        es_type=str(es_type),
        coerce=field_coerce,
        date_format=date_format,
        ignore_above=ignore_above,
    )


def _rank_feature_spec(name: str, es_type: str, spec: Mapping[str, Any]) -> FieldSpec:
    """A ``rank_feature``/``rank_features`` field: ES takes ``positive_score_impact`` and
    ``meta`` only (no multi-fields, no copy_to: the local index refuses those too)."""
    unsupported = sorted(set(spec) - {"type", "positive_score_impact", "meta"})
    if unsupported:
        raise ValueError(
            f"mapping field {name!r}: parameter(s) {unsupported} not supported on a "
            f"[{es_type}] field"
        )
    positive = _as_bool(
        spec.get("positive_score_impact"), f"field {name!r} positive_score_impact", default=True
    )
    kind: FieldKind = "rank_feature" if es_type == "rank_feature" else "rank_features"
    return FieldSpec(name, kind, es_type=es_type, positive_impact=positive)


def boolean_value(value: Any) -> bool:
    """A boolean field's value as ES's parser reads a document: true/false, the strings
    "true"/"false", and "" as false; anything else is refused."""
    if isinstance(value, bool):
        return value
    if value == "":
        return False
    if value in ("true", "false"):
        return bool(value == "true")
    if isinstance(value, str):
        raise ValueError(f"Failed to parse value [{value}] as only [true] or [false] are allowed.")
    raise ValueError(f"Current token ({_json_token(value)}) not of boolean type")


def _json_token(value: Any) -> str:
    if isinstance(value, int):
        return "VALUE_NUMBER_INT"
    if isinstance(value, float):
        return "VALUE_NUMBER_FLOAT"
    return "START_OBJECT" if isinstance(value, Mapping) else "START_ARRAY"


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


def _java_length(text: str) -> int:
    """``String.length()``: UTF-16 code units, as ``ignore_above`` counts them."""
    return len(text.encode("utf-16-le")) // 2


def _check_term_length(field: str, term: str) -> None:
    """Refuse a term Lucene cannot index, with the message of ES's KeywordFieldMapper
    preflight check (elastic/elasticsearch server/src/main/java/org/elasticsearch/index/
    mapper/KeywordFieldMapper.java at 04b1d77819dcc49fd0ff8b306598042928283519)."""
    data = term.encode()
    if len(data) <= MAX_TERM_LENGTH:
        return
    prefix = [b - 256 if b > 127 else b for b in data[:30]]  # Java's signed bytes
    raise ValueError(
        f'Document contains at least one immense term in field="{field}" (whose UTF8 '
        f"encoding is longer than the max length {MAX_TERM_LENGTH}), all of which were "
        "skipped. Please correct the analyzer to not produce such terms. The prefix of the "
        f"first immense term is: '[{', '.join(map(str, prefix))}]...'"
    )


def _add_value(out: tantivy.Document, spec: FieldSpec, v: Any) -> bool:
    """Index one value of ``spec``'s field; False when it is kept in _source only."""
    if spec.kind in ("text", "keyword"):
        if isinstance(v, dict):
            raise ValueError("Can't get text on a START_OBJECT")
        if isinstance(v, bool):
            v = "true" if v else "false"
        if not isinstance(v, (str, int, float)):
            raise ValueError(f"unexpected value of type {type(v).__name__}")
        text = str(v)
        if spec.kind == "keyword":
            if spec.ignore_above is not None and _java_length(text) > spec.ignore_above:
                return False  # kept in _source only, as ES does
            _check_term_length(spec.name, text)
        out.add_text(spec.name, text)
    elif spec.kind == "boolean":
        out.add_text(spec.name, "T" if boolean_value(v) else "F")
    elif spec.kind == "integer":
        out.add_integer(spec.name, to_integer(v, spec.es_type, coerce=spec.coerce))
    elif spec.kind == "date":
        if isinstance(v, dict):
            raise ValueError("Can't get text on a START_OBJECT")
        out.add_integer(spec.name, parse_date(v, spec.date_format or DateFormat()))
    else:
        out.add_float(spec.name, to_float(v, spec.es_type, coerce=spec.coerce))
    return True
