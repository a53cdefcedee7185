"""Reading request bodies: UTF-8 JSON objects with typed fields, or a clear 4xx error.

>>> body = parse_body(b'{"query": "q", "texts": ["a"]}')
>>> get_str(body, "query")
'q'
>>> get_bool(body, "raw_scores", None) is None
True
>>> parse_body(b'\\xff')
Traceback (most recent call last):
...
inference_shim.errors.MalformedRequestError: the request body is not valid UTF-8 (byte 0)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, NoReturn

from inference_shim.errors import EmptyError, MalformedRequestError, ValidationError

__all__ = [
    "get_bool",
    "get_str",
    "get_top_n",
    "parse_body",
    "parse_numbers",
    "parse_texts",
]

Body = Mapping[str, Any]


def _reject_constant(name: str) -> NoReturn:
    raise MalformedRequestError(f"the request body is not valid JSON: {name} is not allowed")


def parse_body(raw: bytes) -> Body:
    """Decode a JSON object; non-UTF-8, invalid JSON or NaN/Infinity give 400."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedRequestError(
            f"the request body is not valid UTF-8 (byte {exc.start})"
        ) from None
    if not text.strip():
        raise MalformedRequestError("the request body is empty; send a JSON object")
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise MalformedRequestError(f"the request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise MalformedRequestError("the request body is nested too deeply") from None
    if not isinstance(value, dict):
        raise ValidationError(f"the request body must be a JSON object, got {_kind(value)}")
    return value


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


def get_str(body: Body, name: str, *, max_chars: int | None = None) -> str:
    """A required non-empty string field."""
    if name not in body or body[name] is None:
        raise ValidationError(f"missing field `{name}`")
    value = body[name]
    if not isinstance(value, str):
        raise ValidationError(f"`{name}` must be a string, got {_kind(value)}")
    if not value.strip():
        raise EmptyError(f"`{name}` cannot be empty")
    if max_chars is not None and len(value) > max_chars:
        raise ValidationError(
            f"`{name}` is {len(value)} characters, above the limit of {max_chars}"
        )
    return value


def get_bool(body: Body, name: str, default: bool | None) -> bool | None:
    """An optional boolean field (absent or null: ``default``)."""
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ValidationError(f"`{name}` must be true or false, got {_kind(value)}")
    return value


def get_top_n(body: Body, name: str = "top_n") -> int | None:
    """An optional positive integer (absent or null: all results)."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"`{name}` must be a positive integer, got {_kind(value)}")
    if value < 1:
        raise ValidationError(f"`{name}` must be a positive integer, got {value}")
    return value


def parse_texts(
    body: Body,
    names: tuple[str, ...],
    *,
    max_items: int,
    max_chars: int,
    allow_objects: bool = False,
) -> list[str]:
    """The texts to rank, from the first field of ``names`` present. With
    ``allow_objects``, items may also be ``{"text": str}`` (Cohere's form)."""
    name = next((n for n in names if body.get(n) is not None), None)
    if name is None:
        raise ValidationError(f"missing field `{names[0]}`")
    value = body[name]
    if isinstance(value, str) and name == "input":
        value = [value]  # the ES inference API accepts a single string as input
    if not isinstance(value, list):
        raise ValidationError(f"`{name}` must be an array of strings, got {_kind(value)}")
    if not value:
        raise EmptyError(f"`{name}` cannot be empty")
    if len(value) > max_items:
        raise ValidationError(
            f"`{name}` has {len(value)} items, above the limit of {max_items} "
            "(--max-client-batch-size)"
        )
    texts: list[str] = []
    for i, item in enumerate(value):
        if allow_objects and isinstance(item, dict):
            item = item.get("text")
            if not isinstance(item, str):
                raise ValidationError(f'`{name}[{i}]` must be a string or {{"text": string}}')
        elif not isinstance(item, str):
            raise ValidationError(f"`{name}[{i}]` must be a string, got {_kind(item)}")
        if len(item) > max_chars:
            raise ValidationError(
                f"`{name}[{i}]` is {len(item)} characters, above the limit of {max_chars} "
                "(--max-text-chars)"
            )
        texts.append(item)
    return texts


def parse_numbers(body: Body, name: str = "scores") -> list[float]:
    """A required array of finite numbers."""
    value = body.get(name)
    if not isinstance(value, list):
        raise ValidationError(f"`{name}` must be an array of numbers, got {_kind(value)}")
    out: list[float] = []
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise ValidationError(f"`{name}[{i}]` must be a number, got {_kind(item)}")
        try:
            f = float(item)
        except OverflowError:
            f = math.inf
        if not math.isfinite(f):
            raise ValidationError(f"`{name}[{i}]` must be finite")
        out.append(f)
    return out
