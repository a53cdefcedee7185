"""Cluster-level calls: version, license, readiness, and creating an index from a mapping.

>>> parse_version("9.1.0-SNAPSHOT")
(9, 1, 0)
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from es_rerank.documents import resolve_mapping
from es_rerank.elastic.errors import translated
from es_rerank.errors import ElasticsearchConnectionError

__all__ = ["cluster_version", "ensure_index", "license_type", "parse_version", "wait_for_cluster"]


def parse_version(number: str) -> tuple[int, int, int]:
    """``"9.1.0"`` (or ``"9.1.0-SNAPSHOT"``) as ``(9, 1, 0)``."""
    parts = [int(m.group(0)) for p in number.split(".")[:3] if (m := re.match(r"\d+", p))]
    padded = [*parts, 0, 0, 0][:3]
    return (padded[0], padded[1], padded[2])


def cluster_version(client: Elasticsearch) -> tuple[int, int, int]:
    """The cluster's version (``GET /``); serverless projects count as 9.0.0."""
    with translated():
        info = client.info()
    if info["version"].get("build_flavor") == "serverless":
        return (9, 0, 0)
    return parse_version(str(info["version"]["number"]))


def license_type(client: Elasticsearch) -> str:
    """``GET _license``: the license type in lower case, or ``"expired"``."""
    with translated():
        body = client.license.get().body
    lic = body.get("license") or {}
    if lic.get("status", "active") != "active":
        return "expired"
    return str(lic.get("type", "")).lower()


def wait_for_cluster(client: Elasticsearch, *, timeout_s: float = 120.0) -> None:
    """Wait until the cluster answers with at least yellow health (a starting container);
    :class:`ElasticsearchConnectionError` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with translated():
                client.cluster.health(wait_for_status="yellow", timeout="10s")
            return
        except ElasticsearchConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


def ensure_index(
    client: Elasticsearch, index: str, mapping: Mapping[str, Any] | str | Path
) -> bool:
    """Create ``index`` from ``mapping`` (a dict, a file, or a name in ``mappings/``) unless
    it exists; an existing index is left as it is. Returns True when it was created."""
    body = resolve_mapping(mapping)
    with translated():
        if client.indices.exists(index=index):
            return False
        client.indices.create(
            index=index, mappings=body.get("mappings"), settings=body.get("settings")
        )
    return True
