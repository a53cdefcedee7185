"""A real HTTP server on loopback that answers like Elasticsearch from canned JSON and records
every request (method, path, query, body), for checking what elasticsearch-py really sends."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

INFO = {
    "name": "node-1",
    "cluster_name": "recording",
    "version": {"number": "9.1.0", "build_flavor": "default"},
    "tagline": "You Know, for Search",
}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]


Reply = tuple[int, Any]
Route = tuple[str, str, Callable[[Recorded], Reply] | Reply]


@dataclass
class RecordingES:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)

    def on(self, method: str, path_regex: str, reply: Callable[[Recorded], Reply] | Reply) -> None:
        """Answer ``method`` on a path fully matching ``path_regex`` (latest rule wins)."""
        self.routes.insert(0, (method, path_regex, reply))

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests]


@contextmanager
def recording_es() -> Iterator[RecordingES]:
    rec = RecordingES(url="")
    rec.on("GET", "/", (200, INFO))

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            r = Recorded(
                self.command,
                parts.path,
                parse_qs(parts.query),
                body,
                {k.lower(): v for k, v in self.headers.items()},
            )
            rec.requests.append(r)
            status, payload = (
                404,
                {"error": {"type": "no_route", "reason": self.path}, "status": 404},
            )
            for method, regex, reply in rec.routes:
                if method == self.command and re.fullmatch(regex, parts.path):
                    status, payload = reply(r) if callable(reply) else reply
                    break
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
