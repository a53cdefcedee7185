"""The standard retriever's own options on the local index, with ES's semantics.

``sort`` (fields, ``_score``, ``_doc``; ``order``, ``missing``, ``mode``,
``unmapped_type``; the string and object shorthands), ``search_after``,
``terminate_after``, ``min_score``, ``collapse``, ``track_scores`` and
``track_total_hits``, read as ES's search request reads them:

- ties are broken in index order, as Lucene breaks them;
- each hit's ``sort`` holds ES's sort values: numbers of integer types and dates as
  longs (dates in epoch millis), ``float``/``double`` as floats, keywords as strings; a
  missing value is ``Long.MAX_VALUE``/``MIN_VALUE`` (``±inf`` for floating types, None for
  keywords) on the side ``missing`` puts it;
- sorted by anything but ``_score``, a hit's score is NaN (ES's ``"_score": null``)
  unless ``track_scores``;
- ``min_score`` drops hits below it before counting, ``terminate_after`` keeps the first N
  matches in index order (and ``hits.total`` counts only those), ``collapse`` keeps the
  first hit of each value of a keyword or numeric field (``hits.total`` is not collapsed).
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import tantivy

from es_rerank.backends.base import Hit, Hits, TotalRelation
from es_rerank.backends.coercion import to_float, to_integer
from es_rerank.backends.local_dates import parse_date
from es_rerank.backends.local_mapping import (
    _ID,
    FieldSpec,
    LocalMapping,
    _java_length,
    stored_source,
)

__all__ = ["SUPPORTED_OPTIONS", "run_request"]

SUPPORTED_OPTIONS = (
    "collapse",
    "min_score",
    "search_after",
    "sort",
    "terminate_after",
    "track_scores",
    "track_total_hits",
)
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_TEXT_SORT = (
    "Text fields are not optimised for operations that require per-document field data like "
    "aggregations and sorting, so these operations are disabled by default. Please use a "
    "keyword field instead. Alternatively, set fielddata=true on [{}] in order to load field "
    "data by uninverting the inverted index. Note that this can use significant memory."
)


@dataclass(frozen=True)
class SortKey:
    """One entry of ``sort``: ``_score``, ``_doc`` or a field (None when unmapped)."""

    name: str
    descending: bool
    spec: FieldSpec | None = None
    missing: Any = "_last"
    mode: str | None = None

    @property
    def is_field(self) -> bool:
        return self.name not in ("_score", "_doc")


@dataclass
class _Doc:
    score: float
    order: tuple[int, int]  # (segment, doc): index order
    addr: tantivy.DocAddress
    source: dict[str, Any] | None = None
    values: tuple[Any, ...] = ()


def _parse_sort(sort: Any, mapping: LocalMapping) -> list[SortKey]:
    entries = sort if isinstance(sort, list) else [sort]
    out = []
    for entry in entries:
        if isinstance(entry, str):
            out.append(_sort_key(entry, {}, mapping))
        elif isinstance(entry, Mapping) and entry:
            for name, params in entry.items():
                if isinstance(params, str):
                    params = {"order": params}
                if not isinstance(params, Mapping):
                    raise ValueError(f"sort: [{name}] expects an order or an object")
                out.append(_sort_key(str(name), params, mapping))
        else:
            raise ValueError(f"sort: unsupported entry {entry!r}")
    return out


def _sort_key(name: str, params: Mapping[str, Any], mapping: LocalMapping) -> SortKey:
    if name.startswith("_") and name not in ("_score", "_doc"):
        raise ValueError(f"sort: [{name}] is not supported by the local index")
    allowed = {"order", "missing", "mode", "unmapped_type"} if name[0] != "_" else {"order"}
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ValueError(
            f"sort: parameter(s) {unknown} of [{name}] not supported by the local index"
        )
    default = "desc" if name == "_score" else "asc"
    order = str(params.get("order", default)).lower()
    if order not in ("asc", "desc"):
        raise ValueError(f"sort: order must be 'asc' or 'desc', got [{order}]")
    if not name.startswith("_"):
        spec = mapping.fields.get(name)
        if spec is None and "unmapped_type" not in params:
            raise ValueError(f"No mapping found for [{name}] in order to sort on")
        if spec is not None and spec.kind == "text":
            raise ValueError(_TEXT_SORT.format(name))
        if spec is not None and spec.kind not in ("keyword", "integer", "float", "date"):
            raise ValueError(_unsortable(spec, "sort on"))
        mode = params.get("mode")
        numeric_modes = {"min", "max", "sum", "avg", "median"}
        if mode is not None and mode not in (
            numeric_modes if spec and spec.numeric else {"min", "max"}
        ):
            raise ValueError(f"sort: mode [{mode}] is not allowed on field [{name}]")
        missing = params.get("missing", "_last")
        if spec is not None and missing not in ("_last", "_first"):
            missing = _field_value(spec, missing, "sort missing")
        return SortKey(name, order == "desc", spec, missing, mode)
    return SortKey(name, order == "desc")


def _field_value(spec: FieldSpec, value: Any, what: str) -> Any:
    """One JSON value as the field indexes it (its doc value); ValueError if it cannot."""
    try:
        if spec.kind == "keyword":
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, (dict, list)):
                raise ValueError("not a scalar")
            return str(value)
        if spec.kind == "integer":
            return to_integer(value, spec.es_type, coerce=spec.coerce)
        if spec.kind == "date":
            return parse_date(value, spec.date_format) if spec.date_format else parse_date(value)
        return to_float(value, spec.es_type, coerce=spec.coerce)
    except ValueError as exc:
        raise ValueError(f"{what}: {value!r} does not fit field [{spec.name}] ({exc})") from None


def _values(spec: FieldSpec, source: Mapping[str, Any], mapping: LocalMapping) -> list[Any]:
    """The doc values of ``spec``'s field in a stored document (what ES sorts on)."""
    out = []
    for v in mapping.values(spec, source):
        value = _field_value(spec, v, "sort")
        ignored = spec.ignore_above is not None and _java_length(value) > spec.ignore_above
        if not (spec.kind == "keyword" and ignored):
            out.append(value)
    return out


