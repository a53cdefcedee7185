"""From request bytes to a validated wire model, or one clear error naming the field.

>>> from es_rerank.wire.es_inference import InferenceRerankRequest
>>> parse(InferenceRerankRequest, b'{"query": "q", "input": ["a"], "top_n": 0}')
Traceback (most recent call last):
...
es_rerank.wire.decode.WireError: `top_n`: input should be greater than or equal to 1, got 0
>>> parse(InferenceRerankRequest, b'{"query": "q", "input": ["\\\\ud800"]}').input
Traceback (most recent call last):
...
es_rerank.wire.decode.WireError: `input[0]`: contains a lone UTF-16 surrogate U+D800 ...
"""

from __future__ import annotations

import json
from typing import Any, Literal, NoReturn, TypeVar

import pydantic
from pydantic_core import ErrorDetails

from es_rerank.wire.fields import Limits

__all__ = ["WireError", "describe", "parse", "read_json", "validate"]

Model = TypeVar("Model", bound=pydantic.BaseModel)

Problem = Literal["malformed", "empty", "invalid"]

# CPython refuses to convert integer literals longer than this (a denial-of-service guard).
_MAX_INT_DIGITS = 4300
# Such a literal reads as a value beyond every range a field accepts (and beyond a
# double's), so validation refuses it naming the field instead of the decoder failing.
_BEYOND_ANY_RANGE = 10**400


class WireError(ValueError):
    """A body that is not a valid message. ``problem``: ``malformed`` (not UTF-8 JSON),
    ``empty`` (an empty query or list of texts), or ``invalid`` (anything else)."""

    def __init__(self, message: str, problem: Problem = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.problem = problem


def _reject_constant(name: str) -> NoReturn:
    raise WireError(f"the request body is not valid JSON: {name} is not allowed", "malformed")


def _parse_int(literal: str) -> int:
    if len(literal) > _MAX_INT_DIGITS:
        return -_BEYOND_ANY_RANGE if literal.startswith("-") else _BEYOND_ANY_RANGE
    return int(literal)


def read_json(raw: bytes) -> Any:
    """Decode a UTF-8 JSON document; NaN and Infinity are not JSON and are refused.

    >>> read_json(b'{"a": [1, 2.5]}')
    {'a': [1, 2.5]}
    >>> read_json(b'\\xff')
    Traceback (most recent call last):
    ...
    es_rerank.wire.decode.WireError: the request body is not valid UTF-8 (byte 0)
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WireError(
            f"the request body is not valid UTF-8 (byte {exc.start})", "malformed"
        ) from None
    if not text.strip():
        raise WireError("the request body is empty; send a JSON object", "malformed")
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise WireError(f"the request body is not valid JSON: {exc}", "malformed") from None
    except RecursionError:
        raise WireError("the request body is nested too deeply", "malformed") from None


def validate(model: type[Model], value: Any, limits: Limits | None = None) -> Model:
    """``value`` (decoded JSON) as ``model``, checked against ``limits``."""
    try:
        return model.model_validate(value, context=limits)
    except pydantic.ValidationError as exc:
        raise describe(exc) from None


def parse(model: type[Model], raw: bytes, limits: Limits | None = None) -> Model:
    """Request bytes as ``model``: :func:`read_json`, then :func:`validate`."""
    return validate(model, read_json(raw), limits)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _sentence(error: ErrorDetails) -> str:
    kind, value = error["type"], error["input"]
    msg = error["msg"][:1].lower() + error["msg"][1:]
    if kind == "string_unicode":
        return "contains a lone UTF-16 surrogate, which is not valid Unicode"
    if kind == "finite_number":
        return msg
    if kind.endswith("_type") or kind == "literal_error":
        return f"{msg}, got {_kind(value)}"
    if isinstance(value, float) or (type(value) is int and abs(value) < 10**18):
        return f"{msg}, got {value!r}"
    return msg


def describe(exc: pydantic.ValidationError) -> WireError:
    """One message for a validation failure: the first problem, with the field's path
    (``texts[3]``, ``documents[0]``), and how many more there are.

    >>> from es_rerank.wire.tei import TeiRerankRequest
    >>> try:
    ...     TeiRerankRequest.model_validate({"query": "q", "texts": ["a", 1, 2]})
    ... except pydantic.ValidationError as exc:
    ...     print(describe(exc))
    `texts[1]`: input should be a valid string, got a number (and 1 more problem)
    """
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = first["loc"]
    if not loc and first["type"] in ("model_type", "model_attributes_type", "list_type"):
        message = f"the request body must be a JSON object, got {_kind(first['input'])}"
    elif first["type"] == "missing":
        message = f"missing field `{_where(loc)}`"
    else:
        message = f"`{_where(loc)}`: {_sentence(first)}" if loc else _sentence(first)
    if len(errors) > 1:
        more = len(errors) - 1
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return WireError(message, "empty" if first["type"] == "empty" else "invalid")
