"""Real-cluster tests. They run against ``ES_URL`` (with ``ES_API_KEY`` or
``ES_USERNAME``/``ES_PASSWORD``), or against Elasticsearch 9 started with testcontainers
when a Docker engine answers; otherwise every test here is skipped with the reason.

ES must reach the shims these tests start on this machine: they listen on 0.0.0.0 and ES
calls them at ``ES_RERANK_SHIM_HOST`` (default: ``host.docker.internal`` when ES runs in
Docker on this machine, else this machine's host name). The cluster needs an Enterprise or
trial license (the container gets a trial).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from elasticsearch import Elasticsearch

from es_rerank.elastic import ConnectionOptions

ES_IMAGE = os.environ.get(
    "ES_RERANK_TEST_ES_IMAGE", "docker.elastic.co/elasticsearch/elasticsearch:9.1.0"
)
SKIP_REASON = (
    "no Elasticsearch: set ES_URL (and ES_API_KEY or ES_USERNAME/ES_PASSWORD) "
    "or make Docker available"
)


@dataclass
class Cluster:
    client: Elasticsearch
    #: How ES reaches a server on this machine (host name or address, no port).
    shim_host: str
    #: The cluster's URL as this machine reaches it (None for a cloud id).
    url: str | None = None

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # no SDK, no socket, no permission: all mean "no Docker"
        return False


def _default_shim_host(es_url: str | None, in_docker: bool) -> str:
    host = urlsplit(es_url).hostname if es_url else None
    if in_docker or host in ("localhost", "127.0.0.1", "::1"):
        # A cluster in a container on this machine (docker/compose.yml maps this name).
        return "host.docker.internal"
    return socket.getfqdn()


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    if os.environ.get("ES_URL") or os.environ.get("ES_CLOUD_ID"):
        client = ConnectionOptions.resolve(request_timeout=120).client()
        client.info()  # ES_URL set but unreachable is a failure, not a skip
        shim_host = os.environ.get("ES_RERANK_SHIM_HOST") or _default_shim_host(
            os.environ.get("ES_URL"), in_docker=False
        )
        yield Cluster(client, shim_host, os.environ.get("ES_URL"))
        return
    if not _docker_answers():
        pytest.skip(SKIP_REASON)
    from testcontainers.community.elasticsearch import ElasticSearchContainer

    container = (
        ElasticSearchContainer(ES_IMAGE, mem_limit="4G")
        .with_env("xpack.license.self_generated.type", "trial")
        .with_env("ES_JAVA_OPTS", "-Xms1g -Xmx1g")
        .with_kwargs(extra_hosts={"host.docker.internal": "host-gateway"})
    )
    with container:
        url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(9200)}"
        client = Elasticsearch(url, request_timeout=120)
        client.cluster.health(wait_for_status="yellow", timeout="60s")
        shim_host = os.environ.get("ES_RERANK_SHIM_HOST") or "host.docker.internal"
        yield Cluster(client, shim_host, url)
