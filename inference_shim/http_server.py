"""The HTTP server: waitress, with what a service Elasticsearch calls needs on top.

Why waitress: one asyncore loop watches every socket and a fixed pool of worker threads runs
only requests that have been received completely, so an idle keep-alive connection or a
client trickling its headers costs a file descriptor, never a worker thread. What waitress
lacks is added here by subclassing its documented extension points (``channel_class``,
``task_class``, ``error_task_class``, ``parser_class``, ``maintenance``):

- protocol errors (bad framing, oversized body or headers, a garbage request line, bare LF
  line endings) are answered in the service's JSON error shape ``{"error", "error_type"}``
  with their status, instead of plain text (and bare LF is refused at once instead of
  waiting for a CRLF that never comes);
- ``--max-connections`` (waitress' ``connection_limit``, 100 by default there, which a
  5-node cluster keeping 20 connections per node already reaches) is raised, sockets are
  watched with ``poll`` (``select`` stops at 1024 descriptors), and when the cap is reached
  the longest-idle keep-alive connections are closed to make room instead of leaving new
  clients in the listen backlog;
- ``--header-timeout`` closes a connection whose request headers have not arrived in full
  (slowloris), ``--read-timeout`` one whose whole request (headers and body) has not
  arrived within that long of its first byte, however often a byte arrives, and
  ``--idle-timeout`` one that has been idle between requests (waitress' ``channel_timeout``);
- at the cap, when no keep-alive connection is idle, the connection whose unfinished request
  began first is closed, never the one just accepted (which has not yet been read);
- framing per RFC 9112: ``Content-Length`` together with ``Transfer-Encoding`` is refused
  (400, connection closed, nothing after it read), an HTTP version other than 1.0 and 1.1 gets
  505, and a chunk announced larger than ``--max-payload-bytes`` gets 413 at once;
- a graceful drain (:meth:`ShimServer.begin_drain`): stop accepting, read nothing more,
  close idle connections, answer every request already received with ``Connection: close``.

The figures (300 idle connections, 110 slowloris, 1,000 slow connections at the cap, SIGTERM
under load) come from ``make bench BENCH=reliability``. Granian, which reads request bodies
in Rust, was measured against this server on the same app and engine
(``bench/server_choice.py``, RELIABILITY.md): beside 1,000 slow-body connections it answered
0 of 10 new clients, this server 10 of 10, at about the same RSS, so waitress stays, pinned
to 3.0.x; ``tests/inference_shim/test_waitress_internals.py`` names every internal used here
and fails when an upgrade changes one. gunicorn forks worker processes, each of which would
load its own model and batch only its own requests (the engine batches across all requests
of one process); an ASGI server (uvicorn, hypercorn) would mean rewriting the Flask app and
its blocking engine calls, or a WSGI adapter whose body reading is the same question again.
"""

from __future__ import annotations

import logging
import resource
import socket
import time
from typing import TYPE_CHECKING, Any

from waitress.channel import HTTPChannel  # type: ignore[import-untyped]
from waitress.parser import HTTPRequestParser, ParsingError  # type: ignore[import-untyped]
from waitress.server import TcpWSGIServer  # type: ignore[import-untyped]
from waitress.task import ErrorTask, WSGITask  # type: ignore[import-untyped]
from waitress.utilities import (  # type: ignore[import-untyped]
    BadRequest,
    Error,
    RequestEntityTooLarge,
)
from waitress.wasyncore import dispatcher  # type: ignore[import-untyped]

from inference_shim.errors import error_json

if TYPE_CHECKING:
    from inference_shim.config import Settings

__all__ = ["ShimServer", "create_shim_server"]

log = logging.getLogger("inference_shim")

_VERSIONS = ("1.0", "1.1")

# How often waitress runs its maintenance (timeouts): waitress' own default is 30 s.
_CLEANUP_INTERVAL_S = 1
# A connection accepted this recently is not closed to make room at the cap: its request
# has not been read yet (the loop reads it on its next turn).
_NEWCOMER_GRACE_S = 1.0


class _VersionNotSupported(Error):  # type: ignore[misc]
    code = 505
    reason = "HTTP Version Not Supported"