def _select(key: SortKey, values: list[Any]) -> Any:
    """The value a multi-valued field sorts by (ES: ``min`` ascending, ``max`` descending)."""
    if not values:
        return None
    mode = key.mode or ("max" if key.descending else "min")
    if mode == "min":
        return min(values)
    if mode == "max":
        return max(values)
    if mode == "sum":
        return sum(values)
    value = sum(values) / len(values) if mode == "avg" else statistics.median(values)
    if key.spec and key.spec.kind in ("integer", "date"):
        return math.floor(value + 0.5)  # Java's Math.round, as ES's MultiValueMode on longs
    return value


def _missing_value(key: SortKey) -> Any:
    """The sort value ES reports for a document without the field."""
    if key.missing not in ("_last", "_first"):
        return key.missing
    high = (key.missing == "_last") != key.descending
    if key.spec is None or key.spec.kind == "keyword":
        return None
    if key.spec.kind == "float":
        return math.inf if high else -math.inf
    return _LONG_MAX if high else _LONG_MIN


def _compare(keys: Sequence[SortKey], a: tuple[Any, ...], b: tuple[Any, ...]) -> int:
    for key, x, y in zip(keys, a, b, strict=True):
        if x == y:
            continue
        if x is None or y is None:  # a missing keyword: on the side `missing` says
            first = key.missing == "_first"
            return (-1 if first else 1) if x is None else (1 if first else -1)
        c = -1 if x < y else 1
        return -c if key.descending else c
    return 0


def _doc_bases(searcher: tantivy.Searcher) -> dict[int, int]:
    """Each segment's first document number, so ``_doc`` is one number in index order."""
    found = searcher.search(tantivy.Query.all_query(), limit=max(int(searcher.num_docs), 1))
    ends: dict[int, int] = {}
    for _, addr in found.hits:
        ends[addr.segment_ord] = max(ends.get(addr.segment_ord, 0), addr.doc + 1)
    bases, total = {}, 0
    for seg in sorted(ends):
        bases[seg] = total
        total += ends[seg]
    return bases


