"""One way to connect to Elasticsearch for every command: flags with environment mirrors.

``--es-url`` / ``ES_URL``, ``--cloud-id`` / ``ES_CLOUD_ID``, ``--es-api-key`` / ``ES_API_KEY``,
``--es-user`` / ``ES_USERNAME`` with ``--es-password`` / ``ES_PASSWORD``, ``--ca-certs`` /
``ES_CA_CERTS`` and ``--insecure``. Secrets are never echoed: :func:`describe` shows where a
client points without them.

>>> from es_rerank.connection import es_client
>>> client = es_client(url="http://localhost:9200", api_key="secret")
>>> describe(client)
'http://localhost:9200'
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import Any

from elasticsearch import Elasticsearch

__all__ = ["add_connection_arguments", "describe", "es_client", "es_client_from_args"]

DEFAULT_TIMEOUT_S = 60.0


def es_client(
    *,
    url: str | None = None,
    cloud_id: str | None = None,
    api_key: str | None = None,
    username: str | None = None,
    password: str | None = None,
    ca_certs: str | None = None,
    verify_certs: bool = True,
    request_timeout: float = DEFAULT_TIMEOUT_S,
    env: Mapping[str, str] | None = None,
) -> Elasticsearch:
    """An ``Elasticsearch`` client from explicit values, falling back to the environment.

    Raises ``ValueError`` naming the flags when neither a URL nor a cloud id is known.
    """
    env = os.environ if env is None else env
    url = url or env.get("ES_URL") or None
    cloud_id = cloud_id or env.get("ES_CLOUD_ID") or None
    api_key = api_key or env.get("ES_API_KEY") or None
    username = username or env.get("ES_USERNAME") or env.get("ES_USER") or None
    password = password or env.get("ES_PASSWORD") or None
    ca_certs = ca_certs or env.get("ES_CA_CERTS") or None
    if not url and not cloud_id:
        raise ValueError(
            "no Elasticsearch to connect to: pass --es-url URL or --cloud-id ID "
            "(or set ES_URL / ES_CLOUD_ID)"
        )
    if url and cloud_id:
        raise ValueError("pass only one of --es-url and --cloud-id")
    if password and not username:
        raise ValueError("--es-password (ES_PASSWORD) needs --es-user (ES_USERNAME)")
    kwargs: dict[str, Any] = {"request_timeout": request_timeout}
    if cloud_id:
        kwargs["cloud_id"] = cloud_id
    else:
        kwargs["hosts"] = [url]
    if api_key:
        kwargs["api_key"] = api_key
    elif username:
        kwargs["basic_auth"] = (username, password or "")
    if ca_certs:
        kwargs["ca_certs"] = ca_certs
    if not verify_certs:
        kwargs["verify_certs"] = False
        kwargs["ssl_show_warn"] = False
    return Elasticsearch(**kwargs)


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the connection flags (all optional; each has an environment mirror)."""
    g = parser.add_argument_group("Elasticsearch connection")
    g.add_argument("--es-url", metavar="URL", help="cluster URL (env ES_URL)")
    g.add_argument("--cloud-id", metavar="ID", help="Elastic Cloud id (env ES_CLOUD_ID)")
    g.add_argument("--es-api-key", metavar="KEY", help="API key (env ES_API_KEY)")
    g.add_argument("--es-user", metavar="USER", help="basic-auth user (env ES_USERNAME)")
    g.add_argument(
        "--es-password", metavar="PASSWORD", help="basic-auth password (env ES_PASSWORD)"
    )
    g.add_argument("--ca-certs", metavar="PEM", help="CA bundle for TLS (env ES_CA_CERTS)")
    g.add_argument(
        "--insecure", action="store_true", help="do not verify the cluster's TLS certificate"
    )


def es_client_from_args(args: argparse.Namespace) -> Elasticsearch:
    """The client for flags added by :func:`add_connection_arguments`."""
    return es_client(
        url=getattr(args, "es_url", None),
        cloud_id=getattr(args, "cloud_id", None),
        api_key=getattr(args, "es_api_key", None),
        username=getattr(args, "es_user", None),
        password=getattr(args, "es_password", None),
        ca_certs=getattr(args, "ca_certs", None),
        verify_certs=not getattr(args, "insecure", False),
    )


def describe(client: Elasticsearch) -> str:
    """Where the client points (hosts only: no credentials)."""
    nodes = client.transport.node_pool.all()
    return ", ".join(sorted(str(n.base_url) for n in nodes))
