"""Errors a client can cause or meet, each with its HTTP status and TEI error type.

>>> e = ValidationError("query must be a string")
>>> e.status, e.error_type, e.body()
(422, 'Validation', {'error': 'query must be a string', 'error_type': 'Validation'})
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "EmptyError",
    "MalformedRequestError",
    "OverloadedError",
    "ShimError",
    "UnauthorizedError",
    "UnhealthyError",
    "UnsupportedMediaTypeError",
    "ValidationError",
]


class ShimError(Exception):
    """Base class: ``status`` and ``error_type`` become the JSON error reply."""

    status = 500
    error_type = "Backend"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, str]:
        return {"error": self.message, "error_type": self.error_type}


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
    """The queue is full; retry later (TEI: Overloaded, 429, with Retry-After)."""

    status = 429
    error_type = "Overloaded"


class BackendError(ShimError):
    """The model failed on valid input (TEI: Backend, 424)."""

    status = 424
    error_type = "Backend"


class UnhealthyError(ShimError):
    """The engine is not running (still loading, or shutting down) (TEI: Unhealthy, 503)."""

    status = 503
    error_type = "Unhealthy"