class _StrictParser(HTTPRequestParser):  # type: ignore[misc]
    """waitress' parser, stricter: headers ended by bare LF are refused at once (waitress
    waits for CRLF CRLF forever), ``Content-Length`` with ``Transfer-Encoding`` is refused
    (RFC 9112 6.3: a smuggling attempt; waitress used the chunked body and kept the
    connection, so what followed was served as a second request), an unknown HTTP version
    gets 505 (waitress served it as 1.0), and a chunk announced larger than the body limit
    gets 413 at once (waitress waited for its bytes)."""

    completed: bool = False
    version: str = "1.0"
    unknown_version: str | None = None

    def received(self, data: bytes) -> int:
        if self.body_rcv is None and not self.completed:
            seen = self.header_plus + data
            if b"\r\n\r\n" not in seen and (b"\n\n" in seen or b"\n\r\n" in seen):
                self.parse_header(b"GET / HTTP/1.0\r\n")  # what waitress does for its 431
                self.error = BadRequest("request lines must end with CRLF; a bare LF was sent")
                self.completed = True
                return len(data)
        consumed = int(super().received(data))
        if self.completed:
            if self.unknown_version is not None and self.error is None:
                self.error = _VersionNotSupported(
                    f"HTTP/{self.unknown_version} is not supported; send HTTP/1.1 or HTTP/1.0"
                )
        elif self.chunked and self.body_rcv is not None:
            body = self.body_rcv
            if len(body) + body.chunk_remainder >= self.adj.max_request_body_size:
                self.error = RequestEntityTooLarge("a chunk above the body limit")
                self.completed = True
        return consumed

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        if "CONTENT_LENGTH" in self.headers and (
            self.chunked or "TRANSFER_ENCODING" in self.headers
        ):
            raise ParsingError(
                "a request may not carry both Content-Length and Transfer-Encoding "
                "(RFC 9112 6.3); send one"
            )
        if self.version not in _VERSIONS:
            self.unknown_version = self.version or "0.9"
            self.version = "1.1"  # the reply's own version
            self.completed = True  # no body is read


class _JsonErrorTask(ErrorTask):  # type: ignore[misc]
    """Waitress' protocol error replies, in the service's JSON error shape."""

    def execute(self) -> None:
        error = self.request.error
        message = _message(error.code, str(error.body), self.channel.server)
        body = error_json(error.code, message)
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)
        self.channel.server.on_protocol_error(self.request, error.code, self.start_time)


def _message(code: int, detail: str, server: ShimServer) -> str:
    if code == 413:
        return f"the request body is larger than {server.max_payload_bytes} bytes"
    if code == 431:
        return f"the request headers are larger than {server.adj.max_request_header_size} bytes"
    return detail


class _DrainingTask(WSGITask):  # type: ignore[misc]
    """While draining, the last request a connection sent is answered with
    ``Connection: close`` (the client reconnects elsewhere)."""

    def build_response_header(self) -> bytes:
        if self.channel.server.draining and len(self.channel.requests) <= 1:
            self.set_close_on_finish()
        return bytes(super().build_response_header())


class _Channel(HTTPChannel):  # type: ignore[misc]
    parser_class = _StrictParser
    task_class = _DrainingTask
    error_task_class = _JsonErrorTask
    request_started = 0.0  # when the first byte of the request being received arrived

    def readable(self) -> bool:
        # Nothing is read from a peer that has closed its side (its socket would report
        # readable forever); once draining, only the rest of a request already arriving.
        if not self.connected or (self.server.draining and self.request is None):
            return False
        return bool(super().readable())

    def received(self, data: bytes) -> bool:
        if self.request is None and self.server.draining:
            return False  # a new request after the drain began: not read
        before = self.request
        result = bool(super().received(data))
        if self.request is not None and self.request is not before:
            self.request_started = time.monotonic()  # a new request began in these bytes
        return result

    @property
    def receiving(self) -> bool:
        """A request has begun arriving and nothing else is queued, running or unsent."""
        return (
            self.request is not None
            and not self.requests
            and not self.total_outbufs_len
            and not self.will_close
        )

    @property
    def idle(self) -> bool:
        """No request queued, running, being received or being sent."""
        return (
            not self.requests
            and self.request is None
            and not self.total_outbufs_len
            and not self.will_close
        )


