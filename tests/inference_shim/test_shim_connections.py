"""The server under hostile connections and shutdown, over real sockets: protocol errors in
the JSON error shape, idle and slow-header floods, the connection cap, SIGTERM with requests
in flight, a client that disconnects, and the access log."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from inference_shim.config import settings_from_argv
from tests.helpers.shim import ShimProcess
from tests.inference_shim.raw_http import (
    RawReply,
    address,
    closed_by_peer,
    exchange,
    read_reply,
    request_bytes,
)

pytestmark = pytest.mark.slow

BODY = json.dumps({"query": "berlin", "texts": ["berlin city", "paris"]}).encode()
# Generous "does not hang" bound; the measured figures are in RELIABILITY.md.
PROMPT_S = 10.0


@pytest.fixture(scope="module")
def shim() -> Iterator[ShimProcess]:
    server = ShimProcess(
        [
            "--scorer",
            "tests.inference_shim.scorers:overlap",
            "--max-payload-bytes",
            "100000",
            "--header-timeout",
            "2",
        ]
    )
    yield server
    assert server.terminate() == 0


def _healthy(url: str) -> bool:
    return httpx.get(url + "/health", timeout=PROMPT_S).status_code == 200


PROTOCOL_ERRORS = [
    (
        "malformed chunk size",
        b"POST /rerank HTTP/1.1\r\nHost: shim\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n",
        400,
        "BadRequest",
        "chunk",
    ),
    (
        "negative Content-Length",
        b"POST /rerank HTTP/1.1\r\nHost: shim\r\nContent-Type: application/json\r\n"
        b"Content-Length: -5\r\n\r\n",
        400,
        "BadRequest",
        "Content-Length",
    ),
    ("garbage request line", b"GARBAGE\x01 LINE\r\n\r\n", 400, "BadRequest", "line"),
    (
        "300 KB header",
        b"GET /health HTTP/1.1\r\nHost: shim\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n",
        431,
        "RequestHeaderFieldsTooLarge",
        "262144 bytes",
    ),
    ("bare LF line endings", b"GET /health HTTP/1.1\nHost: shim\n\n", 400, "BadRequest", "CRLF"),
    (
        "body above --max-payload-bytes (announced)",
        b"POST /rerank HTTP/1.1\r\nHost: shim\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000000\r\n\r\n",
        413,
        "PayloadTooLarge",
        "100000 bytes",
    ),
    (
        "chunked body above --max-payload-bytes",
        b"POST /rerank HTTP/1.1\r\nHost: shim\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + (b"%x\r\n" % 60_000 + b"a" * 60_000 + b"\r\n") * 2,
        413,
        "PayloadTooLarge",
        "100000 bytes",
    ),
    (
        "chunk size 2^72 (announced)",
        b"POST /rerank HTTP/1.1\r\nHost: shim\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\nabc" % 2**72,
        413,
        "PayloadTooLarge",
        "100000 bytes",
    ),
    (
        "HTTP/9.9",
        b"GET /health HTTP/9.9\r\nHost: shim\r\n\r\n",
        505,
        "HTTPVersionNotSupported",
        "HTTP/1.1",
    ),
    (
        "HTTP/2.0 without an upgrade",
        b"GET /health HTTP/2.0\r\nHost: shim\r\n\r\n",
        505,
        "HTTPVersionNotSupported",
        "HTTP/1.1",
    ),
]


@pytest.mark.parametrize(
    ("data", "status", "error_type", "needle"),
    [case[1:] for case in PROTOCOL_ERRORS],
    ids=[case[0] for case in PROTOCOL_ERRORS],
)
def test_protocol_errors_are_json(
    shim: ShimProcess, data: bytes, status: int, error_type: str, needle: str
) -> None:
    reply = exchange(shim.url, data, timeout=PROMPT_S)
    assert reply.status == status
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["connection"] == "close"
    body = reply.json()
    assert set(body) == {"error", "error_type"}
    assert body["error_type"] == error_type
    assert needle in body["error"]
    assert _healthy(shim.url)


def _read_until_closed(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_content_length_with_chunked_is_refused_and_closed(shim: ShimProcess) -> None:
    # RFC 9112 6.3: both headers may be a smuggling attempt; the connection must close. The
    # bytes after the chunked end are a second request a proxy reading Content-Length would
    # take as the first one's body.
    smuggled = request_bytes("POST", "/rerank", BODY)
    chunked = b"%x\r\n" % len(BODY) + BODY + b"\r\n0\r\n\r\n"
    data = (
        b"POST /rerank HTTP/1.1\r\nHost: shim\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n"
        % len(chunked)
        + chunked
        + smuggled
    )
    scored = _pairs_scored(shim.url)
    with socket.create_connection(address(shim.url), timeout=PROMPT_S) as sock:
        sock.sendall(data)
        replies = _read_until_closed(sock, PROMPT_S)
    assert replies.count(b"HTTP/1.1 ") == 1, replies
    head, _, body = replies.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"Connection: close" in head
    assert json.loads(body)["error_type"] == "BadRequest"
    assert b"Transfer-Encoding" in body
    assert _pairs_scored(shim.url) == scored  # neither request was served


def test_http_1_0_is_still_served(shim: ShimProcess) -> None:
    reply = exchange(shim.url, b"GET /health HTTP/1.0\r\n\r\n", timeout=PROMPT_S)
    assert reply.status == 200


def _keep_alive(url: str, count: int) -> list[socket.socket]:
    """``count`` connections that each made one request and stay open, idle."""
    socks = []
    for _ in range(count):
        sock = socket.create_connection(address(url), timeout=PROMPT_S)
        sock.sendall(request_bytes("GET", "/health"))
        assert read_reply(sock).status == 200
        socks.append(sock)
    return socks


def test_idle_keep_alive_connections_do_not_lock_clients_out(shim: ShimProcess) -> None:
    socks = _keep_alive(shim.url, 300)
    try:
        started = time.monotonic()
        reply = httpx.post(shim.url + "/rerank", content=BODY, timeout=PROMPT_S, headers=_JSON)
        assert reply.status_code == 200
        assert time.monotonic() - started < PROMPT_S
        # ... and the idle ones were not dropped for it (the cap is far away).
        socks[0].sendall(request_bytes("GET", "/health"))
        assert read_reply(socks[0]).status == 200
    finally:
        for sock in socks:
            sock.close()


_JSON = {"Content-Type": "application/json"}


def test_slowloris_connections_are_closed_and_probes_answered(shim: ShimProcess) -> None:
    socks = []
    for _ in range(110):
        sock = socket.create_connection(address(shim.url), timeout=PROMPT_S)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: shim\r\n")
        socks.append(sock)
    stop = threading.Event()

    def trickle() -> None:  # one header line a second: never idle, never finished
        while not stop.wait(0.5):
            for sock in socks:
                with contextlib.suppress(OSError):
                    sock.sendall(b"X-Slow: 1\r\n")

    feeder = threading.Thread(target=trickle, daemon=True)
    feeder.start()
    try:
        for _ in range(3):
            assert _healthy(shim.url)
        # --header-timeout 2: every slow connection is closed by the server.
        deadline = time.monotonic() + PROMPT_S
        assert all(closed_by_peer(s, max(0.1, deadline - time.monotonic())) for s in socks)
        assert _healthy(shim.url)
    finally:
        stop.set()
        feeder.join()
        for sock in socks:
            sock.close()


def test_connection_cap_closes_the_longest_idle() -> None:
    server = ShimProcess(
        ["--scorer", "tests.inference_shim.scorers:overlap", "--max-connections", "20"]
    )
    try:
        socks = _keep_alive(server.url, 25)  # more than the cap: the oldest idle make room
        try:
            assert _healthy(server.url)
            assert closed_by_peer(socks[0], PROMPT_S)
            socks[-1].sendall(request_bytes("GET", "/health"))
            assert read_reply(socks[-1]).status == 200
        finally:
            for sock in socks:
                sock.close()
    finally:
        assert server.terminate() == 0


def test_sigterm_answers_every_accepted_request_then_exits_0() -> None:
    # The slow scorer holds each batch 2 s, so requests are in flight at SIGTERM.
    # The slow scorer's 2 s per call makes every request look 2 s long to admission control:
    # a generous --max-queue-wait lets all six in.
    server = _measured(
        ShimProcess(["--scorer", "tests.inference_shim.scorers:slow", "--max-queue-wait", "600"])
    )
    idle = _keep_alive(server.url, 3)
    busy = []
    for i in range(6):
        sock = socket.create_connection(address(server.url), timeout=30)
        body = json.dumps({"query": "berlin", "texts": [f"berlin {i}", "paris"]}).encode()
        sock.sendall(request_bytes("POST", "/rerank", body))
        busy.append(sock)
    # A request whose first bytes arrived before SIGTERM is read in full and answered.
    late_body = json.dumps({"query": "berlin", "texts": ["berlin late"]}).encode()
    late = request_bytes("POST", "/rerank", late_body)
    halfway = socket.create_connection(address(server.url), timeout=30)
    halfway.sendall(late[:20])
    time.sleep(0.7)  # received and waiting on the engine
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(1.2)  # the drain has begun (the server checks for the signal twice a second)
    halfway.sendall(late[20:])
    # A request sent on an open connection after the drain began is not read.
    busy[0].sendall(request_bytes("GET", "/health"))
    busy.append(halfway)
    with ThreadPoolExecutor(len(busy)) as pool:
        replies: list[RawReply] = list(pool.map(read_reply, busy))
    assert [r.status for r in replies] == [200] * len(busy)
    assert all(r.headers["connection"] == "close" for r in replies)
    assert all(closed_by_peer(s, PROMPT_S) for s in busy)  # no second reply on busy[0]
    assert all(closed_by_peer(s, PROMPT_S) for s in idle)  # idle keep-alive closed
    assert server.proc.wait(30) == 0
    with pytest.raises(OSError):
        socket.create_connection(address(server.url), timeout=2)
    for sock in busy + idle:
        sock.close()


def _measured(server: ShimProcess) -> ShimProcess:
    """``server`` after one request: until its first batch is measured, a --scorer shim
    admits one request at a time (admission control), so concurrent tests warm it first."""
    warm = json.dumps({"query": "q", "texts": ["warm"]}).encode()
    assert httpx.post(server.url + "/rerank", content=warm, headers=_JSON, timeout=30).is_success
    return server


def _pairs_scored(url: str) -> float:
    text = httpx.get(url + "/metrics", timeout=PROMPT_S).text
    found = re.search(r"^shim_pairs_total (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def test_queued_work_of_a_gone_client_is_dropped() -> None:
    server = _measured(ShimProcess(["--scorer", "tests.inference_shim.scorers:slow"]))
    try:
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(
                httpx.post,
                server.url + "/rerank",
                content=json.dumps({"query": "q", "texts": ["one"]}).encode(),
                headers=_JSON,
                timeout=30,
            )
            time.sleep(0.5)  # the first request holds the engine for 2 s
            gone = socket.create_connection(address(server.url), timeout=PROMPT_S)
            body = json.dumps({"query": "q", "texts": ["a", "b", "c", "d", "e"]}).encode()
            gone.sendall(request_bytes("POST", "/rerank", body))
            time.sleep(0.3)
            gone.close()  # the client gives up while its request is queued
            assert first.result().status_code == 200
        time.sleep(0.5)
        assert _pairs_scored(server.url) == 2.0  # warm + one; the 5 queued were never scored
        after = httpx.post(server.url + "/rerank", content=BODY, headers=_JSON, timeout=30)
        assert after.status_code == 200
        assert _pairs_scored(server.url) == 4.0
    finally:
        assert server.terminate() == 0
    assert re.search(r"POST /rerank 499 pairs=5 ", "".join(server.stderr))


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_access_log(fmt: str) -> None:
    server = ShimProcess(["--scorer", "tests.inference_shim.scorers:overlap", "--log-format", fmt])
    try:
        with server.client() as c:
            assert c.post("/rerank", content=BODY, headers=_JSON).status_code == 200
            assert c.post("/rerank", json={"query": "q"}).status_code == 422
            assert c.get("/no%0Awhere").status_code == 404
        assert exchange(server.url, b"GARBAGE\r\n\r\n").status == 400
    finally:
        assert server.terminate() == 0
    lines = [ln for ln in "".join(server.stderr).splitlines() if "inference_shim.access" in ln]
    if fmt == "json":
        records = [json.loads(ln) for ln in lines]
        got = [(r["method"], r["route"], r["status"], r.get("pairs")) for r in records]
        assert all(r["total_ms"] >= 0 and r["level"] == "info" for r in records)
    else:
        got = []
        for ln in lines:
            method, route, status, *rest = ln.split(" INFO ", 1)[1].split(" ")
            fields = dict(kv.split("=", 1) for kv in rest)
            assert float(fields["total_ms"]) >= 0
            pairs = int(fields["pairs"]) if "pairs" in fields else None
            got.append((method, route, int(status), pairs))
    assert ("POST", "/rerank", 200, 2) in got
    assert ("POST", "/rerank", 422, None) in got
    assert ("GET", "/no\\nwhere", 404, None) in got  # the client's path, escaped
    assert ("-", "-", 400, None) in got


def test_connection_and_log_flags_and_environment() -> None:
    env = {
        "SHIM_MAX_CONNECTIONS": "300",
        "SHIM_IDLE_TIMEOUT": "90",
        "SHIM_HEADER_TIMEOUT": "5",
        "SHIM_LOG_FORMAT": "JSON",
        "SHIM_LOG_LEVEL": "warning",
    }
    s = settings_from_argv(["--scorer", "m:f"], environ=env)
    assert (s.max_connections, s.idle_timeout, s.header_timeout) == (300, 90.0, 5.0)
    assert (s.log_format, s.log_level) == ("json", "warning")
    s = settings_from_argv(["--scorer", "m:f", "--log-format", "text"], environ=env)
    assert s.log_format == "text"
    defaults = settings_from_argv(["--scorer", "m:f"], environ={})
    assert (defaults.max_connections, defaults.log_format, defaults.log_level) == (
        1000,
        "text",
        "info",
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--log-format", "xml"], "--log-format: choose one of text, json, got 'xml'"),
        (["--max-connections", "0"], "--max-connections"),
        (["--header-timeout", "-1"], "--header-timeout"),
    ],
)
def test_bad_connection_flags_are_refused(
    args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        settings_from_argv(["--scorer", "m:f", *args], environ={})
    assert exit_.value.code == 2
    assert needle in capsys.readouterr().err


def test_drain_timeout_exits_1_with_a_request_in_flight() -> None:
    server = ShimProcess(
        ["--scorer", "tests.inference_shim.scorers:slow", "--drain-timeout", "0.5"]
    )
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(
            httpx.post, server.url + "/rerank", content=BODY, headers=_JSON, timeout=30
        )
        time.sleep(0.7)  # inside the 2-second scorer
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(30) == 1
        with pytest.raises(httpx.TransportError):
            pending.result()
    assert "drain timeout" in "".join(server.stderr)


def test_engine_drops_a_cancelled_future_and_keeps_serving() -> None:
    from es_rerank.runtime import FunctionRuntime
    from inference_shim.runner import Engine

    scored: list[str] = []
    gate = threading.Event()

    def scorer(query: str, texts: list[str]) -> list[float]:
        gate.wait(10)
        scored.extend(texts)
        return [float(len(t)) for t in texts]

    engine = Engine(FunctionRuntime(scorer, name="gated"))
    engine.start()
    gate.set()
    assert engine.wait_ready(10)
    scored.clear()
    gate.clear()
    try:
        first = engine.submit("q", ["running"])
        time.sleep(0.3)  # the engine holds the first request inside the scorer
        queued = engine.submit("q", ["never scored"])
        assert queued.cancel()
        gate.set()
        assert first.result(10).tolist() == [7.0]
        assert engine.score("q", ["after"]).tolist() == [5.0]
        assert "never scored" not in scored
        assert engine.open_requests == 0 and engine.healthy
    finally:
        gate.set()
        engine.close()
