"""Value types every wire format shares: texts, queries, ``top_n``, finite scores, score modes,
and the per-server limits that validation reads from its context.

A text is a JSON string of valid Unicode: a lone UTF-16 surrogate (``"\\ud800"`` is valid
JSON but names no character) is refused with the field's name rather than replaced, so
the text a client gets back (``return_text``) is always the text it sent and the model
never scores something the client did not write.

>>> from pydantic import TypeAdapter
>>> TypeAdapter(Text).validate_python("berlin")
'berlin'
>>> TypeAdapter(TopN).validate_python(10**30)
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for ...
  Input should be less than or equal to 2147483647 ...
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import AfterValidator, BeforeValidator, Field, StrictInt, StrictStr, ValidationInfo
from pydantic_core import PydanticCustomError

__all__ = [
    "MAX_TOP_N",
    "SCORE_MODES",
    "CountedList",
    "FiniteFloat",
    "Limits",
    "PositiveFloat",
    "Query",
    "Ranking",
    "ScoreMode",
    "Text",
    "TextList",
    "TopN",
]

ScoreMode = Literal["raw", "sigmoid", "normalized"]
SCORE_MODES: tuple[str, ...] = get_args(ScoreMode)

# Elasticsearch sends top_n as a Java int (the custom endpoint template sends 10000);
# any n at least the number of texts means "all", so nothing larger is ever needed.
MAX_TOP_N = 2**31 - 1

# (input position, score), best first: what every rerank response is built from.
Ranking = Sequence[tuple[int, float]]

_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Limits:
    """Per-request limits a server enforces; pass as the validation ``context``. ``None``
    (or no context at all, as on the client side) means no limit."""

    max_texts: int | None = None
    max_chars: int | None = None
    texts_flag: str = "--max-client-batch-size"
    chars_flag: str = "--max-text-chars"


def _limits(info: ValidationInfo) -> Limits:
    context = info.context
    return context if isinstance(context, Limits) else Limits()


def _checked_text(value: str, info: ValidationInfo) -> str:
    bad = _SURROGATE.search(value)
    if bad is not None:
        raise PydanticCustomError(
            "lone_surrogate",
            "contains a lone UTF-16 surrogate U+{code} at character {at}, which is not valid "
            "Unicode; send UTF-8 text or paired \\u escapes",
            {"code": f"{ord(bad.group()):04X}", "at": bad.start()},
        )
    limits = _limits(info)
    if limits.max_chars is not None and len(value) > limits.max_chars:
        raise PydanticCustomError(
            "too_long",
            "is {length} characters, above the limit of {limit} ({flag})",
            {"length": len(value), "limit": limits.max_chars, "flag": limits.chars_flag},
        )
    return value


def _non_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("empty", "cannot be empty")
    return value


def _counted(value: Any, info: ValidationInfo) -> Any:
    # Runs before the items are validated: an oversized list is refused cheaply.
    if isinstance(value, list):
        if not value:
            raise PydanticCustomError("empty", "cannot be empty")
        limit = _limits(info).max_texts
        if limit is not None and len(value) > limit:
            raise PydanticCustomError(
                "too_many",
                "has {count} items, above the limit of {limit} ({flag})",
                {"count": len(value), "limit": limit, "flag": _limits(info).texts_flag},
            )
    return value


def _as_float(value: Any) -> Any:
    # JSON integers of any size are numbers too; one beyond float range is not finite.
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            raise PydanticCustomError("finite_number", "Input should be a finite number") from None
    return value


Text = Annotated[StrictStr, AfterValidator(_checked_text)]
"""A string of valid Unicode, at most ``Limits.max_chars`` characters."""

Query = Annotated[
    StrictStr,
    AfterValidator(_checked_text),
    AfterValidator(_non_blank),
    Field(json_schema_extra={"pattern": r"\S"}),
]
"""A :data:`Text` with at least one non-space character."""

_Item = TypeVar("_Item")

CountedList = Annotated[
    list[_Item], BeforeValidator(_counted), Field(json_schema_extra={"minItems": 1})
]
"""One or more items, at most ``Limits.max_texts``."""

TextList = CountedList[Text]
"""One or more texts, at most ``Limits.max_texts``."""

TopN = Annotated[StrictInt, Field(ge=1, le=MAX_TOP_N, description="keep the best n")]
"""How many of the best results to return."""

FiniteFloat = Annotated[float, BeforeValidator(_as_float), Field(allow_inf_nan=False, strict=True)]
"""A JSON number that fits a finite double (integers included, booleans not)."""

PositiveFloat = Annotated[FiniteFloat, Field(gt=0)]
"""A finite number above zero (an Elasticsearch-normalized score)."""
