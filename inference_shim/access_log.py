"""Logging: the process's log format (``--log-format text|json``, ``--log-level``) and one
access line per request (method, route, status, pairs, total ms; queue and compute ms
when known).

>>> import io
>>> out = io.StringIO()
>>> configure_logging("json", "info", stream=out)
>>> access_line(method="POST", route="/rerank", status=200, total_ms=12.34, pairs=3)
>>> line = json.loads(out.getvalue())
>>> line["method"], line["route"], line["status"], line["pairs"], line["total_ms"]
('POST', '/rerank', 200, 3, 12.3)
>>> configure_logging("text", "info", stream=out)
>>> access_line(method="GET", route="/health", status=200, total_ms=0.51)
>>> out.getvalue().splitlines()[-1].split(" inference_shim.access INFO ")[1]
'GET /health 200 total_ms=0.5'
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, Response, g, request

from inference_shim.app import TIMING

__all__ = [
    "ACCESS_LOG",
    "JsonFormatter",
    "access_line",
    "configure_logging",
    "install_access_log",
    "log_protocol_error",
]

ACCESS_LOG = logging.getLogger("inference_shim.access")

_TEXT_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
_STARTED = "inference_shim.started"  # WSGI environ key: when the app got the request
_LONGEST_PATH = 200  # unmatched paths are logged cut to this many characters


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the access fields."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line: dict[str, Any] = {
            "time": stamp.replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "access", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(fmt: str, level: str, *, stream: IO[str] | None = None) -> None:
    """Send every log record to ``stream`` (stderr) in ``fmt`` at ``level`` and above."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(_TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())


def access_line(
    *,
    method: str,
    route: str,
    status: int,
    total_ms: float,
    pairs: int | None = None,
    queue_ms: float | None = None,
    compute_ms: float | None = None,
) -> None:
    """Log one request; fields that are not known (None) are left out."""
    measured: dict[str, Any] = {"pairs": pairs}
    measured.update(
        (k, None if v is None else round(v, 1))
        for k, v in (("queue_ms", queue_ms), ("compute_ms", compute_ms), ("total_ms", total_ms))
    )
    known = {k: v for k, v in measured.items() if v is not None}
    text = " ".join([method, route, str(status), *(f"{k}={v}" for k, v in known.items())])
    fields = {"method": method, "route": route, "status": status, **known}
    ACCESS_LOG.info(text, extra={"access": fields})


def _route() -> str:
    if request.url_rule is not None:
        return request.url_rule.rule
    # An unknown path is the client's text: escaped and cut, never logged raw.
    return json.dumps(request.path[:_LONGEST_PATH], ensure_ascii=True)[1:-1]


def install_access_log(app: Flask) -> None:
    """Log one access line for every request the app answers (errors included)."""
    inner: Callable[[dict[str, Any], Any], Iterable[bytes]] = app.wsgi_app

    def timed(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ[_STARTED] = time.perf_counter()
        return inner(environ, start_response)

    app.wsgi_app = timed  # type: ignore[method-assign]

    @app.after_request
    def _access(resp: Response) -> Response:
        started = request.environ.get(_STARTED, time.perf_counter())
        timing = request.environ.get(TIMING)  # the engine's, for a scored request
        access_line(
            method=request.method,
            route=_route(),
            status=resp.status_code,
            total_ms=(time.perf_counter() - started) * 1000.0,
            pairs=g.get("pairs"),
            queue_ms=None if timing is None else timing.queue_s * 1000.0,
            compute_ms=None if timing is None else timing.inference_s * 1000.0,
        )
        return resp


def log_protocol_error(request_: Any, status: int, started: float) -> None:
    """Access line for a request waitress refused before the app saw it (its request line
    may not have been read, so method and route are "-")."""
    access_line(
        method="-",
        route="-",
        status=status,
        total_ms=max(0.0, (time.time() - started) * 1000.0),
    )
