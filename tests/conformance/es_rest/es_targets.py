"""The YAML cases on a real cluster (``ES_URL``): ``es-external`` (the cluster runs each
leaf query, es-rerank applies the retriever rules and the port of ES's test reranking
service) and ``es-native`` (the cluster runs the whole retriever; its rerank endpoints are
``hugging_face`` endpoints on an inference shim serving the same port with ``--scorer``).

Index and endpoint names get a unique prefix (deleted after); the YAML's names in the
search (``index``, ``inference_id``, pinned ``_index``) are rewritten to match.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import es_rerank
from es_rerank.elastic import ElasticsearchBackend, create_endpoint, delete_endpoint, endpoint_body
from tests.conformance.es_rest.runner import NotApplicableError
from tests.conformance.es_rest.search_call import SearchCall, field_names, response_body
from tests.conformance.es_rest.targets import ES_DROPPED, _Bookkeeping, bulk_items

__all__ = ["EsTarget"]

#: The shim's scorer: ES's test reranking service with empty task settings.
SHIM_SCORER = "tests.conformance.es_rest.reranking_service:default_scorer"
SHIM_KEY = "es-rest-yaml"


def _rename(node: Any, names: Mapping[str, str], keys: frozenset[str]) -> Any:
    if isinstance(node, Mapping):
        return {
            k: names.get(v, v) if k in keys and isinstance(v, str) else _rename(v, names, keys)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rename(v, names, keys) for v in node]
    return node


class EsTarget(_Bookkeeping):
    """``mode`` is ``"external"`` or ``"native"``; ``shim_url`` (native) is where the
    cluster reaches the shim serving :data:`SHIM_SCORER`."""

    dropped_types = ES_DROPPED

    def __init__(self, client: Any, mode: str, shim_url: str | None = None) -> None:
        super().__init__()
        self.client = client
        self.mode = mode
        self.name = f"es-{mode}"
        self.shim_url = shim_url
        self.prefix = f"es-rerank-yaml-{uuid.uuid4().hex[:8]}"
        self.real: dict[str, str] = {}  # YAML index/alias/endpoint name -> cluster name
        self.created_endpoints: list[str] = []

    def _real(self, name: str) -> str:
        return self.real.setdefault(name, f"{self.prefix}-{name}")

    def _indices_create(self, args: Mapping[str, Any]) -> Any:
        super()._indices_create(args)
        body = self.indices[str(args["index"])].body
        return self.client.indices.create(index=self._real(str(args["index"])), **body).body

    def _index(self, args: Mapping[str, Any]) -> Any:
        super()._index(args)
        index = str(args["index"])
        source = self.indices[index].docs[str(args["id"])]
        return self.client.index(
            index=self._real(index), id=str(args["id"]), document=source, refresh=True
        ).body

    def _bulk(self, args: Mapping[str, Any]) -> Any:
        super()._bulk(args)
        for index, doc_id, _ in bulk_items(args):
            source = self.indices[index].docs[doc_id]
            self.client.index(index=self._real(index), id=doc_id, document=source)
        self.client.indices.refresh(index=f"{self.prefix}-*")
        return {"errors": False}

    def _indices_put_alias(self, args: Mapping[str, Any]) -> Any:
        super()._indices_put_alias(args)
        return self.client.indices.put_alias(
            index=self._real(str(args["index"])), name=self._real(str(args["name"]))
        ).body

    def _inference_put(self, args: Mapping[str, Any]) -> Any:
        out = super()._inference_put(args)
        inference_id = str(args["inference_id"])
        if self.mode == "native" and inference_id in self.rerankers:
            if self.shim_url is None:
                raise NotApplicableError("es-native needs the shim's URL")
            real = self._real(inference_id)
            body = endpoint_body("hugging_face", url=self.shim_url, api_key=SHIM_KEY)
            create_endpoint(self.client, inference_id=real, body=body)
            self.created_endpoints.append(real)
        return out

    def _search(self, args: Mapping[str, Any]) -> Any:
        call = SearchCall(args)
        names = self.aliases.get(str(call.index), [str(call.index)])
        dropped = {f for n in names if n in self.indices for f in self.indices[n].dropped}
        if field_names(call.retriever) & dropped:
            raise NotApplicableError(f"the search reads {sorted(dropped)}, which {self.name} lacks")
        retriever = _rename(call.retriever, self.real, frozenset({"_index"}))
        if self.mode == "native":
            retriever = _rename(retriever, self.real, frozenset({"inference_id"}))
        real_index = ",".join(self._real(n) for n in str(call.index).split(","))
        backend = ElasticsearchBackend(self.client, real_index)
        result = es_rerank.search(
            retriever,
            backend=backend,
            reranker=None if self.mode == "native" else dict(self.rerankers),
            mode=self.mode,  # type: ignore[arg-type]
            **call.kwargs(),
        )
        body = response_body(result, call, str(call.index))
        yaml_name = {real: name for name, real in self.real.items()}
        for hit in body["hits"]["hits"]:
            hit["_index"] = yaml_name.get(hit["_index"], hit["_index"])
        return json.loads(json.dumps(body))

    def close(self) -> None:
        for real in self.created_endpoints:
            delete_endpoint(self.client, inference_id=real, force=True)
        # By name: ES refuses wildcard deletes (action.destructive_requires_name).
        for name in self.indices:
            self.client.indices.delete(index=self._real(name), ignore_unavailable=True)
