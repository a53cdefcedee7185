"""Slow clients at the connection cap, over real sockets: connections that send their
headers or their body slowly (or not at all) hold every slot, yet each new client is
answered; a trickled request is closed at its read deadline however often a byte arrives."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.helpers.shim import ShimProcess
from tests.inference_shim.raw_http import address, closed_by_peer

pytestmark = pytest.mark.slow

CAP = 50
SLOW = 60  # more than the cap: every slot is held, the rest wait in the backlog
PROBES = 5
# Generous "does not hang" bound for each probe; the measured figures are in RELIABILITY.md.
PROBE_S = 10.0
SLOW_BODY_HEAD = (
    b"POST /rerank HTTP/1.1\r\nHost: shim\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100000\r\n\r\n{"
)
SLOW_HEADER_HEAD = b"GET /health HTTP/1.1\r\nHost: shim\r\n"


def _server(*args: str, env: dict[str, str] | None = None) -> ShimProcess:
    return ShimProcess(["--scorer", "tests.inference_shim.scorers:overlap", *args], env=env)


class _SlowClients:
    """``count`` connections that each send ``head`` and then ``drip`` every half second;
    with ``reopen``, a connection the server closes is opened again at once."""

    def __init__(self, url: str, head: bytes, drip: bytes, count: int, *, reopen: bool) -> None:
        self.url, self.head, self.drip, self.reopen = url, head, drip, reopen
        self.socks = [self._open() for _ in range(count)]
        self.stop = threading.Event()
        self.feeder = threading.Thread(target=self._feed, daemon=True)
        self.feeder.start()

    def _open(self) -> socket.socket:
        sock = socket.create_connection(address(self.url), timeout=PROBE_S)
        sock.sendall(self.head)
        return sock

    def _feed(self) -> None:
        while not self.stop.wait(0.5):
            for k, sock in enumerate(self.socks):
                try:
                    sock.sendall(self.drip)
                except OSError:
                    sock.close()
                    if self.reopen and not self.stop.is_set():
                        with contextlib.suppress(OSError):
                            self.socks[k] = self._open()

    def close(self) -> None:
        self.stop.set()
        self.feeder.join()
        for sock in self.socks:
            sock.close()


@contextlib.contextmanager
def _slow_clients(
    url: str, head: bytes, drip: bytes, *, reopen: bool = False
) -> Iterator[_SlowClients]:
    clients = _SlowClients(url, head, drip, SLOW, reopen=reopen)
    try:
        time.sleep(1.0)  # the server has taken up every slot it has
        yield clients
    finally:
        clients.close()


def _answered_probes(url: str) -> int:
    """How many of PROBES new clients' GET /health are answered 200."""
    answered = 0
    for _ in range(PROBES):
        with contextlib.suppress(httpx.TransportError):
            answered += httpx.get(url + "/health", timeout=PROBE_S).status_code == 200
    return answered


def _probes_at_the_cap(head: bytes, drip: bytes, *, reopen: bool = False) -> int:
    # A long read deadline, so only what happens at the cap lets the probes in.
    server = _server(
        "--max-connections", str(CAP), "--header-timeout", "2", env={"SHIM_READ_TIMEOUT": "600"}
    )
    try:
        with _slow_clients(server.url, head, drip, reopen=reopen):
            return _answered_probes(server.url)
    finally:
        server.terminate()


def test_slow_body_connections_at_the_cap_do_not_lock_out_new_clients() -> None:
    assert _probes_at_the_cap(SLOW_BODY_HEAD, b" ") == PROBES


def test_silent_body_connections_at_the_cap_do_not_lock_out_new_clients() -> None:
    assert _probes_at_the_cap(SLOW_BODY_HEAD, b"") == PROBES


def test_slow_header_connections_reopened_at_the_cap_do_not_lock_out_new_clients() -> None:
    assert _probes_at_the_cap(SLOW_HEADER_HEAD, b"X-Slow: 1\r\n", reopen=True) == PROBES


def _closed_while_trickling(server: ShimProcess, head: bytes, drip: bytes) -> bool:
    sock = socket.create_connection(address(server.url), timeout=PROBE_S)
    sock.sendall(head)
    stop = threading.Event()

    def trickle() -> None:  # a byte every half second: never idle for long
        while not stop.wait(0.5):
            with contextlib.suppress(OSError):
                sock.sendall(drip)

    feeder = threading.Thread(target=trickle, daemon=True)
    feeder.start()
    try:
        return closed_by_peer(sock, PROBE_S)
    finally:
        stop.set()
        feeder.join()
        sock.close()


def _with_server(
    check: Callable[[ShimProcess], bool], *args: str, env: dict[str, str] | None = None
) -> bool:
    server = _server(*args, env=env)
    try:
        return check(server)
    finally:
        assert server.terminate() == 0


def test_a_trickled_body_is_closed_at_the_read_deadline() -> None:
    # Each byte would reset an idle timeout; the read deadline counts from the first byte.
    closed = _with_server(
        lambda s: _closed_while_trickling(s, SLOW_BODY_HEAD, b" "),
        "--idle-timeout",
        "2",
        "--header-timeout",
        "2",
        env={"SHIM_READ_TIMEOUT": "3"},
    )
    assert closed


def test_the_read_timeout_flag_and_environment() -> None:
    from inference_shim.config import settings_from_argv

    assert settings_from_argv(["--scorer", "m:f"], environ={}).read_timeout == 30.0
    s = settings_from_argv(["--scorer", "m:f"], environ={"SHIM_READ_TIMEOUT": "7"})
    assert s.read_timeout == 7.0
    s = settings_from_argv(["--scorer", "m:f", "--read-timeout", "5"], environ={})
    assert s.read_timeout == 5.0
