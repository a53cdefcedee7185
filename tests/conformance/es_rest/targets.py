"""Where the YAML cases run. Each target answers the API calls the runner makes:
``indices.create``, ``index``, ``bulk``, ``indices.refresh``, ``indices.put_alias``,
``inference.put`` and ``search``.

- ``local-external``: an on-disk :class:`~es_rerank.LocalIndex` per YAML index, searched by
  ``es_rerank.search(..., mode="external")`` with the port of ES's test reranking service
  for every ``test_reranking_service`` endpoint the YAML creates; ``async-local-external``
  the same through ``await es_rerank.asyncio.search`` with async rerankers.
- ``es-external`` / ``es-native`` (``ES_URL`` set): the YAML's indices on a real cluster
  (names prefixed, deleted after); externally with the same port, natively with rerank
  endpoints served by the inference shim applying the port (``--scorer``).

Fields of types the local index lacks (``LOCAL_DROPPED``: ``sparse_vector``) are left out of
the local mapping and documents; a search that reads one raises :class:`NotApplicableError`,
and exclusions.yml lists those cases. ``dense_vector`` fields are mapped as they are;
``semantic_text`` fields embed with the local index's packaged bi-encoder instead of the
YAML's endpoint (ES's test plugin's synthetic embeddings: see :func:`local_semantic_text`).
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import es_rerank
import es_rerank.asyncio
from es_rerank.errors import LocalIndexError
from tests.conformance.es_rest.reranking_service import TestRerankingService
from tests.conformance.es_rest.runner import NotApplicableError, UnsupportedStepError
from tests.conformance.es_rest.search_call import SearchCall, field_names, response_body

__all__ = ["LOCAL_DROPPED", "LocalTarget", "drop_fields", "dynamic_type", "local_semantic_text"]

#: Field types the local index lacks: sparse vectors.
LOCAL_DROPPED = frozenset({"sparse_vector"})
#: On a real cluster only semantic_text is dropped: its inference endpoints are ES's test
#: plugin's, which a real cluster lacks.
ES_DROPPED = frozenset({"semantic_text"})


def drop_fields(
    body: Mapping[str, Any], types: frozenset[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """``body`` (an ``indices.create`` body) without fields of ``types``, and the dropped
    ``name -> type`` (``copy_to`` into a dropped field goes too)."""
    out = json.loads(json.dumps(body))
    props = (out.get("mappings") or {}).get("properties") or {}
    dropped = {n: s.get("type") for n, s in props.items() if s.get("type") in types}
    for name in dropped:
        del props[name]
    for spec in props.values():
        copy_to = spec.get("copy_to")
        targets = [copy_to] if isinstance(copy_to, str) else list(copy_to or [])
        kept = [t for t in targets if t not in dropped]
        if targets and not kept:
            del spec["copy_to"]
        elif kept != targets:
            spec["copy_to"] = kept
    return out, dropped


def local_semantic_text(body: dict[str, Any]) -> None:
    """Point every semantic_text field of an ``indices.create`` body at the local index's
    packaged bi-encoder (in place): ES's tests name their test plugin's endpoints, whose
    synthetic embeddings no local model reproduces, so only cases whose assertions do not
    depend on the embeddings can pass (exclusions.yml lists the others)."""
    props = (body.get("mappings") or {}).get("properties") or {}
    for spec in props.values():
        if isinstance(spec, dict) and spec.get("type") == "semantic_text":
            for key in ("inference_id", "search_inference_id", "index_options"):
                spec.pop(key, None)


def dynamic_type(value: Any) -> dict[str, Any] | None:
    """ES's dynamic mapping of a new field's first value (``None``: no field, e.g. null)."""
    if isinstance(value, list):
        return next((t for t in map(dynamic_type, value) if t is not None), None)
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "long"}
    if isinstance(value, float):
        return {"type": "float"}
    if isinstance(value, str):
        return {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}
    if isinstance(value, Mapping):
        return {"properties": {k: t for k, v in value.items() if (t := dynamic_type(v))}}
    return None


@dataclass
class _Index:
    body: dict[str, Any]
    dropped: dict[str, str] = field(default_factory=dict)
    #: id -> source in index order (a re-indexed document moves to the end, as in Lucene)
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    built: Any = None  # the LocalIndex of the current documents, or None when stale


def bulk_items(args: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(index, id, source)`` of each ``index``/``create`` action of a bulk body."""
    body = args["body"]
    if isinstance(body, str):  # `body: |` holds JSON objects, one per line or spread out
        lines, decoder, at = [], json.JSONDecoder(), 0
        while body[at:].strip():
            at += len(body[at:]) - len(body[at:].lstrip())
            item, at = decoder.raw_decode(body, at)
            lines.append(item)
    else:
        lines = [json.loads(x) if isinstance(x, str) else x for x in body]
    for action, source in zip(lines[::2], lines[1::2], strict=True):
        ((op, meta),) = action.items()
        if op not in ("index", "create"):
            raise UnsupportedStepError(f"bulk action {op!r}")
        yield str(meta.get("_index", args.get("index"))), str(meta["_id"]), source