def _after_values(keys: Sequence[SortKey], after: Any) -> tuple[Any, ...]:
    if not isinstance(after, list):
        raise ValueError("search_after must be an array of sort values")
    if len(after) != len(keys):
        raise ValueError(f"search_after has {len(after)} value(s) but sort has {len(keys)}.")
    out = []
    for key, value in zip(keys, after, strict=True):
        if key.name == "_score":
            out.append(float(value))
        elif key.name == "_doc":
            out.append(int(value))
        elif value is None or key.spec is None:
            out.append(value)
        elif (
            key.spec.kind in ("integer", "date")
            and isinstance(value, int)
            and not isinstance(value, bool)
        ):
            out.append(value)  # a long sort value, epoch millis for dates
        else:
            out.append(_field_value(key.spec, value, "search_after"))
    return tuple(out)


def _non_negative_int(options: Mapping[str, Any], name: str) -> int | None:
    value = options.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def _collapse_field(options: Mapping[str, Any], mapping: LocalMapping) -> FieldSpec | None:
    collapse = options.get("collapse")
    if collapse is None:
        return None
    if not isinstance(collapse, Mapping) or "field" not in collapse:
        raise ValueError("collapse: expected an object with a 'field'")
    if "inner_hits" in collapse:
        raise ValueError(
            "collapse: inner_hits are not returned by the local index (a hit has no place for "
            "them); leave them out where ES does not return them either (a standard "
            "retriever inside a compound one)"
        )
    unknown = sorted(set(collapse) - {"field", "max_concurrent_group_searches"})
    if unknown:
        raise ValueError(f"collapse: parameter(s) {unknown} not supported by the local index")
    spec = mapping.fields.get(str(collapse["field"]))
    if spec is None:
        raise ValueError(f"no mapping found for `{collapse['field']}` in order to collapse on")
    if spec.kind == "text":
        raise ValueError(
            f"collapse: field [{spec.name}] of type [text] cannot be collapsed; "
            "use a keyword or numeric field"
        )
    if spec.kind not in ("keyword", "integer", "float", "date"):
        raise ValueError(_unsortable(spec, "collapse on"))
    return spec


def _unsortable(spec: FieldSpec, what: str) -> str:
    """Why ``spec``'s field cannot be sorted or collapsed on by the local index."""
    if spec.kind in ("rank_feature", "rank_features"):
        return f"[{spec.es_type}] fields do not support sorting, scripting or aggregating"
    return (
        f"{what} field [{spec.name}] of type [{spec.es_type}] is not supported by the local "
        "index (keyword, numeric and date fields are)"
    )


