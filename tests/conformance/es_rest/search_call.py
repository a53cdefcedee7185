"""From a YAML ``search`` call to ``es_rerank.search`` arguments, and from a
``SearchResult`` back to the ``_search`` response body the assertions read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from es_rerank import SearchResult

__all__ = ["SearchCall", "field_names", "response_body"]

#: Body keys that map onto es_rerank.search's own arguments.
_OWN = {"retriever", "size", "from", "_source", "fields", "explain"}


class SearchCall:
    """The arguments of one ``search`` step: ``retriever``, ``size``, ``from_``,
    ``source``, ``explain``; ``fields`` (answered from ``_source``); everything else in the
    body goes to ``es_rerank.search`` as a top-level parameter (which refuses what ES
    refuses next to a retriever, and what it does not know)."""

    def __init__(self, args: Mapping[str, Any]) -> None:
        unknown = set(args) - {"index", "body", "size", "from", "explain"}
        if unknown:  # e.g. rest_total_hits_as_int: never dropped without a word
            raise ValueError(f"search parameters the runner does not map: {sorted(unknown)}")
        body: dict[str, Any] = dict(args.get("body") or {})
        if "retriever" not in body:
            raise ValueError("the runner only runs searches with a retriever")
        index = args.get("index")
        self.index = ",".join(map(str, index)) if isinstance(index, list) else index
        self.retriever: dict[str, Any] = body["retriever"]
        # a size left out stays out: es_rerank.search then applies ES's default for the tree
        size = body.get("size", args.get("size"))
        self.size = None if size is None else int(size)
        self.from_ = int(body.get("from", args.get("from", 0)))
        self.source: bool | list[str] = body.get("_source", True)
        self.explain = bool(body.get("explain", args.get("explain", False)))
        self.fields = [f if isinstance(f, str) else f["field"] for f in body.get("fields", [])]
        self.top_level = {k: v for k, v in body.items() if k not in _OWN}

    def kwargs(self) -> dict[str, Any]:
        return {
            **({} if self.size is None else {"size": self.size}),
            "from_": self.from_,
            "source": self.source,
            "explain": self.explain,
            **self.top_level,
        }


def field_names(node: Any) -> set[str]:
    """Every string and key in a request body (to spot a field the target lacks)."""
    if isinstance(node, Mapping):
        return {str(k) for k in node} | {n for v in node.values() for n in field_names(v)}
    if isinstance(node, list):
        return {n for v in node for n in field_names(v)}
    return {node} if isinstance(node, str) else set()


def _es_float(score: float) -> float:
    """A score as ES's JSON carries it: a float32 written shortest (``1.7014124E38``)."""
    return float(repr(np.float32(score)).removeprefix("np.float32(").removesuffix(")"))


def _fields(source: Mapping[str, Any], wanted: list[str]) -> dict[str, list[Any]]:
    """ES's ``fields`` for text/keyword/numeric source values: always arrays."""
    out: dict[str, list[Any]] = {}
    for name in wanted:
        value = source.get(name)
        if value is None:
            continue
        out[name] = value if isinstance(value, list) else [value]
    return out


def response_body(result: SearchResult, call: SearchCall, index: str) -> dict[str, Any]:
    hits = []
    for h in result.hits:
        hit: dict[str, Any] = {"_index": h.index or index, "_id": h.id,
                               "_score": _es_float(h.score)}  # fmt: skip
        if call.source is not False:
            hit["_source"] = dict(h.source)
        if call.fields:
            found = _fields(h.source, call.fields)
            if found:
                hit["fields"] = found
        hits.append(hit)
    body = {
        "hits": {
            "total": {"value": result.total, "relation": result.total_relation},
            "max_score": max((h["_score"] for h in hits), default=None),
            "hits": hits,
        }
    }
    return json.loads(json.dumps(body))