class ShimServer(TcpWSGIServer):  # type: ignore[misc]
    """waitress' TCP server with JSON protocol errors, timeouts, eviction of idle
    connections at the cap, and a drain."""

    channel_class = _Channel

    def __init__(
        self,
        application: Any,
        *,
        header_timeout: float,
        read_timeout: float,
        idle_timeout: float,
        max_payload_bytes: int,
        **kw: Any,
    ) -> None:
        self.draining = False
        self.header_timeout = header_timeout
        self.read_timeout = read_timeout
        self.idle_timeout = idle_timeout
        self.max_payload_bytes = max_payload_bytes
        self.protocol_error_hook: Any = None
        super().__init__(application, **kw)

    # -- connections -------------------------------------------------------------------
    def readable(self) -> bool:
        if self.accepting and len(self._map) >= self.adj.connection_limit:
            self._make_room()
        return bool(super().readable())

    def _make_room(self) -> None:
        """At the cap, close connections so a new client is accepted rather than left in
        the backlog: first the longest-idle keep-alive ones, then those whose unfinished
        request began first (slow senders), and only then ones accepted in the last
        ``_NEWCOMER_GRACE_S`` that have sent nothing yet. A connection with a request
        queued, running or being answered is never closed."""
        channels = [c for c in self.active_channels.values() if isinstance(c, _Channel)]
        closing = sum(1 for c in channels if c.will_close)
        want = len(self._map) - self.adj.connection_limit + 1 - closing
        if want <= 0:
            return
        newcomer = time.time() - _NEWCOMER_GRACE_S
        idle = [c for c in channels if c.idle]
        order = (
            sorted((c for c in idle if c.creation_time < newcomer), key=lambda c: c.last_activity)
            + sorted((c for c in channels if c.receiving), key=lambda c: c.request_started)
            + sorted(
                (c for c in idle if c.creation_time >= newcomer), key=lambda c: c.creation_time
            )
        )
        for channel in order[:want]:
            channel.will_close = True

    def _read_too_long(self, channel: _Channel, now: float) -> bool:
        """The request ``channel`` is receiving began too long ago: its headers more than
        ``header_timeout`` ago, or the whole request more than ``read_timeout`` ago."""
        request = channel.request
        if request is None or request.completed:
            return False
        limit = self.read_timeout if request.headers_finished else self.header_timeout
        return channel.request_started < now - min(limit, self.read_timeout)

    def maintenance(self, now: float) -> None:
        """Close connections idle longer than ``idle_timeout`` and those whose request has
        not arrived in time (``header_timeout``, ``read_timeout``: slowloris, trickled
        bodies)."""
        idle_cutoff = now - self.idle_timeout
        mono = time.monotonic()
        for channel in list(self.active_channels.values()):
            if channel.requests:
                continue
            if channel.request is not None:
                if self._read_too_long(channel, mono):
                    channel.will_close = True
            elif channel.last_activity < idle_cutoff:
                channel.will_close = True

    # -- drain -------------------------------------------------------------------------
    def begin_drain(self) -> None:
        """Stop accepting and starting new requests; runs on the loop thread (through the
        trigger)."""
        for channel in list(self.active_channels.values()):
            _read_what_arrived(channel)
        self.draining = True
        self.accepting = False
        if self.socket is not None:
            dispatcher.close(self)  # the listening socket only; the trigger stays
        self.close_idle()

    def close_idle(self) -> None:
        """Close every connection with nothing left to answer or send, and those whose
        request, begun before the drain, has not arrived in time (``header_timeout``,
        ``read_timeout``)."""
        now = time.monotonic()
        for channel in list(self.active_channels.values()):
            if channel.requests or channel.total_outbufs_len:
                continue
            if channel.request is None or self._read_too_long(channel, now):
                channel.will_close = True

    @property
    def busy(self) -> bool:
        """Some connection has a request arriving or received and not answered, or
        output unsent."""
        return any(
            c.requests or c.total_outbufs_len or (c.request is not None and not c.will_close)
            for c in list(self.active_channels.values())
        )

    # -- hooks -------------------------------------------------------------------------
    def on_protocol_error(self, request: Any, status: int, started: float) -> None:
        if self.protocol_error_hook is not None:
            self.protocol_error_hook(request, status, started)


def _read_what_arrived(channel: Any) -> None:
    """Parse the bytes a connection had already delivered when the drain began (the loop
    may not have read them yet): a request that has begun arriving is answered."""
    if not channel.connected or channel.will_close:
        return
    try:
        data = channel.socket.recv(channel.adj.recv_bytes, socket.MSG_DONTWAIT)
    except BlockingIOError:
        return
    except OSError:
        channel.will_close = True
        return
    if data:
        channel.received(data)
    else:
        channel.connected = False


def _raise_fd_limit(wanted: int) -> None:
    """Lift the soft limit on open files towards ``wanted`` (within the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def create_shim_server(application: Any, settings: Settings) -> ShimServer:
    """Bind and listen (connections wait in the backlog until :meth:`ShimServer.run`)."""
    from waitress.adjustments import Adjustments  # type: ignore[import-untyped]
    from waitress.task import ThreadedTaskDispatcher

    # Room for the connections, the model's files and the runtime's own descriptors.
    _raise_fd_limit(settings.max_connections + 256)
    threads = settings.threads or settings.max_queue + 4
    adj = Adjustments(
        host=settings.host,
        port=settings.port,
        threads=threads,
        ident="inference-shim",
        connection_limit=settings.max_connections,
        channel_timeout=max(1, int(settings.idle_timeout)),
        cleanup_interval=_CLEANUP_INTERVAL_S,
        asyncore_use_poll=True,
        # One request read ahead while another runs: the loop then sees a client that
        # disconnects while its request waits (``waitress.client_disconnected``).
        channel_request_lookahead=1,
        # One limit for the body, checked from Content-Length before anything is read.
        max_request_body_size=settings.max_payload_bytes + 1,
        log_socket_errors=False,
    )
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(threads)
    return ShimServer(
        application,
        map={},
        dispatcher=dispatcher,
        adj=adj,
        header_timeout=settings.header_timeout,
        read_timeout=settings.read_timeout,
        idle_timeout=settings.idle_timeout,
        max_payload_bytes=settings.max_payload_bytes,
    )
