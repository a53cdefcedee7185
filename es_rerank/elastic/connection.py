"""One way to connect to Elasticsearch: :class:`ConnectionOptions` (each option with an
``ES_*`` environment mirror), the client built from them, and the argparse group every
``es-rerank`` command that talks to a cluster uses.

===============  ====================================  ================
option           flag                                  environment
===============  ====================================  ================
``url``          ``--es-url``                          ``ES_URL``
``cloud_id``     ``--cloud-id``                        ``ES_CLOUD_ID``
``api_key``      ``--es-api-key``                      ``ES_API_KEY``
``username``     ``--es-username`` (``--es-user``)     ``ES_USERNAME``
``password``     ``--es-password``                     ``ES_PASSWORD``
``ca_certs``     ``--ca-certs``                        ``ES_CA_CERTS``
``insecure``     ``--insecure``                        ``ES_INSECURE``
===============  ====================================  ================

A flag wins over its variable. ``upload-model`` also takes eland's spellings (``--url``,
``-u``, ``-p``). Secrets never appear in ``repr`` or :meth:`ConnectionOptions.describe`.

>>> opts = ConnectionOptions.resolve(env={"ES_URL": "http://localhost:9200", "ES_API_KEY": "k"})
>>> opts.describe(), "k" in repr(opts)
('http://localhost:9200', False)
>>> client = opts.client()
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from elastic_transport import HttpxAsyncHttpNode
from elasticsearch import AsyncElasticsearch, Elasticsearch

from es_rerank.env import parse_bool
from es_rerank.errors import ConfigurationError
from es_rerank.urls import check_http_url

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "ENV_VARS",
    "ConnectionOptions",
    "add_connection_arguments",
    "connection_from_args",
    "refuse_cluster_flags",
]

DEFAULT_TIMEOUT_S = 60.0

#: Option -> environment variable.
ENV_VARS: Final[Mapping[str, str]] = {
    "url": "ES_URL",
    "cloud_id": "ES_CLOUD_ID",
    "api_key": "ES_API_KEY",
    "username": "ES_USERNAME",
    "password": "ES_PASSWORD",
    "ca_certs": "ES_CA_CERTS",
    "insecure": "ES_INSECURE",
}

# Option -> the flag named in error messages.
_FLAGS: Final[Mapping[str, str]] = {
    "url": "--es-url",
    "cloud_id": "--cloud-id",
    "api_key": "--es-api-key",
    "username": "--es-username",
    "password": "--es-password",
    "ca_certs": "--ca-certs",
    "insecure": "--insecure",
}


def _flag(option: str) -> str:
    return f"{_FLAGS[option]} ({ENV_VARS[option]})"


def _env_bool(name: str, text: str) -> bool:
    try:
        return parse_bool(text)
    except ValueError as exc:
        raise ConfigurationError(f"{name}: {exc}") from None


@dataclass(frozen=True)
class ConnectionOptions:
    """Where and how to connect. Build it with :meth:`resolve` (explicit values, then the
    environment); :meth:`client` checks it and returns an ``Elasticsearch`` client."""

    url: str | None = None
    cloud_id: str | None = None
    api_key: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_certs: str | None = None
    insecure: bool = False
    request_timeout: float = DEFAULT_TIMEOUT_S

    @classmethod
    def resolve(
        cls,
        *,
        url: str | None = None,
        cloud_id: str | None = None,
        api_key: str | None = None,
        username: str | None = None,
        password: str | None = None,
        ca_certs: str | None = None,
        insecure: bool | None = None,
        env: Mapping[str, str] | None = None,
        request_timeout: float = DEFAULT_TIMEOUT_S,
    ) -> ConnectionOptions:
        """Options from explicit values (``None`` = not given), each missing one read from
        its ``ES_*`` variable in ``env`` (default ``os.environ``)."""
        env = os.environ if env is None else env

        def pick(value: str | None, option: str) -> str | None:
            return value or env.get(ENV_VARS[option]) or None

        if insecure is None:
            insecure = _env_bool(ENV_VARS["insecure"], env.get(ENV_VARS["insecure"], ""))
        return cls(
            url=pick(url, "url"),
            cloud_id=pick(cloud_id, "cloud_id"),
            api_key=pick(api_key, "api_key"),
            username=pick(username, "username"),
            password=pick(password, "password"),
            ca_certs=pick(ca_certs, "ca_certs"),
            insecure=insecure,
            request_timeout=request_timeout,
        )

    @property
    def configured(self) -> bool:
        """True when a cluster is named (a URL or a cloud id)."""
        return bool(self.url or self.cloud_id)

    def check(self) -> None:
        """Raise :class:`ConfigurationError` naming the flags when the options cannot work."""
        if not self.configured:
            raise ConfigurationError(
                f"no Elasticsearch to connect to: pass {_flag('url')} or {_flag('cloud_id')}"
            )
        if self.url and self.cloud_id:
            raise ConfigurationError(f"pass only one of {_flag('url')} and {_flag('cloud_id')}")
        if self.url:
            check_http_url(self.url, name=_FLAGS["url"], require_port=True)
        if self.password and not self.username:
            raise ConfigurationError(f"{_flag('password')} needs {_flag('username')}")
        if self.api_key and self.username:
            raise ConfigurationError(
                f"pass either {_flag('api_key')} or {_flag('username')}, not both"
            )
        if self.ca_certs and not os.path.isfile(self.ca_certs):
            raise ConfigurationError(f"{_flag('ca_certs')}: no such file {self.ca_certs!r}")

    def _client_kwargs(self) -> dict[str, Any]:
        self.check()
        kwargs: dict[str, Any] = {"request_timeout": self.request_timeout}
        if self.cloud_id:
            kwargs["cloud_id"] = self.cloud_id
        else:
            kwargs["hosts"] = [self.url]
        if self.api_key:
            kwargs["api_key"] = self.api_key
        elif self.username:
            kwargs["basic_auth"] = (self.username, self.password or "")
        if self.ca_certs:
            kwargs["ca_certs"] = self.ca_certs
        if self.insecure:
            kwargs["verify_certs"] = False
            kwargs["ssl_show_warn"] = False
        return kwargs

    def client(self) -> Elasticsearch:
        """An ``Elasticsearch`` client for these options (no request is made yet)."""
        kwargs = self._client_kwargs()
        try:
            return Elasticsearch(**kwargs)
        except ValueError as exc:  # e.g. a malformed cloud id
            raise ConfigurationError(f"{_flag('cloud_id')}: {exc}") from None

    def async_client(self) -> AsyncElasticsearch:
        """An ``AsyncElasticsearch`` client for these options, over httpx (no extra
        package needed), for :class:`es_rerank.asyncio.AsyncElasticsearchBackend`."""
        kwargs = self._client_kwargs()
        try:
            return AsyncElasticsearch(**kwargs, node_class=HttpxAsyncHttpNode)
        except ValueError as exc:
            raise ConfigurationError(f"{_flag('cloud_id')}: {exc}") from None

    def describe(self) -> str:
        """Where the options point, without credentials."""
        if self.cloud_id:
            return f"cloud id {self.cloud_id.split(':', 1)[0]}"
        return self.url or "(no cluster)"


def add_connection_arguments(
    parser: argparse.ArgumentParser, *, eland_aliases: bool = False
) -> None:
    """Add the connection flags (all optional; each has an ``ES_*`` mirror read later, so a
    flag given on the command line can be told apart from the environment).
    ``eland_aliases`` also accepts ``eland_import_hub_model``'s ``--url``, ``-u`` and ``-p``."""
    g = parser.add_argument_group(
        "Elasticsearch connection", "each flag falls back to its environment variable"
    )

    def alias(*names: str) -> list[str]:
        return list(names) if eland_aliases else []

    g.add_argument(
        "--es-url",
        *alias("--url"),
        dest="es_url",
        metavar="URL",
        help="cluster URL with port, e.g. http://localhost:9200 (env ES_URL)",
    )
    g.add_argument(
        "--cloud-id", dest="es_cloud_id", metavar="ID", help="Elastic Cloud id (env ES_CLOUD_ID)"
    )
    g.add_argument(
        "--es-api-key", dest="es_api_key", metavar="KEY", help="API key (env ES_API_KEY)"
    )
    g.add_argument(
        "--es-username",
        "--es-user",
        *alias("-u"),
        dest="es_username",
        metavar="USER",
        help="basic-auth user (env ES_USERNAME)",
    )
    g.add_argument(
        "--es-password",
        *alias("-p"),
        dest="es_password",
        metavar="PASSWORD",
        help="basic-auth password (env ES_PASSWORD)",
    )
    g.add_argument(
        "--ca-certs", dest="es_ca_certs", metavar="PEM", help="CA bundle for TLS (env ES_CA_CERTS)"
    )
    g.add_argument(
        "--insecure",
        dest="es_insecure",
        action="store_true",
        default=None,
        help="do not verify the cluster's TLS certificate (env ES_INSECURE=1)",
    )


def connection_from_args(
    args: argparse.Namespace, *, env: Mapping[str, str] | None = None
) -> ConnectionOptions:
    """:class:`ConnectionOptions` from flags added by :func:`add_connection_arguments`."""
    return ConnectionOptions.resolve(
        url=args.es_url,
        cloud_id=args.es_cloud_id,
        api_key=args.es_api_key,
        username=args.es_username,
        password=args.es_password,
        ca_certs=args.es_ca_certs,
        insecure=args.es_insecure,
        env=env,
    )


def refuse_cluster_flags(args: argparse.Namespace, *, beside: str = "--local PATH") -> None:
    """Raise :class:`ConfigurationError` when connection flags or ``--index`` were typed
    beside ``beside`` (the environment's ``ES_*`` variables do not count)."""
    typed = [_FLAGS[name] for name in ENV_VARS if getattr(args, f"es_{name}", None)]
    if getattr(args, "index", None):
        typed.append("--index")
    if typed:
        raise ConfigurationError(
            f"give either {beside} or a cluster ({', '.join(typed)}), not both"
        )
