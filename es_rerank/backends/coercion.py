"""Elasticsearch's rules for turning a JSON value into a number of a mapped field type.

With ``coerce`` (ES's default) a numeric string is parsed, and a float given to an integer
type is truncated toward zero (``1.5`` -> ``1``, ``"-2.7"`` -> ``-2``); without it both are
refused. Ranges are those of the type (``byte`` -128..127 ... ``long``), and floating types
refuse NaN and infinity. The messages are ES's own (``NumberFieldMapper`` and
``AbstractXContentParser``), so a local index and a cluster reject a document for the same
reason in the same words.

>>> to_integer("1999", "integer", coerce=True), to_integer(1.5, "integer", coerce=True)
(1999, 1)
>>> to_integer(2.0, "integer", coerce=False)
2
>>> to_integer("1999", "integer", coerce=False)
Traceback (most recent call last):
...
ValueError: Integer value passed as String
>>> to_integer(300, "byte", coerce=True)
Traceback (most recent call last):
...
ValueError: Value [300] is out of range for a byte
>>> to_float("0.5", "float", coerce=True)
0.5
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

__all__ = ["INTEGER_TYPES", "to_float", "to_integer"]

# ES type -> (Java class name in messages, article + name in range messages, min, max)
INTEGER_TYPES: dict[str, tuple[str, str, int, int]] = {
    "byte": ("Byte", "a byte", -(2**7), 2**7 - 1),
    "short": ("Short", "a short", -(2**15), 2**15 - 1),
    "integer": ("Integer", "an integer", -(2**31), 2**31 - 1),
    "long": ("Long", "a long", -(2**63), 2**63 - 1),
}
_FLOAT_MAX = {"half_float": 65504.0, "float": 3.4028234663852886e38, "double": math.inf}

# java.lang.Double.parseDouble (after trimming whitespace and control characters): the
# decimal forms, NaN and Infinity, an optional float/double suffix.
_JAVA_DOUBLE = re.compile(r"[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?)")
# java.math.BigDecimal(String): no whitespace, no NaN, no suffix.
_BIG_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _number_format(text: str) -> ValueError:
    return ValueError(f'For input string: "{text}"')


def _java_double(text: str) -> float:
    trimmed = text.strip("".join(chr(c) for c in range(33)))
    if not _JAVA_DOUBLE.fullmatch(trimmed):
        raise _number_format(text)
    return float(trimmed.rstrip("fFdD").replace("Infinity", "inf"))


def _not_numeric(value: Any) -> ValueError:
    token = (
        {True: "VALUE_TRUE", False: "VALUE_FALSE"}.get(value)
        if isinstance(value, bool)
        else ("START_OBJECT" if isinstance(value, dict) else "START_ARRAY")
    )
    return ValueError(f"Current token ({token}) not numeric, can not use numeric value accessors")


def to_integer(value: Any, es_type: str, *, coerce: bool) -> int:
    """``value`` (a JSON scalar) as ES indexes it into a field of integer type ``es_type``
    (``byte``, ``short``, ``integer`` or ``long``); ValueError
    with ES's message when ES refuses it."""
    java_class, range_name, low, high = INTEGER_TYPES[es_type]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _not_numeric(value)
    if isinstance(value, int):
        if not low <= value <= high:
            raise ValueError(f"Value [{value}] is out of range for {range_name}")
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or not low <= value <= high:
            raise ValueError(f"Value [{value}] is out of range for {range_name}")
        if not coerce and not value.is_integer():
            raise ValueError(f"{value} cannot be converted to {java_class} without data loss")
        return int(value)  # toward zero, as Java's (long) cast and Jackson's accessors
    if not coerce:
        raise ValueError(f"{java_class} value passed as String")
    if java_class == "Long":
        # Long.parseLong, else BigDecimal truncated toward zero, refused outside the range
        if not _BIG_DECIMAL.fullmatch(value):
            raise _number_format(value)
        exact = Decimal(value)
        if exact >= high + 1 or exact <= low - 1:
            raise ValueError(f"Value [{value}] is out of range for {range_name}")
        return int(exact)
    number = _java_double(value)
    if number < low or number > high:
        raise ValueError(f"Value [{value}] is out of range for {range_name}")
    # Java's (int) of NaN is 0: ES indexes "NaN" in an integer field as 0, and so do we.
    return 0 if math.isnan(number) else int(number)


def to_float(value: Any, es_type: str, *, coerce: bool) -> float:
    """``value`` as ES indexes it into a ``half_float``, ``float`` or ``double`` field;
    ValueError with ES's message when ES refuses it."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _not_numeric(value)
    if isinstance(value, str):
        if not coerce:
            java_class = "Double" if es_type == "double" else "Float"
            raise ValueError(f"{java_class} value passed as String")
        number = _java_double(value)
    else:
        try:
            number = float(value)
        except OverflowError:
            number = math.inf if value > 0 else -math.inf
    if abs(number) > _FLOAT_MAX[es_type]:
        number = math.copysign(math.inf, number)
    if not math.isfinite(number):
        shown = "NaN" if math.isnan(number) else ("-" if number < 0 else "") + "Infinity"
        kind = "double" if es_type == "double" else "float"
        raise ValueError(f"[{kind}] supports only finite values, but got [{shown}]")
    return number