class _Bookkeeping:
    """Indices, aliases and endpoints as the YAML creates them."""

    name = ""
    dropped_types: frozenset[str] = frozenset()

    def __init__(self, seed: int = 0) -> None:
        self.indices: dict[str, _Index] = {}
        self.aliases: dict[str, list[str]] = {}
        self.rerankers: dict[str, TestRerankingService] = {}
        self.rng = random.Random(seed)

    def call(self, api: str, args: Mapping[str, Any]) -> Any:
        handler: Callable[[Mapping[str, Any]], Any] | None = getattr(
            self, "_" + api.replace(".", "_"), None
        )
        if handler is None:
            raise UnsupportedStepError(f"API {api!r}")
        return handler(args)

    def _indices_create(self, args: Mapping[str, Any]) -> Any:
        body, dropped = drop_fields(args.get("body") or {}, self.dropped_types)
        self.indices[str(args["index"])] = _Index(body, dropped)
        return {"acknowledged": True}

    def _put_doc(self, index: str, doc_id: str, source: Mapping[str, Any]) -> None:
        state = self.indices.setdefault(index, _Index({}))
        state.docs.pop(doc_id, None)
        state.docs[doc_id] = {k: v for k, v in source.items() if k not in state.dropped}
        state.built = None

    def _index(self, args: Mapping[str, Any]) -> Any:
        self._put_doc(str(args["index"]), str(args["id"]), args["body"])
        return {"result": "created"}

    def _bulk(self, args: Mapping[str, Any]) -> Any:
        for index, doc_id, source in bulk_items(args):
            self._put_doc(index, doc_id, source)
        return {"errors": False}

    def _indices_refresh(self, args: Mapping[str, Any]) -> Any:
        return {}

    def _indices_put_alias(self, args: Mapping[str, Any]) -> Any:
        self.aliases.setdefault(str(args["name"]), []).append(str(args["index"]))
        return {"acknowledged": True}

    def _inference_put(self, args: Mapping[str, Any]) -> Any:
        body = args["body"]
        body = json.loads(body) if isinstance(body, str) else dict(body)
        if args.get("task_type") == "rerank" and body.get("service") == "test_reranking_service":
            self.rerankers[str(args["inference_id"])] = TestRerankingService(
                body.get("task_settings"), rng=self.rng
            )
        return {"inference_id": args["inference_id"]}

    def _one_index(self, call: SearchCall) -> tuple[str, _Index]:
        names = self.aliases.get(str(call.index), [str(call.index)])
        if len(names) != 1 or names[0] not in self.indices:
            raise NotApplicableError(f"a search over {names} (one existing index is searched)")
        state = self.indices[names[0]]
        read = reranked_fields(call.retriever) & set(state.dropped)
        if read:
            raise NotApplicableError(
                f"the search reads {sorted(read)} of type "
                f"{sorted({state.dropped[f] for f in read})}, which {self.name} lacks"
            )
        if state.dropped and _queries_all_fields(call.retriever):
            raise NotApplicableError(
                f"the multi-field format over all fields would read {sorted(state.dropped)}, "
                f"which {self.name} lacks"
            )
        return names[0], state


def reranked_fields(node: Any) -> set[str]:
    """The ``field`` of every ``text_similarity_reranker`` in a retriever body."""
    out: set[str] = set()
    if isinstance(node, Mapping):
        tsr = node.get("text_similarity_reranker")
        if isinstance(tsr, Mapping) and isinstance(tsr.get("field"), str):
            out.add(tsr["field"])
        for value in node.values():
            out |= reranked_fields(value)
    elif isinstance(node, list):
        for value in node:
            out |= reranked_fields(value)
    return out


