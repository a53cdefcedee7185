"""Dropping the queued work of a client that has gone.

A request thread waits for its scores; meanwhile the server's loop keeps watching the
client's socket (waitress reads one request ahead, so it sees the peer close) and WSGI
apps get ``environ["waitress.client_disconnected"]``. :func:`await_scores` checks it while
waiting and cancels the request's future once the client has gone: the engine then drops
the work if it has not started (a future claimed by the engine can no longer be cancelled,
and finishes normally).

>>> from concurrent.futures import Future
>>> done: Future[int] = Future()
>>> done.set_result(7)
>>> await_scores(done, client_gone=lambda: False)
7
>>> waiting: Future[int] = Future()
>>> await_scores(waiting, client_gone=lambda: True, poll_s=0.01)
Traceback (most recent call last):
...
inference_shim.disconnect.ClientGoneError: the client closed the connection before its answer
>>> waiting.cancelled()
True
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from inference_shim.errors import ShimError

__all__ = ["CLIENT_DISCONNECTED", "ClientGoneError", "await_scores", "client_gone_check"]

log = logging.getLogger("inference_shim")

# The WSGI environ key waitress fills with a function telling whether the peer has gone.
CLIENT_DISCONNECTED = "waitress.client_disconnected"

T = TypeVar("T")


class ClientGoneError(ShimError):
    """The client disconnected while its request waited (nginx's 499; never delivered,
    but counted and logged)."""

    status = 499
    error_type = "ClientClosedRequest"


def client_gone_check(environ: Mapping[str, Any]) -> Callable[[], bool] | None:
    """The server's disconnect check for this request, if the server offers one."""
    check = environ.get(CLIENT_DISCONNECTED)
    return check if callable(check) else None


def await_scores(
    future: Future[T], *, client_gone: Callable[[], bool] | None, poll_s: float = 0.05
) -> T:
    """The future's result; if the client goes first, cancel its queued work and raise
    :class:`ClientGoneError`."""
    if client_gone is None:
        return future.result()
    while True:
        try:
            return future.result(timeout=poll_s)
        except FutureTimeout:
            if not client_gone():
                continue
        if future.cancel():
            log.debug("client gone: its queued work was dropped")
        raise ClientGoneError("the client closed the connection before its answer")