def run_request(
    searcher: tantivy.Searcher,
    query: tantivy.Query,
    mapping: LocalMapping,
    *,
    size: int,
    options: Mapping[str, Any],
) -> Hits:
    """The top ``size`` hits of ``query`` under ES search-request ``options``."""
    unknown = sorted(set(options) - set(SUPPORTED_OPTIONS))
    if unknown:
        raise ValueError(
            f"option(s) {unknown} not supported by the local index "
            f"(supported: {list(SUPPORTED_OPTIONS)})"
        )
    sorted_by_request = options.get("sort") is not None
    keys = _parse_sort(options["sort"], mapping) if sorted_by_request else [SortKey("_score", True)]
    # 0 is ES's "no limit" (SearchContext.DEFAULT_TERMINATE_AFTER)
    terminate_after = _non_negative_int(options, "terminate_after") or None
    min_score = options.get("min_score")
    if min_score is not None and (
        isinstance(min_score, bool) or not isinstance(min_score, (int, float))
    ):
        raise ValueError(f"min_score must be a number, got {min_score!r}")
    collapse = _collapse_field(options, mapping)
    after = options.get("search_after")
    if (after is not None and collapse is not None) and (
        len(keys) != 1 or keys[0].name != collapse.name
    ):
        raise ValueError(
            "Cannot use [collapse] in conjunction with [search_after] unless the search is "
            "sorted on the same field. Multiple sort fields are not allowed."
        )
    after_values = _after_values(keys, after) if after is not None else None
    by_score = len(keys) == 1 and keys[0].name == "_score" and keys[0].descending
    if (
        by_score
        and after is None
        and collapse is None
        and not terminate_after
        and min_score is None
    ):
        return _top_by_score(searcher, query, size, sorted_by_request, options)

    found = searcher.search(query, limit=max(int(searcher.num_docs), 1), count=False)
    docs = sorted(
        (_Doc(float(score), (addr.segment_ord, addr.doc), addr) for score, addr in found.hits),
        key=lambda d: d.order,
    )
    if min_score is not None:  # before terminate_after counts, as ES's QueryPhaseCollector
        docs = [d for d in docs if d.score >= float(min_score)]
    terminated = terminate_after is not None and len(docs) > terminate_after
    if terminate_after is not None:
        docs = docs[:terminate_after]
    total = len(docs)

    bases = _doc_bases(searcher) if any(k.name == "_doc" for k in keys) else {}
    needs_source = any(k.is_field for k in keys) or collapse is not None
    for d in docs:
        if needs_source:
            d.source = stored_source(searcher.doc(d.addr))
        d.values = tuple(_sort_value(k, d, bases, mapping) for k in keys)
    cmp = functools.partial(_compare, keys)
    docs.sort(key=lambda d: (functools.cmp_to_key(cmp)(d.values), d.order))
    if after_values is not None:
        docs = [d for d in docs if cmp(d.values, after_values) > 0]
    if collapse is not None:
        docs = _collapsed(docs, collapse, mapping)

    track_scores = bool(options.get("track_scores")) or any(k.name == "_score" for k in keys)
    hits = []
    for d in docs[:size]:
        doc = searcher.doc(d.addr)
        source = d.source if d.source is not None else stored_source(doc)
        hits.append(
            Hit(
                id=str(doc.get_first(_ID)),
                score=d.score if track_scores else math.nan,
                source=source,
                sort=d.values if sorted_by_request else None,
            )
        )
    value, relation = _total(total, options.get("track_total_hits"), terminated)
    return Hits(hits, total=value, relation=relation)


def _top_by_score(
    searcher: tantivy.Searcher,
    query: tantivy.Query,
    size: int,
    with_sort: bool,
    options: Mapping[str, Any],
) -> Hits:
    """The common case, relevance order and nothing else: tantivy's top ``size`` (ties in
    index order) instead of ordering every match."""
    found = searcher.search(query, limit=max(size, 1), count=True)
    ordered = sorted(found.hits, key=lambda h: (-h[0], h[1].segment_ord, h[1].doc))[:size]
    hits = []
    for score, addr in ordered:
        doc = searcher.doc(addr)
        sort = (float(score),) if with_sort else None
        hits.append(Hit(str(doc.get_first(_ID)), float(score), stored_source(doc), sort))
    value, relation = _total(int(found.count or 0), options.get("track_total_hits"), False)  # type: ignore[attr-defined]
    return Hits(hits, total=value, relation=relation)


def _sort_value(key: SortKey, d: _Doc, bases: Mapping[int, int], mapping: LocalMapping) -> Any:
    if key.name == "_score":
        return d.score
    if key.name == "_doc":
        return bases.get(d.order[0], 0) + d.order[1]
    if key.spec is None:  # unmapped_type: every document misses the field
        return _missing_value(key)
    value = _select(key, _values(key.spec, d.source or {}, mapping))
    return _missing_value(key) if value is None else value


def _collapsed(docs: list[_Doc], spec: FieldSpec, mapping: LocalMapping) -> list[_Doc]:
    seen: set[Any] = set()
    out = []
    for d in docs:
        values = _values(spec, d.source or {}, mapping)
        if len(values) > 1:
            raise ValueError(
                f"failed to collapse, the collapse field [{spec.name}] must be single valued"
            )
        group = values[0] if values else None
        if group not in seen:
            seen.add(group)
            out.append(d)
    return out


def _total(total: int, track: Any, terminated: bool) -> tuple[int, TotalRelation]:
    """``hits.total`` under ``track_total_hits`` (ES's default counts up to 10,000)."""
    if track is None:
        track = 10_000
    if track is True or terminated:
        return total, "eq"
    if track is False:
        return 0, "gte"
    if isinstance(track, bool) or not isinstance(track, int) or track < 0:
        raise ValueError(
            f"track_total_hits must be a boolean or a non-negative integer, got {track!r}"
        )
    return (total, "eq") if total <= track else (track, "gte")
