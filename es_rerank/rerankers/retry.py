"""One retry policy for every HTTP reranker: which failures are sent again, how long to wait
between attempts, and how many attempts there are (tenacity runs the loop; the policy gives
it the same arguments whether the caller is synchronous or asynchronous).

Sent again: an answer whose status is in ``retry_on_status`` (429, 502, 503 and 504 by
default, as elastic-transport), and failures where the server cannot be computing the
request: the connection could not be made (refused, connect timeout, no free pooled
connection) or the server closed it without answering (it restarted or died). A **read
timeout is not retried** unless ``retry_on_timeout=True`` (elastic-transport's default too):
the server accepted the request and may still be computing it, so a second copy queues
behind the first and multiplies the load of a server that is already too slow.

The wait before attempt ``n + 1`` is the server's ``Retry-After`` when it sends one (at most
``max_retry_after`` seconds), else ``backoff * 2**(n - 1)``.

>>> policy = RetryPolicy(retries=2, backoff=0.5)
>>> [policy.delay(attempt=n) for n in (1, 2, 3)]
[0.5, 1.0, 2.0]
>>> policy.delay(attempt=1, retry_after="7")
7.0
>>> policy.retryable_error(httpx.ReadTimeout("timed out")), policy.retryable_error(
...     httpx.ConnectError("connection refused"))
(False, True)
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import httpx
import tenacity

from es_rerank.errors import ConfigurationError, RerankError

__all__ = ["DEFAULT_RETRY_ON_STATUS", "RequestFailed", "RetryPolicy", "retry_after_seconds"]

#: elastic-transport's default: rate limited, and the gateway or server unavailable.
DEFAULT_RETRY_ON_STATUS: frozenset[int] = frozenset({429, 502, 503, 504})

# The request never reached a server that could compute it, or the server dropped it.
_NOT_COMPUTING = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.WriteError,
)
# The server has (part of) the request and may still be working on it.
_MAY_BE_COMPUTING = (httpx.ReadTimeout, httpx.WriteTimeout)


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds, or an HTTP date.

    >>> retry_after_seconds("2"), retry_after_seconds(None), retry_after_seconds("soon")
    (2.0, None, None)
    """
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _sleep(seconds: float) -> None:
    time.sleep(seconds)  # looked up at call time, so tests can record the waits


async def _async_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)  # looked up at call time, so tests can record the waits


@dataclass(frozen=True)
class RetryPolicy:
    """How an HTTP reranker retries; every parameter is checked on construction."""

    retries: int = 3
    backoff: float = 0.5
    retry_on_timeout: bool = False
    retry_on_status: Collection[int] = field(default=DEFAULT_RETRY_ON_STATUS)
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ConfigurationError(f"retries must be an integer >= 0, got {self.retries!r}")
        if not isinstance(self.backoff, int | float) or self.backoff < 0:
            raise ConfigurationError(f"backoff must be >= 0 seconds, got {self.backoff!r}")
        if not isinstance(self.retry_on_timeout, bool):
            raise ConfigurationError(
                f"retry_on_timeout must be True or False, got {self.retry_on_timeout!r}"
            )
        statuses = frozenset(self.retry_on_status)
        if any(
            isinstance(s, bool) or not isinstance(s, int) or not 100 <= s <= 599 for s in statuses
        ):
            raise ConfigurationError(
                f"retry_on_status must hold HTTP status codes, got {sorted(statuses)!r}"
            )
        object.__setattr__(self, "retry_on_status", statuses)
        if self.max_retry_after < 0:
            raise ConfigurationError(f"max_retry_after must be >= 0, got {self.max_retry_after!r}")

    def retryable_error(self, exc: BaseException) -> bool:
        """Whether a failed attempt (no answer) is sent again."""
        if isinstance(exc, _MAY_BE_COMPUTING):
            return self.retry_on_timeout
        return isinstance(exc, _NOT_COMPUTING)

    def retryable_response(self, response: httpx.Response) -> bool:
        """Whether an answer is a refusal worth another attempt."""
        return response.status_code in self.retry_on_status

    def delay(self, *, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        after = retry_after_seconds(retry_after)
        if after is not None:
            return min(after, self.max_retry_after)
        return float(self.backoff * 2 ** (attempt - 1))

    def _wait(self, state: tenacity.RetryCallState) -> float:
        outcome = state.outcome
        header = None
        if outcome is not None and not outcome.failed:
            header = outcome.result().headers.get("Retry-After")
        return self.delay(attempt=state.attempt_number, retry_after=header)

    def tenacity_arguments(self) -> dict[str, Any]:
        """Arguments for ``tenacity.Retrying`` (or ``AsyncRetrying``) around a function that
        returns an ``httpx.Response``: the last answer is returned, or the last error raised,
        once the attempts run out."""
        return {
            "stop": tenacity.stop_after_attempt(self.retries + 1),
            "wait": self._wait,
            "retry": tenacity.retry_if_exception(self.retryable_error)
            | tenacity.retry_if_result(self.retryable_response),
            "retry_error_callback": lambda state: state.outcome.result(),
        }

    def send(self, request: Callable[[], httpx.Response]) -> tuple[httpx.Response, int]:
        """Call ``request`` until it gives an answer not worth retrying or the attempts run
        out; returns the answer and the number of attempts. A failure with no answer is
        raised as :class:`RequestFailed`, which carries the attempts made."""
        retrying = tenacity.Retrying(sleep=_sleep, **self.tenacity_arguments())
        try:
            response = retrying(request)
        except httpx.HTTPError as exc:
            raise RequestFailed(exc, retrying.statistics["attempt_number"]) from exc
        return response, retrying.statistics["attempt_number"]

    async def send_async(
        self, request: Callable[[], Awaitable[httpx.Response]]
    ) -> tuple[httpx.Response, int]:
        """:meth:`send` for a coroutine function (an ``httpx.AsyncClient`` call): the same
        policy, waiting with ``asyncio.sleep``."""
        retrying = tenacity.AsyncRetrying(sleep=_async_sleep, **self.tenacity_arguments())

        async def attempt() -> httpx.Response:  # a coroutine function, so tenacity awaits it
            return await request()

        try:
            response: httpx.Response = await retrying(attempt)
        except httpx.HTTPError as exc:
            raise RequestFailed(exc, retrying.statistics["attempt_number"]) from exc
        return response, retrying.statistics["attempt_number"]


class RequestFailed(RerankError):
    """No answer after ``attempts`` attempt(s); ``error`` is the last failure."""

    def __init__(self, error: httpx.HTTPError, attempts: int) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error
        self.attempts = attempts

    @property
    def timed_out_reading(self) -> bool:
        return isinstance(self.error, _MAY_BE_COMPUTING)