def _queries_all_fields(node: Any) -> bool:
    """An rrf/linear node in the multi-field format without ``fields`` (all fields)."""
    if isinstance(node, Mapping):
        for kind in ("rrf", "linear"):
            spec = node.get(kind)
            if isinstance(spec, Mapping) and "query" in spec and "fields" not in spec:
                return True
        return any(_queries_all_fields(v) for v in node.values())
    if isinstance(node, list):
        return any(_queries_all_fields(v) for v in node)
    return False


class _Guarded:
    """The local index as a backend, built on its first query (so ES's parse-time
    validation runs first, as it does in ES), refusing (NotApplicableError) any query that
    names a field of a type the local index lacks."""

    def __init__(self, build: Callable[[], Any], dropped: Mapping[str, str], target: str) -> None:
        self._build = build
        self._dropped = dropped
        self._target = target

    def __getattr__(self, name: str) -> Any:
        if not hasattr(es_rerank.LocalIndex, name):
            raise AttributeError(name)  # capability probes must not build the index
        if not callable(getattr(es_rerank.LocalIndex, name)):
            return getattr(self._build(), name)

        def guarded(*args: Any, **kwargs: Any) -> Any:
            read = field_names([*args, *kwargs.values()]) & set(self._dropped)
            if read:
                types = sorted({self._dropped[f] for f in read})
                raise NotApplicableError(
                    f"the search reads {sorted(read)} of type {types}, which {self._target} lacks"
                )
            return getattr(self._build(), name)(*args, **kwargs)

        return guarded


def _mapping(state: _Index) -> dict[str, Any]:
    """The index's explicit mapping plus ES's dynamic mapping of its other fields."""
    body = json.loads(json.dumps(state.body))
    props = body.setdefault("mappings", {}).setdefault("properties", {})
    for source in state.docs.values():
        for name, value in source.items():
            if name not in props and (spec := dynamic_type(value)) is not None:
                props[name] = spec
    return body


def _awaitable(reranker: TestRerankingService) -> Callable[[str, Any], Any]:
    async def rerank(query: str, texts: Any) -> list[float]:
        await asyncio.sleep(0)
        return reranker.rerank(query, texts)

    return rerank


class LocalTarget(_Bookkeeping):
    """Each YAML index is an on-disk LocalIndex under ``root``, rebuilt from its documents
    in index order whenever they changed before a search. With ``asynchronous``, searches
    run through ``await es_rerank.asyncio.search`` with async rerankers."""

    dropped_types = LOCAL_DROPPED

    def __init__(self, root: Path, seed: int = 0, *, asynchronous: bool = False) -> None:
        super().__init__(seed)
        self.root = root
        self.asynchronous = asynchronous
        self.name = "async-local-external" if asynchronous else "local-external"

    def _indices_create(self, args: Mapping[str, Any]) -> Any:
        out = super()._indices_create(args)
        local_semantic_text(self.indices[str(args["index"])].body)
        return out

    def _built(self, name: str, state: _Index) -> Any:
        if state.built is None:
            path = self.root / f"{name}-{uuid.uuid4().hex[:6]}"
            index = es_rerank.LocalIndex(path, mapping=_mapping(state))
            docs = [{"_id": i, **s} for i, s in state.docs.items()]
            result = index.add(docs, id_field="_id", progress=False)
            if result.rejected:
                shutil.rmtree(path, ignore_errors=True)
                raise LocalIndexError(
                    f"documents rejected: {[(r.id, r.reason) for r in result.rejected]}"
                )
            state.built = index
        return state.built

    def _search(self, args: Mapping[str, Any]) -> Any:
        call = SearchCall(args)
        # ES validates the whole request before it reads any field: parse errors come first.
        es_rerank.retriever_from_dict(call.retriever)
        name, state = self._one_index(call)
        backend = _Guarded(lambda: self._built(name, state), state.dropped, self.name)
        if self.asynchronous:
            rerankers = {k: _awaitable(v) for k, v in self.rerankers.items()}
            result = asyncio.run(
                es_rerank.asyncio.search(
                    call.retriever,
                    backend=backend,
                    reranker=rerankers,
                    mode="external",
                    **call.kwargs(),
                )
            )
        else:
            result = es_rerank.search(
                call.retriever,
                backend=backend,
                reranker=dict(self.rerankers),
                mode="external",
                **call.kwargs(),
            )
        return response_body(result, call, name)
