"""URL checks shared by every option that takes one: an ``http``/``https`` scheme and a host
are required, and nothing is guessed or appended behind the user's back.

>>> check_http_url("http://shim:8080", name="--url")
'http://shim:8080'
>>> try:
...     check_http_url("shim:8080", name="--url")
... except ConfigurationError as exc:
...     print(exc)
--url 'shim:8080' needs an http:// or https:// scheme, e.g. http://shim:8080
"""

from __future__ import annotations

from urllib.parse import urlsplit

from es_rerank.errors import ConfigurationError

__all__ = ["check_http_url", "url_path"]


def check_http_url(url: str, *, name: str, require_port: bool = False) -> str:
    """``url`` if it is an absolute http(s) URL with a host (and a port when
    ``require_port``), else :class:`ConfigurationError` naming ``name`` and an example."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        bare = text.split("://", 1)[-1].lstrip("/") or "host:port"
        raise ConfigurationError(
            f"{name} {url!r} needs an http:// or https:// scheme, e.g. http://{bare}"
        )
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError(f"{name} {url!r} has an invalid port") from None
    if not parts.hostname:
        raise ConfigurationError(f"{name} {url!r} has no host name")
    if require_port and port is None:
        raise ConfigurationError(
            f"{name} {url!r} has no port; write it out, e.g. {parts.scheme}://{parts.hostname}:"
            f"{9200 if parts.scheme == 'http' else 443}"
        )
    return text


def url_path(url: str) -> str:
    """The path of ``url`` without trailing slashes (``""`` for a bare base URL).

    >>> url_path("http://shim:8080/"), url_path("http://shim:8080/v2/rerank/")
    ('', '/v2/rerank')
    """
    return urlsplit(url).path.rstrip("/")
