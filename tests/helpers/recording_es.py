"""A real HTTP server on loopback that answers like Elasticsearch from canned JSON and records
every request (method, path, query, body), for checking what elasticsearch-py really sends."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.helpers.recording_server import Recorded as RawRecorded
from tests.helpers.recording_server import Reply as RawReply
from tests.helpers.recording_server import serve

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

    def answer(raw: RawRecorded) -> RawReply:
        parts = urlsplit(raw.path)
        r = Recorded(raw.method, parts.path, parse_qs(parts.query), raw.body, raw.headers)
        rec.requests.append(r)
        status, payload = 404, {"error": {"type": "no_route", "reason": raw.path}, "status": 404}
        for method, regex, reply in rec.routes:
            if method == r.method and re.fullmatch(regex, r.path):
                status, payload = reply(r) if callable(reply) else reply
                break
        return RawReply(status=status, body=payload)

    with serve(answer, default_headers={"X-Elastic-Product": "Elasticsearch"}) as server:
        rec.url = server.url
        yield rec
