"""Errors a client can cause or meet, each with its HTTP status and TEI error type, and the
one function that writes every error reply's body (:func:`error_json`, an
:class:`es_rerank.wire.ErrorBody`), whoever answers: a route, the HTTP layer, or the server
while the model loads.

>>> e = ValidationError("query must be a string")
>>> e.status, e.error_type, e.json()
(422, 'Validation', b'{"error":"query must be a string","error_type":"Validation"}')
>>> error_json(404, "no route /nope")
b'{"error":"no route /nope","error_type":"NotFound"}'
"""

from __future__ import annotations

from http import HTTPStatus

from es_rerank.wire import ErrorBody

__all__ = [
    "ERROR_TYPES",
    "BackendError",
    "CancelledError",
    "DeadlineError",
    "EmptyError",
    "MalformedRequestError",
    "OverloadedError",
    "ShimError",
    "UnauthorizedError",
    "UnhealthyError",
    "UnsupportedMediaTypeError",
    "ValidationError",
    "error_json",
]

#: The error type of a status answered without a :class:`ShimError` (routing, framing, a
#: fault), where it is not the status' reason phrase without spaces (``NotFound``).
ERROR_TYPES = {413: "PayloadTooLarge", 500: "Internal", 503: "Unhealthy"}


def error_json(status: int, message: str, error_type: str | None = None) -> bytes:
    """The body of an error reply with ``status``: ``{"error", "error_type"}``."""
    if error_type is None:
        known = ERROR_TYPES.get(status)
        try:
            error_type = known or HTTPStatus(status).phrase.replace(" ", "").replace("-", "")
        except ValueError:
            error_type = "Error"
    # A message may quote client text: never fail to encode it.
    text = message.encode("utf-8", "backslashreplace").decode("utf-8")
    return ErrorBody(error=text, error_type=error_type).model_dump_json().encode()


class ShimError(Exception):
    """Base class: ``status`` and ``error_type`` become the JSON error reply."""

    status = 500
    error_type = "Backend"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def json(self) -> bytes:
        """The reply's body."""
        return error_json(self.status, self.message, self.error_type)


class ValidationError(ShimError, ValueError):
    """The request is well-formed JSON but not a valid request (TEI: Validation, 422)."""

    status = 422
    error_type = "Validation"


class MalformedRequestError(ValidationError):
    """The body is not UTF-8 JSON at all."""

    status = 400


class EmptyError(ValidationError):
    """An empty query or an empty list of texts (TEI: Empty, 400)."""

    status = 400
    error_type = "Empty"


class UnsupportedMediaTypeError(ShimError):
    """The body is not declared as JSON (``Content-Type: application/json``)."""

    status = 415
    error_type = "UnsupportedMediaType"


class UnauthorizedError(ShimError):
    status = 401
    error_type = "Unauthorized"


class OverloadedError(ShimError):
    """The queue is full, or its estimated wait is above ``--max-queue-wait``; retry after
    ``retry_after`` seconds (TEI: Overloaded, 429, sent as ``Retry-After``)."""

    status = 429
    error_type = "Overloaded"

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class BackendError(ShimError):
    """The model failed on valid input (TEI: Backend, 424)."""

    status = 424
    error_type = "Backend"


class DeadlineError(ShimError):
    """The request's deadline (``--request-timeout``) passed before its scores were
    computed: its queued work was dropped rather than computed for a client that has
    given up."""

    status = 503
    error_type = "Timeout"


class CancelledError(ShimError):
    """The request's queued work was cancelled (its client has gone): nobody reads the
    reply, whose status is nginx's 499 "client closed request"."""

    status = 499
    error_type = "Cancelled"


class UnhealthyError(ShimError):
    """The engine is not running (still loading, or shutting down) (TEI: Unhealthy, 503)."""

    status = 503
    error_type = "Unhealthy"
